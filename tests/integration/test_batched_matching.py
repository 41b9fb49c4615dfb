"""Batched matching on PostgreSQL with the real model: the postings published in a burst are encoded together,
one encoder call per batch (MATCHING_BATCH_SIZE), by whichever `match_pending` task runs first; each gets its
suggestions; a rerun, or the burst's other tasks, find nothing left to do; a posting another worker holds is
left to it."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from marketplace import services as marketplace_services
from marketplace.models import Need, PostingStatus
from matching import encoder, selectors, suggestions, tasks
from matching.engine.encoder import Encoder
from matching.models import Match, NeedEmbedding
from tests.integration.test_matching_pipeline import english_offer, french_need, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def encoder_calls(monkeypatch):
    """The number of texts of each call to the real encoder (the model runs as usual)."""
    model = encoder.encoder()
    assert model.similarity_range  # the calibration anchors are encoded once per process: before counting
    calls: list[int] = []
    encode = Encoder.encode

    def counted(self, texts, **options):
        calls.append(len(texts))
        return encode(self, texts, **options)

    monkeypatch.setattr(Encoder, "encode", counted)
    return calls


@pytest.fixture
def offer(secretariat, django_capture_on_commit_callbacks):
    return publish(english_offer(status=PostingStatus.DRAFT), secretariat, django_capture_on_commit_callbacks)


def publish_together(postings, secretariat, capture):
    """Approve several postings in one transaction: their matching tasks are queued, then run, on commit."""
    type(postings[0]).objects.filter(pk__in=[p.pk for p in postings]).update(status=PostingStatus.SUBMITTED)
    with capture(execute=True) as callbacks:
        for posting in postings:
            posting.refresh_from_db()
            marketplace_services.posting_approve(user=secretariat, posting=posting)
    return callbacks


def snapshot(needs):
    embeddings = {
        e.need_id: (e.updated_at, e.matched_at) for e in NeedEmbedding.objects.filter(need__in=needs)
    }
    matches = {m.pk: (m.score, m.scored_at) for m in Match.objects.filter(need__in=needs)}
    return embeddings, matches


def test_a_burst_is_encoded_in_one_call_per_batch_and_each_posting_gets_its_suggestions(
    offer, secretariat, settings, encoder_calls, django_capture_on_commit_callbacks
):
    settings.MATCHING_BATCH_SIZE = 3
    needs = [french_need(status=PostingStatus.DRAFT) for _ in range(5)]
    Need.objects.filter(pk__in=[n.pk for n in needs[1:]]).update(title="Des douaniers formés aux espèces")

    callbacks = publish_together(needs, secretariat, django_capture_on_commit_callbacks)

    assert len(callbacks) >= 5  # a matching task per publication (and the e-mails)
    # The first task matched the five needs in two batches; the four others found nothing to do.
    assert encoder_calls == [3, 2]
    for need in needs:
        need.refresh_from_db()
        embedding = NeedEmbedding.objects.get(need=need)
        assert embedding.matched_at == need.updated_at
        assert [m.offer for m in selectors.suggestions_for(need)] == [offer]
    assert selectors.pending_match_ids("need") == selectors.pending_match_ids("offer") == []

    before = snapshot(needs)
    assert tasks.match_pending() == {"created": 0, "updated": 0, "removed": 0}
    assert tasks.match_pending_postings(0) == 0  # the sweep finds nothing lost either
    assert encoder_calls == [3, 2]  # nothing encoded again
    assert snapshot(needs) == before  # nor rescored


def test_a_batch_and_one_posting_at_a_time_store_the_same_suggestions(offer, settings, encoder_calls):
    settings.MATCHING_BATCH_SIZE = 4
    needs = [french_need() for _ in range(4)]  # published by the factory: never matched
    assert selectors.pending_match_ids("need") == [n.pk for n in needs]
    for need in needs:
        suggestions.posting_match(side="need", posting_id=need.pk)
    assert encoder_calls == [1, 1, 1, 1]
    one_by_one = {m.need_id: m.score for m in Match.objects.filter(need__in=needs)}

    NeedEmbedding.objects.filter(need__in=needs).delete()
    Match.objects.filter(need__in=needs).delete()
    result = suggestions.postings_match_pending()

    assert encoder_calls == [1, 1, 1, 1, 4]
    batched = {m.need_id: m.score for m in Match.objects.filter(need__in=needs)}
    assert sorted(result.created) == sorted(Match.objects.filter(need__in=needs).values_list("pk", flat=True))
    assert batched.keys() == one_by_one.keys() == {n.pk for n in needs}
    for need_id, score in batched.items():  # padding in a batch moves vectors by rounding only
        assert score == pytest.approx(one_by_one[need_id], abs=0.01)


def test_an_edit_committed_after_the_read_leaves_the_posting_pending_and_it_is_matched_again(
    offer, encoder_calls
):
    need = french_need()
    tasks.match_pending()
    assert selectors.pending_match_ids("need") == []
    # An edit saved after the matcher read the posting: its `updated_at` is later than what was matched.
    Need.objects.filter(pk=need.pk).update(
        updated_at=timezone.now() + datetime.timedelta(seconds=1), description="Former aussi les garde-côtes."
    )
    assert selectors.pending_match_ids("need") == [need.pk]
    calls = len(encoder_calls)

    tasks.match_pending()

    assert encoder_calls[calls:] == [1]  # the new text, encoded again
    need.refresh_from_db()
    assert NeedEmbedding.objects.get(need=need).matched_at == need.updated_at
    assert selectors.pending_match_ids("need") == []


def test_a_posting_another_worker_holds_is_left_to_it(offer, encoder_calls):
    held, free = french_need(), french_need()
    other_worker = connection.get_new_connection(connection.get_connection_params())
    other_worker.autocommit = True
    try:
        with other_worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [suggestions._CLAIM_KEYS["need"] + held.pk])
        tasks.match_pending()
        assert encoder_calls[-1:] == [1]
        assert NeedEmbedding.objects.filter(need=free, matched_at__isnull=False).exists()
        assert not NeedEmbedding.objects.filter(need=held).exists()
        assert selectors.pending_match_ids("need") == [held.pk]
    finally:
        with other_worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        other_worker.close()

    tasks.match_pending()
    assert selectors.pending_match_ids("need") == []
    assert [m.offer for m in selectors.suggestions_for(held)] == [offer]


def test_the_sweep_queues_one_batch_run_for_postings_whose_task_was_lost(offer):
    lost = french_need()
    Need.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=10))
    assert tasks.match_pending_postings(3600) == 0  # saved a moment ago (for this sweep): its task may come
    assert not NeedEmbedding.objects.filter(need=lost).exists()

    assert tasks.match_pending_postings(300) == 1  # queued and, here (eager), run
    assert [m.offer for m in selectors.suggestions_for(lost)] == [offer]
    assert tasks.match_pending_postings(300) == 0


def test_a_posting_that_cannot_be_matched_does_not_hold_back_its_batch(offer, monkeypatch, caplog):
    broken, fine = french_need(), french_need()
    match_one = suggestions._match_one

    def failing(side, posting, *args, **options):
        if posting.pk == broken.pk:
            raise ValueError("a posting the engine chokes on")
        return match_one(side, posting, *args, **options)

    monkeypatch.setattr(suggestions, "_match_one", failing)
    tasks.match_pending()

    assert [m.offer for m in selectors.suggestions_for(fine)] == [offer]
    assert selectors.pending_match_ids("need") == [broken.pk]  # tried again by the next run
    assert f"Could not match need {broken.pk}" in caplog.text
