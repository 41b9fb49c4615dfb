"""Celery tasks: they take ids, re-read everything, and are safe to run twice."""

from celery import shared_task

from . import services


@shared_task
def close_expired_postings() -> int:
    """Hourly (Celery beat): close published postings past their expiry date. Idempotent."""
    return services.postings_close_expired()


@shared_task
def notify_expiring_postings() -> int:
    """Daily (Celery beat): tell owners of postings that expire within a week. Once per posting and date."""
    return services.postings_notify_expiring()
