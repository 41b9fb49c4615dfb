"""Matches, the secretariat's queues and mentoring pairings through the API: who may read and act, what
they see (contacts only once connected, curators' notes only for staff), and that a refused call changes
nothing."""

import pytest
from django.utils import timezone

from matching.models import Match, MatchNote, MatchStatus
from tests.factories import MatchFactory, NeedFactory, OfferFactory

from .conftest import ACTORS, state

pytestmark = pytest.mark.django_db
NEED_CONTACT, OFFER_CONTACT = "need.side@example.org", "offer.side@example.org"


def org_match(world, status=MatchStatus.INTRODUCED, **fields) -> Match:
    """A match whose need the organization posted (owner and member answer for it)."""
    need = NeedFactory(
        party=None,
        organization=world.organization,
        created_by=world.users["owner"],
        contact_email=NEED_CONTACT,
    )
    offer = OfferFactory(contact_email=OFFER_CONTACT)
    return MatchFactory(need=need, offer=offer, status=status, introduced_at=timezone.now(), **fields)


CONNECTED = {"need_response": "accepted", "offer_response": "accepted"}

# action → (status before, body, expected per actor, status after when allowed)
ACTIONS = {
    "accept": (
        MatchStatus.INTRODUCED,
        {"message": "Gladly."},
        {"anonymous": 401, "other": 404, "owner": 200, "member": 200, "secretariat": 403},
        MatchStatus.INTRODUCED,  # waits for the offer's side
    ),
    "decline": (
        MatchStatus.INTRODUCED,
        {"reason": "timing", "message": "Next year."},
        {"anonymous": 401, "other": 404, "owner": 200, "member": 200, "secretariat": 403},
        MatchStatus.DECLINED,
    ),
    "start": (
        MatchStatus.CONNECTED,
        None,
        {"anonymous": 401, "other": 404, "owner": 200, "member": 200, "secretariat": 403},
        MatchStatus.IN_PROGRESS,
    ),
    "report-outcome": (
        MatchStatus.IN_PROGRESS,
        {"outcome": "achieved", "rating": 5, "feedback": "Very useful."},
        {"anonymous": 401, "other": 404, "owner": 200, "member": 200, "secretariat": 403},
        MatchStatus.COMPLETED,
    ),
    "close": (
        MatchStatus.CONNECTED,
        {"reason": "no_longer_needed"},
        {"anonymous": 401, "other": 404, "owner": 200, "member": 200, "secretariat": 200},
        MatchStatus.CLOSED,
    ),
    "introduce": (
        MatchStatus.SUGGESTED,
        None,
        {"anonymous": 401, "other": 404, "owner": 403, "member": 403, "secretariat": 200},
        MatchStatus.INTRODUCED,
    ),
    "dismiss": (
        MatchStatus.SUGGESTED,
        None,
        {"anonymous": 401, "other": 404, "owner": 403, "member": 403, "secretariat": 200},
        MatchStatus.DISMISSED,
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", ACTIONS)
def test_match_actions_permission_matrix(world, action, actor):
    before_status, body, expected, after_status = ACTIONS[action]
    fields = CONNECTED if before_status in (MatchStatus.CONNECTED, MatchStatus.IN_PROGRESS) else {}
    match = org_match(world, status=before_status, **fields)
    before = state(match)
    response = world.client(actor).post(f"/api/v1/matches/{match.pk}/{action}/", body, format="json")
    assert response.status_code == expected[actor], response.content
    match.refresh_from_db()
    if expected[actor] < 300:
        assert match.status == after_status == response.json()["status"]
    else:
        assert state(match) == before
        assert (
            NEED_CONTACT not in response.content.decode() and OFFER_CONTACT not in response.content.decode()
        )


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_matches(world, actor):
    introduced = org_match(world)
    connected = org_match(world, status=MatchStatus.CONNECTED, **CONNECTED)
    suggested = org_match(world, status=MatchStatus.SUGGESTED)
    client = world.client(actor)
    expected = {"anonymous": 401, "other": 404, "owner": 200, "member": 200, "secretariat": 200}[actor]

    detail = client.get(f"/api/v1/matches/{introduced.pk}/")
    assert detail.status_code == expected
    listing = client.get("/api/v1/matches/")
    assert listing.status_code == (401 if actor == "anonymous" else 200)
    if actor in ("owner", "member"):
        assert {row["id"] for row in listing.json()["results"]} == {
            introduced.pk,
            connected.pk,
        }  # not suggested
        assert detail.json()["contacts"] == {"need": detail.json()["contacts"]["need"], "offer": None}
        assert OFFER_CONTACT not in detail.content.decode()
        assert (
            client.get(f"/api/v1/matches/{connected.pk}/").json()["contacts"]["offer"]["email"]
            == OFFER_CONTACT
        )
        assert "accept" in detail.json()["actions"] and detail.json()["my_sides"] == ["need"]
    if actor == "other":
        assert listing.json()["results"] == []
        assert client.get(f"/api/v1/matches/{suggested.pk}/").status_code == 404


@pytest.mark.parametrize("actor", ACTORS)
def test_curators_notes_are_for_staff_only(world, actor):
    match = org_match(world)
    MatchNote.objects.create(match=match, author=world.users["secretariat"], text="Check the budget first.")
    client = world.client(actor)
    expected = {"anonymous": 401, "other": 403, "owner": 403, "member": 403, "secretariat": 200}[actor]
    read = client.get(f"/api/v1/matches/{match.pk}/notes/")
    assert read.status_code == expected
    assert ("Check the budget first." in read.content.decode()) == (actor == "secretariat")
    assert "Check the budget first." not in client.get(f"/api/v1/matches/{match.pk}/").content.decode()
    written = client.post(f"/api/v1/matches/{match.pk}/notes/", {"text": "Another note"}, format="json")
    assert written.status_code == (201 if actor == "secretariat" else expected)
    assert MatchNote.objects.count() == (2 if actor == "secretariat" else 1)


@pytest.mark.parametrize("actor", ACTORS)
def test_secretariat_queues_and_manual_matches(world, actor):
    suggested = org_match(world, status=MatchStatus.SUGGESTED)
    submitted = NeedFactory(status="submitted", submitted_at=timezone.now(), title="Waiting for validation")
    client = world.client(actor)
    staff = actor == "secretariat"
    expected = 200 if staff else (401 if actor == "anonymous" else 403)

    queue = client.get("/api/v1/queue/matches/")
    assert queue.status_code == expected
    postings = client.get("/api/v1/queue/postings/")
    assert postings.status_code == expected
    if staff:
        assert [row["id"] for row in queue.json()["results"]] == [suggested.pk]
        assert [row["id"] for row in postings.json()] == [submitted.pk]
    else:
        assert "Waiting for validation" not in postings.content.decode()

    before = state(suggested)
    bulk = client.post("/api/v1/queue/matches/bulk/", {"matches": [suggested.pk], "action": "introduce"})
    assert bulk.status_code == expected
    if staff:
        assert bulk.json() == {"done": 1, "skipped": 0}
    else:
        assert state(suggested) == before

    need, offer = NeedFactory(), OfferFactory()
    created = client.post("/api/v1/matches/", {"need": need.pk, "offer": offer.pk}, format="json")
    assert created.status_code == (201 if staff else expected)
    assert Match.objects.filter(need=need, offer=offer).exists() == staff
    if staff:
        assert created.json()["status"] == "introduced" and created.json()["origin"] == "curator"


def test_an_illegal_move_is_a_409_with_the_reason_and_bad_input_a_400(world):
    match = org_match(world, status=MatchStatus.DECLINED)
    response = world.client("owner").post(f"/api/v1/matches/{match.pk}/start/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "illegal_transition"
    response = world.client("owner").post(f"/api/v1/matches/{match.pk}/decline/", {"reason": "whatever"})
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "reason"


def test_each_match_says_whose_move_it_is_for_the_reader(world):
    match = org_match(world, offer_response="accepted")
    mine = world.client("owner").get(f"/api/v1/matches/{match.pk}/").json()
    assert mine["standing"] == {"key": "your_answer", "words": "Waiting for your answer"}
    staff = world.client("secretariat").get(f"/api/v1/matches/{match.pk}/").json()
    assert staff["standing"]["key"] == "one_answer"
    world.client("owner").post(f"/api/v1/matches/{match.pk}/accept/", {}, format="json")
    listed = world.client("member").get("/api/v1/matches/").json()["results"]
    assert [row["standing"]["key"] for row in listed] == ["connected"]
