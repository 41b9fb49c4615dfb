from celery import shared_task

from . import services


@shared_task
def close_expired_postings() -> int:
    """Hourly (Celery beat): close published postings past their expiry date. Idempotent."""
    return services.postings_close_expired()
