"""Hostile input to the API: script tags and SQL fragments are kept as plain data, NUL characters, malformed,
deeply nested, too large or wrongly encoded bodies and import files, path traversal in file names, guessed
tokens and too many postings are refused with a clear error naming the field; never a 500, nothing stored."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api import serializers as s
from marketplace import services
from marketplace.models import ApiToken, Need
from tests.factories import NeedFactory, OfferFactory, OrganizationFactory, in_days

from .conftest import state
from .test_postings_api import CREATE

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
DROP = "'; DROP TABLE marketplace_need; --"
OR_TRUE = "1 OR 1=1"
NEED_TEXT_FIELDS = ("title", "description", "contact_name", "contact_phone", "beneficiaries", "budget_note")


def need_body(world, **overrides) -> dict:
    return {
        **CREATE,
        "expires_on": in_days(60).isoformat(),
        "organization": world.organization.pk,
        **overrides,
    }


def errors_of(response) -> dict:
    return {error["attr"]: error for error in response.json()["errors"]}


def raw(client, method, path, body: bytes, content_type="application/json"):
    client.raise_request_exception = False  # a crash must show as the 500 it would be, not as a traceback
    return client.generic(method, path, body, content_type=content_type)


# --- Text is data: scripts and SQL are stored and returned as written ------------------------------------


@pytest.mark.parametrize("value", [SCRIPT, IMG, DROP, OR_TRUE])
@pytest.mark.parametrize("field", NEED_TEXT_FIELDS)
def test_scripts_and_sql_in_any_text_field_are_stored_and_returned_as_plain_json(world, field, value):
    response = world.client("owner").post("/api/v1/needs/", need_body(world, **{field: value}), format="json")
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    returned = response.json()
    contact = {"contact_name": "name", "contact_phone": "phone"}
    assert (returned["contact"][contact[field]] if field in contact else returned[field]) == value
    assert getattr(Need.objects.get(), field) == value  # the table is still there, the text intact


@pytest.mark.parametrize("value", [SCRIPT, DROP, OR_TRUE, "%", "\\", "a'b\"c"])
def test_sql_fragments_in_codes_are_unknown_codes(world, value):
    body = need_body(world, subjects=[value], countries=[value[:2]])
    response = world.client("owner").post("/api/v1/needs/", body, format="json")
    assert response.status_code == 400
    assert "Unknown code" in errors_of(response)["subjects"]["detail"]
    assert not Need.objects.exists()


# --- NUL characters: PostgreSQL refuses them in text, so every field says so first -----------------------

NUL_CASES = [
    *[("need", field, "a\x00b", field) for field in NEED_TEXT_FIELDS],
    ("need", "subjects", ["taxonomy\x00"], "subjects.0"),
    ("need", "support_types", ["\x00"], "support_types.0"),
    ("need", "gbf_targets", ["gbf-target-6\x00"], "gbf_targets.0"),
    ("need", "countries", ["T\x00"], "countries.0"),
    ("need", "contact_email", "a\x00@example.org", "contact_email"),
    ("offer", "licensing_terms", "MIT\x00", "licensing_terms"),
    ("offer", "eligibility", "\x00", "eligibility"),
]


@pytest.mark.parametrize("kind, field, value, attr", NUL_CASES)
def test_a_nul_character_in_any_field_is_a_400_naming_it(world, kind, field, value, attr):
    body = need_body(world, **{field: value})
    if kind == "offer":
        body |= {"kind": "technology", "delivery_languages": ["fr"], "global_coverage": True}
    before = state()
    response = raw(world.client("owner"), "POST", f"/api/v1/{kind}s/", json.dumps(body).encode())
    assert response.status_code == 400
    assert (attr, "null_characters_not_allowed", "Null characters are not allowed.") in {
        (error["attr"], error["code"], error["detail"]) for error in response.json()["errors"]
    }
    assert state() == before


def test_a_nul_character_in_an_edit_is_refused_and_the_posting_unchanged(world):
    need = NeedFactory(organization=world.organization, party=None, created_by=world.users["owner"])
    before = state(need)
    response = world.client("owner").patch(f"/api/v1/needs/{need.pk}/", {"title": "x\x00"}, format="json")
    assert (
        response.status_code == 400 and errors_of(response)["title"]["code"] == "null_characters_not_allowed"
    )
    assert state(need) == before


def test_the_services_name_a_nul_character_whoever_calls_them(world):
    """The pages' forms and the API's serializers refuse NUL already; the services do too (the import calls
    them with the file's text), before any query."""
    data = {**CREATE, "expires_on": in_days(60), "title": "a\x00", "subjects": ["taxonomy\x00"]}
    with pytest.raises(services.ValidationError) as refused:
        services.need_create(user=world.users["owner"], organization=world.organization, data=data)
    assert refused.value.message_dict == {
        "title": ["Null characters are not allowed."],
        "subjects": ["Null characters are not allowed."],
    }
    assert not Need.objects.exists()


# --- Query parameters: filters, search, ordering, pages ----------------------------------------------------

QUERY_CASES = [
    # (parameter, value, status, the field named in a 400)
    *[("search", value, 200, None) for value in (SCRIPT, DROP, OR_TRUE, "\\", "%_%")],
    ("search", "a\x00b", 400, "search"),
    *[("subject", value, 200, None) for value in (SCRIPT, DROP, OR_TRUE)],
    ("subject", "\x00", 400, "subject"),
    ("country", DROP, 400, "country"),
    ("country", "\x00", 400, "country"),
    ("party", OR_TRUE, 400, "party"),
    ("organization", OR_TRUE, 400, "organization"),
    ("organization", "99999999999999999999999", 200, None),
    ("region", DROP, 400, "region"),
    ("language", SCRIPT, 400, "language"),
    ("status", DROP, 400, "status"),
    ("published_after", DROP, 400, "published_after"),
    # offsets PostgreSQL refuses (beyond ±15:59) are read in UTC; past year 9999 in UTC, not a date
    ("published_after", "8874-09-14T18:18:11+18:11", 200, None),
    ("published_after", "9999-12-31T23:00:00-18:00", 400, "published_after"),
    ("expires_before", "\x00", 400, "expires_before"),
    ("q", "\x00", 400, "q"),
    ("q", "x" * 501, 400, "q"),
    *[("ordering", value, 200, None) for value in (DROP, "title;DROP TABLE marketplace_need", "\x00")],
    ("page_size", DROP, 200, None),
    ("page", DROP, 404, None),
]


@pytest.mark.parametrize("param, value, status, attr", QUERY_CASES)
def test_hostile_query_parameters_get_results_or_a_400_naming_the_parameter(
    world, param, value, status, attr
):
    NeedFactory(title="Herbarium")
    client = world.client("anonymous")
    client.raise_request_exception = False
    response = client.get("/api/v1/needs/", {param: value})
    assert response.status_code == status, response.content
    if attr:
        assert list(errors_of(response)) == [attr]
    assert Need.objects.count() == 1
    assert client.get("/api/v1/needs/").json()["count"] == 1


@pytest.mark.parametrize(
    "path, status",
    [
        ("/api/v1/needs/?search=%FF%FE", 200),
        ("/api/v1/offers/?search=%C3%28&ordering=%FF", 200),
        ("/api/v1/organizations/?search=%FF", 200),
        ("/api/v1/vocabulary/?scheme=%FF%00", 200),
        ("/api/v1/open-data/needs.csv?search=%FF", 200),
        ("/api/v1/parties/?region=%FF", 400),  # not one of the regions
    ],
)
def test_invalid_utf8_in_a_query_string_is_read_as_replacement_characters(world, path, status):
    client = world.client("anonymous")
    client.raise_request_exception = False
    assert client.get(path).status_code == status


@pytest.mark.parametrize(
    "path, attr",
    [
        ("/api/v1/organizations/?search=%00", "search"),
        ("/api/v1/open-data/needs.csv?search=%00", "search"),
        ("/api/v1/open-data/offers.jsonld?subject=%00", "subject"),
        ("/api/v1/queue/matches/?subject=%00", "subject"),
    ],
)
def test_nul_in_the_other_lists_filters_is_a_400_naming_it(world, path, attr):
    client = world.client("secretariat")
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert list(errors_of(response)) == [attr]


# --- Bodies: malformed, nested, wrongly encoded, too large -------------------------------------------------

BODY_CASES = [
    # (body, content type, status, error code)
    (b"{not json", "application/json", 400, "parse_error"),
    (b"\xff\xfe{}", "application/json", 400, "parse_error"),
    (b'{"title": "\xc3\x28"}', "application/json", 400, "parse_error"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "parse_error"),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json", 400, "parse_error"),
    (b'{"title": NaN}', "application/json", 400, "parse_error"),
    (b'{"title": 1e999999, "expires_on": -1e999999}', "application/json", 400, "invalid"),
    (b'"' + b"x" * 1000 + b'"', "application/json", 400, "invalid"),
    (b"", "application/json", 400, "required"),
    (b"title=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "application/xml", 415, None),
    (b"title=\xff", "text/plain; charset=utf-8", 415, "unsupported_media_type"),
]


@pytest.mark.parametrize("body, content_type, status, code", BODY_CASES)
def test_malformed_bodies_are_a_4xx_with_the_reason(world, body, content_type, status, code):
    before = state()
    response = raw(world.client("owner"), "POST", "/api/v1/needs/", body, content_type)
    assert response.status_code == status
    if code:
        assert code in {error["code"] for error in response.json()["errors"]}
    assert state() == before


def test_a_lone_surrogate_in_json_is_a_400_naming_the_field(world):
    body = json.dumps(need_body(world, title="\ud800")).encode()
    response = raw(world.client("owner"), "POST", "/api/v1/needs/", body)
    assert response.status_code == 400
    assert errors_of(response)["title"]["code"] == "surrogate_characters_not_allowed"
    assert not Need.objects.exists()


def test_a_json_body_over_the_limit_is_a_413_and_stores_nothing(world):
    # the real limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2 MiB), not a lowered one
    body = json.dumps(need_body(world, description="x" * 3_000_000)).encode()
    before = state()
    response = raw(world.client("owner"), "POST", "/api/v1/needs/", body)
    assert response.status_code == 413
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {"code": "too_large", "detail": "The request is too large: at most 2.0\xa0MB.", "attr": None}
        ],
    }
    assert state() == before


def test_the_size_limit_follows_the_setting_on_every_write(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5_000
    owner = world.client("owner")
    for path in ("/api/v1/needs/", "/api/v1/import/", "/api/v1/tokens/", "/api/v1/notifications/mark-read/"):
        response = raw(owner, "POST", path, json.dumps({"name": "x" * 6_000}).encode())
        assert response.status_code == 413 and response.json()["errors"][0]["code"] == "too_large", path
    assert not Need.objects.exists() and not ApiToken.objects.exists()


# --- The import: CSV and JSON Lines, as content or as an uploaded file -------------------------------------

IMPORT_COLUMNS = [
    "ref",
    "organization",
    "title",
    "description",
    "language",
    "subjects",
    "support_types",
    "contact_name",
    "contact_email",
    "expires_on",
]


def import_row(world, **overrides) -> dict:
    row = {
        "ref": "call-2026-01",
        "organization": str(world.organization.pk),
        "title": "Former les douaniers",
        "description": "Deux sessions.",
        "language": "fr",
        "subjects": "taxonomy",
        "support_types": "training",
        "contact_name": "Achta",
        "contact_email": "achta@example.org",
        "expires_on": in_days(60).isoformat(),
    }
    return row | overrides


def csv_text(*rows: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, IMPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def upload(client, content: bytes, *, name="needs.csv", file_format="csv", dry_run=False):
    client.raise_request_exception = False
    file = io.BytesIO(content)
    file.name = name
    body = {"kind": "need", "format": file_format, "file": file, "dry_run": dry_run}
    return client.post("/api/v1/import/", body, format="multipart")


def test_a_clean_upload_imports_so_the_refusals_below_are_the_hostile_parts(world):
    response = upload(world.client("owner"), csv_text(import_row(world)).encode())
    assert response.status_code == 201, response.content
    assert Need.objects.get().title == "Former les douaniers"


@pytest.mark.parametrize("column", IMPORT_COLUMNS)
def test_a_nul_character_in_any_imported_cell_names_the_row_and_column(world, column):
    row = import_row(world)
    row[column] += "\x00"
    response = upload(world.client("owner"), csv_text(row).encode())
    assert response.status_code == 400
    error = errors_of(response)[f"rows.1.{column}"]
    assert error["detail"] == "Null characters are not allowed."
    assert not Need.objects.exists()


def test_a_nul_escape_in_json_lines_is_refused_too(world):
    line = json.dumps(import_row(world, title="T\x00", subjects=["taxonomy\x00"]))
    response = upload(world.client("owner"), line.encode(), name="needs.jsonl", file_format="jsonl")
    assert response.status_code == 400
    assert set(errors_of(response)) == {"rows.1.title", "rows.1.subjects"}
    assert not Need.objects.exists()


@pytest.mark.parametrize("text", [DROP, SCRIPT, OR_TRUE])
def test_script_and_sql_in_imported_cells_are_kept_as_text(world, text):
    response = upload(world.client("owner"), csv_text(import_row(world, title=text, ref=text)).encode())
    assert response.status_code == 201, response.content
    need = Need.objects.get()
    assert need.title == text and need.source_ref == text


IMPORT_FILE_CASES = [
    # (file name, bytes, format, status, the field named)
    ("needs.csv", b"ref,title\n\xff\xfe,x\n", "csv", 400, "file"),
    ("needs.jsonl", b'{"title": "\xc3\x28"}\n', "jsonl", 400, "file"),
    ("needs.jsonl", b"[" * 50_000 + b"\n", "jsonl", 400, "rows.1.non_field_errors"),
    ("needs.jsonl", b"{not json}\n", "jsonl", 400, "rows.1.non_field_errors"),
    ("needs.csv", b'ref,"title\n"unterminated', "csv", 400, "content"),
    ("needs.csv", b"ref,title\n" + b"x" * 200_000 + b"\n", "csv", 400, "content"),
    ("needs.csv", b"", "csv", 400, "file"),
    ("../../etc/passwd", b"ref,title\nx,y\n", "csv", 400, "file"),
    ("..\\..\\windows\\win.ini", b"ref,title\nx,y\n", "csv", 400, "file"),
    ("/etc/shadow", b"ref,title\nx,y\n", "csv", 400, "file"),
    ("needs.csv.exe", b"ref,title\nx,y\n", "csv", 400, "file"),
    ("..", b"ref,title\nx,y\n", "csv", 400, "content"),  # Django drops a file named ".." altogether
]


@pytest.mark.parametrize("name, content, file_format, status, attr", IMPORT_FILE_CASES)
def test_hostile_import_files_are_a_400_naming_the_field(
    world, tmp_path, name, content, file_format, status, attr
):
    response = upload(world.client("owner"), content, name=name, file_format=file_format)
    assert response.status_code == status, response.content
    assert attr in errors_of(response), response.json()
    assert not Need.objects.exists()


def test_an_uploaded_file_name_is_never_used_as_a_path(world, tmp_path, monkeypatch):
    """The upload is read in memory and never saved: even a good file with a hostile name writes no file."""
    monkeypatch.chdir(tmp_path)
    response = upload(world.client("owner"), csv_text(import_row(world)).encode(), name="../../x/needs.csv")
    assert response.status_code == 201
    assert list(tmp_path.rglob("*")) == [] and not (tmp_path.parent.parent / "x").exists()


def test_an_import_file_over_the_limit_is_a_413_before_it_is_read(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    big = csv_text(*[import_row(world, ref=f"r{n}", description="x" * 500) for n in range(100)]).encode()
    response = upload(world.client("owner"), big)
    assert response.status_code == 413 and response.json()["errors"][0]["code"] == "too_large"
    assert not Need.objects.exists()


def test_an_import_file_over_the_limit_is_refused_even_when_the_body_was_read_elsewhere(settings):
    """Django's own form parsing (a session's CSRF check) does not count files against the limit: the
    serializer does."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    file = SimpleUploadedFile("needs.csv", b"x" * 1_001, content_type="text/csv")
    serializer = s.ImportSerializer(data={"kind": "need", "format": "csv", "file": file})
    assert not serializer.is_valid()
    assert serializer.errors["file"] == ["The file is too large: at most 1000\xa0bytes."]


def test_an_import_over_the_row_limit_is_a_400(world, settings):
    settings.API_IMPORT_MAX_ROWS = 3
    rows = [import_row(world, ref=f"r{n}") for n in range(4)]
    body = {"kind": "need", "format": "csv", "content": csv_text(*rows), "dry_run": False}
    response = world.client("owner").post("/api/v1/import/", body, format="json")
    assert response.status_code == 400 and "At most 3 rows" in errors_of(response)["content"]["detail"]
    assert not Need.objects.exists()


# --- Output: the open formats ------------------------------------------------------------------------------


def test_open_formats_carry_hostile_text_as_inert_data(client):
    """CSV: every cell a spreadsheet would run as a formula is quoted, the poster's name included (the
    import takes the quote off again); JSON-LD: the text is a JSON string, as typed."""
    organization = OrganizationFactory(name='=HYPERLINK("http://evil.example","click")')
    OfferFactory(title=SCRIPT, description="@SUM(1+1)*cmd|' /C calc'!A0", organization=organization)
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/open-data/offers.csv").content.decode())))
    assert rows[0]["title"] == SCRIPT
    assert rows[0]["description"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert rows[0]["organization"] == rows[0]["poster"] == "'" + organization.name
    document = client.get("/api/v1/open-data/offers.jsonld")
    assert document["Content-Type"].startswith("application/ld+json")
    offer = document.json()["@graph"][0] if "@graph" in document.json() else document.json()[0]
    assert SCRIPT in json.dumps(offer, ensure_ascii=False)


def test_a_quoted_poster_name_imports_back(world, secretariat):
    organization = OrganizationFactory(name="-Sahel network")
    body = {
        "kind": "need",
        "format": "csv",
        "content": csv_text(import_row(world, organization="'-Sahel network", ref="'=ref")),
        "dry_run": False,
        "status": "published",
    }
    staff = APIClient()
    staff.force_authenticate(secretariat)
    response = staff.post("/api/v1/import/", body, format="json")
    assert response.status_code == 201, response.content
    need = Need.objects.get()
    assert need.organization == organization and need.source_ref == "=ref"


# --- Rate limits -------------------------------------------------------------------------------------------


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "100/minute"})


def token_client(secret: str, address: str = "203.0.113.7") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_guessing_tokens_is_throttled_per_client_address(world, low_rates):
    _token, secret = services.api_token_create(user=world.users["owner"], name="sync")
    guesses = [token_client(f"chm_guess{n:04d}").get("/api/v1/me/") for n in range(4)]
    assert [r.status_code for r in guesses] == [401, 401, 401, 429]
    assert guesses[-1].json()["errors"][0]["code"] == "throttled" and int(guesses[-1]["Retry-After"]) > 0
    # still throttled, right or wrong format; another address is not
    assert token_client("not-a-token").get("/api/v1/me/").status_code == 429
    assert token_client("chm_guess", address="198.51.100.9").get("/api/v1/me/").status_code == 401
    # the real token keeps working from the throttled address: the user's own rate applies
    assert token_client(secret).get("/api/v1/me/").status_code == 200
    assert ApiToken.objects.count() == 1


def test_failed_tokens_and_anonymous_requests_share_the_anonymous_rate(world, low_rates):
    anonymous = APIClient(REMOTE_ADDR="203.0.113.8")
    assert [anonymous.get("/api/v1/parties/").status_code for _ in range(2)] == [200, 200]
    assert token_client("chm_wrong", address="203.0.113.8").get("/api/v1/parties/").status_code == 401
    assert anonymous.get("/api/v1/parties/").status_code == 429


def test_new_postings_are_limited_per_user_in_the_api(world, settings):
    settings.POSTING_RATE_LIMIT = "2/hour"
    owner = world.client("owner")
    assert [owner.post("/api/v1/needs/", need_body(world), format="json").status_code for _ in range(2)] == [
        201,
        201,
    ]
    before = state()
    refused = owner.post("/api/v1/needs/", need_body(world), format="json")
    assert refused.status_code == 429 and 3500 < int(refused["Retry-After"]) <= 3600
    assert refused.json()["errors"] == [
        {
            "code": "throttled",
            "detail": "You have created too many postings in a short time. Please try again in 60 minutes.",
            "attr": None,
        }
    ]
    offer = need_body(world) | {"kind": "expertise", "delivery_languages": ["fr"], "global_coverage": True}
    assert owner.post("/api/v1/offers/", offer, format="json").status_code == 429  # one count for both kinds
    assert state() == before
    # others are counted on their own; the secretariat is not limited
    assert world.client("member").post("/api/v1/needs/", need_body(world), format="json").status_code == 201
    staff = world.client("secretariat")
    assert {staff.post("/api/v1/needs/", need_body(world), format="json").status_code for _ in range(3)} == {
        201
    }


def test_the_import_shares_the_posting_limit(world, settings):
    settings.POSTING_RATE_LIMIT = "2/hour"
    owner = world.client("owner")
    owner.post("/api/v1/needs/", need_body(world), format="json")
    rows = [import_row(world, ref="a"), import_row(world, ref="b")]
    body = {"kind": "need", "format": "csv", "content": csv_text(*rows)}
    dry = owner.post("/api/v1/import/", body, format="json").json()
    assert dry["valid"] is False and [error["row"] for error in dry["errors"]] == [2]
    assert "too many postings" in dry["errors"][0]["errors"]["non_field_errors"][0]
    real = owner.post("/api/v1/import/", body | {"dry_run": False}, format="json")
    assert real.status_code == 400 and "rows.2.non_field_errors" in errors_of(real)
    assert Need.objects.count() == 1  # all or nothing: the first row is not kept either
