"""Columns of an export that say which offer fits, learnt from the history (the CLI's ``--attributes``).

Real exports carry more than text: a cooperation type, a sector, a date. Who served a need says little
about such a column by itself, but the needs an offer already served do: a donor that funds bilateral
projects of one decade funds more of them. So an attribute counts in the history feature only: a need's
similarity to each need an offer served is its cosine plus, for each attribute, a weight times their
agreement (1 for the same category, ``exp(-years apart)`` for dates). The weights are chosen from the
history itself, each history need ranked without its own pairs (leave one out), and are 0 where they do
not help.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
from numpy.typing import NDArray

from .metrics import reciprocal_rank

WEIGHT_GRID = (0.0, 0.02, 0.05, 0.1)  # cosine units: a shared attribute is worth at most a tenth of one
ASCENT_PASSES = 2
MAX_FITTING_QUERIES = 1000  # history needs ranked per try (a fixed sample above that)
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _day(value: str) -> int | None:
    """'2012' → mid-2012, '2012-03' → mid-March, a full date as it is; None if it is not a date."""
    if not _DATE.match(value):
        return None
    year, month, day = (value.split("-") + ["", ""])[:3]
    try:
        return date(int(year), int(month or 7), int(day or (15 if month else 1))).toordinal()
    except ValueError:
        return None


class AttributeTable:
    """The attributes of a list of needs, parsed once: per attribute, dates as days when every value
    given is one (agreement: closeness in years), categories otherwise (agreement: equal or not).
    Missing values agree with nothing."""

    def __init__(self, values: Mapping[str, Sequence[str | None]]):
        self.names = list(values)
        self._dates: dict[str, NDArray[np.float64]] = {}
        self._categories: dict[str, NDArray[np.int64]] = {}
        for name, column in values.items():
            days = [_day(value) if value else None for value in column]
            if any(column) and all(day is not None for day, value in zip(days, column, strict=True) if value):
                self._dates[name] = np.array([np.nan if d is None else d for d in days], dtype=np.float64)
            else:
                codes = {value: code for code, value in enumerate(dict.fromkeys(v for v in column if v))}
                self._categories[name] = np.array([codes.get(v, -1) if v else -1 for v in column])

    def agreement(self, name: str, rows: Sequence[int], columns: Sequence[int]) -> NDArray[np.float64]:
        if name in self._dates:
            days = self._dates[name]
            gap = np.abs(days[list(rows)][:, None] - days[list(columns)][None, :]) / 365.25
            return np.nan_to_num(np.exp(-gap), nan=0.0)
        codes = self._categories[name]
        row_codes, column_codes = codes[list(rows)][:, None], codes[list(columns)][None, :]
        same: NDArray[np.float64] = ((row_codes == column_codes) & (row_codes >= 0)).astype(np.float64)
        return same

    def bonus(
        self, weights: Mapping[str, float], rows: Sequence[int], columns: Sequence[int]
    ) -> NDArray[np.float64]:
        """What the attributes add to the cosine between needs ``rows`` and ``columns``."""
        total = np.zeros((len(rows), len(columns)))
        for name, weight in weights.items():
            if weight:
                total += weight * self.agreement(name, rows, columns)
        return total


def fit_attribute_weights(
    vectors: NDArray[np.float32],
    table: AttributeTable,
    served: Mapping[str, Sequence[int]],
    *,
    neighbours: int,
) -> dict[str, float]:
    """Weights for the attributes of ``table`` (the needs of ``vectors``) that rank best, by mean
    reciprocal rank, the offers that served each history need among the offers with a history, from its
    ``neighbours`` most similar other needs each offer served. Coordinate ascent over ``WEIGHT_GRID``;
    all 0 when nothing helps."""
    names = table.names
    offers = [offer for offer, rows in served.items() if rows]
    if not names or len(offers) < 2:
        return dict.fromkeys(names, 0.0)
    taken: dict[int, set[str]] = {}
    for offer in offers:
        for row in served[offer]:
            taken.setdefault(row, set()).add(offer)
    queries = sorted(taken)
    if len(queries) > MAX_FITTING_QUERIES:
        queries = sorted(np.random.default_rng(0).choice(queries, MAX_FITTING_QUERIES, replace=False))
    history_rows = sorted({row for offer in offers for row in served[offer]})
    position = {row: k for k, row in enumerate(history_rows)}
    cosines = vectors[queries] @ vectors[history_rows].T
    agreements = {name: table.agreement(name, queries, history_rows) for name in names}
    columns = {offer: np.array([position[row] for row in served[offer]]) for offer in offers}

    def mean_reciprocal_rank(weights: Mapping[str, float]) -> float:
        similarity = cosines + sum(weight * agreements[name] for name, weight in weights.items())
        ranks = []
        for q, query in enumerate(queries):
            scores = np.full(len(offers), -np.inf)
            for k, offer in enumerate(offers):
                others = columns[offer][np.array(served[offer]) != query]  # leave the need's own pair out
                if len(others):
                    scores[k] = np.sort(similarity[q, others])[-neighbours:].mean()
            ranked = [offers[k] for k in np.argsort(-scores, kind="stable")]
            ranks.append(reciprocal_rank(ranked, taken[query]))
        return float(np.mean(ranks))

    weights = dict.fromkeys(names, 0.0)
    best = mean_reciprocal_rank(weights)
    for _pass in range(ASCENT_PASSES):
        for name in names:
            for value in WEIGHT_GRID:
                trial = weights | {name: value}
                if trial != weights and (score := mean_reciprocal_rank(trial)) > best + 1e-9:
                    weights, best = trial, score
    return weights
