"""Values of the wrong type in an import file: numbers too long for Python to read, NaN and Infinity, dates
given as numbers, numbers where text is expected, objects and lists where a single value is expected. Each
is a row error naming the row and the column (400 on a real run), never a 500, and nothing is imported."""

import csv
import io
import json

import pytest
from django.utils import timezone

from marketplace.models import Need, Offer, Organization
from tests.factories import in_days

pytestmark = pytest.mark.django_db

HUGE = "9" * 5_000  # more digits than Python turns into an int (sys.get_int_max_str_digits: 4,300)


def need_row(world, **overrides) -> dict:
    return {
        "ref": "need-1",
        "organization": world.organization.name,
        "title": "Former les douaniers",
        "description": "Deux sessions.",
        "language": "fr",
        "subjects": ["taxonomy"],
        "support_types": ["training"],
        "contact_name": "Achta",
        "contact_email": "achta@example.org",
        "expires_on": in_days(60).isoformat(),
        **overrides,
    }


def offer_row(world, **overrides) -> dict:
    return {
        "ref": "offer-1",
        "organization": world.organization.name,
        "title": "Herbarium databases course",
        "description": "Two weeks online.",
        "language": "en",
        "subjects": ["taxonomy"],
        "support_types": ["training"],
        "contact_name": "Ana",
        "contact_email": "ana@example.org",
        "expires_on": in_days(60).isoformat(),
        "kind": "training",
        "delivery_languages": ["en", "es"],
        "global_coverage": True,
        "capacity": 3,
        "starts_on": in_days(30).isoformat(),
        "ends_on": in_days(44).isoformat(),
        "delivery_format": "online",
        "seats": 25,
        **overrides,
    }


@pytest.fixture
def world(world):
    """The world of tests/api/conftest.py, its organization approved by the secretariat so that it posts."""
    if hasattr(Organization, "approved_at"):
        Organization.objects.filter(pk=world.organization.pk).update(approved_at=timezone.now())
    return world


ROWS = {"need": need_row, "offer": offer_row}
MODELS = {"need": Need, "offer": Offer}


def line_with(row: dict, column: str, raw_value: str) -> str:
    """A JSON line with `raw_value` as the column's value, written as is (json.dumps cannot write some of
    them: a 5,000-digit integer)."""
    return json.dumps({**row, column: "@@value@@"}).replace('"@@value@@"', raw_value)


def post_import(client, kind: str, file_format: str, content: str, *, dry_run=False):
    client.raise_request_exception = False  # a crash must show as the 500 it would be, not as a traceback
    body = {"kind": kind, "format": file_format, "content": content, "dry_run": dry_run}
    return client.post("/api/v1/import/", body, format="json")


def errors_of(response) -> dict:
    return {error["attr"]: error for error in response.json()["errors"]}


def csv_text(*rows: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(dict.fromkeys(column for row in rows for column in row)))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue()


# --- The clean rows import, so that the refusals below are about the hostile value only -------------------


@pytest.mark.parametrize("kind", ["need", "offer"])
@pytest.mark.parametrize("file_format", ["jsonl", "csv"])
def test_the_clean_rows_import(world, kind, file_format):
    row = ROWS[kind](world)
    content = json.dumps(row) if file_format == "jsonl" else csv_text(row)
    response = post_import(world.client("owner"), kind, file_format, content)
    assert response.status_code == 201, response.content
    assert MODELS[kind].objects.count() == 1


@pytest.mark.parametrize(
    "column, raw_value, expected",
    [
        ("subjects", '"taxonomy"', ["taxonomy"]),  # a string where a list is expected: split on ";"
        ("capacity", "4.0", 4),  # a float without a fraction is a whole number
        ("capacity", '"5"', 5),  # digits as text, as in CSV
        ("global_coverage", '"true"', True),
    ],
)
def test_values_that_read_as_the_columns_type_are_accepted(world, column, raw_value, expected):
    line = line_with(offer_row(world), column, raw_value)
    response = post_import(world.client("owner"), "offer", "jsonl", line)
    assert response.status_code == 201, response.content
    offer = Offer.objects.get()
    value = getattr(offer, column)
    assert ([t.code for t in value.all()] if column == "subjects" else value) == expected


# --- JSON Lines: each hostile value is a row error naming the row and the column -------------------------

JSONL_CASES = [
    # (kind, column, the value as written in the JSON line)
    ("offer", "capacity", HUGE),
    ("offer", "seats", HUGE),
    ("offer", "capacity", "-" + HUGE),
    ("need", "expires_on", "5"),
    ("need", "expires_on", "true"),
    ("need", "expires_on", "[2026, 1, 1]"),
    ("need", "timeframe_start", '{"year": 2026}'),
    ("offer", "starts_on", "20260101"),
    ("offer", "capacity", "Infinity"),
    ("offer", "capacity", "-Infinity"),
    ("offer", "capacity", "NaN"),
    ("offer", "capacity", "1e400"),  # read as a float: infinity
    ("offer", "capacity", "1.5"),
    ("offer", "capacity", "true"),
    ("offer", "capacity", '"1e3"'),
    ("offer", "capacity", "[3]"),
    ("offer", "readiness_level", "false"),
    ("offer", "seats", '{"$gt": 0}'),
    ("need", "title", "42"),
    ("need", "title", "true"),
    ("need", "title", '{"$ne": null}'),
    ("need", "description", '["Deux", "sessions"]'),
    ("need", "contact_email", '{"$regex": ".*"}'),
    ("need", "language", '["fr"]'),
    ("need", "ref", '{"a": 1}'),
    ("need", "ref", "NaN"),
    ("need", "party", '{"code": "TD"}'),
    ("need", "organization", '["Réseau Sahel Biodiversité"]'),
    ("need", "organization", "true"),
    ("need", "organization", HUGE),
    ("offer", "kind", "5"),
    ("need", "subjects", "[1, 2]"),
    ("need", "subjects", '[["taxonomy"]]'),
    ("need", "subjects", '{"taxonomy": true}'),
    ("need", "countries", "Infinity"),
    ("offer", "delivery_languages", "[Infinity]"),
    ("offer", "regions", '[{"a": 1}]'),
    ("offer", "global_coverage", '"maybe"'),
    ("offer", "global_coverage", "1"),
    ("offer", "as_expert", '"maybe"'),
    ("need", "id", "NaN"),  # an export-only column is ignored, but not a number Python cannot read
    ("need", "published_at", HUGE),
]


def case_id(kind: str, column: str, value: str) -> str:
    return f"{kind}-{column}-{value[:12]}{'...' if len(value) > 12 else ''}"


@pytest.mark.parametrize("kind, column, raw_value", JSONL_CASES, ids=[case_id(*case) for case in JSONL_CASES])
def test_a_wrongly_typed_json_value_is_a_row_error_naming_the_column(world, kind, column, raw_value):
    good = json.dumps(ROWS[kind](world, ref="good"))
    bad = line_with(ROWS[kind](world, ref="bad"), column, raw_value)
    response = post_import(world.client("owner"), kind, "jsonl", f"{good}\n{bad}\n")
    assert response.status_code == 400, response.content[:300]
    errors = errors_of(response)
    assert f"rows.2.{column}" in errors, errors
    assert not any(attr.startswith("rows.1.") for attr in errors)  # the good row is fine...
    assert not MODELS[kind].objects.exists()  # ...and not kept either: all or nothing


@pytest.mark.parametrize(
    "column, raw_value",
    [("capacity", HUGE), ("capacity", "NaN"), ("expires_on", "5"), ("title", "42")],
    ids=["capacity-5000-digits", "capacity-NaN", "expires_on-5", "title-42"],
)
def test_a_dry_run_reports_the_same_row_errors(world, column, raw_value):
    line = line_with(offer_row(world), column, raw_value)
    response = post_import(world.client("owner"), "offer", "jsonl", line, dry_run=True)
    assert response.status_code == 200, response.content[:300]
    report = response.json()
    assert not report["valid"] and report["imported"] == []
    assert [(error["row"], list(error["errors"])) for error in report["errors"]] == [(1, [column])]
    assert not Offer.objects.exists()


def test_the_secretariat_publishing_gets_the_same_refusal(world):
    line = line_with(need_row(world), "expires_on", "5")
    client = world.client("secretariat")
    client.raise_request_exception = False
    body = {"kind": "need", "format": "jsonl", "content": line, "dry_run": False, "status": "published"}
    response = client.post("/api/v1/import/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "rows.1.expires_on" in errors_of(response)
    assert not Need.objects.exists()


def test_every_bad_value_of_a_row_is_reported_at_once(world):
    line = json.dumps(need_row(world, expires_on=5, title=42, subjects=[1]))
    line = line.replace('"ref": "need-1"', '"ref": Infinity')
    response = post_import(world.client("owner"), "need", "jsonl", line)
    assert response.status_code == 400
    assert set(errors_of(response)) == {"rows.1.expires_on", "rows.1.title", "rows.1.subjects", "rows.1.ref"}


def test_a_wrongly_typed_value_comes_with_the_rows_other_errors(world):
    """The value of a wrong type is left out, the rest still checked by the services: one report per row."""
    line = line_with(offer_row(world, subjects=["no-such-subject"]), "capacity", "1.5")
    response = post_import(world.client("owner"), "offer", "jsonl", line, dry_run=True)
    [error] = response.json()["errors"]
    assert error["row"] == 1 and set(error["errors"]) == {"subjects", "capacity"}
    assert error["errors"]["capacity"] == ["Enter a whole number."]
    assert not Offer.objects.exists()


# --- CSV: every cell is text, but a number must still read as one ---------------------------------------

CSV_CASES = [
    ("offer", "capacity", HUGE),
    ("offer", "seats", HUGE),
    ("offer", "capacity", "1.5"),
    ("offer", "capacity", "inf"),
    ("offer", "capacity", "NaN"),
    ("offer", "capacity", "1e3"),
    ("offer", "capacity", "²"),  # a digit to str.isdigit(), not to int()
    ("offer", "global_coverage", "maybe"),
    ("offer", "as_expert", "maybe"),
    ("need", "expires_on", "5"),
    ("need", "organization", HUGE),
    ("need", "organization", "9" * 25),  # beyond a database integer
    ("need", "organization", "²"),
]


@pytest.mark.parametrize("kind, column, value", CSV_CASES, ids=[case_id(*case) for case in CSV_CASES])
def test_a_csv_cell_that_does_not_read_as_its_columns_type_is_a_row_error(world, kind, column, value):
    rows = [ROWS[kind](world, ref="good"), ROWS[kind](world, ref="bad", **{column: value})]
    response = post_import(world.client("owner"), kind, "csv", csv_text(*rows))
    assert response.status_code == 400, response.content[:300]
    errors = errors_of(response)
    assert f"rows.2.{column}" in errors, errors
    assert len(errors[f"rows.2.{column}"]["detail"]) < 300  # the message does not echo 5,000 digits
    assert not MODELS[kind].objects.exists()
