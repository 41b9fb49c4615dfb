"""Fitting the combination weights on curators' decisions (accepted = 1, declined or dismissed = 0)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from .scoring import FEATURES

MIN_DECISIONS = 30
MIN_PER_CLASS = 5


def enough_decisions(labels: list[int]) -> bool:
    positives = sum(labels)
    return len(labels) >= MIN_DECISIONS and min(positives, len(labels) - positives) >= MIN_PER_CLASS


def fit_weights(features: list[dict[str, float]], labels: list[int]) -> dict[str, float] | None:
    """Weights for ``scoring.combine`` learnt by logistic regression, or None when the decisions are too
    few or too one-sided to learn from (the caller keeps the defaults then).

    Negative coefficients are dropped: a feature may not count against a pair for showing more
    evidence (that would say more about the sample than about matching).
    """
    if not enough_decisions(labels):
        return None
    # features stored before a feature existed count it as absent
    matrix = np.array([[row.get(name, 0.0) for name in FEATURES] for row in features], dtype=np.float64)
    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    model.fit(matrix, np.array(labels))
    coefficients = np.clip(model.coef_[0], 0.0, None)
    if coefficients.sum() <= 0:
        return None
    coefficients /= coefficients.sum()
    return {name: round(float(value), 4) for name, value in zip(FEATURES, coefficients, strict=True)}


def fit_pairwise_weights(groups: list[tuple[list[dict[str, float]], list[int]]]) -> dict[str, float] | None:
    """Weights that rank, within each group (one need's candidates), the chosen candidates (1) above the
    others (0): logistic regression on the differences of their features (a pairwise ranker), so that what
    every candidate of a need shares counts for nothing; then refined for the groups' mean reciprocal
    rank (``refine_for_reciprocal_rank``). None below the minimum of decisions."""
    differences = []
    for features, labels in groups:
        rows = np.array([[row.get(name, 0.0) for name in FEATURES] for row in features], dtype=np.float64)
        chosen, others = rows[np.array(labels) == 1], rows[np.array(labels) == 0]
        differences += [good - bad for good in chosen for bad in others]
    decisions = sum(sum(labels) for _features, labels in groups)
    if decisions < MIN_DECISIONS or not differences:
        return None
    matrix = np.array(differences)
    model = LogisticRegression(fit_intercept=False, max_iter=1000)
    model.fit(np.vstack([matrix, -matrix]), np.r_[np.ones(len(matrix)), np.zeros(len(matrix))])
    coefficients = np.clip(model.coef_[0], 0.0, None)
    if coefficients.sum() <= 0:
        return None
    coefficients = refine_for_reciprocal_rank(groups, coefficients / coefficients.sum())
    return {name: round(float(value), 4) for name, value in zip(FEATURES, coefficients, strict=True)}


REFINE_GRID = (0.0, 0.05, 0.1, 0.2, 0.4, 0.8)
REFINE_PASSES = 2


def reciprocal_rank_of(
    groups: list[tuple[NDArray[np.float64], NDArray[np.int_]]], weights: NDArray[np.float64]
) -> float:
    """Mean over the groups (feature rows, labels) of 1 / the rank of the best-scored chosen row."""
    ranks = []
    for rows, labels in groups:
        scores = rows @ weights
        ranks.append(1.0 / (1 + int((scores > scores[labels == 1].max()).sum())))
    return float(np.mean(ranks))


def refine_for_reciprocal_rank(
    groups: list[tuple[list[dict[str, float]], list[int]]], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The logistic loss weighs every pair alike; what people see is the top of each list. So, from the
    regression's weights, each weight in turn is set to the value of ``REFINE_GRID`` that most raises the
    groups' mean reciprocal rank (coordinate ascent, kept only when it rises). Returns weights summing
    to 1."""
    matrices = [
        (np.array([[row.get(name, 0.0) for name in FEATURES] for row in features]), np.array(labels))
        for features, labels in groups
        if any(labels)
    ]
    best = reciprocal_rank_of(matrices, weights)
    for _pass in range(REFINE_PASSES):
        for k in range(len(FEATURES)):
            for value in REFINE_GRID:
                trial = weights.copy()
                trial[k] = value
                if trial.sum() > 0 and (score := reciprocal_rank_of(matrices, trial)) > best + 1e-9:
                    weights, best = trial, score
    normalised: NDArray[np.float64] = weights / weights.sum()
    return normalised


def weights_version(weights: dict[str, float]) -> str:
    return hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()[:12]
