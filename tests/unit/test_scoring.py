"""Scoring, explanations and hard filters of the engine, on hand-built postings (no model, no database)."""

import datetime

import numpy as np
import pytest

from matching.engine.learning import fit_weights
from matching.engine.metrics import evaluate, recall_at_k, reciprocal_rank
from matching.engine.postings import NEED, OFFER, Labels, Posting, posting_text
from matching.engine.scoring import DEFAULT_WEIGHTS, FEATURES, combine, rank

TODAY = datetime.date(2026, 11, 21)
LABELS = Labels.from_seed_data()


def identity(cosines):
    return np.clip(np.asarray(cosines, dtype=np.float32), 0, 1)


def need(**fields) -> Posting:
    values = {
        "id": "n1",
        "side": NEED,
        "title": "Former les douaniers aux espèces envahissantes",
        "language": "fr",
        "subjects": frozenset({"invasive-alien-species"}),
        "gbf_targets": frozenset({"gbf-target-6"}),
        "support_types": frozenset({"training"}),
        "country": "TD",
        "region": "african",
    }
    return Posting(**(values | fields))


def offer(id="o1", **fields) -> Posting:
    values = {
        "id": id,
        "side": OFFER,
        "title": "Border biosecurity course",
        "language": "en",
        "languages": frozenset({"en", "fr"}),
        "kind": "training",
        "subjects": frozenset({"invasive-alien-species", "wildlife-trade"}),
        "gbf_targets": frozenset({"gbf-target-6"}),
        "support_types": frozenset({"training"}),
        "regions": frozenset({"african"}),
    }
    return Posting(**(values | fields))


def rank_one(query, candidates, similarities=None, **kwargs):
    """Rank with chosen semantic similarities: the query is e0, candidate i sits at cosine sims[i]."""
    similarities = similarities or [0.5] * len(candidates)
    vectors = np.array([[s, np.sqrt(1 - s * s)] for s in similarities], dtype=np.float32)
    return rank(
        query,
        np.array([1.0, 0.0], dtype=np.float32),
        candidates,
        vectors,
        calibrate=identity,
        today=TODAY,
        labels=LABELS,
        **kwargs,
    )


def test_explanation_names_shared_facets_language_and_coverage():
    (scored,) = rank_one(need(), [offer()])
    assert scored.why["shared_subjects"] == ["invasive-alien-species"]
    assert scored.why["shared_targets"] == ["gbf-target-6"]
    assert scored.why["language"] == "fr"
    assert scored.why["covers"] == "african"
    summary = scored.why["summary"]
    assert "shared: Invasive alien species, Target 6" in summary
    assert "both work in French" in summary
    assert "offer covers African States" in summary


def test_every_feature_is_between_zero_and_one_and_the_score_is_their_weighted_mean():
    (scored,) = rank_one(need(), [offer()], similarities=[0.8])
    assert set(scored.features) == set(FEATURES)
    assert all(0.0 <= value <= 1.0 for value in scored.features.values())
    assert scored.score == pytest.approx(combine(scored.features, DEFAULT_WEIGHTS), abs=1e-4)
    assert scored.features["semantic"] == pytest.approx(0.8, abs=1e-4)


@pytest.mark.parametrize(
    ("changes", "feature", "expected"),
    [
        ({}, "support", 1.0),
        ({"support_types": frozenset(), "kind": "training"}, "support", 0.7),  # provided by its kind
        ({"support_types": frozenset({"funding"}), "kind": "funding"}, "support", 0.0),
        ({"countries": frozenset({"TD"}), "regions": frozenset()}, "geography", 1.0),
        ({}, "geography", 0.9),  # the need's region
        ({"regions": frozenset(), "worldwide": True}, "geography", 0.75),
        ({"regions": frozenset({"weog"})}, "geography", 0.0),
        ({"languages": frozenset({"es"}), "language": "es"}, "language", 0.0),
        ({"capacity": 4, "capacity_left": 1}, "capacity", 0.25),
    ],
)
def test_facet_features(changes, feature, expected):
    (scored,) = rank_one(need(), [offer(**changes)], within_coverage=False)
    assert scored.features[feature] == pytest.approx(expected)


def test_mismatches_are_explained():
    (scored,) = rank_one(
        need(),
        [
            offer(
                kind="funding",
                support_types=frozenset({"funding"}),
                regions=frozenset({"weog"}),
                languages=frozenset(),
                language="es",
            )
        ],
        within_coverage=False,  # as a curator's pair: scored, with the reason
    )
    assert scored.why["support_mismatch"] == {"sought": ["training"], "kind": "funding"}
    assert scored.why["outside_coverage"] == ["weog"]
    assert scored.why["no_common_language"] is True
    assert "offer limited to Western European and other States" in scored.why["summary"]
    assert "no common language of work" in scored.why["summary"]


def test_timing_rewards_dates_inside_the_timeframe_and_names_the_deadline():
    wanted = need(starts_on=datetime.date(2027, 1, 1), ends_on=datetime.date(2027, 6, 30))
    inside = offer(
        "in",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 3, 5),
        deadline=datetime.date(2027, 1, 15),
    )
    outside = offer("out", starts_on=datetime.date(2027, 9, 1), ends_on=datetime.date(2027, 9, 5))
    scored = {s.candidate_id: s for s in rank_one(wanted, [inside, outside])}
    assert scored["in"].features["timing"] == 1.0
    assert scored["in"].why["apply_by"] == "2027-01-15"
    assert scored["out"].features["timing"] < 0.5
    assert scored["in"].score > scored["out"].score


@pytest.mark.parametrize(
    "changes",
    [
        {"is_open": False},
        {"expires_on": TODAY - datetime.timedelta(days=1)},
        {"deadline": TODAY - datetime.timedelta(days=1)},
        {"capacity": 2, "capacity_left": 0},
    ],
    ids=["closed", "expired", "deadline passed", "full"],
)
def test_closed_expired_or_full_offers_never_appear(changes):
    ranked = rank_one(need(), [offer("bad", **changes), offer("good")], similarities=[0.99, 0.1])
    assert [s.candidate_id for s in ranked] == ["good"]


def test_a_closed_need_gets_no_suggestions_and_offers_are_matched_both_ways():
    assert rank_one(need(is_open=False), [offer()]) == []
    (scored,) = rank_one(offer(), [need()])  # needs for an offer
    assert scored.candidate_id == "n1" and scored.why["covers"] == "african"


def test_facets_reorder_candidates_of_equal_meaning():
    good = offer("good")
    wrong_support = offer("wrong", kind="funding", support_types=frozenset({"funding"}))
    ranked = rank_one(need(), [wrong_support, good], similarities=[0.7, 0.7])
    assert [s.candidate_id for s in ranked] == ["good", "wrong"]


def test_history_lifts_offers_already_accepted_for_similar_needs():
    a, b = offer("a"), offer("b")
    past_need_vectors = {"a": np.array([[0.95, np.sqrt(1 - 0.95**2)]], dtype=np.float32)}
    ranked = rank_one(need(), [a, b], similarities=[0.6, 0.6], history=past_need_vectors)
    assert [s.candidate_id for s in ranked] == ["a", "b"]
    assert ranked[0].features["history"] == pytest.approx(0.95, abs=1e-3)
    assert ranked[0].why["similar_accepted"] == 1
    assert ranked[1].features["history"] == 0.0


def test_posting_text_holds_title_description_and_facet_labels():
    text = posting_text(need(description="Le Tchad veut former 30 agents.", facet_labels=("Formation",)))
    assert text.splitlines() == [
        "Former les douaniers aux espèces envahissantes.",
        "Le Tchad veut former 30 agents.",
        "Formation.",
    ]


def test_weights_are_fitted_only_from_enough_decisions():
    rows = [dict.fromkeys(FEATURES, 0.5) for _ in range(10)]
    assert fit_weights(rows, [1, 0] * 5) is None  # too few
    rng = np.random.default_rng(7)
    features, labels = [], []
    for _ in range(200):
        row = {name: float(rng.random()) for name in FEATURES}
        features.append(row)
        labels.append(int(row["support"] > 0.5))  # curators keep exactly the right support type
    weights = fit_weights(features, labels)
    assert weights is not None and sum(weights.values()) == pytest.approx(1.0, abs=1e-3)
    assert max(weights, key=weights.get) == "support"
    assert fit_weights(features, [1] * 200) is None  # one-sided


def test_metrics():
    assert recall_at_k(["a", "b", "c"], {"b", "z"}, 2) == 0.5
    assert reciprocal_rank(["a", "b", "c"], {"c"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"], {"z"}) == 0.0
    summary = evaluate({"q1": ["a", "b"], "q2": ["x"]}, {"q1": {"a"}, "q2": {"y"}}, k=1)
    assert summary == {"queries": 2, "recall@1": 0.5, "mrr": 0.5}


def test_an_offer_whose_coverage_leaves_out_the_need_is_never_suggested():
    """Limited to Latin America and the Caribbean: never suggested to Chad's need (the demo's first
    suggestion before), whatever its similarity; one covering Chad, a region or worldwide still is."""
    latin_america = offer("lac", regions=frozenset({"latin-american-caribbean"}))
    elsewhere = [
        offer("chad", regions=frozenset(), countries=frozenset({"TD"})),
        offer("africa"),
        offer("world", regions=frozenset(), worldwide=True),
        offer("unstated", regions=frozenset()),
    ]
    ranked = rank_one(need(), [latin_america, *elsewhere], similarities=[0.99, 0.5, 0.5, 0.5, 0.5])
    by_hand = rank_one(need(), [latin_america], similarities=[0.99], within_coverage=False)

    assert [s.candidate_id for s in ranked if s.candidate_id == "lac"] == []
    assert {s.candidate_id for s in ranked} == {"chad", "africa", "world", "unstated"}
    assert by_hand[0].why["outside_coverage"] == ["latin-american-caribbean"]
    # a need that names no place is not excluded by anyone's coverage
    assert rank_one(need(country=None, region=None), [latin_america])[0].candidate_id == "lac"
    # from the offer's side too
    assert rank_one(latin_america, [need()]) == []


def _random_case(seed: int, *, facets_equal: bool):
    """A query and 30 candidates on random unit vectors; the candidates' facets all alike (or all silent)."""
    rng = np.random.default_rng(seed)
    dims = 16
    query_vector = rng.normal(size=dims).astype(np.float32)
    query_vector /= np.linalg.norm(query_vector)
    vectors = rng.normal(size=(30, dims)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    template = offer() if facets_equal else Posting(id="x", side=OFFER, title="An offer")
    candidates = [Posting(**(template.__dict__ | {"id": f"o{i:02d}"})) for i in range(30)]
    query = need() if facets_equal else Posting(id="n", side=NEED, title="A need")
    return query, query_vector, candidates, vectors


@pytest.mark.parametrize("facets_equal", [False, True], ids=["silent facets", "equal facets"])
@pytest.mark.parametrize("seed", range(25))
def test_with_facets_silent_or_equal_the_order_is_the_models_cosine_order(seed, facets_equal):
    from matching.engine.encoder import Encoder

    class Anchored:  # the encoder's own calibration, anchored where random vectors' cosines lie
        similarity_range = (-0.2, 0.2)

    query, query_vector, candidates, vectors = _random_case(seed, facets_equal=facets_equal)
    ranked = rank(
        query,
        query_vector,
        candidates,
        vectors,
        calibrate=lambda cosines: Encoder.calibrate(Anchored(), cosines),
        today=TODAY,
        top_k=len(candidates),
    )
    cosines = vectors @ query_vector
    assert [s.candidate_id for s in ranked] == [candidates[i].id for i in np.argsort(-cosines, kind="stable")]


@pytest.mark.parametrize(
    "one_more",
    [
        {"subjects": frozenset({"invasive-alien-species"})},
        {"gbf_targets": frozenset({"gbf-target-6"})},
        {"support_types": frozenset({"training"})},
        {"languages": frozenset({"fr"})},
        {"countries": frozenset({"TD"})},
    ],
    ids=lambda change: next(iter(change)),
)
@pytest.mark.parametrize("similarity", [0.1, 0.5, 0.9])
def test_satisfying_one_more_facet_never_lowers_the_score(one_more, similarity):
    bare = offer(
        subjects=frozenset({"wildlife-trade"}),
        gbf_targets=frozenset(),
        support_types=frozenset(),
        kind="funding",
        language="es",
        languages=frozenset(),
        regions=frozenset(),
        worldwide=True,
    )
    fuller = Posting(**(bare.__dict__ | {"id": "o2"} | one_more))
    if "countries" in one_more:
        fuller = Posting(**(fuller.__dict__ | {"worldwide": False}))
    (before,) = rank_one(need(), [bare], similarities=[similarity])
    (after,) = rank_one(need(), [fuller], similarities=[similarity])
    assert after.score >= before.score
