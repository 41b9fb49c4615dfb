"""Hybrid scoring: calibrated semantic similarity plus facet evidence, each score with its reasons.

Every feature lies in 0..1 and the score is their weighted mean, so a score reads the same whatever
the weights. Features that cannot be judged (no dates given, no support type stated) sit at a neutral
0.5 rather than counting for or against.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .postings import NEED, Posting

# The structured reasons of a score: JSON-ready values of several kinds (codes, lists of codes, flags,
# counts), read back by key in ``summarise`` and stored as they are.
Reasons: TypeAlias = dict[str, Any]
# The model's cosine (an array, or one value) to a 0..1 similarity (encoder.Encoder.calibrate).
Calibration: TypeAlias = Callable[[ArrayLike], NDArray[np.floating[Any]]]

FEATURES = (
    "semantic",
    "subjects",
    "targets",
    "support",
    "language",
    "geography",
    "timing",
    "capacity",
    "history",
    "popularity",
)

DEFAULT_WEIGHTS: dict[str, float] = {
    "semantic": 0.40,
    "subjects": 0.12,
    "targets": 0.06,
    "support": 0.14,
    "language": 0.10,
    "geography": 0.10,
    "timing": 0.03,
    "capacity": 0.02,
    "history": 0.03,
    "popularity": 0.0,  # learnt from decisions where there are enough (learning.fit_weights)
}

# Which support types each kind of offer provides, beyond those the offer ticks itself.
KIND_PROVIDES = {
    "expertise": {"technical-advice", "policy-legal-advice", "research-cooperation", "data-information"},
    "training": {"training", "capacity-building"},
    "technology": {"technology-transfer", "equipment", "data-information", "chm-hosting"},
    "mentoring": {"mentoring", "capacity-building"},
    "funding": {"funding"},
}

NEUTRAL = 0.5
HISTORY_NEIGHBOURS = 5  # the history feature: mean similarity to the k needs most like this one
WORLDWIDE_FIT = 0.75
REGION_FIT = 0.9
FEW_PLACES = 3  # capacity at or below this is worth saying


@dataclass(frozen=True)
class Scored:
    """One candidate for one posting: the other side's id, the score, its features and reasons."""

    candidate_id: str
    score: float
    features: dict[str, float]
    why: Reasons


def combine(features: Mapping[str, float], weights: Mapping[str, float]) -> float:
    total = sum(weights.get(name, 0.0) for name in FEATURES)
    return sum(weights.get(name, 0.0) * features[name] for name in FEATURES) / total


def _overlap(sought: frozenset[str], other: frozenset[str]) -> tuple[float, list[str]]:
    if not sought or not other:
        return NEUTRAL if not sought else 0.0, []
    shared = sorted(sought & other)
    return len(shared) / len(sought), shared


def _support(need: Posting, offer: Posting) -> tuple[float, Reasons]:
    provided = offer.support_types | KIND_PROVIDES.get(offer.kind or "", set())
    if not need.support_types:
        return NEUTRAL, {}
    explicit = sorted(need.support_types & offer.support_types)
    if explicit:
        return 1.0, {"support": explicit}
    by_kind = sorted(need.support_types & provided)
    if by_kind:
        return 0.7, {"support": by_kind}
    return 0.0, {"support_mismatch": {"sought": sorted(need.support_types), "kind": offer.kind}}


# A text written in "another language" (BCP 47 "und", undetermined): two such texts share nothing known.
UNDETERMINED = "und"


def _language(need: Posting, offer: Posting) -> tuple[float, Reasons]:
    needs, offers = need.work_languages - {UNDETERMINED}, offer.work_languages - {UNDETERMINED}
    common = needs & offers
    if not needs or not offers:
        return NEUTRAL, {}
    if not common:
        return 0.0, {"no_common_language": True}
    preferred = need.language if need.language in common else sorted(common)[0]
    return 1.0, {"language": preferred}


def _need_places(need: Posting) -> tuple[set[str], set[str]]:
    """The countries and the regions a need is about (its Party's, and those it benefits)."""
    countries = {place for place in (need.country, *need.countries) if place is not None}
    regions = {area for area in (need.region, *need.regions) if area is not None}
    return countries, regions


def outside_coverage(need: Posting, offer: Posting) -> bool:
    """Whether the offer's stated coverage leaves out every country and region of the need: such a pair is
    never suggested automatically (a curator can still match it by hand). A need that names no place, or
    an offer that states no limit, is not excluded."""
    places, areas = _need_places(need)
    limited = not offer.worldwide and bool(offer.regions or offer.countries)
    return limited and bool(places | areas) and not (places & offer.countries or areas & offer.regions)


def _geography(need: Posting, offer: Posting) -> tuple[float, Reasons]:
    places, areas = _need_places(need)
    if covered := sorted(places & offer.countries):
        return 1.0, {"covers": covered[0]}
    if covered := sorted(areas & offer.regions):
        return REGION_FIT, {"covers": covered[0]}
    if offer.worldwide or not (offer.regions or offer.countries):
        return WORLDWIDE_FIT, {"covers": "worldwide"}
    return 0.0, {"outside_coverage": sorted(offer.regions | offer.countries)}


def _timing(need: Posting, offer: Posting, today: date) -> tuple[float, Reasons]:
    reasons: Reasons = {}
    if offer.deadline:
        reasons["apply_by"] = offer.deadline.isoformat()
    wanted_from, wanted_to = need.starts_on, need.ends_on
    runs_from, runs_to = offer.starts_on, offer.ends_on
    if not (wanted_from or wanted_to) or not (runs_from or runs_to):
        return NEUTRAL, reasons
    if (runs_to and wanted_from and runs_to < wanted_from) or (
        runs_from and wanted_to and runs_from > wanted_to
    ):
        return 0.1, reasons | {"dates_outside_timeframe": True}
    if runs_to and runs_to < today:
        return 0.1, reasons | {"dates_outside_timeframe": True}
    return 1.0, reasons | {"dates_fit": True}


def _capacity(offer: Posting) -> tuple[float, Reasons]:
    if offer.capacity_left is None:
        return 1.0, {}
    reasons: Reasons = {"places_left": offer.capacity_left} if offer.capacity_left <= FEW_PLACES else {}
    return min(1.0, offer.capacity_left / (offer.capacity or offer.capacity_left)), reasons


def features_and_reasons(
    need: Posting, offer: Posting, *, semantic: float, history: float, history_count: int, today: date
) -> tuple[dict[str, float], Reasons]:
    """The feature values of one (need, offer) pair and the structured reasons behind them.

    ``history``: the need's similarity to the needs the offer already served; ``history_count``: how many
    it served, which also gives its popularity (log-scaled and smoothed: 0 for none, 0.41 for one, 0.71
    for ten)."""
    subjects, shared_subjects = _overlap(need.subjects, offer.subjects)
    targets, shared_targets = _overlap(need.gbf_targets, offer.gbf_targets)
    reasons: Reasons = {"shared_subjects": shared_subjects, "shared_targets": shared_targets}
    values = {
        "semantic": semantic,
        "subjects": subjects,
        "targets": targets,
        "history": history,
        "popularity": math.log1p(history_count) / (math.log1p(history_count) + 1),
    }
    for name, (value, why) in {
        "support": _support(need, offer),
        "language": _language(need, offer),
        "geography": _geography(need, offer),
        "timing": _timing(need, offer, today),
        "capacity": _capacity(offer),
    }.items():
        values[name] = value
        reasons |= why
    if history_count:
        reasons["similar_accepted"] = history_count
    return {name: float(values[name]) for name in FEATURES}, reasons


def rank(
    query: Posting,
    query_vector: NDArray[np.float32],
    candidates: list[Posting],
    candidate_vectors: NDArray[np.float32],
    *,
    calibrate: Calibration,
    today: date,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    history: Mapping[str, NDArray[np.float32]] | None = None,
    history_bonus: Mapping[str, NDArray[np.floating[Any]]] | None = None,
    top_k: int = 10,
    labels: Callable[[str, str], str] | None = None,
    within_coverage: bool = True,
    hubness: NDArray[np.floating[Any]] | None = None,
) -> list[Scored]:
    """Score every eligible candidate of the other side for ``query`` and return the best ``top_k``, best
    first: by the exact score, then by the model's (corrected) cosine (scores are rounded only for display).

    ``hubness``: one value per candidate, subtracted from its cosine before calibration (the semantic
    feature) and the tie-break: ``hubness.hubness_penalty`` where a whole batch is ranked, so that with the
    facets silent each query's order is CSLS's. The reasons keep the raw cosine (``similarity``) and the
    correction (``hubness``).

    ``within_coverage``: leave out offers whose stated coverage excludes the need's places (automatic
    suggestions); False scores them anyway, with the reason (a pair a curator makes by hand).

    ``history`` maps an offer id to the vectors of needs it was already accepted for (needs' ids
    excluded by the caller when they are the query itself). In the offer-to-needs direction it is
    keyed by the query offer's id. ``history_bonus``: per offer, what shared attributes add to the
    cosine to each of those needs (``attributes.AttributeTable.bonus``, the CLI's ``--attributes``).
    """
    if query.ineligible_reason(today):
        return []
    cosines = candidate_vectors @ query_vector if len(candidates) else np.zeros(0, dtype=np.float32)
    corrected = cosines if hubness is None else cosines - np.asarray(hubness, dtype=np.float64)
    semantic = calibrate(corrected)
    history = history or {}
    results = []
    for index, candidate in enumerate(candidates):
        if candidate.side == query.side or candidate.ineligible_reason(today):
            continue
        need, offer = (query, candidate) if query.side == NEED else (candidate, query)
        if within_coverage and outside_coverage(need, offer):
            continue
        past = history.get(offer.id)
        if past is not None and len(past):
            past_cosines = past @ (query_vector if query.side == NEED else candidate_vectors[index])
            if history_bonus and offer.id in history_bonus:
                past_cosines = past_cosines + history_bonus[offer.id]
            nearest = np.sort(past_cosines)[-HISTORY_NEIGHBOURS:]
            history_value, history_count = float(calibrate(nearest.mean())), len(past)
        else:
            history_value, history_count = 0.0, 0
        features, reasons = features_and_reasons(
            need,
            offer,
            semantic=float(semantic[index]),
            history=history_value,
            history_count=history_count,
            today=today,
        )
        why = {"similarity": round(float(cosines[index]), 4), **reasons}
        if hubness is not None:
            why["hubness"] = round(float(hubness[index]), 4)
        why["summary"] = summarise(why, labels=labels)
        rounded = {name: round(value, 4) for name, value in features.items()}
        results.append(
            (combine(features, weights), float(corrected[index]), Scored(candidate.id, 0.0, rounded, why))
        )
    results.sort(key=lambda item: (-item[0], -item[1], item[2].candidate_id))
    return [replace(scored, score=score) for score, _cosine, scored in results[:top_k]]


def short_label(label: str) -> str:
    """'Target 6: Reduce the introduction …' → 'Target 6' (GBF target labels are long); Chinese writes a
    full-width colon ('行动目标6：减少…' → '行动目标6')."""
    return label.replace("：", ":").split(":", 1)[0].strip()


LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "ar": "Arabic",
    "zh": "Chinese",
    "ru": "Russian",
    "pt": "Portuguese",
}


def summarise(
    why: Mapping[str, Any], *, labels: Callable[[str, str], str] | None = None, language: str = "en"
) -> str:
    """One English sentence a person can read: "shared: X, Target 6; both work in French; …"."""

    def label(code: str) -> str:
        return labels(code, language) if labels else code

    parts = []
    shared = [label(code) for code in why.get("shared_subjects", [])]
    shared += [short_label(label(code)) for code in why.get("shared_targets", [])]
    if shared:
        parts.append("shared: " + ", ".join(shared))
    if support := why.get("support"):
        parts.append("offers " + ", ".join(label(code).lower() for code in support))
    if mismatch := why.get("support_mismatch"):
        parts.append(
            "seeks "
            + ", ".join(label(code).lower() for code in mismatch["sought"])
            + f", offer is {mismatch['kind']}"
        )
    if code := why.get("language"):
        parts.append(f"both work in {LANGUAGE_NAMES.get(code, code)}")
    if why.get("no_common_language"):
        parts.append("no common language of work")
    if covers := why.get("covers"):
        parts.append(
            "offer is available worldwide" if covers == "worldwide" else f"offer covers {label(covers)}"
        )
    if outside := why.get("outside_coverage"):
        parts.append("offer limited to " + ", ".join(label(code) for code in outside))
    if why.get("dates_fit"):
        parts.append("dates fit the timeframe")
    if why.get("dates_outside_timeframe"):
        parts.append("dates outside the timeframe")
    if apply_by := why.get("apply_by"):
        parts.append(f"apply by {apply_by}")
    if (places := why.get("places_left")) is not None:
        parts.append(f"{places} place{'s' if places != 1 else ''} left")
    if count := why.get("similar_accepted"):
        parts.append(f"resembles needs this offer already served ({count})")
    return "; ".join(parts)
