from django.http import HttpRequest

from marketplace import permissions
from notifications import selectors as notification_selectors


def roles(request: HttpRequest) -> dict[str, bool | int]:
    """What the navigation needs to know about the visitor."""
    user = request.user
    return {
        "is_secretariat": permissions.is_secretariat(user),
        "unread_notifications": notification_selectors.unread_count(user=user),
    }
