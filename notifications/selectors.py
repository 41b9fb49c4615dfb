"""Reads of the outbox, scoped to the reader."""

from django.db.models import QuerySet

from . import kinds
from .models import Frequency, Notification, NotificationPreference


def notifications_of(*, user) -> QuerySet:
    return (
        Notification.objects.filter(recipient=user) if user.is_authenticated else Notification.objects.none()
    )


def notification_preferences_of(*, user) -> dict[str, str]:
    """Every kind with the user's choice (right away when they never chose)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "frequency"))
    return {kind: chosen.get(kind, Frequency.INSTANT) for kind in kinds.codes()}
