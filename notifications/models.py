"""The outbox: one row per recipient and event, and each person's e-mail preferences per kind of event.

Which kinds exist, and what each says, is registered by the app that owns the event (`kinds.py`)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    INSTANT = "instant", _("Right away")
    DAILY = "daily", _("Daily digest")
    WEEKLY = "weekly", _("Weekly digest")
    OFF = "off", _("No e-mail")


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not e-mailed (the recipient's choice)")


class Notification(models.Model):
    """The outbox: one row per (recipient, event), written in the same transaction as the event itself.
    The unique event key is what makes delivery exactly-once; e-mail is sent from these rows."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30)  # one of the registered kinds (notifications.kinds)
    event_key = models.CharField(max_length=200)
    context = models.JSONField(default=dict)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event_key"], name="notification_once_per_event")
        ]
        indexes = [models.Index(fields=["email_status", "frequency", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient}"


class NotificationPreference(models.Model):
    """How a user wants e-mail about one kind of event; no row means right away."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=30)  # one of the registered kinds (notifications.kinds)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="preference_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} {self.frequency}"
