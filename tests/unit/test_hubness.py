"""Hubness correction (CSLS) of the batch ranking: random vectors, no model, no database."""

import numpy as np
import pytest

from matching.engine import hubness as hubness_module
from matching.engine.batch import rank_needs
from matching.engine.encoder import Encoder
from matching.engine.hubness import (
    HUBNESS_MIN_QUERIES,
    HUBNESS_NEIGHBOURS,
    hubness_penalty,
    neighbourhood_density,
)
from matching.engine.postings import NEED, OFFER, Posting
from matching.engine.retrieval import top_k_exact


def unit(rng, rows, dims=16):
    vectors = rng.normal(size=(rows, dims)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def naive_csls(needs, offers, k=HUBNESS_NEIGHBOURS):
    """2 cos(x, y) - r(x) - r(y), straight from the paper's definition."""
    cosines = needs @ offers.T
    r_need = np.sort(cosines, axis=1)[:, -k:].mean(axis=1)
    r_offer = np.sort(cosines, axis=0)[-k:, :].mean(axis=0)
    return 2 * cosines - r_need[:, None] - r_offer[None, :]


class AnchoredEncoder:
    """A stand-in model whose calibration is the encoder's own logistic, anchored where random vectors'
    cosines lie; its vectors are passed in."""

    similarity_range = (-0.2, 0.2)

    def encode(self, texts):
        raise AssertionError("vectors are given")

    def calibrate(self, cosines):
        return Encoder.calibrate(self, cosines)


def silent(side, count, prefix):
    """Postings with no facet at all: every facet is neutral or equal across candidates."""
    return [Posting(id=f"{prefix}{i:03d}", side=side, title="text") for i in range(count)]


@pytest.mark.parametrize("seed", range(20))
def test_with_every_facet_silent_the_batch_ranking_is_the_csls_order(seed):
    rng = np.random.default_rng(seed)
    need_vectors, offer_vectors = unit(rng, 60), unit(rng, 40)
    needs, offers = silent(NEED, 60, "n"), silent(OFFER, 40, "o")

    ranked = rank_needs(
        needs, offers, encoder=AnchoredEncoder(), vectors=(need_vectors, offer_vectors), top_k=len(offers)
    )

    csls = naive_csls(need_vectors, offer_vectors)
    for i, line in enumerate(ranked):
        expected = [offers[j].id for j in np.argsort(-csls[i], kind="stable")]
        assert [r["offer_id"] for r in line["ranked"]] == expected


@pytest.mark.parametrize("seed", range(10))
def test_without_the_correction_or_with_too_few_needs_the_order_is_the_cosine_order(seed):
    rng = np.random.default_rng(seed)
    for count, correct in ((60, False), (HUBNESS_MIN_QUERIES - 1, True)):
        need_vectors, offer_vectors = unit(rng, count), unit(rng, 30)
        report: dict = {}
        ranked = rank_needs(
            silent(NEED, count, "n"),
            offers := silent(OFFER, 30, "o"),
            encoder=AnchoredEncoder(),
            vectors=(need_vectors, offer_vectors),
            top_k=30,
            hubness=correct,
            report=report,
        )
        assert report["hubness_neighbours"] is None
        cosines = need_vectors @ offer_vectors.T
        for i, line in enumerate(ranked):
            expected = [offers[j].id for j in np.argsort(-cosines[i], kind="stable")]
            assert [r["offer_id"] for r in line["ranked"]] == expected
            assert "hubness" not in line["ranked"][0]["why"]


def test_a_hub_offer_no_longer_comes_first_for_needs_that_are_not_its_own():
    """An offer somewhat close to every need (a hub) beats each need's own offer by cosine; corrected, each
    need's own offer comes first, and the hub still comes first for the one need it answers."""
    rng = np.random.default_rng(0)
    dims, count = 256, 60
    shared = unit(rng, 1, dims)[0]  # what every need says in passing: the hub says only that
    topics, noise = unit(rng, count, dims), unit(rng, count, dims)
    needs = np.vstack([0.6 * shared + 0.8 * topics, shared[None, :]])  # the last need is the hub's own
    offers = np.vstack([0.7 * topics + 0.714 * noise, shared[None, :]])  # offer i answers need i
    needs /= np.linalg.norm(needs, axis=1, keepdims=True)
    offers /= np.linalg.norm(offers, axis=1, keepdims=True)
    cosines = needs @ offers.T
    assert (cosines[:count].argmax(axis=1) == count).mean() > 0.75  # the hub wins most needs

    penalty = hubness_penalty(needs.astype(np.float32), offers.astype(np.float32))
    assert penalty is not None and penalty.argmax() == count  # the densest offer is the hub
    firsts = [top_k_exact(needs[i], offers, 1, penalty=penalty)[0] for i in range(count + 1)]
    assert firsts == list(range(count + 1))


def test_the_penalty_is_half_the_density_above_the_mean_computed_in_blocks(monkeypatch):
    rng = np.random.default_rng(3)
    needs, offers = unit(rng, 70), unit(rng, 45)
    monkeypatch.setattr(hubness_module, "CHUNK", 7)  # several blocks, the last one short
    density = neighbourhood_density(needs, offers)
    expected = np.sort(needs @ offers.T, axis=0)[-HUBNESS_NEIGHBOURS:, :].mean(axis=0)
    np.testing.assert_allclose(density, expected, atol=1e-6)
    penalty = hubness_penalty(needs, offers)
    assert penalty is not None
    np.testing.assert_allclose(penalty, (expected - expected.mean()) / 2, atol=1e-6)
    assert abs(penalty.mean()) < 1e-9  # an offer of typical density keeps its cosine
    assert hubness_penalty(needs[: HUBNESS_MIN_QUERIES - 1], offers) is None
    assert hubness_penalty(needs, offers[:0]) is None


def test_the_reasons_keep_the_raw_cosine_and_state_the_correction():
    rng = np.random.default_rng(5)
    need_vectors, offer_vectors = unit(rng, 60), unit(rng, 12)
    report: dict = {}
    (line, *_rest) = rank_needs(
        silent(NEED, 60, "n"),
        silent(OFFER, 12, "o"),
        encoder=AnchoredEncoder(),
        vectors=(need_vectors, offer_vectors),
        top_k=12,
        report=report,
    )
    assert report["hubness_neighbours"] == HUBNESS_NEIGHBOURS
    penalty = hubness_penalty(need_vectors, offer_vectors)
    assert penalty is not None
    for item in line["ranked"]:
        j = int(item["offer_id"][1:])
        assert item["why"]["similarity"] == round(float(need_vectors[0] @ offer_vectors[j]), 4)
        assert item["why"]["hubness"] == round(float(penalty[j]), 4)
