"""Celery tasks: they take ids, re-read everything, and are safe to run twice."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def match_posting(side: str, posting_id: int) -> dict:
    """Embed a published or edited posting and store its suggestions (queued on commit by the
    marketplace services)."""
    result = services.posting_match(side=side, posting_id=posting_id)
    if result.created:
        on_new_suggestions(result.created)
    return {"created": len(result.created), "updated": result.updated, "removed": result.removed}


def on_new_suggestions(match_ids: list[int]) -> None:
    """Where the match lifecycle and notifications attach (auto-introduction above a score, telling
    both sides). Called once per matching run with the ids of the suggestions it created; a rerun
    creates none, so whatever hangs here runs once per suggestion."""
    logger.info("%d new match suggestion(s): %s", len(match_ids), match_ids)


@shared_task(acks_late=True)
def fit_match_weights() -> str | None:
    """Refit the combination weights on curators' decisions (daily, by Celery beat)."""
    fitted = services.match_weights_fit()
    return fitted.version if fitted else None
