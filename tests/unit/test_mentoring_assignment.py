"""Mentoring in the engine: suitability, and an optimal assignment that respects every mentor's capacity
and beats the greedy one."""

import itertools

import numpy as np
import pytest

from matching.engine.mentoring import Mentee, Mentor, assign, assign_greedily, suitability, total


def test_the_optimal_assignment_beats_greedy_on_a_constructed_case():
    # Greedy takes x-A (0.9) first and must then give y the poor B (0.1): 1.0 in all.
    # Giving x to B (0.8) and y to A (0.7) is worth 1.5.
    scores = np.array([[0.9, 0.8], [0.7, 0.1]])
    capacities = [1, 1]
    greedy, optimal = assign_greedily(scores, capacities), assign(scores, capacities)
    assert greedy == [(0, 0), (1, 1)] and total(scores, greedy) == pytest.approx(1.0)
    assert optimal == [(0, 1), (1, 0)] and total(scores, optimal) == pytest.approx(1.5)


def brute_force_best(scores, capacities) -> float:
    """Every way of giving each mentee a mentor or none, within capacities (small cases only)."""
    mentees, mentors = scores.shape
    best = 0.0
    for choice in itertools.product([None, *range(mentors)], repeat=mentees):
        load = [sum(1 for c in choice if c == m) for m in range(mentors)]
        if all(load[m] <= capacities[m] for m in range(mentors)):
            best = max(
                best, sum(scores[i, c] for i, c in enumerate(choice) if c is not None and scores[i, c] > 0)
            )
    return best


@pytest.mark.parametrize("seed", range(25))
def test_assignment_respects_capacities_and_is_optimal(seed):
    rng = np.random.default_rng(seed)
    scores = rng.random((6, 3)) * (rng.random((6, 3)) > 0.3)  # some pairs ineligible (0)
    capacities = list(rng.integers(0, 3, size=3))
    pairs = assign(scores, capacities)
    mentees = [row for row, _ in pairs]
    assert len(mentees) == len(set(mentees))  # one mentor per mentee at most
    for mentor, capacity in enumerate(capacities):
        assert sum(1 for _, m in pairs if m == mentor) <= capacity
    assert all(scores[row, column] > 0 for row, column in pairs)  # never an ineligible pair
    assert total(scores, pairs) == pytest.approx(brute_force_best(scores, capacities))
    assert total(scores, pairs) >= total(scores, assign_greedily(scores, capacities)) - 1e-9


def test_more_mentees_than_places_leaves_the_weakest_unassigned():
    scores = np.array([[0.9], [0.2], [0.6]])
    assert assign(scores, [2]) == [(0, 0), (2, 0)]
    assert assign(scores, [0]) == [] and assign(np.zeros((0, 1)), [1]) == []
    with pytest.raises(ValueError):
        assign(scores, [1, 1])


def test_suitability_needs_a_shared_form_and_never_pairs_a_country_with_itself():
    mentor = Mentor(
        id="be",
        forms=frozenset({"hosting", "training"}),
        languages=frozenset({"fr", "en"}),
        region="weog",
        country="BE",
    )
    chad = Mentee(
        id="td",
        country="TD",
        forms=frozenset({"hosting", "advice"}),
        languages=frozenset({"fr"}),
        region="african",
    )
    score, reasons = suitability(mentor, chad, semantic=0.5)
    # forms 1/2 * 0.4 + semantic 0.5 * 0.3 + a shared language 0.2, different regions
    assert score == pytest.approx(0.2 + 0.15 + 0.2)
    assert reasons["forms"] == ["hosting"] and reasons["missing_forms"] == ["advice"]
    assert reasons["languages"] == ["fr"] and reasons["same_region"] is False
    assert (
        suitability(mentor, Mentee("x", "TD", frozenset({"mirror_site"}), frozenset({"fr"}), "african"))[0]
        == 0
    )
    assert suitability(mentor, Mentee("y", "BE", frozenset({"hosting"}), frozenset({"fr"}), "weog"))[0] == 0
