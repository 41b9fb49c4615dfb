import pytest

from marketplace.lifecycle import IllegalTransition, check_editable, check_transition
from marketplace.models import ClosedReason, PostingStatus

S, R = PostingStatus, ClosedReason

LEGAL = [
    (S.DRAFT, S.SUBMITTED, ""),
    (S.DRAFT, S.CLOSED, R.WITHDRAWN),
    (S.SUBMITTED, S.PUBLISHED, ""),
    (S.SUBMITTED, S.DRAFT, ""),
    (S.SUBMITTED, S.CLOSED, R.REJECTED),
    (S.SUBMITTED, S.CLOSED, R.WITHDRAWN),
    (S.PUBLISHED, S.SUBMITTED, ""),
    (S.PUBLISHED, S.CLOSED, R.FULFILLED),
    (S.PUBLISHED, S.CLOSED, R.WITHDRAWN),
    (S.PUBLISHED, S.CLOSED, R.EXPIRED),
]


@pytest.mark.parametrize(("current", "target", "reason"), LEGAL)
def test_legal_transitions_pass(current, target, reason):
    check_transition(current, target, reason=reason)


ILLEGAL = [
    (S.DRAFT, S.PUBLISHED, ""),
    (S.PUBLISHED, S.DRAFT, ""),
    (S.CLOSED, S.PUBLISHED, ""),
    (S.CLOSED, S.DRAFT, ""),
    (S.DRAFT, S.CLOSED, R.FULFILLED),
    (S.DRAFT, S.CLOSED, R.REJECTED),
    (S.PUBLISHED, S.CLOSED, R.REJECTED),
    (S.SUBMITTED, S.CLOSED, R.EXPIRED),
    (S.PUBLISHED, S.CLOSED, ""),
]


@pytest.mark.parametrize(("current", "target", "reason"), ILLEGAL)
def test_illegal_transitions_are_refused_with_a_message(current, target, reason):
    with pytest.raises(IllegalTransition) as error:
        check_transition(current, target, reason=reason)
    assert "cannot" in error.value.messages[0]
    assert f"“{S(current).label}”" in error.value.messages[0]


def test_every_pair_of_states_is_either_legal_or_refused():
    legal_pairs = {(current, target) for current, target, _ in LEGAL}
    for current in S.values:
        for target in S.values:
            if (current, target) in legal_pairs:
                continue
            with pytest.raises(IllegalTransition):
                check_transition(current, target, reason=R.WITHDRAWN)


@pytest.mark.parametrize("status", [S.SUBMITTED, S.CLOSED])
def test_postings_under_review_or_closed_cannot_be_edited(status):
    with pytest.raises(IllegalTransition):
        check_editable(status)


@pytest.mark.parametrize("status", [S.DRAFT, S.PUBLISHED])
def test_drafts_and_published_postings_can_be_edited(status):
    check_editable(status)
