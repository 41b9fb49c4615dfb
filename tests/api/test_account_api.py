"""The caller's own things through the API: personal tokens, throttling, notifications and their
preferences, mentoring pairings, and the public directories."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from marketplace.models import ApiToken
from mentoring import services as mentoring_services
from mentoring.models import MentoringCheckIn, MentoringPairing, PairingStatus
from notifications.models import Frequency, Notification, NotificationPreference
from tests.factories import expert, focal_point, party

from .conftest import ACTORS, state

pytestmark = pytest.mark.django_db


def test_token_lifecycle(world):
    owner = world.client("owner")
    created = owner.post(
        "/api/v1/tokens/", {"name": "National CHM sync", "expires_in_days": 30}, format="json"
    )
    assert created.status_code == 201
    secret, key = created.json()["token"], created.json()["key"]
    assert secret.startswith("chm_") and secret.startswith(key)
    stored = ApiToken.objects.get()
    assert secret not in str(stored.__dict__)  # only its hash is kept
    assert stored.expiry.date() == (timezone.now() + datetime.timedelta(days=30)).date()

    program = APIClient()
    program.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert program.get("/api/v1/me/").json()["email"] == world.users["owner"].email
    listed = owner.get("/api/v1/tokens/").json()
    assert listed == [
        {
            "key": key,
            "name": "National CHM sync",
            "created": listed[0]["created"],
            "expiry": listed[0]["expiry"],
        }
    ]
    assert secret not in str(listed)

    # another user neither sees nor revokes it
    assert world.client("other").get("/api/v1/tokens/").json() == []
    assert world.client("other").delete(f"/api/v1/tokens/{key}/").status_code == 404
    assert program.get("/api/v1/me/").status_code == 200

    assert owner.delete(f"/api/v1/tokens/{key}/").status_code == 204
    refused = program.get("/api/v1/me/")
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Token"
    assert not ApiToken.objects.exists()


def test_an_expired_or_forged_token_is_refused(world):
    from marketplace import services

    token, secret = services.api_token_create(user=world.users["owner"], name="old", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    for credential in (secret, secret[:-1] + "x", "chm_nothing"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {credential}")
        assert client.get("/api/v1/me/").status_code == 401


def test_token_input_is_checked(world):
    owner = world.client("owner")
    for body in ({"name": ""}, {"name": "x", "expires_in_days": 0}, {"name": "x", "expires_in_days": 9999}):
        response = owner.post("/api/v1/tokens/", body, format="json")
        assert response.status_code == 400 and response.json()["type"] == "validation_error"
    assert world.client("anonymous").post("/api/v1/tokens/", {"name": "x"}).status_code == 401
    assert not ApiToken.objects.exists()


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "5/minute"})


def test_throttling_per_anonymous_client_and_per_user(world, low_rates):
    anonymous = world.client("anonymous")
    assert [anonymous.get("/api/v1/parties/").status_code for _ in range(4)] == [200, 200, 200, 429]
    throttled = anonymous.get("/api/v1/vocabulary/")
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert throttled.json()["type"] == "client_error" and throttled.json()["errors"][0]["code"] == "throttled"

    # users are counted one by one, whatever their address, and more generously
    owner, member = world.client("owner"), world.client("member")
    assert [owner.get("/api/v1/me/").status_code for _ in range(6)] == [200] * 5 + [429]
    assert member.get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize("actor", ACTORS)
def test_notifications_are_their_recipients_only(world, actor):
    owner = world.users["owner"]
    note = Notification.objects.create(
        recipient=owner,
        kind="posting_published",
        event_key="e1",
        context={"title": "Herbaria"},
        frequency="instant",
    )
    client = world.client(actor)
    listing = client.get("/api/v1/notifications/")
    marked = client.post("/api/v1/notifications/mark-read/", {"ids": [note.pk]}, format="json")
    note.refresh_from_db()
    if actor == "anonymous":
        assert listing.status_code == marked.status_code == 401
    elif actor == "owner":
        assert listing.json()["results"][0]["subject"] == "“Herbaria” is published"
        assert marked.json() == {"marked": 1} and note.read_at is not None
    else:
        assert listing.json()["results"] == [] and "Herbaria" not in listing.content.decode()
        assert marked.json() == {"marked": 0} and note.read_at is None


def test_notifications_in_the_readers_language(world):
    Notification.objects.create(
        recipient=world.users["owner"],
        kind="posting_published",
        event_key="e1",
        context={"title": "Herbiers"},
        frequency="instant",
    )
    body = world.client("owner").get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert body["results"][0]["subject"].replace("\xa0", " ") == "Publication de « Herbiers »"


def test_notification_preferences(world):
    owner = world.client("owner")
    assert owner.get("/api/v1/notification-preferences/").json()["match_introduced"] == "instant"
    saved = owner.put("/api/v1/notification-preferences/", {"match_introduced": "weekly"}, format="json")
    assert saved.status_code == 200 and saved.json()["match_introduced"] == "weekly"
    assert NotificationPreference.objects.get().frequency == Frequency.WEEKLY
    bad = owner.put("/api/v1/notification-preferences/", {"match_introduced": "hourly"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "match_introduced"
    assert NotificationPreference.objects.get().frequency == Frequency.WEEKLY
    assert (
        world.client("other").get("/api/v1/notification-preferences/").json()["match_introduced"] == "instant"
    )
    assert world.client("anonymous").get("/api/v1/notification-preferences/").status_code == 401


@pytest.fixture
def pairing(world, secretariat):
    world.organization.memberships.filter(user=world.users["owner"]).update(is_admin=True)
    mentor = mentoring_services.mentor_save(
        user=world.users["owner"],
        organization=world.organization,
        data={"forms": ["hosting"], "languages": ["fr"], "capacity": 2, "description": "We host CHM sites."},
    )
    request = mentoring_services.mentoring_request_create(
        user=focal_point("TD"),
        party=party("TD"),
        data={"forms": ["hosting"], "languages": ["fr"], "goals": "Host"},
    )
    created = mentoring_services.pairing_create(user=secretariat, request=request, mentor=mentor)
    MentoringPairing.objects.filter(pk=created.pk).update(status=PairingStatus.ACTIVE)
    return created


@pytest.mark.parametrize("actor", ACTORS)
def test_mentoring_pairings_permission_matrix(world, pairing, actor):
    client = world.client(actor)
    expected = {"anonymous": 401, "other": 404, "owner": 200, "member": 200, "secretariat": 200}[actor]
    assert client.get(f"/api/v1/mentoring/pairings/{pairing.pk}/").status_code == expected
    listing = client.get("/api/v1/mentoring/pairings/")
    if actor != "anonymous":
        assert [row["id"] for row in listing.json()["results"]] == ([pairing.pk] if expected == 200 else [])
    before = state(pairing)
    checked = client.post(f"/api/v1/mentoring/pairings/{pairing.pk}/check-ins/", {"note": "Site is up."})
    assert checked.status_code == (201 if expected == 200 else expected)
    assert MentoringCheckIn.objects.count() == (1 if expected == 200 else 0)
    if expected != 200:
        assert state(pairing) == before
    bad = client.post(f"/api/v1/mentoring/pairings/{pairing.pk}/milestones/", {"title": "Go live"})
    assert bad.status_code == (400 if expected == 200 else expected)


def test_directories(world):
    expert(name="Dr. Ana Ruiz", email="ana.ruiz@example.org")
    anonymous, signed_in = world.client("anonymous"), world.client("other")
    organizations = anonymous.get("/api/v1/organizations/", {"search": "sahel"}).json()["results"]
    assert [row["name"] for row in organizations] == ["Réseau Sahel Biodiversité"]
    assert anonymous.get("/api/v1/experts/").status_code == 401
    experts = signed_in.get("/api/v1/experts/").json()["results"]
    assert [row["name"] for row in experts] == ["Dr. Ana Ruiz"]
    assert (
        "ana.ruiz@example.org" not in signed_in.get(f"/api/v1/experts/{experts[0]['id']}/").content.decode()
    )
    weog = anonymous.get("/api/v1/parties/", {"region": "weog", "page_size": 200}).json()
    assert {row["region"] for row in weog["results"]} == {"weog"} and weog["count"] == 29


def test_schema_and_documentation_pages_use_no_cdn(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/needs/{id}/approve/" in schema.content
    for page in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "cdn" not in html.lower() and "https://" not in html.replace("https://schema.org", "")


def test_tokens_page_shows_the_secret_once_and_revokes(client, world):
    client.force_login(world.users["owner"])
    created = client.post("/account/api-tokens/", {"name": "Portal sync", "expires_in_days": 30})
    secret = created.context["secret"]
    assert secret.startswith("chm_") and secret in created.content.decode()
    assert secret not in client.get("/account/api-tokens/").content.decode()
    bad = client.post("/account/api-tokens/", {"name": "", "expires_in_days": 0})
    assert bad.status_code == 200 and bad.context["form"].errors and ApiToken.objects.count() == 1
    key = ApiToken.objects.get().token_key
    other = APIClient()
    other.force_login(world.users["other"])
    assert other.post(f"/account/api-tokens/{key}/revoke/").status_code == 404
    assert client.post(f"/account/api-tokens/{key}/revoke/").status_code == 302
    assert not ApiToken.objects.exists()
