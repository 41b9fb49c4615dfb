"""Celery tasks: they take ids, re-read everything, and are safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from . import notifications, services

# An instant e-mail whose task was lost (broker down, worker killed) is sent again after this long.
REQUEUE_AFTER_SECONDS = 300


@shared_task
def close_expired_postings() -> int:
    """Hourly (Celery beat): close published postings past their expiry date. Idempotent."""
    return services.postings_close_expired()


@shared_task
def notify_expiring_postings() -> int:
    """Daily (Celery beat): tell owners of postings that expire within a week. Once per posting and date."""
    return services.postings_notify_expiring()


@shared_task(acks_late=True, autoretry_for=(OSError, OperationalError), retry_backoff=30, max_retries=8)
def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification; a duplicate or late run finds it sent and does nothing. An SMTP failure
    (OSError) or a lost database connection (OperationalError) rolls the row back to pending and retries."""
    return notifications.notification_email_send(notification_id=notification_id)


@shared_task(acks_late=True)
def send_digests(frequency: str) -> int:
    """Daily and weekly (Celery beat): one e-mail per recipient with their waiting notifications."""
    return notifications.digests_send(frequency=frequency)


@shared_task
def requeue_pending_notifications(older_than_seconds: int = REQUEUE_AFTER_SECONDS) -> int:
    """Every few minutes (Celery beat): queue again the instant e-mails whose task never ran."""
    ids = notifications.pending_instant_ids(older_than_seconds=older_than_seconds)
    for notification_id in ids:
        send_notification_email.delay(notification_id)
    return len(ids)
