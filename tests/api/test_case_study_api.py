"""A completed match's case study through the API only: a side writes it, the other side consents, the
secretariat approves it or sends it back; everyone else is refused with nothing changed and nobody told."""

import pytest

from core.models import AuditEntry
from matching import notification_kinds as match_kinds
from matching.models import CaseStudy, MatchStatus
from notifications.models import Notification
from tests.api.conftest import client_for, state
from tests.factories import (
    MatchFactory,
    NeedFactory,
    OfferFactory,
    OrganizationFactory,
    SecretariatFactory,
    UserFactory,
    focal_point,
    member,
)

pytestmark = pytest.mark.django_db

STORY = {"title": "Customs officers trained", "story": "Forty officers trained in Chad.", "language": "en"}


@pytest.fixture
def pair():
    """A completed match: Chad's focal point posted the need, an organization's member the offer."""
    need_side = focal_point("TD")
    organization = OrganizationFactory()
    offer_side = member(organization)
    need = NeedFactory(created_by=need_side)
    offer = OfferFactory(created_by=offer_side, organization=organization)
    match = MatchFactory(
        need=need,
        offer=offer,
        status=MatchStatus.COMPLETED,
        need_response="accepted",
        offer_response="accepted",
    )
    return {
        "match": match,
        "need side": need_side,
        "offer side": offer_side,
        "secretariat": SecretariatFactory(),
        "other": UserFactory(),
        "anonymous": None,
    }


def url(match, tail=""):
    return f"/api/v1/matches/{match.pk}/case-study/{tail}"


def test_case_study_consent_end_to_end(pair):
    match = pair["match"]
    need_side, offer_side = client_for(pair["need side"]), client_for(pair["offer side"])
    assert need_side.get(url(match)).status_code == 404  # nothing written yet

    written = need_side.put(url(match), STORY, format="json")
    assert written.status_code == 200, written.content
    assert written.json()["need_consent_at"] and written.json()["offer_consent_at"] is None
    told = Notification.objects.filter(kind=match_kinds.STORY_PROPOSED)
    assert list(told.values_list("recipient", flat=True)) == [pair["offer side"].pk]

    # not both consents yet: the secretariat cannot approve
    secretariat = client_for(pair["secretariat"])
    refused = secretariat.post(url(match, "approve/"))
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "not_consented"

    consented = offer_side.post(url(match, "consent/"))
    assert consented.status_code == 200 and consented.json()["offer_consent_at"]
    approved = secretariat.post(url(match, "approve/"))
    assert approved.status_code == 200 and approved.json()["published_at"]
    assert Notification.objects.filter(kind=match_kinds.STORY_PUBLISHED).count() == 2

    sent_back = secretariat.post(url(match, "send-back/"), {"note": "Remove private names."}, format="json")
    assert sent_back.status_code == 200
    body = sent_back.json()
    assert body["published_at"] is None and body["need_consent_at"] is None and body["review_note"]
    assert offer_side.get(url(match)).json()["review_note"] == "Remove private names."


def test_a_side_withdraws_its_consent_and_the_public_story_goes(pair):
    match = pair["match"]
    need_side, offer_side = client_for(pair["need side"]), client_for(pair["offer side"])
    need_side.put(url(match), STORY, format="json")
    offer_side.post(url(match, "consent/"))
    client_for(pair["secretariat"]).post(url(match, "approve/"))
    assert client_for(None).get("/case-studies/").content.count(STORY["title"].encode()) == 1

    withdrawn = offer_side.delete(url(match, "consent/"))
    assert withdrawn.status_code == 200, withdrawn.content
    body = withdrawn.json()
    assert body["offer_consent_at"] is None and body["published_at"] is None and body["need_consent_at"]
    assert STORY["title"].encode() not in client_for(None).get("/case-studies/").content
    entry = AuditEntry.objects.get(action="case_study_withdraw_consent")
    assert entry.actor == pair["offer side"]
    assert entry.before["published_at"] and not entry.after["published_at"]

    again = offer_side.delete(url(match, "consent/"))
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "no_consent"
    # consenting again puts it back in the secretariat's hands, not straight back in public
    assert offer_side.post(url(match, "consent/")).json()["published_at"] is None


def test_a_story_is_checked_field_by_field(pair):
    response = client_for(pair["need side"]).put(
        url(pair["match"]), {"title": "", "story": ""}, format="json"
    )
    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} >= {"language"}
    response = client_for(pair["need side"]).put(url(pair["match"]), {**STORY, "title": "  "}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "title"
    assert not CaseStudy.objects.exists()


# call → who may (the others are refused: 401/403 anonymous, 404 strangers, 403 the wrong role)
CALLS = {
    "write": (lambda c, m: c.put(url(m), STORY, format="json"), {"need side", "offer side", "secretariat"}),
    "consent": (lambda c, m: c.post(url(m, "consent/")), {"need side", "offer side"}),
    "withdraw consent": (lambda c, m: c.delete(url(m, "consent/")), {"need side", "offer side"}),
    "approve": (lambda c, m: c.post(url(m, "approve/")), {"secretariat"}),
    "send back": (lambda c, m: c.post(url(m, "send-back/"), {"note": "Why"}, format="json"), {"secretariat"}),
    "read": (lambda c, m: c.get(url(m)), {"need side", "offer side", "secretariat"}),
}
ACTORS = ("anonymous", "other", "need side", "offer side", "secretariat")


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("call", CALLS)
def test_case_study_permission_matrix(pair, who, call):
    match = pair["match"]
    # a story the need side wrote (so the offer side may consent); approval needs both: consent for approve
    client_for(pair["need side"]).put(url(match), STORY, format="json")
    if call in ("approve", "send back", "withdraw consent"):
        client_for(pair["offer side"]).post(url(match, "consent/"))
    study = CaseStudy.objects.get(match=match)
    before = state(match, study)
    do, allowed = CALLS[call]
    response = do(client_for(pair[who]), match)
    if who in allowed:
        assert response.status_code == 200, response.content
        return
    if who == "anonymous":
        assert response.status_code in (401, 403)
    elif who == "other":
        assert response.status_code == 404
    else:
        assert response.status_code == 403
    assert state(match, study) == before
