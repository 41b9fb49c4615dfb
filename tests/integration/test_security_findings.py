"""The security review's findings (OWASP ASVS level 1), one test or more each: staff sign-in, clients behind
the proxy, demo data in production, former members, concurrent acceptances, tokens, proposed pairings,
redirects, unsubscribe links, searches by meaning and caching of private answers."""

import contextlib
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import Http404
from django.urls import reverse
from rest_framework.test import APIClient

from config.celery_app import app as celery_app
from marketplace import permissions, selectors, services
from marketplace.models import ApiToken, FocalPointAssignment, OrganizationMembership, User
from matching import selectors as matching_selectors
from matching import services as matching
from matching.models import MatchStatus
from mentoring import selectors as mentoring_selectors
from mentoring import services as mentoring_services
from mentoring.models import Mentor, MentoringRequest, PairingStatus
from notifications import outbox
from tests.factories import (
    MatchFactory,
    NeedFactory,
    OfferFactory,
    OrganizationFactory,
    SecretariatFactory,
    UserFactory,
    expert,
    focal_point,
    member,
    party,
)

PASSWORD = "correct horse battery"
PROXY = "10.0.0.2"  # the TLS proxy in front of the web processes


# --- 1. Staff sign in through the rate-limited path -------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_login_is_the_rate_limited_sign_in(client, settings):
    staff = SecretariatFactory(email="staff@example.org", is_staff=True)
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip,3/5m/key"}

    page = client.get("/admin/login/?next=/admin/")
    for _attempt in range(3):
        client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": "guess"})
        client.post(reverse("account_login"), {"login": staff.email, "password": "guess"})
    right = client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD})
    limited = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})

    assert page.status_code == 302 and page["Location"] == "/accounts/login/?next=/admin/"
    assert "_auth_user_id" not in client.session  # the admin's own form no longer signs anyone in
    assert right.status_code == 302 and right["Location"].startswith("/accounts/login/")
    assert limited.status_code == 429


# --- 2. Behind the proxy: per-client limits hold, a forged header resets nothing ---------------------------


def _through_proxy(client_address: str, forged: str = "") -> dict:
    """What the proxy sends: its own address, and the client's appended to any X-Forwarded-For it got."""
    chain = f"{forged}, {client_address}" if forged else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain}


@pytest.fixture
def behind_proxy(settings, monkeypatch):
    """The settings as the compose stack's environment makes them (one trusted proxy)."""
    import importlib.util

    from config.settings import base

    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")
    spec = importlib.util.spec_from_file_location("settings_behind_proxy", base.__file__)
    stack = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stack)
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = getattr(stack, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "NUM_PROXIES": stack.REST_FRAMEWORK.get("NUM_PROXIES"),
    }


@pytest.mark.django_db
def test_sign_in_limits_are_per_client_behind_the_proxy(client, settings, behind_proxy):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip,100/m/key"}
    UserFactory(email="victim@example.org")
    attacker = "198.51.100.66"
    for n in range(3):
        client.post(
            reverse("account_login"),
            {"login": f"nobody{n}@example.org", "password": "x"},
            **_through_proxy(attacker),
        )

    forged = client.post(
        reverse("account_login"),
        {"login": "nobody@example.org", "password": "x"},
        **_through_proxy(attacker, forged="203.0.113.99"),
    )
    victim = client.post(
        reverse("account_login"),
        {"login": "victim@example.org", "password": PASSWORD},
        **_through_proxy("192.0.2.10"),
    )

    assert forged.status_code == 429  # the attacker stays limited whatever it writes in the header
    assert victim.status_code == 302  # and has not locked sign-in for everyone behind the proxy


@pytest.mark.django_db
def test_api_throttles_are_per_client_behind_the_proxy(behind_proxy, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "100/minute"})
    api = APIClient()
    answers = [api.get("/api/v1/parties/", **_through_proxy("198.51.100.7")).status_code for _ in range(4)]
    forged = api.get("/api/v1/parties/", **_through_proxy("198.51.100.7", forged="203.0.113.5"))
    other_client = api.get("/api/v1/parties/", **_through_proxy("192.0.2.44"))

    assert answers == [200, 200, 200, 429]
    assert forged.status_code == 429
    assert other_client.status_code == 200


def test_the_compose_stack_trusts_its_one_proxy():
    from pathlib import Path

    compose = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    assert "TRUSTED_PROXY_COUNT: ${TRUSTED_PROXY_COUNT:-1}" in compose


# --- 4. Demo accounts never reach production ---------------------------------------------------------------


@pytest.mark.django_db
def test_demo_data_is_refused_outside_local_and_test_settings(settings):
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="--demo"):
        call_command("load_seed_data", demo=True)
    assert not User.objects.filter(email__endswith="@demo.example.org").exists()


def test_only_local_and_test_settings_allow_demo_data():
    from config.settings import base

    assert base.DEMO_DATA_ALLOWED is False
    from config.settings import local, test

    assert local.DEMO_DATA_ALLOWED and test.DEMO_DATA_ALLOWED


# --- 5. Ownership follows current roles ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_former_focal_point_loses_the_partys_postings_and_contacts():
    former = focal_point("TD")
    need = NeedFactory(created_by=former)
    connected = MatchFactory(
        need=need, status=MatchStatus.CONNECTED, need_response="accepted", offer_response="accepted"
    )
    FocalPointAssignment.objects.filter(user=former).delete()

    assert not permissions.is_posting_owner(former, need)
    assert former not in selectors.posting_owners(need)
    with pytest.raises(Http404):
        selectors.access_posting(user=former, kind="need", pk=need.pk, for_edit=True)
    with pytest.raises(PermissionDenied):
        services.posting_close(user=former, posting=need, reason="withdrawn")
    with pytest.raises(PermissionDenied):
        matching.match_close(user=former, match=connected, reason="other")
    from matching import permissions as match_permissions

    assert not match_permissions.can_view_contact(former, connected.offer)


@pytest.mark.django_db
def test_a_former_member_loses_the_organizations_postings_but_an_expert_keeps_their_own():
    organization = OrganizationFactory()
    former = member(organization)
    offer = OfferFactory(organization=organization, created_by=former)
    OrganizationMembership.objects.filter(user=former).delete()
    person = expert()
    own = OfferFactory(organization=None, expert=person.expert_profile, created_by=person)

    assert not permissions.is_posting_owner(former, offer)
    assert permissions.is_posting_owner(person, own)
    assert list(selectors.postings_owned_by(user=former, model=type(offer))) == []


# --- 8. Two acceptances cannot overfill an offer ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_acceptances_never_exceed_the_offers_capacity(reference_data, monkeypatch):
    """Both second acceptances run at once, each held just before the capacity check until the other one
    arrives (or a second has passed): without a lock on the offer both see a free place."""
    offer_owner = member(organization := OrganizationFactory())
    offer = OfferFactory(organization=organization, created_by=offer_owner, capacity=1)
    matches = []
    for code in ("TD", "CM"):
        match = MatchFactory(need=NeedFactory(party=party(code), created_by=focal_point(code)), offer=offer)
        match.status, match.offer_response = MatchStatus.INTRODUCED, "accepted"
        match.save()
        matches.append(match)
    accepters = [User.objects.get(focal_points__party__code=code) for code in ("TD", "CM")]
    both_checking = threading.Barrier(2, timeout=1)
    real_check = matching_selectors.offer_is_full

    def check_together(offer, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checking.wait()
        return real_check(offer, **kwargs)

    monkeypatch.setattr(matching_selectors, "offer_is_full", check_together)
    outcomes = []

    def accept(user, match):
        celery_app.set_current()  # Celery's current app is per thread: the project's, as in a web worker
        try:
            matching.match_accept(user=user, match=match)
            outcomes.append("connected")
        except ValidationError:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=pair) for pair in zip(accepters, matches, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["connected", "full"]
    assert offer.matches.filter(status=MatchStatus.CONNECTED).count() == 1


# --- 9. Tokens: minted from a session only, revoked by a password change or reset --------------------------


@pytest.mark.django_db
def test_a_token_cannot_mint_tokens():
    user = UserFactory()
    _token, secret = services.api_token_create(user=user, name="sync")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")

    refused = api.post("/api/v1/tokens/", {"name": "another", "expires_in_days": 365}, format="json")
    session = APIClient()
    session.force_login(user)
    allowed = session.post("/api/v1/tokens/", {"name": "another", "expires_in_days": 30}, format="json")

    assert refused.status_code == 403
    assert allowed.status_code == 201
    assert ApiToken.objects.filter(user=user).count() == 2


@pytest.mark.django_db
def test_a_password_change_revokes_every_token_and_says_so(client):
    user = UserFactory()
    for name in ("portal", "reports"):
        services.api_token_create(user=user, name=name)
    client.force_login(user)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "A new long phrase 77", "password2": "A new long phrase 77"},
        follow=True,
    )

    assert not ApiToken.objects.filter(user=user).exists()
    assert "2 API tokens were revoked" in response.content.decode()


@pytest.mark.django_db
def test_a_password_reset_revokes_every_token(client):
    import re

    from django.core import mail

    user = UserFactory(email="reset@example.org")
    services.api_token_create(user=user, name="portal")
    client.post(reverse("account_reset_password"), {"email": "reset@example.org"})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"password1": "A new long phrase 77", "password2": "A new long phrase 77"},
    )

    assert User.objects.get(pk=user.pk).check_password("A new long phrase 77")
    assert not ApiToken.objects.filter(user=user).exists()


# --- 10. A proposed pairing stays the secretariat's until confirmed ---------------------------------------


@pytest.mark.django_db
def test_mentor_and_mentee_cannot_open_a_proposed_pairing(client, secretariat):
    mentor_user = focal_point("BE")
    mentor = Mentor.objects.create(
        party=party("BE"), created_by=mentor_user, forms=["hosting"], languages=["fr"], capacity=2
    )
    mentee = focal_point("TD")
    request = MentoringRequest.objects.create(
        party=party("TD"), created_by=mentee, forms=["hosting"], languages=["fr"], goals="Hosting."
    )
    cohort = mentoring_services.cohort_propose(user=secretariat, name="2027", requests=[request])
    pairing = cohort.pairings.get()
    assert pairing.status == PairingStatus.PROPOSED and pairing.mentor == mentor

    for person in (mentor_user, mentee):
        with pytest.raises(Http404):
            mentoring_selectors.access_pairing(user=person, pk=pairing.pk)
        client.force_login(person)
        assert client.get(f"/mentoring/pairings/{pairing.pk}/").status_code == 404
    assert mentoring_selectors.access_pairing(user=secretariat, pk=pairing.pk) == pairing


# --- 11. The workbench follows only its own addresses ---------------------------------------------------


@pytest.mark.django_db
def test_the_workbench_never_redirects_to_another_site(client, secretariat):
    client.force_login(secretariat)
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        response = client.post(reverse("match_queue_bulk"), {"next": hostile})
        assert response["Location"] == reverse("match_queue"), hostile
    kept = client.post(reverse("match_queue_bulk"), {"next": "/secretariat/matches/?days=7"})
    assert kept["Location"] == "/secretariat/matches/?days=7"


# --- 12. Unsubscribe links expire and show a masked address ------------------------------------------------


@pytest.mark.django_db
def test_an_unsubscribe_link_shows_a_masked_address_and_expires_after_a_year(client):
    user = UserFactory(email="moussa.walker@example.org")

    page = client.get(reverse("unsubscribe", args=[outbox.unsubscribe_token(user)])).content.decode()
    recent = client.get(reverse("unsubscribe", args=[_token_signed_days_ago(user, 300)]))
    expired = client.get(reverse("unsubscribe", args=[_token_signed_days_ago(user, 366)]))

    assert "moussa.walker@" not in page and "m•••@example.org" in page
    assert recent.status_code == 200
    assert expired.status_code == 400 and "expired" in expired.content.decode()


def _token_signed_days_ago(user, days: int) -> str:
    import time
    from unittest import mock

    with mock.patch("time.time", return_value=time.time() - days * 86400):
        return outbox.unsubscribe_token(user)


# --- 15. Searches by meaning: throttled per address, query vectors cached -----------------------------------


@pytest.mark.django_db
def test_searches_by_meaning_are_throttled_per_address_and_reuse_the_query_vector(
    client, settings, monkeypatch
):
    from matching.encoder import encoder

    settings.PAGE_SEARCH_RATE = "3/minute"
    model = encoder()
    calls = []
    real_encode = type(model).encode
    monkeypatch.setattr(
        type(model), "encode", lambda self, texts, **kw: calls.append(texts) or real_encode(self, texts, **kw)
    )
    url = "/offers/?q=formation+des+douaniers&by_meaning=1"

    answers = [client.get(url, REMOTE_ADDR="198.51.100.1").status_code for _ in range(4)]
    other_address = client.get(url, REMOTE_ADDR="192.0.2.1")

    assert answers == [200, 200, 200, 429]
    assert other_address.status_code == 200
    # one encoding of the query for five identical searches (the model's reference levels, which the
    # cut-off between close and farther results reads, are measured once per process besides)
    assert calls.count(["formation des douaniers"]) == 1


# --- 16. Private answers are never stored by a cache ------------------------------------------------------


@pytest.mark.django_db
def test_answers_with_secrets_or_contacts_are_not_cacheable(client):
    owner = focal_point("TD")
    need = NeedFactory(created_by=owner)
    client.force_login(owner)
    api = APIClient()
    api.force_login(owner)

    private = {
        "tokens page": client.post("/account/api-tokens/", {"name": "Portal", "expires_in_days": 30}),
        "own posting": client.get(f"/needs/{need.pk}/"),
        "new token (API)": api.post("/api/v1/tokens/", {"name": "x", "expires_in_days": 30}, format="json"),
        "own posting (API)": api.get(f"/api/v1/needs/{need.pk}/"),
    }
    public = APIClient().get(f"/api/v1/needs/{need.pk}/")

    for what, response in private.items():
        assert "no-store" in response.get("Cache-Control", ""), what
    assert "no-store" not in public.get("Cache-Control", "")
