"""Needs and offers through the API: the permission matrix of every endpoint (anonymous, other user, owner,
organization member, secretariat), what each may read, and that a refused call changes nothing."""

import pytest
from django.utils import timezone

from marketplace.models import ClosedReason, Need, Offer, PostingStatus
from tests.factories import MatchFactory, NeedFactory, OfferFactory, in_days

from .conftest import ACTORS, state

pytestmark = pytest.mark.django_db
CONTACT = "ndjamena.contact@example.org"
SECRET_NOTE = "Please add the budget line."


def org_need(world, status=PostingStatus.PUBLISHED, **fields) -> Need:
    """A need the owner posted for the organization (so the member answers for it too)."""
    return NeedFactory(
        party=None,
        organization=world.organization,
        created_by=world.users["owner"],
        status=status,
        published_at=timezone.now() if status == PostingStatus.PUBLISHED else None,
        submitted_at=timezone.now(),
        contact_email=CONTACT,
        status_message=SECRET_NOTE,
        **fields,
    )


def allowed(expected: dict, actor: str) -> bool:
    return expected[actor] < 300


def check(world, actor, need, method, path, body, expected):
    """Call as `actor`; assert the status, and that a refused call changed nothing."""
    before = state(need)
    response = getattr(world.client(actor), method)(path, body, format="json")
    assert response.status_code == expected[actor], response.content
    if not allowed(expected, actor):
        assert state(need) == before
        assert response.json()["type"] in ("client_error", "validation_error")
    return response


# endpoint → (status of the need beforehand, method, path suffix, body, expected per actor, status after)
MUTATIONS = {
    "edit a draft": (
        PostingStatus.DRAFT,
        "patch",
        "",
        {"title": "Herbarium digitisation for the Sahel"},
        {"anonymous": 401, "other": 404, "owner": 200, "member": 200, "secretariat": 403},
        PostingStatus.DRAFT,
    ),
    "edit a published need": (
        PostingStatus.PUBLISHED,
        "patch",
        "",
        {"title": "Herbarium digitisation for the Sahel"},
        {"anonymous": 401, "other": 403, "owner": 200, "member": 200, "secretariat": 403},
        PostingStatus.SUBMITTED,  # back to validation
    ),
    "submit": (
        PostingStatus.DRAFT,
        "post",
        "submit/",
        None,
        {"anonymous": 401, "other": 404, "owner": 200, "member": 200, "secretariat": 403},
        PostingStatus.SUBMITTED,
    ),
    "close": (
        PostingStatus.PUBLISHED,
        "post",
        "close/",
        {"reason": ClosedReason.WITHDRAWN},
        {"anonymous": 401, "other": 403, "owner": 200, "member": 200, "secretariat": 403},
        PostingStatus.CLOSED,
    ),
    "approve": (
        PostingStatus.SUBMITTED,
        "post",
        "approve/",
        None,
        {"anonymous": 401, "other": 403, "owner": 403, "member": 403, "secretariat": 200},
        PostingStatus.PUBLISHED,
    ),
    "request changes": (
        PostingStatus.SUBMITTED,
        "post",
        "request-changes/",
        {"message": "Say which herbaria."},
        {"anonymous": 401, "other": 403, "owner": 403, "member": 403, "secretariat": 200},
        PostingStatus.DRAFT,
    ),
    "reject": (
        PostingStatus.SUBMITTED,
        "post",
        "reject/",
        {"message": "Out of scope."},
        {"anonymous": 401, "other": 403, "owner": 403, "member": 403, "secretariat": 200},
        PostingStatus.CLOSED,
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", MUTATIONS)
def test_posting_actions_permission_matrix(world, endpoint, actor):
    status_before, method, suffix, body, expected, status_after = MUTATIONS[endpoint]
    need = org_need(world, status=status_before)
    response = check(world, actor, need, method, f"/api/v1/needs/{need.pk}/{suffix}", body, expected)
    need.refresh_from_db()
    if allowed(expected, actor):
        assert need.status == status_after == response.json()["status"]
    else:
        assert need.status == status_before


def test_a_refused_call_on_a_hidden_posting_does_not_reveal_it(world):
    draft = org_need(world, status=PostingStatus.DRAFT)
    hidden = world.client("other").get(f"/api/v1/needs/{draft.pk}/")
    missing = world.client("other").get("/api/v1/needs/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_a_draft_and_a_published_need(world, actor):
    draft = org_need(world, status=PostingStatus.DRAFT, title="Draft only the owners see")
    published = org_need(world, title="Published for everyone")
    insiders = actor in ("owner", "member", "secretariat")
    client = world.client(actor)

    assert client.get(f"/api/v1/needs/{draft.pk}/").status_code == (200 if insiders else 404)
    body = client.get(f"/api/v1/needs/{published.pk}/").json()
    assert body["title"] == "Published for everyone"
    assert body["poster"] == {
        "type": "organization",
        "id": world.organization.pk,
        "code": None,
        "name": "Réseau Sahel Biodiversité",
    }
    listed = client.get("/api/v1/needs/").json()
    titles = {row["title"] for row in listed["results"]}
    assert ("Draft only the owners see" in titles) == insiders
    if insiders:
        assert body["contact"]["email"] == CONTACT and body["status_message"] == SECRET_NOTE
    else:
        assert body["contact"] is None and body["status_message"] is None
        assert CONTACT not in str(listed) + str(body) and SECRET_NOTE not in str(listed) + str(body)


def test_the_other_side_of_a_connected_match_sees_the_contact(world):
    need = org_need(world)
    match = MatchFactory(need=need, status="connected", need_response="accepted", offer_response="accepted")
    other_side = match.offer.created_by
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other_side)
    assert client.get(f"/api/v1/needs/{need.pk}/").json()["contact"]["email"] == CONTACT
    listed = client.get("/api/v1/needs/").json()["results"]
    assert [row["contact"]["email"] for row in listed if row["id"] == need.pk] == [CONTACT]


CREATE = {
    "title": "Former les agents des douanes aux espèces exotiques envahissantes",
    "description": "Deux sessions de formation pour les postes frontières du Tchad.",
    "language": "fr",
    "subjects": ["invasive-alien-species"],
    "support_types": ["training"],
    "countries": ["TD"],
    "contact_name": "Achta Mahamat",
    "contact_email": "achta@example.org",
    "expires_on": in_days(60).isoformat(),
}


@pytest.mark.parametrize(
    "actor, expected",
    [("anonymous", 401), ("other", 403), ("owner", 201), ("member", 201), ("secretariat", 201)],
)
def test_posting_a_need_for_an_organization(world, actor, expected, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body = {**CREATE, "expires_on": in_days(60).isoformat(), "organization": world.organization.pk}
    response = world.client(actor).post("/api/v1/needs/", body, format="json")
    assert response.status_code == expected, response.content
    assert Need.objects.filter(title=CREATE["title"]).count() == (1 if expected == 201 else 0)
    if expected == 201:
        created = response.json()
        assert created["status"] == "draft" and created["subjects"] == ["invasive-alien-species"]
        assert created["contact"]["email"] == "achta@example.org"


def test_bad_input_gets_every_field_message_and_writes_nothing(world):
    body = {
        **CREATE,
        "organization": world.organization.pk,
        "subjects": ["no-such-subject"],
        "expires_on": "2001-01-01",
        "language": "xx",
    }
    response = world.client("owner").post("/api/v1/needs/", body, format="json")
    assert response.status_code == 400
    errors = {error["attr"]: error["detail"] for error in response.json()["errors"]}
    assert set(errors) == {"language"}  # the shape is checked first
    del body["language"]
    body["language"] = "fr"
    response = world.client("owner").post("/api/v1/needs/", body, format="json")
    assert response.status_code == 400 and response.json()["type"] == "validation_error"
    errors = {error["attr"]: error["detail"] for error in response.json()["errors"]}
    assert "no-such-subject" in errors["subjects"] and "future" in errors["expires_on"]
    assert not Need.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [b"{not json", b"[]", b'{"title": 12, "subjects": "taxonomy"}', b'{"expires_on": "tomorrow"}', b"null"],
)
def test_garbage_is_a_400_never_a_500(world, payload):
    response = world.client("owner").generic(
        "POST", "/api/v1/needs/", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["type"] in ("validation_error", "client_error")
    assert not Need.objects.exists()


def test_suggestions_show_reasons_to_all_and_match_ids_to_insiders(world):
    need = org_need(world)
    match = MatchFactory(need=need, reasons={"support": ["training"]})
    for actor in ACTORS:
        rows = world.client(actor).get(f"/api/v1/needs/{need.pk}/suggestions/").json()
        assert rows[0]["posting"]["id"] == match.offer.pk
        assert rows[0]["reasons"] == ["Support that fits: Training"]
        assert rows[0]["match"] == (match.pk if actor in ("owner", "member", "secretariat") else None)


def test_express_interest_in_an_offer(world):
    need = org_need(world)
    offer = OfferFactory()
    client = world.client("member")
    response = client.post(f"/api/v1/offers/{offer.pk}/interest/", {"posting": need.pk, "message": "Hello"})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "requested" and response.json()["my_sides"] == ["need"]
    # someone else's posting cannot be used
    stranger = world.client("other").post(f"/api/v1/offers/{offer.pk}/interest/", {"posting": need.pk})
    assert stranger.status_code == 400
    assert stranger.json()["errors"][0]["attr"] == "posting"


def test_filters_full_text_and_ordering(world):
    OfferFactory(
        title="Formation à la détection des espèces envahissantes",
        language="fr",
        kind="training",
        starts_on=in_days(10),
        ends_on=in_days(12),
        delivery_format="online",
    )
    OfferFactory(title="Herbarium mentoring", kind="mentoring", delivery_languages=["es"])
    client = world.client("anonymous")

    def titles(**params):
        return [row["title"] for row in client.get("/api/v1/offers/", params).json()["results"]]

    assert titles(search="especes") == ["Formation à la détection des espèces envahissantes"]  # no accents
    assert titles(kind="mentoring") == ["Herbarium mentoring"]
    assert titles(delivery_language="es") == ["Herbarium mentoring"]
    assert titles(language="fr", kind="training") == ["Formation à la détection des espèces envahissantes"]
    assert titles(ordering="title") == sorted(titles(ordering="title"))
    assert titles(ordering="-title") == list(reversed(titles(ordering="title")))
    bad = client.get("/api/v1/offers/", {"kind": "nonsense"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "kind"


def test_search_by_meaning_finds_an_english_offer_for_a_french_query(world):
    from matching.suggestions import posting_match

    wanted = OfferFactory(
        title="Border biosecurity course: detecting invasive alien species at points of entry",
        description="Training for customs and plant-protection officers on invasive species inspections.",
    )
    unrelated = OfferFactory(
        title="Marine spatial planning for coral reefs",
        description="Advice on zoning marine protected areas and coral reef monitoring.",
    )
    for offer in (wanted, unrelated):
        posting_match(side="offer", posting_id=offer.pk)
    rows = (
        world.client("anonymous")
        .get(
            "/api/v1/offers/",
            {"q": "former les douaniers à repérer les espèces envahissantes aux frontières"},
        )
        .json()["results"]
    )
    assert [row["id"] for row in rows] == [wanted.pk, unrelated.pk]


def test_an_offer_posted_as_an_expert(world):
    from tests.factories import expert

    person = expert(name="Dr. Ana Ruiz")
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(person)
    body = {
        **CREATE,
        "language": "es",
        "as_expert": True,
        "kind": "expertise",
        "delivery_languages": ["es", "fr"],
        "global_coverage": True,
    }
    response = client.post("/api/v1/offers/", body, format="json")
    assert response.status_code == 201, response.content
    assert (
        response.json()["poster"]["type"] == "expert" and response.json()["poster"]["name"] == "Dr. Ana Ruiz"
    )
    assert Offer.objects.get().expert.user == person


@pytest.mark.parametrize(
    "path",
    ["/api/v1/needs/abc/", "/api/v1/needs/99999999999999999999/", "/api/v1/nowhere/", "/api/v1/offers/0.5/"],
)
def test_unknown_api_urls_are_json_404s(client, settings, path):
    settings.DEBUG = False
    response = client.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    "path", ["/api/v1/notification-preferences/", "/api/v1/open-data/needs.csv", "/api/v1/needs/"]
)
def test_options_is_refused_in_the_api_shape(world, path):
    response = world.client("owner").options(path)
    assert response.status_code == 405 and response.json()["errors"][0]["code"] == "method_not_allowed"
