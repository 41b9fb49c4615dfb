"""Writes for matching: embed postings, store suggestions, record curators' decisions, fit weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import permissions
from marketplace.models import User
from matching.engine import postings as engine
from matching.engine.encoder import Encoder, load_encoder
from matching.engine.learning import fit_weights, weights_version
from matching.engine.scoring import rank

from . import selectors
from .models import NEGATIVE_STATUSES, POSITIVE_STATUSES, Match, MatchStatus, MatchWeights


def encoder() -> Encoder:
    """The configured model, loaded once per process."""
    cache_dir = Path(settings.MATCHING_CACHE_DIR) if settings.MATCHING_CACHE_DIR else None
    return load_encoder(settings.MATCHING_MODEL, cache_dir=cache_dir)


def _embedding_for(side: str, posting, view: engine.Posting, *, model: Encoder, force: bool = False):
    """The posting's stored vector, re-embedded only if its text or the model changed (or ``force``).
    Returns the embedding and whether it was (re)computed."""
    embedding_model, field_name = selectors.SIDES[side][1], selectors.SIDES[side][2]
    text = engine.posting_text(view)
    digest = engine.content_hash(text)
    current = embedding_model.objects.filter(**{field_name: posting}).first()
    if current and not force and current.is_current(model_version=model.version, content_hash=digest):
        return current, False
    vector = model.encode([text])[0]
    embedding, _created = embedding_model.objects.update_or_create(
        **{field_name: posting},
        defaults={
            "model": model.name,
            "model_version": model.version,
            "content_hash": digest,
            "dimensions": len(vector),
            "vector": vector,
        },
    )
    return embedding, True


@dataclass
class MatchingResult:
    created: list[int] = field(default_factory=list)  # ids of new suggestions
    updated: int = 0
    removed: int = 0


def posting_match(*, side: str, posting_id: int) -> MatchingResult:
    """Embed a posting if needed and, if it is open, store its best matches on the other side.

    Safe to run any number of times: one row per (need, offer); only rows still "suggested" are
    rescored or removed, so a person's decision is never overwritten.
    """
    model = encoder()
    posting = selectors.postings_for_engine(side).filter(pk=posting_id).first()
    if posting is None:
        return MatchingResult()
    view = selectors.as_engine_posting(posting)
    embedding, _changed = _embedding_for(side, posting, view, model=model)
    vector = np.asarray(embedding.vector, dtype=np.float32)
    today = timezone.localdate()
    if view.ineligible_reason(today):
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
    candidates = list(selectors.postings_for_engine(other).filter(pk__in=candidate_ids))
    vectors = selectors.vectors_of(other, [c.pk for c in candidates], model_version=model.version)
    candidates = [c for c in candidates if c.pk in vectors]
    weights, weights_version_in_use = selectors.current_weights()
    scored = rank(
        view,
        vector,
        [selectors.as_engine_posting(c) for c in candidates],
        np.stack([vectors[c.pk] for c in candidates])
        if candidates
        else np.zeros((0, len(vector)), np.float32),
        calibrate=model.calibrate,
        today=today,
        weights=weights,
        history=_history(side, posting, [c.pk for c in candidates], model_version=model.version),
        top_k=len(candidates),
        labels=engine.Labels.from_seed_data(),
    )
    keep = [
        s
        for position, s in enumerate(scored)
        if s.score >= settings.MATCHING_MIN_SCORE
        and (position < settings.MATCHING_SUGGESTIONS_PER_POSTING or int(s.candidate_id) in existing)
    ]
    return _store(
        side, posting, keep, existing, model_version=model.version, weights_version=weights_version_in_use
    )


def _history(side: str, posting, candidate_ids: list[int], *, model_version: str) -> dict[str, np.ndarray]:
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
def _store(side, posting, scored, existing, *, model_version: str, weights_version: str) -> MatchingResult:
    result = MatchingResult()
    now = timezone.now()
    own_field, other_field = selectors.SIDES[side][2], selectors.SIDES[selectors.other_side(side)][2]
    kept = set()
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
        match, created = Match.objects.get_or_create(
            **{own_field: posting, f"{other_field}_id": other_id}, defaults=values
        )
        if created:
            result.created.append(match.pk)
        else:
            # The status condition is re-checked under the row lock: a decision taken meanwhile wins.
            result.updated += Match.objects.filter(pk=match.pk, status=MatchStatus.SUGGESTED).update(**values)
    stale = [match.pk for other_id, match in existing.items() if other_id not in kept]
    result.removed, _ = Match.objects.filter(pk__in=stale, status=MatchStatus.SUGGESTED).delete()
    return result


def postings_reembed(*, force: bool = False, progress: Callable = iter) -> dict[str, int]:
    """Bring every posting's vector up to date: those whose text or model changed, or all with ``force``.
    ``progress`` wraps the iteration (the management command passes a progress bar)."""
    model = encoder()
    counts = {"embedded": 0, "unchanged": 0}
    items = [
        (side, posting)
        for side in (engine.NEED, engine.OFFER)
        for posting in selectors.postings_for_engine(side).order_by("pk")
    ]
    for side, posting in progress(items):
        _embedding, changed = _embedding_for(
            side, posting, selectors.as_engine_posting(posting), model=model, force=force
        )
        counts["embedded" if changed else "unchanged"] += 1
    return counts


def postings_rematch(*, progress: Callable = iter) -> MatchingResult:
    """Match every open posting again (after a model change, new weights, or a bulk load)."""
    total = MatchingResult()
    items = [(side, pk) for side in (engine.NEED, engine.OFFER) for pk in selectors.open_posting_ids(side)]
    for side, pk in progress(items):
        result = posting_match(side=side, posting_id=pk)
        total.created += result.created
        total.updated += result.updated
        total.removed += result.removed
    return total


@transaction.atomic
def match_curate(*, user: User, match: Match, status: str) -> Match:
    """A curator introduces a suggested match to both sides or dismisses it."""
    if not permissions.is_secretariat(user):
        raise PermissionDenied(_("Only the secretariat curates matches."))
    if status not in (MatchStatus.INTRODUCED, MatchStatus.DISMISSED):
        raise ValidationError({"status": [_("Choose introduced or dismissed.")]})
    match = Match.objects.select_for_update().get(pk=match.pk)
    if match.status != MatchStatus.SUGGESTED:
        raise ValidationError(
            {"status": [_("This match is already %(status)s.") % {"status": match.get_status_display()}]}
        )
    match.status, match.decided_by, match.decided_at = status, user, timezone.now()
    match.save(update_fields=["status", "decided_by", "decided_at"])
    return match


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
