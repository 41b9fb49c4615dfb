"""Celery beat tasks of the outbox: they re-read everything and are safe to run twice. The instant e-mail's
task is `outbox.send_notification_email`, beside the `notify` that queues it."""

from celery import shared_task
from django.conf import settings

from . import outbox


@shared_task(acks_late=True)
def send_digests(frequency: str) -> int:
    """Daily and weekly (Celery beat): one e-mail per recipient with their waiting notifications."""
    return outbox.digests_send(frequency=frequency)


@shared_task
def requeue_pending_notifications(older_than_seconds: int | None = None) -> int:
    """Every few minutes (Celery beat): queue again the instant e-mails whose task never ran (pending for
    longer than NOTIFICATION_REQUEUE_AFTER_SECONDS, unless told otherwise)."""
    if older_than_seconds is None:
        older_than_seconds = settings.NOTIFICATION_REQUEUE_AFTER_SECONDS
    ids = outbox.pending_instant_ids(older_than_seconds=older_than_seconds)
    for notification_id in ids:
        outbox.send_notification_email.delay(notification_id)
    return len(ids)
