"""Reads of the outbox, scoped to the reader.

The reader is an AbstractBaseUser: the project's model (marketplace.User) is a layer above this one. The
Django plugin types every settings.AUTH_USER_MODEL key as that model, so a lookup given the reader carries
`# type: ignore[misc]  # user key` (any user the project passes is a marketplace.User)."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from . import kinds
from .models import Frequency, Notification, NotificationPreference


def notifications_of(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(recipient=user)  # type: ignore[misc]  # user key
        if user.is_authenticated
        else Notification.objects.none()
    )


def notification_preferences_of(*, user: AbstractBaseUser) -> dict[str, str]:
    """Every kind with the user's choice (right away when they never chose)."""
    preferences = NotificationPreference.objects.filter(user=user)  # type: ignore[misc]  # user key
    chosen = dict(preferences.values_list("kind", "frequency"))
    return {kind: chosen.get(kind, Frequency.INSTANT) for kind in kinds.codes()}


def unread_count(*, user: AbstractBaseUser | AnonymousUser) -> int:
    return notifications_of(user=user).filter(read_at__isnull=True).count() if user.is_authenticated else 0
