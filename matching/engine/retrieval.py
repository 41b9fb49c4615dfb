"""Exact nearest neighbours by cosine over normalised vectors (small sets, tests, and the CLI)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def top_k_exact(
    query: NDArray[np.float32],
    matrix: NDArray[np.float32],
    k: int,
    *,
    penalty: NDArray[np.floating[Any]] | None = None,
) -> NDArray[np.intp]:
    """Row indices of the ``k`` rows of ``matrix`` most similar to ``query``, best first; with ``penalty``
    (one value per row, e.g. ``hubness.hubness_penalty``), by cosine minus the row's penalty."""
    if k <= 0 or not len(matrix):
        return np.zeros(0, dtype=np.intp)
    cosines = matrix @ query
    scores = cosines if penalty is None else cosines - penalty
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best], kind="stable")]
