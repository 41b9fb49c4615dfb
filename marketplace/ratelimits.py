"""The per-user limit on new postings (`POSTING_RATE_LIMIT`, e.g. "30/hour"; empty turns it off).

The posting services check it, so the pages, the API and the bulk import share one count. The count is of the
postings the user actually created, read from the database: it holds across web processes without a shared
cache, and a refused attempt costs nothing. The secretariat is not limited (it loads calls for proposals).

Organization invitations have their own daily limit per admin (`ORGANIZATION_INVITATIONS_PER_DAY`).
"""

import datetime
import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import ngettext

from . import permissions
from .models import Need, Offer, OrganizationInvitation, User

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class PostingRateLimited(ValidationError):
    """Too many new postings; `wait` is the number of seconds until the next one is allowed."""

    def __init__(self, message: str, *, wait: float):
        super().__init__(message, code="throttled")
        self.wait = wait


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """ "30/hour" → (30, 3600); None for no limit. Same format as the API's throttle rates."""
    if not rate:
        return None
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


def posting_rate_check(*, user: User) -> None:
    """Raise PostingRateLimited when `user` has created the most postings allowed in the current window.
    Call inside the creating transaction."""
    limit = parse_rate(settings.POSTING_RATE_LIMIT)
    if limit is None or permissions.is_secretariat(user):
        return
    allowed, seconds = limit
    now = timezone.now()
    since = now - datetime.timedelta(seconds=seconds)
    # One user's concurrent requests queue here, so two of them cannot both take the last place.
    User.objects.select_for_update().filter(pk=user.pk).exists()
    created = sorted(
        moment
        for model in (Need, Offer)
        for moment in model.objects.filter(created_by=user, created_at__gte=since).values_list(
            "created_at", flat=True
        )
    )
    if len(created) < allowed:
        return
    wait = (created[-allowed] + datetime.timedelta(seconds=seconds) - now).total_seconds()
    minutes = max(1, math.ceil(wait / 60))
    raise PostingRateLimited(
        ngettext(
            "You have created too many postings in a short time. Please try again in %(minutes)d minute.",
            "You have created too many postings in a short time. Please try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
        wait=max(wait, 1),
    )


def invitation_rate_check(*, user: User) -> None:
    """Refuse (a ValidationError on "email") when `user` has sent `ORGANIZATION_INVITATIONS_PER_DAY`
    organization invitations in the last 24 hours, whatever the organization: each one is an e-mail from the
    platform's address. Counted from the database, like the postings. Call inside the inviting transaction."""
    allowed = settings.ORGANIZATION_INVITATIONS_PER_DAY
    since = timezone.now() - datetime.timedelta(days=1)
    User.objects.select_for_update().filter(pk=user.pk).exists()  # one count at a time per user
    if OrganizationInvitation.objects.filter(invited_by=user, created_at__gte=since).count() < allowed:
        return
    raise ValidationError(
        {
            "email": [
                ValidationError(
                    ngettext(
                        "You can send at most %(count)d invitation a day. Please try again tomorrow.",
                        "You can send at most %(count)d invitations a day. Please try again tomorrow.",
                        allowed,
                    )
                    % {"count": allowed},
                    code="throttled",
                )
            ]
        }
    )
