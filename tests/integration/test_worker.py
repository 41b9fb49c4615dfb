"""With real parts: Redis as the broker, a real Celery worker process (not eager), the test PostgreSQL and an
SMTP server. A French need and an English offer published through the API are embedded and matched by the
worker, and both sides' e-mails arrive, once each."""

from email.header import decode_header, make_header

from django.utils import translation

from marketplace import notification_kinds as posting_kinds
from matching.models import MatchStatus, NeedEmbedding, OfferEmbedding
from notifications import kinds
from tests.integration import real_stack
from tests.integration.real_stack import Marketplace, assert_each_email_once, wait_until

stack = real_stack.stack  # the fixture


def test_a_posting_published_through_the_api_is_matched_by_the_worker_and_both_sides_are_emailed(stack):
    stack.worker()
    market = Marketplace()

    for kind in ("needs", "offers"):
        response = market.publish(kind)
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "published"

    wait_until(lambda: len(stack.sink.received) >= 4, timeout=120, what="four e-mails")
    match = market.match()
    assert match is not None and match.status == MatchStatus.INTRODUCED
    assert NeedEmbedding.objects.get(need_id=market.need_id).matched_at is not None
    assert OfferEmbedding.objects.get(offer_id=market.offer_id).matched_at is not None
    suggestions = market.client(market.chad).get(f"/api/v1/needs/{market.need_id}/suggestions/").json()
    assert [s["posting"]["id"] for s in suggestions] == [market.offer_id]

    sent = r"Task notifications\.outbox\.send_notification_email\[.*\] succeeded"
    stack.workers[0].wait_for(sent, timeout=10)
    assert_each_email_once(stack.sink, Marketplace.EXPECTED_RECIPIENTS, tasks_killed=0)
    # Header folding may turn no-break spaces into spaces: compare words.
    subjects = {" ".join(str(make_header(decode_header(m["Subject"]))).split()) for m in stack.sink.received}
    with translation.override("fr"):  # each side in its own language
        published = str(kinds.get(posting_kinds.POSTING_PUBLISHED).subject) % {
            "title": Marketplace.NEED["title"]
        }
    assert " ".join(published.split()) in subjects
