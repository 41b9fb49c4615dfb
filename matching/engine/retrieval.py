"""Exact nearest neighbours by cosine over normalised vectors (small sets, tests, and the CLI)."""

from __future__ import annotations

import numpy as np


def top_k_exact(query: np.ndarray, matrix: np.ndarray, k: int) -> np.ndarray:
    """Row indices of the ``k`` rows of ``matrix`` most similar to ``query``, best first."""
    if k <= 0 or not len(matrix):
        return np.zeros(0, dtype=np.int64)
    cosines = matrix @ query
    k = min(k, len(cosines))
    best = np.argpartition(-cosines, k - 1)[:k]
    return best[np.argsort(-cosines[best], kind="stable")]
