"""Fitting the combination weights on curators' decisions (accepted = 1, declined or dismissed = 0)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
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
    matrix = np.array([[row[name] for name in FEATURES] for row in features], dtype=np.float64)
    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    model.fit(matrix, np.array(labels))
    coefficients = np.clip(model.coef_[0], 0.0, None)
    if coefficients.sum() <= 0:
        return None
    coefficients /= coefficients.sum()
    return {name: round(float(value), 4) for name, value in zip(FEATURES, coefficients, strict=True)}


def weights_version(weights: dict[str, float]) -> str:
    return hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()[:12]
