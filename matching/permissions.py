"""Who may see and act on a match: its two sides (the owners of the need and of the offer) and the
secretariat. Nobody else learns that a match exists."""

from marketplace import permissions
from marketplace.models import Need, Offer
from marketplace.permissions import Reader
from marketplace.selectors import posting_owners
from matching.engine.postings import NEED, OFFER

from . import lifecycle
from .models import ACCEPTED_STATUSES, Match, Response


def sides_of(user: Reader, match: Match) -> set[str]:
    """The sides a user answers for: "need", "offer", both (one organization on both sides), or none."""
    sides: set[str] = set()
    if permissions.is_posting_owner(user, match.need):
        sides.add(NEED)
    if permissions.is_posting_owner(user, match.offer):
        sides.add(OFFER)
    return sides


def owner_in_common(need: Need, offer: Offer) -> bool:
    """Whether someone answers for both postings (one person focal point of the need's Party and member of
    the offer's organization, one organization on both sides...): such a pair is never matched, lest one
    person accept both sides and tell its story alone."""
    return posting_owners(need).filter(pk__in=posting_owners(offer).values("pk")).exists()


def actions_for(user: Reader, match: Match, *, sides: set[str] | None = None) -> set[str]:
    """What this user may do on this match now: the lifecycle's table for their roles, less answering
    twice and reporting twice (the services refuse both). ``sides``: the user's, if already known."""
    sides = sides_of(user, match) if sides is None else sides
    roles = ({lifecycle.SIDE} if sides else set()) | (
        {lifecycle.SECRETARIAT} if permissions.is_secretariat(user) else set()
    )
    allowed = set(lifecycle.allowed_actions(match.status, roles))
    if all(getattr(match, f"{side}_response") != Response.PENDING for side in sides):
        allowed -= {"accept", "decline"}
    if sides <= set(match.outcomes.values_list("side", flat=True)):
        allowed.discard("report_outcome")
    return allowed


def can_view_match(user: Reader, match: Match) -> bool:
    return permissions.is_secretariat(user) or bool(sides_of(user, match))


def other(side: str) -> str:
    return OFFER if side == NEED else NEED


def connected_with(user: Reader, posting: Need | Offer) -> bool:
    """Whether the user answers for the other side of a connected (or later) match with this posting."""
    if not user.is_authenticated:
        return False
    if isinstance(posting, Need):
        my_offers = Offer.objects.filter(permissions.owner_filter(user, Offer))
        return posting.matches.filter(status__in=ACCEPTED_STATUSES, offer__in=my_offers).exists()
    my_needs = Need.objects.filter(permissions.owner_filter(user, Need))
    return posting.matches.filter(status__in=ACCEPTED_STATUSES, need__in=my_needs).exists()


def can_view_contact(user: Reader, posting: Need | Offer) -> bool:
    """Contact details are never public: the owners, the secretariat, and the other side of a connected
    match see them."""
    return (
        permissions.is_secretariat(user)
        or permissions.is_posting_owner(user, posting)
        or connected_with(user, posting)
    )


def can_write_story(user: Reader, *, sides: set[str]) -> bool:
    """The two sides of a match and the secretariat write its case study (once it is completed)."""
    return bool(sides) or permissions.is_secretariat(user)


def can_review_story(user: Reader, *, sides: set[str]) -> bool:
    """A member of the secretariat who answers for neither side approves or sends back a case study."""
    return permissions.is_secretariat(user) and not sides
