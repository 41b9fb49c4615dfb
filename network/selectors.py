"""Every read of the network app."""

from django.db.models import QuerySet

from marketplace.models import Need, Offer
from matching.models import Match, MatchStatus

from .models import HarvestedPosting, HarvestLogEntry, Partner
from .services import HARVESTER_EMAIL


def active_partner_ids() -> QuerySet[Partner, int]:
    return Partner.objects.filter(is_active=True).values_list("pk", flat=True)


def partners() -> QuerySet[Partner]:
    return Partner.objects.all()


def forwardable_matches(origin: HarvestedPosting) -> QuerySet[Match]:
    """Suggestions and introductions between a harvested posting and a local one (not another harvested
    one: that pair is for the partners themselves)."""
    open_statuses = [MatchStatus.SUGGESTED, MatchStatus.INTRODUCED]
    matches = Match.objects.filter(status__in=open_statuses).select_related("need", "offer")
    if origin.need_id is not None:
        return matches.filter(need_id=origin.need_id).exclude(offer__created_by__email=HARVESTER_EMAIL)
    if origin.offer_id is not None:
        return matches.filter(offer_id=origin.offer_id).exclude(need__created_by__email=HARVESTER_EMAIL)
    return matches.none()


def harvest_log(partner: Partner, *, limit: int = 200) -> QuerySet[HarvestLogEntry]:
    return partner.log.all()[:limit]


def is_harvested(posting: Need | Offer) -> bool:
    """Read from the posting's creator, which the cards and pages already load: no query."""
    return posting.created_by.email == HARVESTER_EMAIL


def origin_of(posting: Need | Offer) -> HarvestedPosting | None:
    """Where a harvested posting comes from (one query, only for harvested postings); None for local ones."""
    if not is_harvested(posting):
        return None
    lookup = {"need": posting} if isinstance(posting, Need) else {"offer": posting}
    return HarvestedPosting.objects.select_related("partner").filter(**lookup).first()
