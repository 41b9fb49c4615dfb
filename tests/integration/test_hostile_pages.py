"""Hostile input to the pages: rate-limited sign-in, sign-up and posting; user text escaped wherever it is
shown (pages and e-mails); too large, wrongly encoded or NUL-laden forms and query strings, and path
traversal in URLs, give a clear answer (a form error, a 413, a 404), never a 500, and store nothing."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from marketplace import notification_kinds as posting_kinds
from marketplace.models import Need, PostingStatus, User
from notifications import outbox
from notifications.models import Notification
from tests.factories import MatchFactory, NeedFactory, OfferFactory, UserFactory, focal_point

from .test_pages import need_form

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
DROP = "'; DROP TABLE marketplace_need; --"
OR_TRUE = "1 OR 1=1"


def page_client(user=None) -> Client:
    client = Client(raise_request_exception=False)  # a crash must show as the 500 it would be
    if user is not None:
        client.force_login(user)
    return client


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Rate limits (ACCOUNT_RATE_LIMITS in config/settings/base.py, POSTING_RATE_LIMIT) -----------------------


def test_the_sixth_failed_sign_in_for_an_account_is_refused_with_a_429(client):
    UserFactory(email="target@example.org")
    UserFactory(email="colleague@example.org")
    url = reverse("account_login")
    failures = [client.post(url, {"login": "target@example.org", "password": "wrong"}) for _ in range(5)]
    assert [r.status_code for r in failures] == [200] * 5
    assert all(b"Too many failed login attempts" not in r.content for r in failures)

    refused = client.post(url, {"login": "target@example.org", "password": PASSWORD})  # even the right one
    assert refused.status_code == 429
    assert "Too many failed login attempts. Try again later." in refused.content.decode()
    assert not _logged_in(client)
    # the limit is per account (and 10 a minute per address): a colleague behind the same address signs in
    assert client.post(url, {"login": "colleague@example.org", "password": PASSWORD}).status_code == 302
    assert _logged_in(client)


def test_sign_in_attempts_are_limited_per_address(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    UserFactory(email="expert@example.org")
    url = reverse("account_login")
    answers = [client.post(url, {"login": f"nobody{n}@example.org", "password": "x"}) for n in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert client.post(url, {"login": "expert@example.org", "password": PASSWORD}).status_code == 429
    assert not _logged_in(client)


def test_sign_ups_are_limited_per_address_and_a_refused_one_creates_nothing(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    url = reverse("account_signup")

    def sign_up(n):
        password = "A-long pass phrase 42"
        return client.post(
            url,
            {
                "name": f"Person {n}",
                "email": f"new{n}@example.org",
                "password1": password,
                "password2": password,
            },
        )

    assert [sign_up(n).status_code for n in range(2)] == [302, 302]
    sent = len(mail.outbox)
    refused = sign_up(2)
    assert refused.status_code == 429
    assert not User.objects.filter(email="new2@example.org").exists()
    assert len(mail.outbox) == sent
    assert User.objects.count() == 2


def test_new_postings_are_limited_per_user_on_the_page(settings):
    settings.POSTING_RATE_LIMIT = "1/hour"
    client = page_client(focal_point("TD"))
    url = reverse("posting_create", args=["need"])
    assert client.post(url, need_form()).status_code == 302
    refused = client.post(url, need_form(title="A second need"))
    assert refused.status_code == 200
    assert refused.context["form"].non_field_errors() == [
        "You have created too many postings in a short time. Please try again in 60 minutes."
    ]
    assert list(Need.objects.values_list("title", flat=True)) == [need_form()["title"]]


# --- Output: user text is escaped on every page and plain text in every e-mail ------------------------------


def assert_escaped(body: str) -> None:
    assert SCRIPT not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.fixture
def hostile_match():
    """A published need and offer whose texts are HTML, and a match between them."""
    need = NeedFactory(title=SCRIPT, description=IMG, contact_name=SCRIPT)
    offer = OfferFactory(title=f"{SCRIPT} offer", description=IMG)
    offer.organization.name = SCRIPT
    offer.organization.save()
    NeedFactory(title=SCRIPT, status=PostingStatus.SUBMITTED, submitted_at=timezone.now(), published_at=None)
    return MatchFactory(need=need, offer=offer, reasons={"support": ["training"]})


@pytest.mark.parametrize(
    "page",
    ["need_detail", "offer_detail", "need_list", "offer_list", "home", "match_detail", "validation_queue"],
)
def test_html_typed_by_users_is_escaped_on_every_page(hostile_match, secretariat, page):
    need, offer = hostile_match.need, hostile_match.offer
    urls = {
        "need_detail": reverse("posting_detail", args=["need", need.pk]),
        "offer_detail": reverse("posting_detail", args=["offer", offer.pk]),
        "need_list": reverse("posting_list", args=["need"]) + "?q=alert",
        "offer_list": reverse("posting_list", args=["offer"]),
        "home": reverse("home"),
        "match_detail": reverse("match_detail", args=[hostile_match.pk]),
        "validation_queue": reverse("validation_queue"),
    }
    response = page_client(secretariat).get(urls[page])
    assert response.status_code == 200
    assert_escaped(response.content.decode())


def test_e_mails_are_plain_text_with_a_one_line_subject(hostile_match):
    """E-mails are text/plain only (no HTML part a mail reader would render); a title with line breaks cannot
    add a header (it used to raise BadHeaderError in the sending task)."""
    owner = hostile_match.need.created_by
    hostile_title = f"{SCRIPT}\r\nBcc: victim@example.org"
    notification = Notification.objects.create(
        recipient=owner,
        kind=posting_kinds.POSTING_PUBLISHED,
        event_key="need:1:published",
        context={"title": hostile_title, "path": "/needs/1/"},
        frequency="instant",
    )
    assert outbox.notification_email_send(notification_id=notification.pk) is True
    [message] = mail.outbox
    assert message.content_subtype == "plain" and not getattr(message, "alternatives", [])
    assert message.subject == f"“{SCRIPT} Bcc: victim@example.org” is published"
    assert message.recipients() == [owner.email]  # the envelope: nobody added by the title
    assert message.message()["Subject"]  # a valid header, folded by the e-mail library if long
    assert hostile_title in message.body  # as typed: in plain text it is inert


def test_the_inbox_escapes_the_notifications_text(hostile_match):
    owner = hostile_match.need.created_by
    Notification.objects.create(
        recipient=owner,
        kind=posting_kinds.POSTING_PUBLISHED,
        event_key="need:1:published",
        context={"title": SCRIPT, "path": "/needs/1/"},
        frequency="off",
    )
    assert_escaped(page_client(owner).get(reverse("inbox")).content.decode())


# --- Forms: too large, NUL characters, invalid UTF-8, scripts and SQL ------------------------------------


def test_a_form_over_the_size_limit_is_a_413_with_a_message_and_stores_nothing():
    client = page_client(focal_point("TD"))
    response = client.post(reverse("posting_create", args=["need"]), need_form(description="x" * 3_000_000))
    assert response.status_code == 413
    assert "The request is too large: at most 2.0\xa0MB." in response.content.decode()
    assert not Need.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("title", "a\x00b"),
        ("description", "\x00"),
        ("contact_name", "Achta\x00"),
        ("contact_phone", "+235\x00"),
        ("beneficiaries", "\x00"),
        ("budget_note", "\x00"),
        ("contact_email", "a\x00@example.org"),
        ("subjects", ["taxonomy\x00"]),
        ("countries", ["T\x00"]),
        ("regions", ["african\x00"]),
        ("language", "fr\x00"),
        ("expires_on", "2031-01-01\x00"),
        ("poster", "party:TD\x00"),
    ],
)
def test_a_nul_character_in_any_form_field_is_a_form_error_on_that_field(field, value):
    client = page_client(focal_point("TD"))
    response = client.post(reverse("posting_create", args=["need"]), need_form(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Need.objects.exists()


@pytest.mark.parametrize("value", [SCRIPT, IMG, DROP, OR_TRUE])
def test_scripts_and_sql_typed_in_a_form_are_saved_as_text_and_shown_escaped(value):
    owner = focal_point("TD")
    client = page_client(owner)
    response = client.post(
        reverse("posting_create", args=["need"]), need_form(title=value, description=value)
    )
    assert response.status_code == 302
    need = Need.objects.get()
    assert need.title == need.description == value
    body = client.get(reverse("posting_detail", args=["need", need.pk])).content.decode()
    assert escape(value) in body
    assert value == escape(value) or value not in body


def test_a_form_post_with_invalid_utf8_shows_form_errors():
    client = page_client(focal_point("TD"))
    response = client.post(
        reverse("posting_create", args=["need"]),
        b"title=%FF%FE&description=\xc3\x28&poster=party%3ATD&subjects=\xff",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "subjects" in errors and "contact_email" in errors
    assert not Need.objects.exists()


QUERY_VALUES = [SCRIPT, DROP, OR_TRUE, "\x00", "a\x00b", "%FF", "9" * 40, "-1", "../../etc/passwd"]


@pytest.mark.parametrize("value", QUERY_VALUES)
@pytest.mark.parametrize("kind", ["need", "offer"])
def test_hostile_catalogue_filters_show_a_page(kind, value):
    NeedFactory(title="Herbarium")
    params = dict.fromkeys(
        ["q", "subject", "gbf_target", "support_type", "region", "country", "language"], value
    )
    response = page_client().get(reverse("posting_list", args=[kind]), {**params, "page": value})
    assert response.status_code == 200
    assert Need.objects.count() == 1
    assert SCRIPT not in response.content.decode()


@pytest.mark.parametrize("value", QUERY_VALUES)
def test_hostile_workbench_filters_show_a_page(secretariat, value):
    client = page_client(secretariat)
    for name in ("match_queue", "audit_log"):
        params = dict.fromkeys(["action", "region", "subject", "min_days", "status", "page"], value)
        assert client.get(reverse(name), params).status_code == 200, name


def test_an_invalid_utf8_query_string_shows_the_page():
    for path in ("/needs/?q=%FF%FE&subject=%C3%28", "/offers/?country=%FF", "/?next=%FF"):
        assert page_client().get(path).status_code == 200, path


# --- Paths -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/../../etc/passwd",
        "/static/../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2F..%2Fconfig%2Fsettings%2Fbase.py",
        "/needs/..%2F..%2Fetc%2Fpasswd/",
        "/needs/1/..%2F..%2F..%2Fetc%2Fpasswd",
        "/matches/1/..%2F..%2F..%2Fetc%2Fpasswd/",
        "/notifications/unsubscribe/..%2F..%2Fetc%2Fpasswd/",
        "/account/api-tokens/..%2F..%2Fetc%2Fpasswd/revoke/",
        "/api/v1/../../etc/passwd",
        "/api/v1/vocabulary/subject/..%2F..%2F..%2Fetc%2Fpasswd/",
        "/api/v1/needs/..%2F1/",
    ],
)
def test_path_traversal_in_urls_is_a_404(secretariat, path):
    response = page_client(secretariat).get(path)
    assert response.status_code == 404
    assert b"root:" not in response.content and b"SECRET_KEY" not in response.content


def test_no_template_or_view_turns_html_escaping_off():
    """Every page relies on Django's autoescaping: nothing in the project marks text as safe HTML."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [
        path
        for folder in ("frontend", "api", "marketplace", "matching", "config")
        for path in (root / folder).rglob("*")
        if path.suffix in (".html", ".txt", ".py") and "static" not in path.parts
    ]
    assert len(sources) > 50
    markers = ("|safe", "autoescape off", "mark_safe", "SafeString", "safeseq", "{% filter safe")
    offenders = [
        f"{path.relative_to(root)}: {marker}"
        for path in sources
        for marker in markers
        if marker in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
