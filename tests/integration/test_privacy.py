"""No personal data in public: the privacy matrix.

Three people with distinctive e-mail addresses (an expert who has not given a name yet, an organization's
admin, a Party's focal point) each have published postings, matches in several states, a case study and a
mentoring pairing. Then, as an anonymous visitor and as a signed-in outsider: every page reachable from the
public pages, every GET operation of the OpenAPI schema (read from the schema, so a new endpoint is covered
without editing this test), the open data, and every e-mail and notification sent before a connection must
hold none of their addresses (nor an address's local part followed by "@"). The other side of a connected
match does see the contact."""

import re
from html import unescape
from urllib.parse import unquote, urlsplit

import pytest
from django.core import mail
from django.test import Client

from marketplace.models import ExpertProfile, PostingStatus
from matching import notification_kinds as match_kinds
from matching import services as matching
from matching.models import MatchStatus
from mentoring import notification_kinds as mentoring_kinds
from mentoring import services as mentoring_services
from mentoring.models import Mentor
from notifications import outbox
from notifications.models import Notification
from tests.factories import (
    MatchFactory,
    NeedFactory,
    OfferFactory,
    OrganizationFactory,
    UserFactory,
    focal_point,
    member,
    party,
)

pytestmark = pytest.mark.django_db

EXPERT_EMAIL = "zanele.quispe.expert@leak-expert.example"
MEMBER_EMAIL = "ines.duarte.member@leak-organization.example"
FOCAL_POINT_EMAIL = "mahamat.idriss.focal@leak-government.example"
PRIVATE_EMAILS = (EXPERT_EMAIL, MEMBER_EMAIL, FOCAL_POINT_EMAIL)
# Pages that are not the product's public content, or that change state when read.
NOT_CRAWLED = ("/static/", "/accounts/logout", "/admin/", "/i18n/")
MAX_PAGES = 400


def leaks(text: str) -> list[str]:
    """The private addresses (or their local parts followed by "@") that the text reveals, however it is
    escaped (HTML entities, URL encoding)."""
    readable = unquote(unescape(text)).lower()
    return [email for email in PRIVATE_EMAILS if email.split("@")[0] + "@" in readable]


@pytest.fixture
def world(secretariat):
    """Published postings of the three people, matches in several states, a published case study and an
    active mentoring pairing, each made through the services that send the notifications."""
    expert_user = UserFactory(email=EXPERT_EMAIL, name="")  # an account from before names were asked
    expert = ExpertProfile.objects.create(
        user=expert_user, bio="Botanist.", expertise="Herbarium digitisation", languages=["es", "en"]
    )
    organization = OrganizationFactory(name="Red de Herbarios Andinos")
    member_user = member(organization, admin=True, email=MEMBER_EMAIL, name="Inès Duarte")
    focal_user = focal_point("TD", email=FOCAL_POINT_EMAIL, name="Mahamat Idriss")

    def contact(user):  # the posting form fills the contact in from the account, as people leave it
        return {"created_by": user, "contact_name": user.name or "Z. Quispe", "contact_email": user.email}

    expert_offer = OfferFactory(
        title="Digitalización de herbarios",
        language="es",
        capacity=3,
        organization=None,
        expert=expert,
        **contact(expert_user),
    )
    organization_offer = OfferFactory(
        title="Herbarium training", capacity=3, organization=organization, **contact(member_user)
    )
    organization_need = NeedFactory(
        title="Data mobilisation help", party=None, organization=organization, **contact(member_user)
    )
    chad_need = NeedFactory(title="Former des douaniers", language="fr", **contact(focal_user))
    chad_second_need = NeedFactory(title="Numériser l'herbier national", language="fr", **contact(focal_user))

    # Introduced, the expert accepts first (the need's side hears of it), then connected and completed,
    # and its story published.
    story = matching.match_introduce(user=secretariat, match=MatchFactory(need=chad_need, offer=expert_offer))
    matching.match_accept(user=expert_user, match=story, message="Con gusto.")
    matching.match_accept(user=focal_user, match=story)
    matching.match_start(user=focal_user, match=story)
    matching.match_report_outcome(user=expert_user, match=story, outcome="achieved", rating=5)
    matching.case_study_save(
        user=focal_user, match=story, title="Herbarium of Chad online", story="It worked.", language="en"
    )
    matching.case_study_consent(user=expert_user, match=story)
    matching.case_study_approve(user=secretariat, match=story)
    # Interest expressed by the Party, declined by the expert.
    declined = matching.match_express_interest(
        user=focal_user, own=chad_second_need, other_posting=expert_offer, message="Intéressés."
    )
    matching.match_decline(user=expert_user, match=declined, reason="no_capacity", message="No ahora.")
    # Introduced and accepted by one side only; a connected one; a bare suggestion; one by interest.
    pending = matching.match_introduce(
        user=secretariat, match=MatchFactory(need=organization_need, offer=expert_offer)
    )
    matching.match_accept(user=expert_user, match=pending)
    connected = matching.match_introduce(
        user=secretariat, match=MatchFactory(need=chad_need, offer=organization_offer)
    )
    matching.match_accept(user=member_user, match=connected)
    matching.match_accept(user=focal_user, match=connected)
    MatchFactory(need=organization_need, offer=organization_offer, status=MatchStatus.SUGGESTED)
    matching.match_express_interest(user=member_user, own=organization_offer, other_posting=chad_second_need)

    # The expert mentors Chad's clearing-house (declared before names were asked).
    mentor = Mentor.objects.create(
        expert=expert,
        created_by=expert_user,
        forms=["hosting", "training"],
        languages=["fr", "es"],
        capacity=2,
    )
    request = mentoring_services.mentoring_request_create(
        user=focal_user,
        party=party("TD"),
        data={"forms": ["hosting"], "languages": ["fr"], "goals": "Hosting."},
    )
    pairing = mentoring_services.pairing_create(user=secretariat, request=request, mentor=mentor)

    for row in Notification.objects.filter(email_status="pending"):  # what the outbox's task sends
        outbox.notification_email_send(notification_id=row.pk)
    return {
        "expert_user": expert_user,
        "member_user": member_user,
        "focal_user": focal_user,
        "postings": [expert_offer, organization_offer, organization_need, chad_need, chad_second_need],
        "connected": connected,
        "story": story,
        "pairing": pairing,
        "ids": sorted(
            {
                *(
                    p.pk
                    for p in (
                        expert_offer,
                        organization_offer,
                        organization_need,
                        chad_need,
                        chad_second_need,
                    )
                ),
                *(m.pk for m in (story, declined, pending, connected)),
                organization.pk,
                expert.pk,
                pairing.pk,
                mentor.pk,
            }
        ),
    }


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def visitors():
    return {"anonymous": _client(), "outsider": _client(UserFactory(name="Outsider"))}


def _public_start_pages(world) -> list[str]:
    from matching import dashboard

    pages = ["/", "/needs/", "/offers/", "/dashboard/", "/case-studies/", "/mentoring/", "/my/matches/"]
    for kind in ("need", "offer"):
        pages += [
            f"/{kind}s/?subject=taxonomy",
            f"/{kind}s/?country=TD",
            f"/{kind}s/?language=es",
            f"/{kind}s/?region=african",
            f"/{kind}s/?support_type=training",
            f"/{kind}s/?q=herbarium",
        ]
    pages += [f"/{p._meta.model_name}s/{p.pk}/" for p in world["postings"]]
    pages += [
        f"/dashboard/{table}.csv" for table in (*dashboard.GAP_SCHEMES, "regions", "countries", "waiting")
    ]
    pages += [f"/matches/{world['connected'].pk}/", f"/mentoring/pairings/{world['pairing'].pk}/"]
    return pages


def crawl(client: Client, start: list[str]) -> dict[str, str]:
    """Every page of the site reachable from `start` by links (GET only), with its text."""
    seen: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        response = client.get(path)
        body = (
            response.content.decode("utf-8", "replace") if not getattr(response, "streaming", False) else ""
        )
        seen[path] = body
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for href in re.findall(r'href="([^"#]+)', body):
            url = urlsplit(unescape(href))
            if url.scheme or url.netloc or not url.path.startswith("/"):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if not url.path.startswith(NOT_CRAWLED) and target not in seen:
                queue.append(target)
    return seen


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_no_public_page_shows_a_persons_email(world, secretariat, who):
    pages = crawl(visitors()[who], _public_start_pages(world))

    leaking = {path: leaks(body) for path, body in pages.items() if leaks(body)}

    assert len(pages) > 30, sorted(pages)  # the crawl reached the site, not just the start pages
    assert not leaking, f"{len(leaking)} of {len(pages)} pages leak: {leaking}"


def _get_operations(client: Client) -> list[str]:
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    return [path for path, operations in schema["paths"].items() if "get" in operations]


def _fill(path: str, world) -> list[str]:
    """The path with each parameter filled with every id of the world (and a real value for the others)."""
    values = {"scheme": ["subject"], "code": ["taxonomy"], "token_key": ["abcdefgh"]}
    paths = [path]
    for name in re.findall(r"{(\w+)}", path):
        candidates = values.get(name, [str(pk) for pk in world["ids"]])
        paths = [p.replace("{" + name + "}", value) for p in paths for value in candidates]
    return paths


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_no_api_answer_shows_a_persons_email(world, secretariat, who):
    client = visitors()[who]
    operations = _get_operations(client)
    answered = {}
    for operation in operations:
        for path in _fill(operation, world):
            response = client.get(path, HTTP_ACCEPT="*/*")
            answered[path] = (response.status_code, response.content.decode("utf-8", "replace"))

    leaking = {path: leaks(body) for path, (_status, body) in answered.items() if leaks(body)}

    assert "/api/v1/open-data/offers.csv" in operations and "/api/v1/experts/{id}/" in operations
    assert sum(status == 200 for status, _body in answered.values()) > 20
    assert not leaking, f"{len(leaking)} of {len(answered)} API answers leak: {sorted(leaking)}"


def test_what_the_other_side_receives_before_a_connection_names_no_email(world):
    before_connection = Notification.objects.exclude(kind=match_kinds.MATCH_CONNECTED)
    in_app = {
        f"{row.pk} {row.kind} to {row.recipient_id}": leaks(
            "\n".join([rendered.subject, rendered.body, rendered.quote, *rendered.details])
        )
        for row in before_connection
        for rendered in [outbox.render(row)]
    }
    sent = [message for message in mail.outbox if "connected" not in message.subject.lower()]
    e_mails = {
        f"{index} {message.subject}": leaks(message.subject + message.body + str(message.extra_headers))
        for index, message in enumerate(sent)
    }

    kinds = set(before_connection.values_list("kind", flat=True))
    assert {
        match_kinds.MATCH_INTRODUCED,
        match_kinds.MATCH_ACCEPTED,
        match_kinds.MATCH_DECLINED,
        match_kinds.INTEREST_RECEIVED,
        match_kinds.STORY_PROPOSED,
        mentoring_kinds.MENTORING_PAIRED,
    } <= kinds
    assert len(sent) >= before_connection.count() - 2  # every instant one went out by e-mail
    leaking = {key: found for key, found in in_app.items() if found}
    assert not leaking, f"{len(leaking)} of {len(in_app)} notifications leak: {leaking}"
    leaking = {key: found for key, found in e_mails.items() if found}
    assert not leaking, f"{len(leaking)} of {len(e_mails)} e-mails leak: {leaking}"


def test_the_other_side_of_a_connected_match_sees_the_contact(world):
    focal_point_client = _client(world["focal_user"])
    match = world["connected"]

    page = focal_point_client.get(f"/matches/{match.pk}/").content.decode()
    answer = focal_point_client.get(f"/api/v1/matches/{match.pk}/").content.decode()
    connected = Notification.objects.get(
        kind=match_kinds.MATCH_CONNECTED,
        recipient=world["focal_user"],
        event_key__startswith=f"match:{match.pk}:",
    )

    assert MEMBER_EMAIL in page and MEMBER_EMAIL in answer
    assert any(MEMBER_EMAIL in line for line in outbox.render(connected).details)
    # and the expert's side of its connected (now completed) match sees the Party's contact
    assert (
        FOCAL_POINT_EMAIL
        in _client(world["expert_user"]).get(f"/matches/{world['story'].pk}/").content.decode()
    )


def test_a_person_without_a_name_is_shown_by_a_neutral_label(world):
    offer = world["postings"][0]
    page = _client().get(f"/offers/{offer.pk}/").content.decode()
    assert offer.status == PostingStatus.PUBLISHED
    assert "zanele" not in page.lower() and "leak-expert" not in page
    assert str(world["expert_user"]) in page
