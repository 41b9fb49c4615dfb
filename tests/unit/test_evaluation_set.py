"""The matching evaluation set is consistent with the vocabulary and the Parties it is scored against."""

import json
from collections import Counter
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "seed_data"


def _lines(name):
    return [
        json.loads(line)
        for line in (SEED / "evaluation" / name).read_text(encoding="utf-8").splitlines()
        if line
    ]


@pytest.fixture(scope="module")
def evaluation():
    return _lines("needs.jsonl"), _lines("offers.jsonl"), _lines("judgements.jsonl")


def test_every_code_exists_in_the_seed_vocabulary_and_parties(evaluation):
    vocabulary = json.loads((SEED / "vocabulary.json").read_text(encoding="utf-8"))["terms"]
    codes = {(term["scheme"], term["code"]) for term in vocabulary}
    parties = {p["code"]: p["region"] for p in json.loads((SEED / "parties.json").read_text())["parties"]}
    needs, offers, _ = evaluation
    for posting in needs + offers:
        for field, scheme in (
            ("subjects", "subject"),
            ("gbf_targets", "gbf_target"),
            ("support_types", "support_type"),
        ):
            assert all((scheme, code) in codes for code in posting[field]), posting["id"]
        assert posting["country"] is None or posting["country"] in parties, posting["id"]
    assert all(parties[need["country"]] == need["region"] for need in needs if need["country"])


def test_judgements_reference_postings_and_every_need_has_a_relevant_offer(evaluation):
    needs, offers, judgements = evaluation
    need_ids, offer_ids = {n["id"] for n in needs}, {o["id"] for o in offers}
    assert len(need_ids) == len(needs) and len(offer_ids) == len(offers)
    assert len(needs) + len(offers) >= 150 and len(judgements) >= 100
    assert all(j["need_id"] in need_ids and j["offer_id"] in offer_ids for j in judgements)
    assert {j["need_id"] for j in judgements if j["relevance"] == 2} == need_ids


def test_the_set_is_trilingual_and_largely_cross_lingual(evaluation):
    needs, offers, judgements = evaluation
    language = {p["id"]: p["language"] for p in needs + offers}
    assert set(Counter(language.values())) == {"en", "fr", "es"}
    pairs = [(language[j["need_id"]], language[j["offer_id"]]) for j in judgements]
    assert sum(a != b for a, b in pairs) / len(pairs) >= 0.3
    assert sum(j["relevance"] == 0 for j in judgements) >= 30  # hard negatives
