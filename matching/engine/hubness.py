"""Hubness correction of the cosine between the two sides of a batch (CSLS: Conneau, Lample, Ranzato,
Denoyer and Jégou, "Word translation without parallel data", ICLR 2018).

In a space of many dimensions some texts are "hubs": close to very many texts of the other side, whatever
they say (a short generic offer, a title in the language the model knows best), so they come first for
needs that are not theirs. CSLS scores a pair by ``2 cos(x, y) - r(x) - r(y)``, where ``r(y)`` is the mean
cosine of ``y`` to its k nearest texts of the other side. For one need ``x`` the term ``r(x)`` is the same
for every offer, so the need's order of offers is that of ``cos(x, y) - r(y) / 2``: the offer-side term is
all that reorders. It needs the other side's texts, so it applies where a whole batch is ranked at once
(``batch.rank_needs``, the CLI), not to one posting matched alone.

``hubness_penalty`` gives that term centred on the batch's mean (``(r(y) - mean r) / 2``), in cosine units:
``cosine - penalty`` ranks every need's offers in CSLS order, and an offer of typical density keeps its
cosine, so the calibration (anchored on raw cosines) reads the corrected value the same way.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

HUBNESS_NEIGHBOURS = 10  # k of CSLS, as in the paper
# Below this many texts on the other side, the k nearest are most of the batch and r(y) says little about
# density (with one need it would be the pair's own cosine): no correction then.
HUBNESS_MIN_QUERIES = 5 * HUBNESS_NEIGHBOURS
CHUNK = 2048  # candidates per block of the queries x candidates product (bounded memory on big batches)


def neighbourhood_density(
    queries: NDArray[np.float32], candidates: NDArray[np.float32], k: int = HUBNESS_NEIGHBOURS
) -> NDArray[np.float64]:
    """r(y) of CSLS for every candidate: its mean cosine to its ``k`` nearest queries (normalised vectors)."""
    if not len(candidates):
        return np.zeros(0, dtype=np.float64)
    k = max(1, min(k, len(queries)))
    density = np.empty(len(candidates), dtype=np.float64)
    for start in range(0, len(candidates), CHUNK):
        cosines = candidates[start : start + CHUNK] @ queries.T
        nearest = np.partition(cosines, len(queries) - k, axis=1)[:, len(queries) - k :]
        density[start : start + CHUNK] = nearest.mean(axis=1, dtype=np.float64)
    return density


def hubness_penalty(
    queries: NDArray[np.float32],
    candidates: NDArray[np.float32],
    k: int = HUBNESS_NEIGHBOURS,
    *,
    min_queries: int = HUBNESS_MIN_QUERIES,
) -> NDArray[np.float64] | None:
    """Per candidate, what to subtract from its cosine to any query so that each query's candidates come in
    CSLS order: half its density above the candidates' mean. None with fewer than ``min_queries`` queries
    (or no candidate): the cosines stand as they are."""
    if len(queries) < max(min_queries, 1) or not len(candidates):
        return None
    density = neighbourhood_density(queries, candidates, k)
    penalty: NDArray[np.float64] = (density - density.mean()) / 2
    return penalty
