"""The posting lifecycle, in one place: draft → submitted → published → closed (with a reason).

draft ──submit──> submitted ──approve──> published ──close(fulfilled|withdrawn|expired)──> closed
  ^                  │ └──reject──> closed(rejected)
  └─request changes──┘
draft / submitted ──withdraw──> closed(withdrawn)
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import ClosedReason, PostingStatus

S = PostingStatus

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.CLOSED},
    S.SUBMITTED: {S.PUBLISHED, S.DRAFT, S.CLOSED},
    S.PUBLISHED: {S.SUBMITTED, S.CLOSED},
    S.CLOSED: set(),
}

# The reasons a posting may be closed for, by the state it is closed from.
CLOSE_REASONS: dict[str, set[str]] = {
    S.DRAFT: {ClosedReason.WITHDRAWN},
    S.SUBMITTED: {ClosedReason.WITHDRAWN, ClosedReason.REJECTED},
    S.PUBLISHED: {ClosedReason.FULFILLED, ClosedReason.WITHDRAWN, ClosedReason.EXPIRED},
}

# Owners may edit their text while nobody else is looking at it as a decision: not while under review.
EDITABLE_STATUSES = {S.DRAFT, S.PUBLISHED}


class IllegalTransition(ValidationError):
    """A refused lifecycle move; a ValidationError so that forms and the API report it as bad input."""


def check_transition(current: str, target: str, *, reason: str = "") -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(
            _("This posting is “%(current)s”: it cannot become “%(target)s”.")
            % {"current": S(current).label, "target": S(target).label},
            code="illegal_transition",
        )
    if target == S.CLOSED and reason not in CLOSE_REASONS[current]:
        raise IllegalTransition(
            _("This posting is “%(current)s”: it cannot be closed as “%(reason)s”.")
            % {"current": S(current).label, "reason": reason},
            code="illegal_close_reason",
        )


def check_editable(current: str) -> None:
    if current not in EDITABLE_STATUSES:
        raise IllegalTransition(
            _("This posting is “%(current)s”: it cannot be edited now.") % {"current": S(current).label},
            code="not_editable",
        )
