"""Exact nearest neighbours by cosine over normalised vectors (small sets, tests, and the CLI)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def top_k_exact(query: NDArray[np.float32], matrix: NDArray[np.float32], k: int) -> NDArray[np.intp]:
    """Row indices of the ``k`` rows of ``matrix`` most similar to ``query``, best first."""
    if k <= 0 or not len(matrix):
        return np.zeros(0, dtype=np.intp)
    cosines = matrix @ query
    k = min(k, len(cosines))
    best = np.argpartition(-cosines, k - 1)[:k]
    return best[np.argsort(-cosines[best], kind="stable")]
