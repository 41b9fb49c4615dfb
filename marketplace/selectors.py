"""Every read of the marketplace, scoped to the reader."""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQueryField, SearchVectorField
from django.core.cache import cache
from django.db.models import BooleanField, F, Func, Prefetch, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language

from . import permissions
from .models import (
    ApiToken,
    FocalPointRequest,
    Need,
    Offer,
    Organization,
    OrganizationInvitation,
    OrganizationMembership,
    Party,
    PostingStatus,
    RoleRequestStatus,
    Scheme,
    Term,
    User,
    VocabularyRelease,
)
from .permissions import Reader

# A posting's model, and a queryset of either kind (the functions below keep the kind they are given).
PostingModel = type[Need] | type[Offer]
Postings = QuerySet[Need] | QuerySet[Offer]

POSTING_MODELS: dict[str, PostingModel] = {"need": Need, "offer": Offer}


def _with_related(queryset: Postings) -> Postings:
    poster = "party" if queryset.model is Need else "expert__user"
    return queryset.select_related("organization", "created_by", poster).prefetch_related(
        Prefetch("subjects", queryset=Term.objects.order_by("position")),
        Prefetch("gbf_targets", queryset=Term.objects.order_by("position")),
        Prefetch("support_types", queryset=Term.objects.order_by("position")),
        "countries",
    )


def as_cards(queryset: Postings) -> Postings:
    """Postings shown as cards (home, browse lists): the poster and the two facets a card names, no more."""
    return queryset.prefetch_related(None).prefetch_related(
        Prefetch("subjects", queryset=Term.objects.order_by("position")),
        Prefetch("support_types", queryset=Term.objects.order_by("position")),
    )


def postings_visible_to(*, user: Reader, model: PostingModel) -> Postings:
    """Published postings for everyone; every other state to its owners and to the secretariat."""
    queryset = model.objects.all()
    if not permissions.is_secretariat(user):
        queryset = queryset.filter(permissions.owner_filter(user, model) | Q(status=PostingStatus.PUBLISHED))
    return _with_related(queryset)


def needs_visible_to(*, user: Reader) -> Postings:
    return postings_visible_to(user=user, model=Need)


def offers_visible_to(*, user: Reader) -> Postings:
    return postings_visible_to(user=user, model=Offer)


def access_posting(*, user: Reader, kind: str, pk: int, for_edit: bool = False) -> Need | Offer:
    """Fetch a posting the user may see (or edit), else 404: hidden postings do not reveal that they exist."""
    model = POSTING_MODELS.get(kind)
    if model is None:
        raise Http404
    posting = postings_visible_to(user=user, model=model).filter(pk=pk).first()
    if posting is None or (for_edit and not permissions.is_posting_owner(user, posting)):
        raise Http404
    return posting


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@dataclass(frozen=True)
class PostingFilters:
    q: str = ""
    subject: str = ""
    gbf_target: str = ""
    support_type: str = ""
    region: str = ""
    country: str = ""
    language: str = ""


def in_region(queryset: Postings, region: str) -> Postings:
    return queryset.filter(Q(regions__contains=[region]) | Q(countries__region=region))


def covering_country(queryset: Postings, code: str) -> Postings:
    covers = Q(countries__code=code)
    party = Party.objects.filter(code=code).first()
    if queryset.model is Offer and party is not None:
        # an offer available worldwide or in the country's region serves that country too
        covers |= Q(global_coverage=True) | Q(regions__contains=[party.region])
    return queryset.filter(covers)


# --- Search by words ---------------------------------------------------------------------------------------
# The SQL functions are in migrations marketplace/0003_stemmed_search and 0004_six_languages, with the GIN
# index on the postings' vector: each posting stemmed in its own language (English, French, Spanish,
# Portuguese, Arabic, Russian; Chinese and another language word for word, Chinese character by character),
# accents folded; the query in every one of them (OR-ed), so that "douane" finds "douanes", "diversite" finds
# "diversité" and "湿地" finds "滨海湿地". The one map of posting language to PostgreSQL configuration is
# 0004's SEARCH_CONFIGS.


class _Matches(Func):
    """``vector @@ query``."""

    template = "(%(expressions)s)"
    arg_joiner = " @@ "
    output_field = BooleanField()


def _posting_vector() -> Func:
    """The indexed expression, word for word: the planner uses the index only for this one."""
    return Func(
        F("language"),
        F("title"),
        F("description"),
        function="marketplace_search_vector",
        output_field=SearchVectorField(),
    )


def _search_query(words: str) -> Func:
    return Func(Value(words), function="marketplace_search_query", output_field=SearchQueryField())


# A word or a quoted phrase after a minus sign: web search syntax for "without" ("-mangrove", '-"sea grass"').
_NEGATED = re.compile(r'(?<!\S)-("[^"]*"?|[^\s"]+)')


def full_text(queryset: Postings, text: str) -> Postings:
    """Title and description matching the words (web search syntax: "a phrase", or, -without), stemmed in
    each posting's own language, accents ignored.

    The words left out ("-word") are taken apart: OR-ing the languages' queries would keep a posting
    that one language's stemming of the word does not find ("-formation": French 'format', Spanish
    'formation'), so a posting is left out when any of them finds it."""
    without = _NEGATED.findall(text)
    words = _NEGATED.sub(" ", text).strip()
    if words:
        queryset = queryset.filter(_Matches(_posting_vector(), _search_query(words)))
    if without:
        queryset = queryset.exclude(_Matches(_posting_vector(), _search_query(" or ".join(without))))
    return queryset


def published_postings(*, model: PostingModel, filters: PostingFilters | None = None) -> Postings:
    """The public catalogue, filtered by facets and full-text search (in any posting's language)."""
    filters = filters or PostingFilters()
    queryset = model.objects.filter(status=PostingStatus.PUBLISHED)
    if filters.subject:
        queryset = queryset.filter(subjects__code=filters.subject)
    if filters.gbf_target:
        queryset = queryset.filter(gbf_targets__code=filters.gbf_target)
    if filters.support_type:
        queryset = queryset.filter(support_types__code=filters.support_type)
    if filters.region:
        queryset = in_region(queryset, filters.region)
    if filters.country:
        queryset = covering_country(queryset, filters.country)
    if filters.language:
        queryset = queryset.filter(language=filters.language)
    if filters.q:
        queryset = full_text(queryset, filters.q)
    return _with_related(model.objects.filter(pk__in=queryset.values_list("pk", flat=True)))


def postings_owned_by(*, user: Reader, model: PostingModel) -> Postings:
    return _with_related(model.objects.filter(permissions.owner_filter(user, model))).order_by("-updated_at")


def postings_to_answer_with(*, user: Reader, posting: Need | Offer) -> Postings:
    """The user's own published postings of the other kind: those they may express interest in `posting`
    with (an offer for a need, a need for an offer)."""
    own_model = Offer if isinstance(posting, Need) else Need
    return postings_owned_by(user=user, model=own_model).filter(status=PostingStatus.PUBLISHED)


def validation_queue(*, model: PostingModel) -> Postings:
    """Submitted postings, oldest first: the secretariat validates in order of arrival."""
    return _with_related(model.objects.filter(status=PostingStatus.SUBMITTED)).order_by("submitted_at")


def terms(*, scheme: str) -> QuerySet[Term]:
    return Term.objects.filter(scheme=scheme, is_active=True).order_by("position")


def vocabulary() -> dict[str, QuerySet[Term]]:
    return {scheme: terms(scheme=scheme) for scheme in Scheme.values}


def parties() -> QuerySet[Party]:
    return Party.objects.select_related("subregion").order_by("name_en")


FILTER_CHOICES_SECONDS = 300  # how long a label edited in the admin may take to show (a new release: at once)


# What `filter_choices` answers: each scheme's terms as {code, label, group}, and "parties" as
# {code, name, region}.
FilterChoices = dict[str, list[dict[str, str]]]


def filter_choices() -> FilterChoices:
    """The choices of the browse filters and the posting forms in the active language: each scheme's active
    terms ({code, label, group}, in order) and the Parties ({code, name, region}, by their name in that
    language). Cached per language and vocabulary release, so that a vocabulary reload is seen at once; one
    query when cached."""
    release = VocabularyRelease.objects.order_by("-loaded_at", "-pk").values_list("pk", flat=True).first()
    key = f"filter-choices:3:{get_language() or 'en'}:{release}"
    choices: FilterChoices | None = cache.get(key)
    if choices is None:
        choices = {scheme: [] for scheme in Scheme.values}
        for term in Term.objects.filter(is_active=True).order_by("scheme", "position"):
            choices.setdefault(term.scheme, []).append(
                {"code": term.code, "label": term.label, "group": term.group}
            )
        parties = [
            {"code": party.code, "name": party.name, "region": party.region} for party in Party.objects.all()
        ]
        choices["parties"] = sorted(parties, key=lambda party: strip_accents(party["name"]).casefold())
        cache.set(key, choices, FILTER_CHOICES_SECONDS)
    return choices


def focal_point_parties(*, user: Reader) -> QuerySet[Party]:
    if not user.is_authenticated:
        return Party.objects.none()
    return Party.objects.filter(focal_points__user=user).order_by("name_en")


def organizations_of(*, user: Reader, approved_only: bool = False) -> QuerySet[Organization]:
    """The user's organizations; `approved_only`: those they may post for (see
    `permissions.approved_organization_filter`)."""
    if not user.is_authenticated:
        return Organization.objects.none()
    organizations = Organization.objects.filter(memberships__user=user).order_by("name")
    if approved_only:
        organizations = organizations.filter(permissions.approved_organization_filter())
    return organizations


def organizations_public() -> QuerySet[Organization]:
    """The organizations anyone may list: approved by the secretariat."""
    return (
        Organization.objects.filter(permissions.approved_organization_filter())
        .select_related("country")
        .order_by("name")
    )


def organizations_for_review() -> QuerySet[Organization]:
    """Every organization with its admins, oldest first: what the secretariat reviews and decides on."""
    return (
        Organization.objects.select_related("country")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=OrganizationMembership.objects.filter(is_admin=True).select_related("user"),
                to_attr="admin_memberships",
            )
        )
        .order_by("created_at", "pk")
    )


def pending_organizations() -> QuerySet[Organization]:
    """Registered organizations waiting for the secretariat's decision, oldest first, with their admins."""
    return organizations_for_review().filter(approved_at__isnull=True, rejected_at__isnull=True)


def focal_point_requests_for_review() -> QuerySet[FocalPointRequest]:
    """Every focal-point request with who asks and for which Party: what the secretariat decides on."""
    return FocalPointRequest.objects.select_related("user", "party")


def pending_focal_point_requests() -> QuerySet[FocalPointRequest]:
    return focal_point_requests_for_review().filter(status=RoleRequestStatus.PENDING)


def focal_point_requests_of(*, user: User) -> QuerySet[FocalPointRequest]:
    return FocalPointRequest.objects.filter(user=user).select_related("party").order_by("-created_at")


def open_invitations_for(*, user: Reader) -> QuerySet[OrganizationInvitation]:
    if not user.is_authenticated:
        return OrganizationInvitation.objects.none()
    return OrganizationInvitation.objects.filter(
        email__iexact=user.email, accepted_at__isnull=True
    ).select_related("organization")


def posting_owners(posting: Need | Offer) -> QuerySet[User]:
    """The people who answer for a posting (see `permissions.owner_filter`): they receive its news."""
    owners = Q(pk__in=[])
    if posting.organization_id:
        owners |= Q(memberships__organization_id=posting.organization_id)
    if isinstance(posting, Need) and posting.party_id:
        owners |= Q(focal_points__party_id=posting.party_id)
    if isinstance(posting, Offer) and posting.expert_id:
        owners |= Q(expert_profile__pk=posting.expert_id)
    return User.objects.filter(owners, is_active=True).distinct()


def postings_expiring(*, model: PostingModel, on_or_before: datetime.date) -> Postings:
    return model.objects.filter(status=PostingStatus.PUBLISHED, expires_on__lte=on_or_before)


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still work (knox deletes expired ones when they are next presented)."""
    # knox's manager is untyped (Any): the queryset is stated.
    tokens: QuerySet[ApiToken] = ApiToken.objects.filter(user=user).filter(
        Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    )
    return tokens


def access_api_token(*, user: User, token_key: str) -> ApiToken:
    token = api_tokens_of(user=user).filter(token_key=token_key).first()
    if token is None:
        raise Http404
    return token
