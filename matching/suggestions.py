"""The embedding pipeline: embed postings (pgvector), rank candidates with the engine, store the suggestions
with their reasons, match what is pending in batches, and fit the combination weights on decided matches."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from numpy.typing import NDArray

from marketplace.catalogue_cache import catalogue_changed
from marketplace.models import Need, Offer
from matching.engine import postings as engine
from matching.engine.encoder import Encoder
from matching.engine.learning import fit_weights, weights_version
from matching.engine.postings import NEED, OFFER
from matching.engine.scoring import Scored, rank

from . import selectors
from .encoder import encoder
from .models import (
    NEGATIVE_STATUSES,
    POSITIVE_STATUSES,
    Match,
    MatchStatus,
    MatchWeights,
    NeedEmbedding,
    OfferEmbedding,
)

logger = logging.getLogger(__name__)

# A posting's stored vector (of a need or of an offer), and vectors as the engine takes them.
Embedding = NeedEmbedding | OfferEmbedding
Vectors = NDArray[np.float32]


def _embedding_for(
    side: str, posting: Need | Offer, view: engine.Posting, *, model: Encoder, force: bool = False
) -> tuple[Embedding, bool]:
    """The posting's stored vector, re-embedded only if its text or the model changed (or ``force``).
    Returns the embedding and whether it was (re)computed."""
    return _embeddings_for([(side, posting, view)], model=model, force=force)[0]


def _embeddings_for(
    items: list[tuple[str, Need | Offer, engine.Posting]], *, model: Encoder, force: bool = False
) -> list[tuple[Embedding, bool]]:
    """The stored vectors of several (side, posting, view): those whose text or model changed (all with
    ``force``) are computed again, together in one encoder call (a single text at a time keeps the model
    under-used: about half the throughput). Returns each item's embedding and whether it was (re)computed."""
    texts = [engine.posting_text(view) for _side, _posting, view in items]
    digests = [engine.content_hash(text) for text in texts]
    current: dict[tuple[str, int], Embedding] = {}
    for side in {side for side, _posting, _view in items}:
        embedding_model, field_name = selectors.SIDES[side][1], selectors.SIDES[side][2]
        ids = [posting.pk for own, posting, _view in items if own == side]
        for embedding in embedding_model.objects.filter(**{f"{field_name}_id__in": ids}):
            current[side, getattr(embedding, f"{field_name}_id")] = embedding
    results: list[tuple[Embedding | None, bool]] = [
        (current.get((side, posting.pk)), False) for side, posting, _view in items
    ]
    stale = [
        index
        for index, (embedding, _changed) in enumerate(results)
        if force
        or embedding is None
        or not embedding.is_current(model_version=model.version, content_hash=digests[index])
    ]
    vectors: Vectors | list[Vectors] = model.encode([texts[index] for index in stale]) if stale else []
    for index, vector in zip(stale, vectors, strict=True):
        side, posting, _view = items[index]
        embedding_model, field_name = selectors.SIDES[side][1], selectors.SIDES[side][2]
        posting_key: dict[str, Any] = {field_name: posting}
        embedding, _created = embedding_model.objects.update_or_create(
            **posting_key,
            defaults={
                "model": model.name,
                "model_version": model.version,
                "content_hash": digests[index],
                "dimensions": len(vector),
                "vector": vector,
            },
        )
        results[index] = (embedding, True)
    # Every item without a stored vector was stale: each has one now.
    return cast(list[tuple[Embedding, bool]], results)


@dataclass
class MatchingResult:
    created: list[int] = field(default_factory=list)  # ids of new suggestions
    updated: int = 0
    removed: int = 0

    def add(self, other: MatchingResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.removed += other.removed


def posting_match(*, side: str, posting_id: int) -> MatchingResult:
    """Embed a posting if needed and, if it is open, store its best matches on the other side.

    Safe to run any number of times: one row per (need, offer); only rows still "suggested" are
    rescored or removed, so a person's decision is never overwritten.
    """
    return postings_match(items=[(side, posting_id)])


def postings_match(*, items: list[tuple[str, int]], skip_failures: bool = False) -> MatchingResult:
    """``posting_match`` for several (side, id) at once: the texts that changed are encoded together, in one
    encoder call, then each open posting's matches are stored (each in its own transaction). With
    ``skip_failures``, a posting that cannot be matched is logged and left pending, and the others go on."""
    loaded: list[tuple[str, Need | Offer]] = []
    for side in (NEED, OFFER):
        ids = [pk for own, pk in items if own == side]
        if ids:
            loaded += [
                (side, p) for p in selectors.postings_for_engine(side).filter(pk__in=ids).order_by("pk")
            ]
    if not loaded:
        return MatchingResult()
    model = encoder()  # after the read: deleted postings load no model
    views = [selectors.as_engine_posting(posting) for _side, posting in loaded]
    embeddings = _embeddings_for(
        [(side, posting, view) for (side, posting), view in zip(loaded, views, strict=True)], model=model
    )
    total = MatchingResult()
    candidates: CandidateCache = {}  # a batch's postings share most of their candidates: each read once
    for (side, posting), view, (embedding, _changed) in zip(loaded, views, embeddings, strict=True):
        try:
            total.add(_match_one(side, posting, view, embedding, model=model, candidates=candidates))
        except DatabaseError:
            raise  # the database is down or restarting: the task is retried
        except Exception:
            if not skip_failures:
                raise
            logger.exception("Could not match %s %s", side, posting.pk)
    return total


# (side, id) -> the candidate as the engine sees it and its vector, or None (no vector for this model)
CandidateCache: TypeAlias = dict[tuple[str, int], tuple[engine.Posting, Vectors] | None]


def _candidates(side: str, ids: set[int], *, model_version: str, cache: CandidateCache) -> CandidateCache:
    """The engine's view and vector of the ``side`` postings ``ids``, read from the database only for those
    not in ``cache`` (which keeps them)."""
    missing = [pk for pk in ids if (side, pk) not in cache]
    if missing:
        postings: list[Need | Offer] = list(selectors.postings_for_engine(side).filter(pk__in=missing))
        vectors = selectors.vectors_of(side, [p.pk for p in postings], model_version=model_version)
        cache.update(dict.fromkeys(((side, pk) for pk in missing), None))
        for p in postings:
            if p.pk in vectors:
                cache[side, p.pk] = (selectors.as_engine_posting(p), vectors[p.pk])
    return cache


def _match_one(
    side: str,
    posting: Need | Offer,
    view: engine.Posting,
    embedding: Embedding,
    *,
    model: Encoder,
    candidates: CandidateCache | None = None,
) -> MatchingResult:
    # The version read is the one matched: ``matched_at`` takes its ``updated_at``, so that an edit committed
    # meanwhile (a later ``updated_at``) leaves the posting pending (``selectors.pending_match_ids``), and no
    # clock is compared between the web process that saved it and the worker that matched it.
    matched_at = posting.updated_at
    vector = np.asarray(embedding.vector, dtype=np.float32)
    if view.ineligible_reason(timezone.localdate()):
        type(embedding).objects.filter(pk=embedding.pk).update(matched_at=matched_at)
        return MatchingResult()

    other = selectors.other_side(side)
    own_field, other_field = selectors.SIDES[side][2], selectors.SIDES[other][2]
    existing = {
        getattr(match, f"{other_field}_id"): match
        for match in Match.objects.filter(**{own_field: posting}).only("id", "status", f"{other_field}_id")
    }
    candidate_ids = set(
        selectors.nearest(other, vector, model_version=model.version, limit=settings.MATCHING_CANDIDATES)
    )
    candidate_ids |= {pk for pk, match in existing.items() if match.status == MatchStatus.SUGGESTED}
    cache = candidates if candidates is not None else {}
    known = _candidates(other, candidate_ids, model_version=model.version, cache=cache)
    found = [(pk, entry) for pk in sorted(candidate_ids) if (entry := known[other, pk]) is not None]
    scored, weights_version_in_use = _rank(
        view,
        vector,
        [candidate for _pk, (candidate, _vector) in found],
        np.stack([candidate_vector for _pk, (_candidate, candidate_vector) in found])
        if found
        else np.zeros((0, len(vector)), np.float32),
        model=model,
        history=_history(side, posting, [pk for pk, _entry in found], model_version=model.version),
    )
    keep = [
        s
        for position, s in enumerate(scored)
        if s.score >= settings.MATCHING_MIN_SCORE
        and (position < settings.MATCHING_SUGGESTIONS_PER_POSTING or int(s.candidate_id) in existing)
    ]
    return _store(
        side,
        posting,
        keep,
        existing,
        model_version=model.version,
        weights_version=weights_version_in_use,
        matched_at=matched_at,
    )


def _rank(
    view: engine.Posting,
    vector: Vectors,
    candidate_views: list[engine.Posting],
    candidate_vectors: Vectors,
    *,
    model: Encoder,
    history: dict[str, Vectors] | None = None,
    within_coverage: bool = True,
) -> tuple[list[Scored], str]:
    """Every eligible candidate scored against one posting with the weights in use, best first; with the
    version of those weights. ``within_coverage=False`` also scores offers whose coverage leaves the need
    out (a pair a curator makes by hand)."""
    weights, version = selectors.current_weights()
    scored = rank(
        view,
        vector,
        candidate_views,
        candidate_vectors,
        calibrate=model.calibrate,
        today=timezone.localdate(),
        weights=weights,
        history=history,
        top_k=len(candidate_views),
        labels=engine.Labels.from_seed_data(),
        within_coverage=within_coverage,
    )
    return scored, version


def _history(
    side: str, posting: Need | Offer, candidate_ids: list[int], *, model_version: str
) -> dict[str, Vectors]:
    """Vectors of the needs each offer was already accepted for, the query need itself left out."""
    offer_ids = [posting.pk] if side == engine.OFFER else candidate_ids
    served = selectors.accepted_needs_by_offer(offer_ids)
    if side == engine.NEED:
        served = {offer: [n for n in needs if n != posting.pk] for offer, needs in served.items()}
    vectors = selectors.vectors_of(
        engine.NEED, [n for needs in served.values() for n in needs], model_version=model_version
    )
    return {
        str(offer): np.stack([vectors[n] for n in needs if n in vectors])
        for offer, needs in served.items()
        if any(n in vectors for n in needs)
    }


@transaction.atomic
def _store(
    side: str,
    posting: Need | Offer,
    scored: list[Scored],
    existing: dict[int, Match],
    *,
    model_version: str,
    weights_version: str,
    matched_at: datetime.datetime,
) -> MatchingResult:
    result = MatchingResult()
    now = timezone.now()
    own_field, other_field = selectors.SIDES[side][2], selectors.SIDES[selectors.other_side(side)][2]
    kept: set[int] = set()
    new: list[Match] = []
    for s in scored:
        other_id = int(s.candidate_id)
        kept.add(other_id)
        values = {
            "score": s.score,
            "features": s.features,
            "reasons": s.why,
            "model_version": model_version,
            "weights_version": weights_version,
            "scored_at": now,
        }
        if other_id in existing:
            # The status condition is checked by the update itself: a decision taken meanwhile wins.
            result.updated += Match.objects.filter(
                pk=existing[other_id].pk, status=MatchStatus.SUGGESTED
            ).update(**values)
        else:
            new.append(Match(**{own_field: posting, f"{other_field}_id": other_id}, **values))
    if new:
        # One insert for the new pairs; a pair that the other side's run stored meanwhile stays as it is.
        Match.objects.bulk_create(new, ignore_conflicts=True)
        new_ids = [getattr(match, f"{other_field}_id") for match in new]
        stored = Match.objects.filter(**{own_field: posting, f"{other_field}_id__in": new_ids})
        result.created += list(stored.values_list("pk", flat=True))
    stale = [match.pk for other_id, match in existing.items() if other_id not in kept]
    result.removed, _ = Match.objects.filter(pk__in=stale, status=MatchStatus.SUGGESTED).delete()
    selectors.SIDES[side][1].objects.filter(pk=posting.pk).update(matched_at=matched_at)
    catalogue_changed()  # the posting's public page lists its suggestions, or says it is being matched
    return result


def postings_reembed(
    *,
    force: bool = False,
    progress: Callable[[list[tuple[str, Need | Offer]]], Iterable[tuple[str, Need | Offer]]] = iter,
) -> dict[str, int]:
    """Bring every posting's vector up to date: those whose text or model changed, or all with ``force``.
    ``progress`` wraps the iteration (the management command passes a progress bar)."""
    model = encoder()
    counts = {"embedded": 0, "unchanged": 0}
    items = [
        (side, posting)
        for side in (engine.NEED, engine.OFFER)
        for posting in selectors.postings_for_engine(side).order_by("pk")
    ]
    batch: list[tuple[str, Need | Offer, engine.Posting]] = []
    for number, (side, posting) in enumerate(progress(items), start=1):
        batch.append((side, posting, selectors.as_engine_posting(posting)))
        if len(batch) == settings.MATCHING_BATCH_SIZE or number == len(items):  # one encoder call per batch
            for _embedding, changed in _embeddings_for(batch, model=model, force=force):
                counts["embedded" if changed else "unchanged"] += 1
            batch = []
    return counts


def postings_rematch(
    *, progress: Callable[[list[tuple[str, int]]], Iterable[tuple[str, int]]] = iter
) -> MatchingResult:
    """Match every open posting again (after a model change, new weights, or a bulk load)."""
    total = MatchingResult()
    items = [(side, pk) for side in (engine.NEED, engine.OFFER) for pk in selectors.open_posting_ids(side)]
    for side, pk in progress(items):
        result = posting_match(side=side, posting_id=pk)
        total.created += result.created
        total.updated += result.updated
        total.removed += result.removed
    return total


# Claims on postings being matched: PostgreSQL session advisory locks, keyed by side (high half) and id.
_CLAIM_KEYS = {NEED: 0x43484D31 << 32, OFFER: 0x43484D32 << 32}  # "CHM1", "CHM2"


@contextmanager
def _claimed(items: list[tuple[str, int]], *, limit: int) -> Iterator[list[tuple[str, int]]]:
    """Claim up to ``limit`` of ``items`` (side, id) for this process; yields those claimed, released on exit.
    A posting another worker holds is skipped; a worker that dies drops its claims with its connection."""
    claimed: list[tuple[str, int]] = []
    try:
        with connection.cursor() as cursor:
            for side, pk in items:
                if len(claimed) >= limit:
                    break
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [_CLAIM_KEYS[side] + pk])
                if cursor.fetchone()[0]:
                    claimed.append((side, pk))
        yield claimed
    finally:
        if claimed:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(key) FROM unnest(%s::bigint[]) AS key",
                        [[_CLAIM_KEYS[side] + pk for side, pk in claimed]],
                    )
            except (DatabaseError, InterfaceError):  # the connection is gone, and its claims with it
                logger.warning("Could not release %d matching claim(s)", len(claimed), exc_info=True)


def postings_match_pending(
    *, batch_size: int | None = None, on_created: Callable[[list[int]], None] | None = None
) -> MatchingResult:
    """Match every published posting the matcher has not read since it was last saved
    (``selectors.pending_match_ids``, no delay), ``batch_size`` at a time (MATCHING_BATCH_SIZE): each batch
    is encoded in one encoder call, then each posting ranked and stored; ``on_created`` gets each batch's new
    suggestions. Runs until nothing it can claim is left, so that concurrent runs split the work and a
    posting edited while its batch ran is matched again; a run that finds nothing returns at once.
    Postings another run holds are left to it. Safe to run any number of times, in any number of workers."""
    batch_size = batch_size or settings.MATCHING_BATCH_SIZE
    total = MatchingResult()
    runs: dict[tuple[str, int], int] = {}
    while True:
        pending = [
            (side, pk)
            for side in (NEED, OFFER)
            for pk in selectors.pending_match_ids(side)
            if runs.get((side, pk), 0) < 2  # one more run for an edit made meanwhile, never an endless loop
        ]
        with _claimed(pending, limit=batch_size) as claimed:
            if not claimed:
                return total
            # Under the claims, again: another run may have matched some since the list was read.
            still = {
                (side, pk)
                for side in (NEED, OFFER)
                for pk in selectors.pending_match_ids(side, among=[pk for own, pk in claimed if own == side])
            }
            batch = [item for item in claimed if item in still]
            for side, pk in batch:
                logger.info("Matching %s %s", side, pk)
                runs[side, pk] = runs.get((side, pk), 0) + 1
            # A posting that cannot be matched must not hold back the rest of its batch: it stays pending.
            result = postings_match(items=batch, skip_failures=True) if batch else MatchingResult()
            if result.created and on_created is not None:
                on_created(result.created)
        total.add(result)


def match_weights_fit() -> MatchWeights | None:
    """Fit the combination weights on every decided match; None (defaults stay) if too few."""
    rows = list(selectors.decided_matches().values_list("features", "status"))
    rows = [
        (features, status) for features, status in rows if status in POSITIVE_STATUSES | NEGATIVE_STATUSES
    ]
    weights = fit_weights([features for features, _ in rows], [int(s in POSITIVE_STATUSES) for _, s in rows])
    if weights is None:
        return None
    fitted, _created = MatchWeights.objects.get_or_create(
        version=weights_version(weights), defaults={"weights": weights, "decisions": len(rows)}
    )
    return fitted


def pair_scored(need: Need, offer: Offer) -> tuple[Scored, str, str]:
    """The engine's score and reasons for one pair (for pairs people create); ValidationError when the
    pair could not be suggested at all (a side closed, expired, past its deadline or full)."""
    model = encoder()
    views: dict[str, engine.Posting] = {}
    vectors: dict[str, Vectors] = {}
    posting: Need | Offer
    for side, posting in ((NEED, need), (OFFER, offer)):
        posting = selectors.postings_for_engine(side).get(pk=posting.pk)
        views[side] = selectors.as_engine_posting(posting)
        embedding, _changed = _embedding_for(side, posting, views[side], model=model)
        vectors[side] = np.asarray(embedding.vector, dtype=np.float32)
    scored, version = _rank(
        views[NEED],
        vectors[NEED],
        [views[OFFER]],
        vectors[OFFER][None, :],
        model=model,
        within_coverage=False,
    )
    if not scored:
        raise ValidationError(
            _("These postings cannot be matched now: one is closed, expired, past its deadline or full.")
        )
    return scored[0], model.version, version
