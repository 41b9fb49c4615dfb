"""Open formats: published postings as CSV and as schema.org JSON-LD (expanded by a real JSON-LD processor),
and the bulk import: a dry run reports every row's errors, a real run imports all rows or none."""

import csv
import io
import json

import pytest
from pyld import jsonld

from marketplace.models import Need, Offer, PostingStatus
from tests.factories import NeedFactory, OfferFactory, in_days

from .conftest import ACTORS, state

pytestmark = pytest.mark.django_db
SCHEMA = "https://schema.org/"


@pytest.fixture
def catalogue(world):
    need = NeedFactory(
        title="=Herbarium training",  # a spreadsheet would run this as a formula
        language="fr",
        contact_email="private@example.org",
        gbf_targets=["gbf-target-6"],
        countries=["TD"],
        timeframe_start=in_days(30),
        timeframe_end=in_days(90),
    )
    offer = OfferFactory(
        title="Border biosecurity course",
        organization=world.organization,
        kind="training",
        starts_on=in_days(10),
        ends_on=in_days(12),
        delivery_format="online",
        delivery_languages=["en", "fr"],
        contact_email="private@example.org",
    )
    NeedFactory(status=PostingStatus.DRAFT, title="Unpublished draft", published_at=None)
    return need, offer


def no_network(url, options=None):
    raise AssertionError(f"the JSON-LD processor tried to fetch {url}")


def test_json_ld_expands_with_schema_org_types_and_term_uris(client, catalogue):
    need, offer = catalogue
    response = client.get("/api/v1/open-data/needs.jsonld")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/ld+json")
    expanded = jsonld.expand(response.json(), {"documentLoader": no_network})
    assert [node["@type"] for node in expanded] == [[SCHEMA + "Demand"]]
    demand = expanded[0]
    assert demand[SCHEMA + "name"][0]["@value"] == "=Herbarium training"
    categories = {c["@id"] for c in demand[SCHEMA + "category"]}
    target_uri = "http://127.0.0.1:8000/api/v1/vocabulary/gbf_target/gbf-target-6/"
    assert target_uri in categories
    assert client.get(target_uri.removeprefix("http://127.0.0.1:8000")).json()["code"] == "gbf-target-6"
    seeker = demand["@reverse"][SCHEMA + "seeks"][0]
    assert seeker["@type"] == [SCHEMA + "GovernmentOrganization"]

    offers = jsonld.expand(
        client.get("/api/v1/open-data/offers.jsonld").json(), {"documentLoader": no_network}
    )
    assert [node["@type"] for node in offers] == [[SCHEMA + "Offer"]]
    course = offers[0][SCHEMA + "itemOffered"][0]
    assert course["@type"] == [SCHEMA + "Course"]
    assert {lang[SCHEMA + "alternateName"][0]["@value"] for lang in course[SCHEMA + "availableLanguage"]} == {
        "en",
        "fr",
    }
    assert offers[0][SCHEMA + "offeredBy"][0][SCHEMA + "name"][0]["@value"] == "Réseau Sahel Biodiversité"
    for path in ("needs.jsonld", "offers.jsonld", "needs.csv", "offers.csv"):
        body = client.get(f"/api/v1/open-data/{path}").content.decode()
        assert "private@example.org" not in body and "Unpublished draft" not in body


def test_csv_export_has_the_import_columns_without_contacts(client, catalogue):
    need, offer = catalogue
    response = client.get("/api/v1/open-data/offers.csv", {"kind": "training"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["title"] for row in rows] == ["Border biosecurity course"]
    assert rows[0]["delivery_languages"] == "en;fr" and rows[0]["organization"] == "Réseau Sahel Biodiversité"
    assert "contact_email" not in rows[0]
    needs = list(csv.DictReader(io.StringIO(client.get("/api/v1/open-data/needs.csv").content.decode())))
    assert needs[0]["title"] == "'=Herbarium training" and needs[0]["countries"] == "TD"
    bad = client.get("/api/v1/open-data/needs.csv", {"region": "atlantis"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"


def test_an_exported_catalogue_imports_elsewhere(world, catalogue, secretariat):
    """Round trip: the CSV export plus contact columns is a valid import file."""
    from rest_framework.test import APIClient

    exported = list(
        csv.DictReader(io.StringIO(APIClient().get("/api/v1/open-data/needs.csv").content.decode()))
    )
    Need.objects.all().delete()
    out = io.StringIO()
    writer = csv.DictWriter(out, [*exported[0], "contact_name", "contact_email"])
    writer.writeheader()
    for row in exported:
        writer.writerow({**row, "contact_name": "Achta", "contact_email": "achta@example.org"})
    staff = APIClient()
    staff.force_authenticate(secretariat)
    body = {
        "kind": "need",
        "format": "csv",
        "content": out.getvalue(),
        "dry_run": False,
        "status": "published",
    }
    response = staff.post("/api/v1/import/", body, format="json")
    assert response.status_code == 201, response.content
    imported = Need.objects.get()
    assert imported.title == "=Herbarium training" and imported.status == PostingStatus.PUBLISHED
    assert [t.code for t in imported.gbf_targets.all()] == ["gbf-target-6"]


GOOD_ROW = {
    "organization": "Réseau Sahel Biodiversité",
    "title": "Mentoring on herbarium databases",
    "description": "Six months of remote mentoring.",
    "language": "en",
    "subjects": "taxonomy",
    "support_types": "training;technical-advice",
    "contact_name": "Ana",
    "contact_email": "ana@example.org",
    "kind": "mentoring",
    "delivery_languages": "en;es",
    "global_coverage": "true",
}


def jsonl(*rows) -> str:
    return "\n".join(json.dumps(row) for row in rows)


def import_body(content, **options):
    return {"kind": "offer", "format": "jsonl", "content": content, **options}


def test_a_dry_run_reports_every_rows_errors_and_imports_nothing(world):
    good = {**GOOD_ROW, "expires_on": in_days(60).isoformat(), "ref": "call-1"}
    rows = (
        jsonl(
            good,
            {**good, "ref": "call-2", "subjects": "no-such-subject", "capacity": "many"},
            {**good, "ref": "call-1"},  # the same reference twice
            {**good, "ref": "call-4", "organization": "Nobody"},
            {**good, "ref": "call-5", "colour": "blue"},
        )
        + "\n[1, 2]"
    )
    response = world.client("owner").post("/api/v1/import/", import_body(rows), format="json")
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["dry_run"] and report["rows"] == 6 and not report["valid"] and report["imported"] == []
    errors = {row["row"]: row["errors"] for row in report["errors"]}
    assert set(errors) == {2, 3, 4, 5, 6}
    assert set(errors[2]) == {"subjects", "capacity"}
    assert "ref" in errors[3] and "organization" in errors[4] and "columns" in errors[5]
    assert errors[6] == {"non_field_errors": ["This line is not a JSON object."]}
    assert not Offer.objects.exists()


def test_a_real_import_is_all_or_nothing(world):
    good = {**GOOD_ROW, "expires_on": in_days(60).isoformat()}
    owner = world.client("owner")
    failing = jsonl({**good, "ref": "a"}, {**good, "ref": "b", "expires_on": "2001-01-01"})
    response = owner.post("/api/v1/import/", import_body(failing, dry_run=False), format="json")
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("rows.2.expires_on", "invalid")]
    assert not Offer.objects.exists()

    valid = jsonl({**good, "ref": "a"}, {**good, "ref": "b", "title": "Second"})
    checked = owner.post("/api/v1/import/", import_body(valid), format="json").json()
    assert checked["valid"] and not Offer.objects.exists()
    response = owner.post(
        "/api/v1/import/", import_body(valid, dry_run=False, status="submitted"), format="json"
    )
    assert response.status_code == 201
    assert sorted(response.json()["imported"]) == sorted(Offer.objects.values_list("pk", flat=True))
    assert set(Offer.objects.values_list("status", flat=True)) == {PostingStatus.SUBMITTED}
    again = owner.post("/api/v1/import/", import_body(valid, dry_run=False), format="json")
    assert again.status_code == 400 and Offer.objects.count() == 2  # references already imported


def test_import_from_an_uploaded_csv_file(world):
    out = io.StringIO()
    writer = csv.DictWriter(out, [*GOOD_ROW, "expires_on"])
    writer.writeheader()
    writer.writerow({**GOOD_ROW, "expires_on": in_days(60).isoformat()})
    upload = io.BytesIO(out.getvalue().encode("utf-8"))
    upload.name = "offers.csv"
    response = world.client("member").post(
        "/api/v1/import/",
        {"kind": "offer", "format": "csv", "file": upload, "dry_run": "false"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    offer = Offer.objects.get()
    assert offer.delivery_languages == ["en", "es"] and offer.global_coverage
    assert sorted(t.code for t in offer.support_types.all()) == ["technical-advice", "training"]


@pytest.mark.parametrize("actor", ACTORS)
def test_import_permission_matrix(world, actor):
    """Anyone signed in imports for whom they may post; only the secretariat publishes directly."""
    rows = jsonl({**GOOD_ROW, "expires_on": in_days(60).isoformat()})
    client = world.client(actor)
    before = state()
    drafts = client.post("/api/v1/import/", import_body(rows, dry_run=False), format="json")
    expected = {"anonymous": 401, "other": 400, "owner": 201, "member": 201, "secretariat": 201}[actor]
    assert drafts.status_code == expected
    if actor == "other":
        assert drafts.json()["errors"][0]["attr"] == "rows.1.poster"
    if expected != 201:
        assert state() == before
    Offer.objects.all().delete()
    published = client.post(
        "/api/v1/import/", import_body(rows, dry_run=False, status="published"), format="json"
    )
    assert published.status_code == {"anonymous": 401, "secretariat": 201}.get(actor, 403)
    assert Offer.objects.filter(status=PostingStatus.PUBLISHED).exists() == (actor == "secretariat")


def test_import_input_errors(world):
    owner = world.client("owner")
    for body in (
        {"kind": "offer", "format": "jsonl"},  # neither content nor file
        {"kind": "offer", "format": "jsonl", "content": ""},
        {"kind": "thing", "format": "jsonl", "content": "{}"},
        {"kind": "offer", "format": "xml", "content": "<a/>"},
    ):
        response = owner.post("/api/v1/import/", body, format="json")
        assert response.status_code == 400 and response.json()["type"] == "validation_error"
    assert not Offer.objects.exists()
