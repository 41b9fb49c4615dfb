"""Ranking quality: recall@k and mean reciprocal rank."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: set[str]) -> float:
    for position, item in enumerate(ranked, start=1):
        if item in relevant:
            return 1.0 / position
    return 0.0


def evaluate(
    rankings: Mapping[str, Sequence[str]], relevant: Mapping[str, set[str]], k: int = 5
) -> dict[str, float]:
    """Mean recall@k and MRR over the queries that have at least one relevant item."""
    queries = [query for query, items in relevant.items() if items]
    return {
        "queries": len(queries),
        f"recall@{k}": sum(recall_at_k(rankings.get(q, []), relevant[q], k) for q in queries) / len(queries),
        "mrr": sum(reciprocal_rank(rankings.get(q, []), relevant[q]) for q in queries) / len(queries),
    }
