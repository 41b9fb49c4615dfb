"""The mentoring programme through the API only: mentors declare, Parties ask, the secretariat proposes a
cohort, edits it within capacities and confirms it; both sides of each pairing are told once; outsiders
get 404 on a pairing. Then every new endpoint refused to those who may not call it, with nothing changed
and nobody told."""

import pytest
from rest_framework.test import APIClient

from core.models import AuditEntry
from mentoring import notification_kinds as mentoring_kinds
from mentoring import services as mentoring_services
from mentoring.models import Mentor, MentoringCohort, MentoringPairing, MentoringRequest
from notifications.models import Notification
from tests.api.conftest import client_for
from tests.factories import SecretariatFactory, UserFactory, focal_point, in_days, party

pytestmark = pytest.mark.django_db

HOSTING_TEXT = (
    "We have hosted the national clearing-house websites of eleven partner countries for twenty years, built "
    "standardised sites, mirror sites for slow connections and trained their webmasters."
)
GOALS = "Our clearing-house site is down; we need hosting and training."


def declare(user, code, *, forms, languages=("fr", "en"), capacity=1):
    body = {
        "party": code,
        "forms": list(forms),
        "languages": list(languages),
        "capacity": capacity,
        "description": HOSTING_TEXT,
    }
    return client_for(user).post("/api/v1/mentoring/mentors/", body, format="json")


def ask(user, code, *, forms, languages=("fr",)):
    body = {"party": code, "forms": list(forms), "languages": list(languages), "goals": GOALS}
    return client_for(user).post("/api/v1/mentoring/requests/", body, format="json")


def test_the_mentoring_programme_end_to_end_through_the_api():
    people = {code: focal_point(code) for code in ("BE", "CA", "TD", "HT", "NE")}
    staff = client_for(SecretariatFactory())

    belgium = declare(people["BE"], "BE", forms=["hosting", "site_development", "training"])
    canada = declare(people["CA"], "CA", forms=["hosting", "advice"], languages=("en", "fr"))
    assert belgium.status_code == 201 and canada.status_code == 201, belgium.content
    belgium, canada = belgium.json()["id"], canada.json()["id"]
    assert ask(people["TD"], "TD", forms=["hosting", "training"]).status_code == 201
    haiti = ask(people["HT"], "HT", forms=["hosting", "advice"]).json()["id"]
    niger = ask(people["NE"], "NE", forms=["hosting"]).json()["id"]
    chad = MentoringRequest.objects.get(party__code="TD").pk

    listed = staff.get("/api/v1/mentoring/requests/").json()["results"]
    assert {row["id"] for row in listed} == {chad, haiti, niger}
    mentors = staff.get("/api/v1/mentoring/mentors/").json()
    assert {row["id"]: row["places_taken"] for row in mentors} == {belgium: 0, canada: 0}

    proposed = staff.post(
        "/api/v1/mentoring/cohorts/",
        {"name": "Francophone 2027", "requests": [chad, haiti, niger]},
        format="json",
    )
    assert proposed.status_code == 201, proposed.content
    cohort = proposed.json()
    # two places for three mentees: the best total gives Belgium to Chad and Canada to Haiti
    assert {row["request"]: row["mentor"] for row in cohort["rows"]} == {
        chad: belgium,
        haiti: canada,
        niger: None,
    }
    assert not Notification.objects.exists()

    assign = f"/api/v1/mentoring/cohorts/{cohort['id']}/assign/"
    full = staff.post(assign, {"request": niger, "mentor": belgium}, format="json")
    assert full.status_code == 400 and full.json()["errors"][0]["attr"] == "mentor"  # within capacities
    assert staff.post(assign, {"request": chad, "mentor": None}, format="json").status_code == 200
    edited = staff.post(assign, {"request": niger, "mentor": belgium}, format="json")
    assert edited.status_code == 200
    assert {row["request"]: row["mentor"] for row in edited.json()["rows"]} == {
        chad: None,
        haiti: canada,
        niger: belgium,
    }

    confirmed = staff.post(f"/api/v1/mentoring/cohorts/{cohort['id']}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    again = staff.post(f"/api/v1/mentoring/cohorts/{cohort['id']}/confirm/")  # once only
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "cohort_confirmed"
    announced = Notification.objects.filter(kind=mentoring_kinds.MENTORING_PAIRED)
    expected = {
        (people[a].pk, b) for a, b in (("BE", "NE"), ("NE", "NE"), ("CA", "HT"), ("HT", "HT"))
    }  # each pairing: the mentor's focal point and the mentee's, once
    pairings = {p.request.party.code: p.pk for p in MentoringPairing.objects.select_related("request__party")}
    assert announced.count() == 4
    assert {(n.recipient_id, n.event_key) for n in announced} == {
        (who, f"pairing:{pairings[mentee]}:confirmed") for who, mentee in expected
    }

    pairing = pairings["NE"]
    mentee = client_for(people["NE"])
    assert mentee.get(f"/api/v1/mentoring/pairings/{pairing}/").status_code == 200
    assert client_for(people["BE"]).get("/api/v1/mentoring/pairings/").json()["count"] == 1
    outsider = client_for(UserFactory())
    assert outsider.get(f"/api/v1/mentoring/pairings/{pairing}/").status_code == 404
    assert (
        outsider.put(
            f"/api/v1/mentoring/pairings/{pairing}/goals/", {"goals": "x"}, format="json"
        ).status_code
        == 404
    )
    assert client_for(people["CA"]).get(f"/api/v1/mentoring/pairings/{pairing}/").status_code == 404

    goals = mentee.put(
        f"/api/v1/mentoring/pairings/{pairing}/goals/", {"goals": "Site up by June."}, format="json"
    )
    assert goals.status_code == 200 and goals.json()["goals"] == "Site up by June."
    milestone = mentee.post(
        f"/api/v1/mentoring/pairings/{pairing}/milestones/",
        {"title": "Migrated", "due_on": in_days(30)},
        format="json",
    ).json()["id"]
    done = client_for(people["BE"]).post(f"/api/v1/mentoring/pairings/{pairing}/milestones/{milestone}/done/")
    assert done.status_code == 200 and done.json()["done_on"]
    ended = mentee.post(f"/api/v1/mentoring/pairings/{pairing}/end/", {"status": "completed"}, format="json")
    assert ended.status_code == 200 and ended.json()["status"] == "completed"
    again = mentee.post(f"/api/v1/mentoring/pairings/{pairing}/end/", {"status": "cancelled"}, format="json")
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "pairing_inactive"
    assert Notification.objects.count() == 4  # the pairing's follow-up tells nobody else


def test_a_declaration_reports_each_field():
    response = client_for(focal_point("BE")).post(
        "/api/v1/mentoring/mentors/", {"party": "BE", "forms": [], "capacity": 0}, format="json"
    )
    assert response.status_code == 400
    assert {"forms", "languages", "capacity", "description"} <= {e["attr"] for e in response.json()["errors"]}
    assert not Mentor.objects.exists()


# --- Permission matrix ----------------------------------------------------------------------------------

ACTORS = ("anonymous", "other", "mentor", "mentee", "secretariat")


@pytest.fixture
def programme(secretariat):
    mentor_person, mentee_person = focal_point("BE"), focal_point("TD")
    mentor = mentoring_services.mentor_save(
        user=mentor_person,
        party=party("BE"),
        data={"forms": ["hosting"], "languages": ["fr"], "capacity": 3, "description": HOSTING_TEXT},
    )
    data = {"forms": ["hosting"], "languages": ["fr"], "goals": GOALS}
    request = mentoring_services.mentoring_request_create(user=mentee_person, party=party("TD"), data=data)
    pairing = mentoring_services.pairing_create(user=secretariat, request=request, mentor=mentor)
    waiting = mentoring_services.mentoring_request_create(
        user=focal_point("HT"), party=party("HT"), data=data
    )
    cohort = mentoring_services.cohort_propose(user=secretariat, name="Draft", requests=[waiting])
    spare = mentoring_services.mentoring_request_create(user=focal_point("NE"), party=party("NE"), data=data)
    milestone = mentoring_services.milestone_add(
        user=mentor_person, pairing=pairing, title="Site up", due_on=in_days(9)
    )
    Notification.objects.all().delete()
    users = {
        "anonymous": None,
        "other": UserFactory(),
        "mentor": mentor_person,
        "mentee": mentee_person,
        "secretariat": secretariat,
    }
    return {
        "users": users,
        "mentor": mentor,
        "pairing": pairing,
        "waiting": waiting,
        "spare": spare,
        "cohort": cohort,
        "milestone": milestone,
    }


def snapshot():
    rows = [
        list(model.objects.order_by("pk").values())
        for model in (Mentor, MentoringRequest, MentoringCohort, MentoringPairing, Notification, AuditEntry)
    ]
    return rows


SIDES = {"mentor", "mentee", "secretariat"}
# call → (method, path, body, who may); refusals: 401/403 anonymous, 404 strangers to a pairing, else 403
CALLS = {
    "declare": ("post", "/api/v1/mentoring/mentors/", lambda p: {"party": "BE", "capacity": 2}, {"mentor"}),
    "mentors": ("get", "/api/v1/mentoring/mentors/", None, {"secretariat"}),
    "ask": (
        "post",
        "/api/v1/mentoring/requests/",
        lambda p: {"party": "GA", "forms": ["hosting"], "languages": ["fr"], "goals": GOALS},
        set(),
    ),
    "pair": (
        "post",
        "/api/v1/mentoring/requests/{spare}/pair/",
        lambda p: {"mentor": p["mentor"].pk},
        {"secretariat"},
    ),
    "propose": (
        "post",
        "/api/v1/mentoring/cohorts/",
        lambda p: {"name": "C", "requests": [p["spare"].pk]},
        {"secretariat"},
    ),
    "cohorts": ("get", "/api/v1/mentoring/cohorts/", None, {"secretariat"}),
    "assign": (
        "post",
        "/api/v1/mentoring/cohorts/{cohort}/assign/",
        lambda p: {"request": p["waiting"].pk, "mentor": None},
        {"secretariat"},
    ),
    "confirm": ("post", "/api/v1/mentoring/cohorts/{cohort}/confirm/", None, {"secretariat"}),
    "goals": ("put", "/api/v1/mentoring/pairings/{pairing}/goals/", lambda p: {"goals": "New goals."}, SIDES),
    "done": ("post", "/api/v1/mentoring/pairings/{pairing}/milestones/{milestone}/done/", None, SIDES),
    "end": ("post", "/api/v1/mentoring/pairings/{pairing}/end/", lambda p: {"status": "cancelled"}, SIDES),
    "audit": ("get", "/api/v1/audit/", None, {"secretariat"}),
}
PAIRING_CALLS = {"goals", "done", "end"}


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("call", CALLS)
def test_mentoring_permission_matrix(programme, who, call):
    method, path, body, allowed = CALLS[call]
    path = path.format(
        **{key: programme[key].pk for key in ("waiting", "spare", "cohort", "pairing", "milestone")}
    )
    before = snapshot()
    client = client_for(programme["users"][who])
    response = getattr(client, method)(path, body(programme) if body else None, format="json")
    if who in allowed:
        assert response.status_code in (200, 201), response.content
        return
    if who == "anonymous":
        assert response.status_code in (401, 403)
    elif call in PAIRING_CALLS:
        assert response.status_code == 404
    else:
        assert response.status_code == 403
    assert snapshot() == before


def test_the_root_dashboard_and_audit_log():
    root = APIClient().get("/api/v1/")
    assert root.status_code == 200
    assert root.json()["schema"].endswith("/api/v1/schema/") and root.json()["mentoring_cohorts"]
    for link in root.json().values():
        assert link.startswith("http://testserver/api/v1/")

    import datetime

    from django.utils import timezone

    from marketplace.models import PostingStatus
    from tests.factories import NeedFactory

    waiting = NeedFactory(
        status=PostingStatus.PUBLISHED, published_at=timezone.now() - datetime.timedelta(days=3)
    )
    board = APIClient().get("/api/v1/dashboard/")
    assert board.status_code == 200
    rows = [row for row in board.json()["waiting"] if row["need_id"] == waiting.pk]
    assert (
        rows
        and rows[0]["days_waiting"] == 3
        and rows[0]["published_at"].startswith(str(waiting.published_at.date()))
    )
    assert set(board.json()) >= {
        "headline",
        "subjects",
        "gbf_targets",
        "support_types",
        "regions",
        "countries",
        "waiting",
    }


def test_the_audit_log_filters_and_pages_by_cursor(secretariat):
    mentor = mentoring_services.mentor_save(
        user=focal_point("BE"),
        party=party("BE"),
        data={"forms": ["hosting"], "languages": ["fr"], "capacity": 5, "description": HOSTING_TEXT},
    )
    for code in ("TD", "HT", "NE"):
        request = mentoring_services.mentoring_request_create(
            user=focal_point(code),
            party=party(code),
            data={"forms": ["hosting"], "languages": ["fr"], "goals": GOALS},
        )
        mentoring_services.pairing_create(user=secretariat, request=request, mentor=mentor)
    other_staff = SecretariatFactory()
    client = client_for(other_staff)
    first = client.get(
        "/api/v1/audit/", {"action": "pairing_create", "actor": secretariat.pk, "page_size": 2}
    )
    assert first.status_code == 200
    page = first.json()
    assert len(page["results"]) == 2 and page["next"] and page["results"][0]["actor"] == secretariat.email
    second = client.get(page["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    ids = [row["id"] for row in page["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True)
    assert client.get("/api/v1/audit/", {"actor": other_staff.pk}).json()["results"] == []
    assert client.get("/api/v1/audit/", {"until": "2000-01-01"}).json()["results"] == []
    record = AuditEntry.objects.first()
    one = client.get(
        "/api/v1/audit/", {"target_type": record.target_type, "target_id": record.target_id}
    ).json()
    assert [row["id"] for row in one["results"]] == [record.pk]
