from marketplace import permissions
from notifications.models import Notification


def roles(request):
    """What the navigation needs to know about the visitor."""
    user = request.user
    return {
        "is_secretariat": permissions.is_secretariat(user),
        "unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        if user.is_authenticated
        else 0,
    }
