"""Fast pages and API: a query budget for each main page and endpoint, the cache of anonymous answers (and
that a posting change reaches them at once), 304 answers, the cached filter choices, the encoder preload.

Each budget is a little above what the page needs with a cold cache, on a catalogue large enough that a
query per posting (or per match, per facet) would blow it: six needs, twelve offers, four suggestions per
need."""

import re
import runpy
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from marketplace import selectors, services
from marketplace.models import Term, VocabularyRelease
from matching import encoder as matching_encoder
from matching import suggestions
from matching.models import MatchStatus
from tests.factories import (
    MatchFactory,
    NeedFactory,
    OfferFactory,
    OrganizationFactory,
    expert,
    focal_point,
    in_days,
    member,
)

pytestmark = pytest.mark.django_db

POSTINGS = 6  # of each kind and poster: enough for a query per row to show


@pytest.fixture
def catalogue():
    owner = focal_point("TD")
    organization = OrganizationFactory()
    colleague = member(organization)
    person = expert()
    needs = [
        NeedFactory(
            created_by=owner,
            subjects=["taxonomy", "biodiversity-data"],
            support_types=["training", "technical-advice"],
            gbf_targets=["gbf-target-1", "gbf-target-2"],
            countries=["TD", "CM"],
        )
        for _ in range(POSTINGS)
    ]
    offers = [
        OfferFactory(created_by=colleague, organization=organization, subjects=["taxonomy"], countries=["TD"])
        for _ in range(POSTINGS)
    ] + [
        OfferFactory(created_by=person, organization=None, expert=person.expert_profile)
        for _ in range(POSTINGS)
    ]
    reasons = {"shared_subjects": ["taxonomy"], "support": ["training"], "covers": "TD"}
    for need in needs:
        for offer in offers[POSTINGS - 2 : POSTINGS + 2]:  # two of each poster
            MatchFactory(need=need, offer=offer, reasons=reasons, status=MatchStatus.INTRODUCED)
    # the offers on the detail pages have suggestions too
    return {
        "owner": owner,
        "need": needs[0],
        "org_offer": offers[POSTINGS - 1],
        "expert_offer": offers[POSTINGS],
    }


def _urls(catalogue) -> dict[str, str]:
    need, org_offer, expert_offer = catalogue["need"], catalogue["org_offer"], catalogue["expert_offer"]
    return {
        "need": f"/needs/{need.pk}/",
        "org_offer": f"/offers/{org_offer.pk}/",
        "expert_offer": f"/offers/{expert_offer.pk}/",
        "api_need": f"/api/v1/needs/{need.pk}/",
        "api_offer": f"/api/v1/offers/{expert_offer.pk}/",
    }


# --- Budgets -----------------------------------------------------------------------------------------------

# (name, address, budget); measured with a cold cache: home 8, lists 7, details 8, searches 8, the results
# alone 4, dashboard 22.
PAGES = [
    ("home", "/", 10),
    ("needs", "/needs/", 9),
    ("offers", "/offers/", 9),
    ("needs, page 2", "/needs/?page=2", 9),
    ("need", "{need}", 10),
    ("offer of an organization", "{org_offer}", 10),
    ("offer of an expert", "{expert_offer}", 10),
    (
        "needs by words and facets",
        "/needs/?q=Posting&subject=taxonomy&region=african&country=TD&language=en",
        9,
    ),
    ("offers by words and facets", "/offers/?q=Posting&subject=taxonomy&support_type=training&country=CM", 9),
    ("results only (HTMX)", "/needs/?subject=taxonomy", 6),
    ("dashboard", "/dashboard/", 24),
]
# measured: /my/ 10, /my/matches/ 4, home 11, a need 13 (session, user and unread count included)
SIGNED_IN_PAGES = [
    ("my postings", "/my/", 12),
    ("my matches", "/my/matches/", 6),
    ("home", "/", 13),
    ("own need", "{need}", 15),
]
# measured: lists 6 (7 with a country), details 5, reference lists 2, open data 5
API = [
    ("needs", "/api/v1/needs/", 8),
    ("offers", "/api/v1/offers/", 8),
    ("needs with facets", "/api/v1/needs/?subject=taxonomy&country=TD", 8),
    ("need", "{api_need}", 7),
    ("offer", "{api_offer}", 7),
    ("vocabulary", "/api/v1/vocabulary/", 3),
    ("one scheme", "/api/v1/vocabulary/?scheme=subject", 3),
    ("parties", "/api/v1/parties/", 3),
    ("organizations", "/api/v1/organizations/", 3),
    ("needs (CSV)", "/api/v1/open-data/needs.csv", 7),
    ("offers (JSON-LD)", "/api/v1/open-data/offers.jsonld", 7),
]


@pytest.mark.parametrize(("name", "address", "budget"), PAGES, ids=[page[0] for page in PAGES])
def test_each_public_page_keeps_to_its_query_budget(
    catalogue, django_assert_max_num_queries, name, address, budget
):
    url = address.format(**_urls(catalogue))
    headers = {"HTTP_HX_REQUEST": "true"} if "HTMX" in name else {}
    cache.clear()  # a cold cache: the page as rendered, filter choices included
    with django_assert_max_num_queries(budget):
        response = Client().get(url, **headers)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "address", "budget"), SIGNED_IN_PAGES, ids=[page[0] for page in SIGNED_IN_PAGES]
)
def test_each_signed_in_page_keeps_to_its_query_budget(
    catalogue, django_assert_max_num_queries, name, address, budget
):
    client = Client()
    client.force_login(catalogue["owner"])
    cache.clear()
    with django_assert_max_num_queries(budget):
        response = client.get(address.format(**_urls(catalogue)))
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "address", "budget"), API, ids=[endpoint[0] for endpoint in API])
def test_each_api_endpoint_keeps_to_its_query_budget(
    catalogue, django_assert_max_num_queries, name, address, budget
):
    cache.clear()
    with django_assert_max_num_queries(budget):
        response = APIClient().get(address.format(**_urls(catalogue)))
    assert response.status_code == 200


def test_the_owner_reads_the_api_within_budget(catalogue, django_assert_max_num_queries):
    api = APIClient()
    api.force_authenticate(catalogue["owner"])
    with django_assert_max_num_queries(10):  # measured 8: the owner's contacts and messages are worked out
        assert api.get("/api/v1/needs/").status_code == 200
    with django_assert_max_num_queries(9):  # measured 7
        assert api.get(_urls(catalogue)["api_need"]).status_code == 200


# --- The cache of anonymous answers ------------------------------------------------------------------------


def need_data(**overrides) -> dict:
    data = {
        "title": "Herbarium digitisation for Chad",
        "description": "Two technicians to train in imaging and databasing specimens.",
        "language": "en",
        "subjects": ["taxonomy"],
        "support_types": ["training"],
        "countries": ["TD"],
        "contact_name": "Achta",
        "contact_email": "achta@example.org",
        "expires_on": in_days(180),
    }
    return data | overrides


def test_a_cached_page_costs_no_query_and_a_posting_change_shows_at_once(
    secretariat, django_assert_num_queries
):
    owner = focal_point("TD")
    client = Client()
    assert "Herbarium digitisation" not in client.get("/needs/").content.decode()
    with django_assert_num_queries(0):
        assert client.get("/needs/").status_code == 200  # from the cache

    # published: on the list, the home page and its own page at once
    need = services.need_create(user=owner, party=owner.focal_points.get().party, data=need_data())
    services.posting_submit(user=owner, posting=need)
    assert "Herbarium digitisation" not in client.get("/needs/").content.decode()  # not published yet
    services.posting_approve(user=secretariat, posting=need)
    for url in ["/needs/", "/", f"/needs/{need.pk}/"]:
        assert "Herbarium digitisation" in client.get(url).content.decode(), url

    # edited: back to the secretariat, off the public pages at once
    services.posting_update(user=owner, posting=need, data={"title": "Herbarium imaging for Chad"})
    assert client.get(f"/needs/{need.pk}/").status_code == 404
    assert "Herbarium" not in client.get("/needs/").content.decode()

    # published again, then closed
    services.posting_approve(user=secretariat, posting=need)
    assert "Herbarium imaging for Chad" in client.get("/needs/").content.decode()
    services.posting_close(user=owner, posting=need, reason="withdrawn")
    assert "Herbarium imaging for Chad" not in client.get("/needs/").content.decode()
    assert "Herbarium imaging for Chad" not in client.get("/").content.decode()


def test_the_open_api_shows_a_posting_change_at_once(secretariat, django_assert_num_queries):
    owner = focal_point("TD")
    need = services.need_create(user=owner, party=owner.focal_points.get().party, data=need_data())
    services.posting_submit(user=owner, posting=need)
    services.posting_approve(user=secretariat, posting=need)
    api = APIClient()
    urls = ["/api/v1/needs/", f"/api/v1/needs/{need.pk}/", "/api/v1/open-data/needs.csv"]
    for url in urls:
        assert "Herbarium digitisation" in api.get(url).content.decode(), url
        with django_assert_num_queries(0):
            assert api.get(url).status_code == 200  # from the cache

    services.posting_close(user=owner, posting=need, reason="fulfilled")

    assert api.get(urls[1]).status_code == 404
    for url in (urls[0], urls[2]):
        assert "Herbarium digitisation" not in api.get(url).content.decode(), url


def test_new_suggestions_reach_the_public_pages_at_once(catalogue):
    """The matcher's stored suggestions show on both postings' pages: storing them retires the cache."""
    client = Client()
    offer = OfferFactory(title="Imaging course for herbaria")
    url = _urls(catalogue)["need"]
    assert "Imaging course for herbaria" not in client.get(url).content.decode()

    suggestions._store(
        "need",
        catalogue["need"],
        [type("Scored", (), {"candidate_id": str(offer.pk), "score": 0.9, "features": {}, "why": {}})()],
        {},
        model_version="test",
        weights_version="test",
        matched_at=catalogue["need"].updated_at,
    )

    assert "Imaging course for herbaria" in client.get(url).content.decode()


def test_nothing_is_cached_for_a_signed_in_person(catalogue):
    owner, need = catalogue["owner"], catalogue["need"]
    url = _urls(catalogue)["need"]
    anonymous = Client().get(url)
    assert need.contact_email not in anonymous.content.decode()

    client = Client()
    client.force_login(owner)
    own = client.get(url)

    assert need.contact_email in own.content.decode()  # the owner's page, not the cached public one
    assert "ETag" not in own and "no-store" in own["Cache-Control"]
    api = APIClient()
    api.force_authenticate(owner)
    own_api = api.get(_urls(catalogue)["api_need"])
    assert own_api.json()["contact"] is not None
    assert "ETag" not in own_api and "no-store" in own_api["Cache-Control"]


def _token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)


def test_a_cached_page_carries_the_readers_own_csrf_token():
    """The language switcher's form works on a page served from the cache, and the page holds no token of
    whoever's visit filled the cache."""
    first = Client(enforce_csrf_checks=True)
    first_token = _token(first.get("/needs/"))

    second = Client(enforce_csrf_checks=True)
    page = second.get("/needs/")  # from the cache

    assert page.status_code == 200 and "csrftoken" in page.cookies  # the reader's own secret, new
    assert first_token not in page.content.decode() and "\x00" not in page.content.decode()
    switched = second.post(
        "/i18n/setlang/", {"language": "fr", "next": "/needs/", "csrfmiddlewaretoken": _token(page)}
    )
    assert switched.status_code == 302
    french = second.get("/needs/").content.decode()  # the French page, cached apart
    assert "Diversité biologique agricole" in french and "Agricultural biodiversity" not in french


def test_pages_answer_304_while_unchanged(secretariat, django_assert_num_queries):
    NeedFactory(title="Camera traps for Chad")
    client = Client()
    page = client.get("/needs/")
    etag = page["ETag"]
    assert (
        etag.startswith('W/"') and "private" in page["Cache-Control"] and "no-cache" in page["Cache-Control"]
    )

    with django_assert_num_queries(0):
        again = client.get("/needs/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag

    assert client.get("/offers/", HTTP_IF_NONE_MATCH=etag).status_code == 200  # another page
    assert client.get("/needs/", HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_LANGUAGE="fr").status_code == 200
    # another reader's copy holds a token of another secret: never confirmed
    assert Client().get("/needs/", HTTP_IF_NONE_MATCH=etag).status_code == 200

    owner = focal_point("TD")
    need = services.need_create(user=owner, party=owner.focal_points.get().party, data=need_data())
    services.posting_submit(user=owner, posting=need)
    services.posting_approve(user=secretariat, posting=need)
    changed = client.get("/needs/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "Herbarium digitisation" in changed.content.decode()


def test_the_open_api_answers_304_while_unchanged(django_assert_num_queries):
    need = NeedFactory()
    api = APIClient()
    for url in ["/api/v1/needs/", f"/api/v1/needs/{need.pk}/", "/api/v1/open-data/needs.jsonld"]:
        response = api.get(url)
        assert response["Cache-Control"] == "no-cache", url
        with django_assert_num_queries(0):
            again = api.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304, url

    signed_in = APIClient()
    signed_in.force_authenticate(need.created_by)
    assert signed_in.get("/api/v1/needs/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 200


def test_searches_by_meaning_are_not_cached_and_the_cache_can_be_turned_off(settings):
    client = Client()
    assert "ETag" in client.get("/needs/")
    assert "ETag" not in client.get("/needs/?by_meaning=1")  # the model's searches: their own limit, cache
    settings.PUBLIC_CACHE_SECONDS = 0
    response = client.get("/needs/")
    assert "ETag" not in response and "Cache-Control" not in response


# --- Filter choices ----------------------------------------------------------------------------------------


def test_filter_choices_are_cached_per_language_and_vocabulary_release(
    django_assert_num_queries, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):  # the release, the terms, the Parties
        english = selectors.filter_choices()
    with django_assert_num_queries(1):  # the release only
        assert selectors.filter_choices() == english
    assert len(english["parties"]) == 196 and english["subject"][0]["label"] == "Agricultural biodiversity"
    with translation.override("fr"), django_assert_max_num_queries(3):
        assert selectors.filter_choices()["subject"][0]["label"] == "Diversité biologique agricole"

    # a new release (the loader writes one with the terms): seen at once
    Term.objects.filter(code="agricultural-biodiversity").update(label_en="Agrobiodiversity")
    VocabularyRelease.objects.create(version="2099.1", term_count=1)
    assert selectors.filter_choices()["subject"][0]["label"] == "Agrobiodiversity"
    assert "Agrobiodiversity" in Client().get("/needs/").content.decode()


# --- The encoder, loaded as a web process starts -----------------------------------------------------------


class FakeEncoder:
    name = "fake"

    def __init__(self, seconds: float = 0):
        self.seconds, self.encoded = seconds, []

    def encode(self, texts):
        time.sleep(self.seconds)  # a slow load, as on a small machine
        self.encoded.append(texts)


class FakeWorker:
    notified = 0

    def notify(self):
        self.notified += 1


def gunicorn_hook():
    return runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))["post_worker_init"]


def test_each_gunicorn_worker_loads_the_encoder_before_serving_only_when_asked(settings, monkeypatch):
    model = FakeEncoder(seconds=2.5)
    monkeypatch.setattr(matching_encoder, "encoder", lambda: model)
    worker = FakeWorker()

    settings.MATCHING_PRELOAD_ENCODER = False
    gunicorn_hook()(worker)
    assert model.encoded == []

    settings.MATCHING_PRELOAD_ENCODER = True
    gunicorn_hook()(worker)
    assert model.encoded == [["warm-up"]]
    assert worker.notified >= 2  # alive while loading: the worker timeout does not kill it


def test_an_encoder_that_fails_to_load_does_not_stop_the_site(settings, monkeypatch, caplog):
    def broken():
        raise OSError("no model here")

    monkeypatch.setattr(matching_encoder, "encoder", broken)
    settings.MATCHING_PRELOAD_ENCODER = True

    matching_encoder.encoder_preload()

    assert "Could not preload the encoder" in caplog.text
