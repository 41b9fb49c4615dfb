from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from marketplace import permissions
from marketplace.models import Party
from notifications import selectors as notification_selectors


def roles(request: HttpRequest) -> dict[str, bool | int]:
    """What the navigation needs to know about the visitor."""
    user = request.user
    return {
        "is_secretariat": permissions.is_secretariat(user),
        "unread_notifications": notification_selectors.unread_count(user=user),
    }


def site(request: HttpRequest) -> dict[str, object]:
    """This instance's name, the Party it serves (a partner's own site, config/site.py) and its colour."""

    def party_name() -> str:
        party = Party.objects.filter(code=settings.SITE_PARTY.upper()).first()
        return party.name_in(get_language()) if party else ""

    return {
        "site_name": settings.SITE_NAME or _("CHM Matchmaker"),
        "site_party": SimpleLazyObject(party_name) if settings.SITE_PARTY else "",
        "site_colour": bool(settings.SITE_ACCENT_COLOUR),
    }
