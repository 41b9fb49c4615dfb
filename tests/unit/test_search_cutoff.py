"""The cut-off of a search by meaning: close results within a margin of the best and above a floor, both in
units of the model's span from unrelated texts to a translation (no model, no database)."""

from matching.selectors import CLOSE_FLOOR, CLOSE_MARGIN, close_results

# multilingual-e5-small's levels: unrelated texts 0.838, a translation 0.915 (a unit: 0.077 of cosine)
E5 = (0.838, 0.915)


def test_the_close_results_are_those_within_the_margin_of_the_best():
    ranked = [(1, 0.860), (2, 0.840), (3, 0.830), (4, 0.828), (5, 0.810)]
    assert CLOSE_MARGIN == 0.4  # 0.0308 of cosine for e5: 0.860 - 0.0308 = 0.8292
    assert close_results(ranked, E5) == [1, 2, 3]


def test_the_best_result_is_close_when_it_is_above_the_floor():
    assert close_results([(7, 0.805), (8, 0.790)], E5) == [7]  # floor: 0.838 - 0.5 * 0.077 = 0.7995
    assert close_results([(7, 0.799), (8, 0.790)], E5) == []  # nothing here is about the query
    assert CLOSE_FLOOR == -0.5


def test_a_near_paraphrase_does_not_hide_what_is_nearer_than_unrelated_texts():
    """The best at 0.94 (the query's own words in its language): a posting in another language at 0.85 is
    beyond the margin (0.909) but nearer than unrelated texts come (0.838), so it stays close."""
    assert close_results([(1, 0.938), (2, 0.846), (3, 0.833)], E5) == [1, 2]


def test_the_order_is_by_similarity_whatever_the_order_given():
    """The HNSW index walks in a relaxed order: the results come back sorted here."""
    assert close_results([(1, 0.850), (2, 0.870), (3, 0.860)], E5) == [2, 3, 1]


def test_the_levels_are_the_models_own():
    """Another model's cosines spread otherwise (MiniLM: unrelated 0.1, a translation 0.7)."""
    ranked = [(1, 0.60), (2, 0.40), (3, 0.05), (4, -0.25)]
    assert close_results(ranked, (0.1, 0.7)) == [1, 2]  # above the unrelated level, 0.1
    assert close_results([(3, 0.05), (4, -0.25)], (0.1, 0.7)) == [3]  # within 0.4 * 0.6 of the best
    assert close_results([], E5) == []
