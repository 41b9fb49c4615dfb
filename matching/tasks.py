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
