import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_vocabulary_and_parties_are_public_reference_data():
    client = Client()
    targets = client.get("/api/v1/vocabulary/", {"scheme": "gbf_target"}).json()
    assert targets["count"] == 23
    assert targets["results"][5]["code"] == "gbf-target-6"
    languages = ("en", "fr", "es", "ar", "zh", "ru")  # the six UN languages
    assert all(term[f"label_{language}"] for term in targets["results"] for language in languages)
    parties = client.get("/api/v1/parties/", {"page": 4}).json()
    assert parties["count"] == 196 and len(parties["results"]) == 46
    assert all(party[f"name_{language}"] for party in parties["results"] for language in languages)


def test_the_api_denies_by_default_and_shows_callers_only_their_own_account(client):
    from tests.factories import focal_point

    assert client.get("/api/v1/me/").status_code == 401
    client.force_login(focal_point("TD", email="achta@example.org"))
    body = client.get("/api/v1/me/").json()
    assert body["email"] == "achta@example.org" and body["focal_point_for"] == ["TD"]
    assert not body["is_secretariat"]
