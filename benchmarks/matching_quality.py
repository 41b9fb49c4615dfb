"""Matching quality on the evaluation set (seed_data/evaluation): recall@5 and MRR of each system.

    .venv/bin/python benchmarks/matching_quality.py

Every need ranks all 90 offers. Relevant = judged 2 ("the offer answers the need"). The cross-lingual
line keeps, for each need, only its relevant offers written in another language. Systems:
- TF-IDF: the keyword baseline (words, accents folded), as keyword-matching platforms work;
- all-MiniLM-L6-v2 and multilingual-e5-small: cosine of the embeddings alone;
- hybrid: e5 plus the facets (scoring.DEFAULT_WEIGHTS);
- hybrid, learnt weights: weights fitted (learning.fit_weights) on the judgements of half of the needs and
  evaluated on the other half, both ways: what curators' decisions would teach it.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching.engine.batch import rank_needs, read_postings  # noqa: E402
from matching.engine.encoder import DEFAULT_MODEL, MINILM_MODEL, load_encoder  # noqa: E402
from matching.engine.learning import fit_weights  # noqa: E402
from matching.engine.lexical import tfidf_similarities  # noqa: E402
from matching.engine.metrics import evaluate  # noqa: E402
from matching.engine.postings import Labels, posting_text  # noqa: E402

EVALUATION = Path(__file__).resolve().parents[1] / "seed_data" / "evaluation"
TODAY = date(2026, 11, 21)  # the set has no dates; any fixed day gives the same result
K = 5


def by_similarity(needs, offers, similarities: np.ndarray) -> dict[str, list[str]]:
    return {
        need.id: [offers[j].id for j in np.argsort(-similarities[i], kind="stable")]
        for i, need in enumerate(needs)
    }


def hybrid_rankings(needs, offers, encoder, vectors, labels, weights=None) -> dict[str, list[str]]:
    kwargs = {"weights": weights} if weights else {}
    ranked = rank_needs(
        needs,
        offers,
        encoder=encoder,
        top_k=len(offers),
        today=TODAY,
        labels=labels,
        vectors=vectors,
        **kwargs,
    )
    return {line["need_id"]: [r["offer_id"] for r in line["ranked"]] for line in ranked}


def learnt_rankings(needs, offers, encoder, vectors, labels, judgements) -> dict[str, list[str]]:
    """Two-fold: weights fitted on the judged pairs of one half of the needs rank the other half."""
    need_vectors, offer_vectors = vectors
    scored = rank_needs(
        needs, offers, encoder=encoder, top_k=len(offers), today=TODAY, labels=labels, vectors=vectors
    )
    features = {}
    for line in scored:
        for item in line["ranked"]:
            features[(line["need_id"], item["offer_id"])] = item["why"]["features"]
    halves = [needs[0::2], needs[1::2]]
    rankings = {}
    for train, test in (halves, halves[::-1]):
        train_ids = {need.id for need in train}
        rows = [(pair, grade) for pair, grade in judgements.items() if pair[0] in train_ids and grade != 1]
        weights = fit_weights([features[pair] for pair, _ in rows], [int(grade == 2) for _, grade in rows])
        index = [needs.index(need) for need in test]
        rankings |= hybrid_rankings(
            test, offers, encoder, (need_vectors[index], offer_vectors), labels, weights=weights
        )
    return rankings


def main() -> None:
    labels = Labels.from_seed_data()
    needs = read_postings(EVALUATION / "needs.jsonl", "need", labels)
    offers = read_postings(EVALUATION / "offers.jsonl", "offer", labels)
    judgements = {}
    for line in (EVALUATION / "judgements.jsonl").read_text().splitlines():
        row = json.loads(line)
        judgements[(row["need_id"], row["offer_id"])] = row["relevance"]
    language = {p.id: p.language for p in [*needs, *offers]}
    relevant: dict[str, set[str]] = {}
    for (need_id, offer_id), grade in judgements.items():
        if grade == 2:
            relevant.setdefault(need_id, set()).add(offer_id)
    cross = {n: {o for o in offers_ if language[o] != language[n]} for n, offers_ in relevant.items()}
    need_texts, offer_texts = [posting_text(p) for p in needs], [posting_text(p) for p in offers]

    systems: dict[str, dict[str, list[str]]] = {}
    systems["TF-IDF (baseline)"] = by_similarity(needs, offers, tfidf_similarities(need_texts, offer_texts))
    minilm = load_encoder(MINILM_MODEL)
    minilm_vectors = (minilm.encode(need_texts), minilm.encode(offer_texts))
    systems["all-MiniLM-L6-v2, semantic only"] = by_similarity(
        needs, offers, minilm_vectors[0] @ minilm_vectors[1].T
    )
    e5 = load_encoder(DEFAULT_MODEL)
    started = time.perf_counter()
    e5_vectors = (e5.encode(need_texts), e5.encode(offer_texts))
    encode_seconds = time.perf_counter() - started
    systems["e5-small, semantic only"] = by_similarity(needs, offers, e5_vectors[0] @ e5_vectors[1].T)
    systems["hybrid (e5 + facets, default weights)"] = hybrid_rankings(needs, offers, e5, e5_vectors, labels)
    systems["hybrid, weights learnt (2-fold)"] = learnt_rankings(
        needs, offers, e5, e5_vectors, labels, judgements
    )

    n_cross = sum(1 for items in cross.values() if items)
    n_pairs = sum(len(items) for items in cross.values())
    print(
        f"Matching quality: {len(needs)} needs x {len(offers)} offers, {sum(map(len, relevant.values()))} "
        f"relevant pairs ({n_pairs} cross-lingual, over {n_cross} needs); e5 {e5.version}"
    )
    print(f"{'system':<40} {'recall@5':>9} {'MRR':>7} {'x-ling recall@5':>16} {'x-ling MRR':>11}")
    for name, rankings in systems.items():
        overall, crossing = evaluate(rankings, relevant, K), evaluate(rankings, cross, K)
        print(
            f"{name:<40} {overall['recall@5']:>9.3f} {overall['mrr']:>7.3f} "
            f"{crossing['recall@5']:>16.3f} {crossing['mrr']:>11.3f}"
        )
    print("targets: hybrid > e5 semantic only > TF-IDF on recall@5 and MRR;")
    print("         hybrid cross-lingual recall@5 >= 0.9")
    print(f"(e5 encoded the {len(needs) + len(offers)} postings in {encode_seconds:.1f} s)")


if __name__ == "__main__":
    main()
