"""Mentoring: how well a mentor suits a mentee, and the best capacity-respecting assignment of a cohort.

Pure Python (NumPy, SciPy): no Django.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

# How much each kind of evidence counts; the forms of support decide eligibility.
WEIGHTS = {"forms": 0.4, "semantic": 0.3, "language": 0.2, "region": 0.1}


@dataclass(frozen=True)
class Mentor:
    id: str
    forms: frozenset[str]
    languages: frozenset[str]
    region: str | None
    country: str | None = None


@dataclass(frozen=True)
class Mentee:
    id: str
    country: str
    forms: frozenset[str]
    languages: frozenset[str]
    region: str | None


def suitability(mentor: Mentor, mentee: Mentee, *, semantic: float = 0.0) -> tuple[float, dict[str, Any]]:
    """A score in 0..1 and its reasons. 0 when the mentor offers none of the forms sought, or is the
    mentee itself. ``semantic`` is the calibrated similarity (0..1) of the mentor's experience to the
    mentee's goals."""
    shared_forms = sorted(mentor.forms & mentee.forms)
    if not shared_forms or (mentor.country is not None and mentor.country == mentee.country):
        return 0.0, {}
    shared_languages = sorted(mentor.languages & mentee.languages)
    same_region = mentor.region is not None and mentor.region == mentee.region
    features = {
        "forms": len(shared_forms) / len(mentee.forms),
        "semantic": min(max(semantic, 0.0), 1.0),
        "language": 1.0 if shared_languages else 0.0,
        "region": 1.0 if same_region else 0.0,
    }
    score = sum(WEIGHTS[name] * value for name, value in features.items())
    reasons = {
        "forms": shared_forms,
        "missing_forms": sorted(mentee.forms - mentor.forms),
        "languages": shared_languages,
        "same_region": same_region,
        "semantic": round(features["semantic"], 3),
    }
    return round(score, 4), reasons


def assign(scores: ArrayLike, capacities: Sequence[int]) -> list[tuple[int, int]]:
    """The assignment of mentees (rows) to mentors (columns) that maximises total suitability, with each
    mentor given at most its capacity and each mentee at most one mentor; pairs scored 0 (ineligible) are
    never made. Returns (mentee index, mentor index) pairs.

    Each mentor becomes as many columns as it has places; the Hungarian method (SciPy's
    linear_sum_assignment) then solves the rectangular problem exactly. An ineligible pair adds nothing,
    exactly like leaving the mentee unassigned, so dropping such pairs afterwards keeps the optimum.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.shape[1] != len(capacities):
        raise ValueError("scores must be mentees x mentors, one capacity per mentor")
    slots = [mentor for mentor, capacity in enumerate(capacities) for _place in range(max(int(capacity), 0))]
    if not slots or not scores.shape[0]:
        return []
    rows, columns = linear_sum_assignment(scores[:, slots], maximize=True)
    return sorted(
        (int(row), slots[column])
        for row, column in zip(rows, columns, strict=True)
        if scores[row, slots[column]] > 0
    )


def assign_greedily(scores: ArrayLike, capacities: Sequence[int]) -> list[tuple[int, int]]:
    """The obvious baseline: take the best remaining pair while places last. Not optimal."""
    scores = np.asarray(scores, dtype=float)
    left = [int(capacity) for capacity in capacities]
    taken: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for flat in np.argsort(-scores, axis=None, kind="stable"):
        row, column = divmod(int(flat), scores.shape[1])
        if scores[row, column] > 0 and row not in taken and left[column] > 0:
            pairs.append((row, column))
            taken.add(row)
            left[column] -= 1
    return sorted(pairs)


def total(scores: NDArray[np.floating[Any]], pairs: Sequence[tuple[int, int]]) -> float:
    return float(sum(scores[row, column] for row, column in pairs))
