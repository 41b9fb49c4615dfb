"""Celery tasks: they take ids, re-read everything, and are safe to run twice."""

import logging

from celery import shared_task
from django.db import OperationalError

from . import selectors, services

logger = logging.getLogger(__name__)


# Published postings whose matching task was lost are queued again after this long.
REMATCH_AFTER_SECONDS = 120


# A database restart (OperationalError) mid-task is retried on a fresh connection.
@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=2, max_retries=6)
def match_posting(side: str, posting_id: int) -> dict:
    """Embed a published or edited posting and store its suggestions (queued on commit by the
    marketplace services)."""
    logger.info("Matching %s %s", side, posting_id)
    result = services.posting_match(side=side, posting_id=posting_id)
    if result.created:
        on_new_suggestions(result.created)
    return {"created": len(result.created), "updated": result.updated, "removed": result.removed}


@shared_task
def match_pending_postings(older_than_seconds: int = REMATCH_AFTER_SECONDS) -> int:
    """Every few minutes (Celery beat): queue again the open postings whose matching never ran."""
    queued = 0
    for side in ("need", "offer"):
        for posting_id in selectors.pending_match_ids(side, older_than_seconds=older_than_seconds):
            match_posting.delay(side, posting_id)
            queued += 1
    return queued


def on_new_suggestions(match_ids: list[int]) -> None:
    """Introduce the best new suggestions to both sides (above MATCHING_AUTO_INTRODUCE_SCORE); the rest
    wait in the curators' queue. Introducing is conditional on the row still being "suggested", so a
    rerun introduces nothing twice."""
    introduced = services.matches_auto_introduce(match_ids=match_ids)
    logger.info("%d new match suggestion(s), %d introduced", len(match_ids), introduced)


@shared_task(acks_late=True)
def fit_match_weights() -> str | None:
    """Refit the combination weights on curators' decisions (daily, by Celery beat)."""
    fitted = services.match_weights_fit()
    return fitted.version if fitted else None
