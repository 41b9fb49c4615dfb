"""Celery tasks: they take ids, re-read everything, and are safe to run twice (a harvest is idempotent)."""

from celery import shared_task
from django.db import OperationalError

from . import selectors, services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=5, max_retries=3)
def harvest_partner_task(partner_id: int) -> dict[str, int | bool | str]:
    result = services.harvest_partner(partner_id)
    return {
        "stored": result.stored,
        "closed": result.closed,
        "skipped": result.skipped,
        "pages": result.pages,
        "complete": result.complete,
        "error": result.error,
    }


@shared_task
def harvest_partners() -> int:
    """Hourly (Celery beat): queue a harvest of every active partner. Returns how many."""
    ids = list(selectors.active_partner_ids())
    for partner_id in ids:
        harvest_partner_task.delay(partner_id)
    return len(ids)
