"""Celery tasks: they take ids, re-read everything, and are safe to run twice."""

import logging
from typing import TypedDict

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from marketplace.models import PostingStatus

from . import selectors, services, suggestions

logger = logging.getLogger(__name__)


class MatchCounts(TypedDict):
    """A matching task's result: how many suggestions it created, updated and removed."""

    created: int
    updated: int
    removed: int


# A database restart (OperationalError) mid-task is retried on a fresh connection.
@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=2, max_retries=6)
def match_pending() -> MatchCounts:
    """Embed and match every published posting saved since the matcher last read it, in batches (one encoder
    call per batch). Queued on commit by each publication: a burst's tasks coalesce, the first to run matches
    what is pending, and the rest find nothing left (or only what another worker holds) and end at once."""
    result = suggestions.postings_match_pending(on_created=on_new_suggestions)
    return {"created": len(result.created), "updated": result.updated, "removed": result.removed}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=2, max_retries=6)
def match_posting(side: str, posting_id: int) -> MatchCounts:
    """Embed one posting and, if it is open, store its suggestions (queued on commit when a posting that is
    not published is edited: its vector is ready when it is)."""
    logger.info("Matching %s %s", side, posting_id)
    result = suggestions.posting_match(side=side, posting_id=posting_id)
    if result.created:
        on_new_suggestions(result.created)
    return {"created": len(result.created), "updated": result.updated, "removed": result.removed}


def on_posting_saved(side: str, posting_id: int, status: str) -> None:
    """A posting was saved (marketplace.posting_events). Once the transaction commits, a published one is
    matched with every other one pending, in batches (a burst of publications coalesces); another is only
    embedded, ready for its validation. An unreachable broker loses nothing: see config/celery_app.py."""
    # shared_task's stub returns a plain Task; the app's task class (config.celery_app.Task, a DjangoTask)
    # has delay_on_commit.
    if status == PostingStatus.PUBLISHED:
        match_pending.delay_on_commit()  # type: ignore[attr-defined]
    else:
        match_posting.delay_on_commit(side, posting_id)  # type: ignore[attr-defined]


@shared_task
def match_pending_postings(older_than_seconds: int | None = None) -> int:
    """Every few minutes (Celery beat): if open postings saved that long ago (MATCHING_REMATCH_AFTER_SECONDS
    unless told otherwise) were never matched (their task was lost), queue ``match_pending``, which matches
    them and anything else pending. Returns how many."""
    if older_than_seconds is None:
        older_than_seconds = settings.MATCHING_REMATCH_AFTER_SECONDS
    lost = sum(
        len(selectors.pending_match_ids(side, older_than_seconds=older_than_seconds))
        for side in ("need", "offer")
    )
    if lost:
        match_pending.delay()
    return lost


def on_new_suggestions(match_ids: list[int]) -> None:
    """Introduce the best new suggestions to both sides (above MATCHING_AUTO_INTRODUCE_SCORE); the rest
    wait in the curators' queue. Introducing is conditional on the row still being "suggested", so a
    rerun introduces nothing twice."""
    introduced = services.matches_auto_introduce(match_ids=match_ids)
    logger.info("%d new match suggestion(s), %d introduced", len(match_ids), introduced)


@shared_task(acks_late=True)
def fit_match_weights() -> str | None:
    """Refit the combination weights on curators' decisions (daily, by Celery beat)."""
    fitted = suggestions.match_weights_fit()
    return fitted.version if fitted else None
