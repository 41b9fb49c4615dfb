"""Bulk import of needs and offers from CSV or JSON Lines: every row checked by the same services as a form,
every row's errors reported, then all rows imported or none.

The columns are those of the CSV export (`api/open_formats.py`) plus the contact details the export leaves
out, so a published catalogue can be loaded elsewhere. Lists (codes) are separated by ";" in CSV.
"""

import csv
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from . import permissions, services
from .models import Need, Offer, Organization, Party, PostingStatus, User

POSTER_COLUMNS = {"need": ("party", "organization"), "offer": ("organization", "as_expert")}
LIST_COLUMNS = ("subjects", "gbf_targets", "support_types", "countries", "regions", "delivery_languages")
BOOLEAN_COLUMNS = ("as_expert", "global_coverage")
DATE_COLUMNS = ("expires_on", "timeframe_start", "timeframe_end", "starts_on", "ends_on", "deadline")
INTEGER_COLUMNS = ("capacity", "seats", "readiness_level")
# More digits than any column takes (the largest, an organization's id, is a 64-bit integer): refused before
# Python turns them into an int, which it refuses itself past 4,300 digits (sys.set_int_max_str_digits).
MAX_INTEGER_DIGITS = 19
INTEGER_TEXT = re.compile(r"\s*[+-]?([0-9]+)\s*")
FIELD_COLUMNS = {"need": services.NEED_FIELDS, "offer": services.OFFER_FIELDS}
RELATION_COLUMNS = tuple(services.RELATION_FIELDS)
# Columns of the export that say where a row came from; read and ignored on import.
EXPORT_ONLY_COLUMNS = ("id", "url", "status", "poster", "published_at")
# A spreadsheet runs a cell starting with one of these as a formula: the export puts such text behind a
# quote, which the import takes off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def columns(kind: str) -> list[str]:
    """The import columns of a kind, in the export's order."""
    return ["ref", *POSTER_COLUMNS[kind], *FIELD_COLUMNS[kind], *RELATION_COLUMNS]


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, behind a quote (the import takes it off)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _unquoted(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in {
        "true",
        "yes",
        "1",
        "t",
        "false",
        "no",
        "0",
        "f",
        "",
    }:
        return value.strip().lower() in {"true", "yes", "1", "t"}
    return value


@dataclass(frozen=True)
class _Unreadable:
    """A number of a JSON line that no column takes (NaN, Infinity, or more digits than any column holds),
    kept in place of the value so that the row's error names its column."""

    non_finite: bool

    def message(self) -> str:
        if self.non_finite:
            return _("Enter a finite number: NaN and Infinity are not allowed.")
        return _("This number is too large.")


NON_FINITE = _Unreadable(non_finite=True)
TOO_LARGE = _Unreadable(non_finite=False)


def _json_int(digits: str) -> int | _Unreadable:
    return TOO_LARGE if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS else int(digits)


def _json_float(text: str) -> float | _Unreadable:
    number = float(text)
    return number if math.isfinite(number) else TOO_LARGE  # 1e400 reads as infinity


def _json_constant(name: str) -> _Unreadable:
    return NON_FINITE  # NaN, Infinity, -Infinity: JavaScript's, not JSON's


def _unreadable_in(value: Any) -> _Unreadable | None:
    stack = [value]  # not recursive: the parser took values nested almost as deep as the stack goes
    while stack:
        item = stack.pop()
        if isinstance(item, _Unreadable):
            return item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _integer(value: Any) -> int:
    if isinstance(value, str) and (digits := INTEGER_TEXT.fullmatch(value)):  # CSV: every cell is text
        if len(digits[1]) > MAX_INTEGER_DIGITS:
            raise ValidationError(TOO_LARGE.message())
        value = int(value)
    elif isinstance(value, float) and value.is_integer():  # finite: the JSON reader lets no other through
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_("Enter a whole number."))
    if abs(value) >= 10**MAX_INTEGER_DIGITS:
        raise ValidationError(TOO_LARGE.message())
    return value


def _typed_value(column: str, value: Any) -> Any:
    if unreadable := _unreadable_in(value):
        raise ValidationError(unreadable.message())
    if value is None or value == "" or column in EXPORT_ONLY_COLUMNS:
        return value
    if column in BOOLEAN_COLUMNS:
        value = _boolean(value)
        if not isinstance(value, bool):
            raise ValidationError(_("Enter true or false."))
    elif column in LIST_COLUMNS:
        value = _split(value)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError(_("Give a list of codes."))
    elif column in INTEGER_COLUMNS:
        value = _integer(value)
    elif column == "organization":  # a name, or an id
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError(_("Enter the organization's name or number."))
    elif column in DATE_COLUMNS:
        if not isinstance(value, str):
            raise ValidationError(_("Enter the date as text, in the form YYYY-MM-DD."))
    elif not isinstance(value, str):
        raise ValidationError(_("Enter text, as a JSON string."))
    return value


def typed_row(row: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The row's values as their columns take them ("yes" as true, "a;b" as a list, digits as a number),
    and an error for each value of the wrong type: text for text, dates as text, whole numbers, booleans,
    lists of codes. Checked before anything reaches the services, whose models would take 42 as the title
    "42", round 1.5 to 1, or crash on a date given as a number."""
    values, errors = {}, {}
    for column, value in row.items():
        try:
            values[column] = _typed_value(column, value)
        except ValidationError as error:
            errors[column] = error.messages
    return values, errors


def parse_rows(*, file_format: str, text: str) -> list[dict[str, Any] | str]:
    """The rows of a CSV (header line first) or JSON Lines text: a dict per row, or an error message for
    a line that is not a JSON object."""
    text = text.lstrip("\ufeff")
    if file_format == "csv":
        reader = csv.DictReader(io.StringIO(text), restkey="__extra__")
        try:
            return [dict(row) for row in reader]
        except csv.Error as error:
            raise ValidationError(
                {"content": [_("This is not readable CSV: %(error)s") % {"error": error}]}
            ) from error
    rows: list[dict[str, Any] | str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(
                line, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant
            )
        except (ValueError, RecursionError):  # ValueError: not JSON; RecursionError: nested too deeply
            row = None
        rows.append(row if isinstance(row, dict) else _("This line is not a JSON object."))
    return rows


class RowErrors(TypedDict):
    """A failed row of an import: its number (from 1) and its errors by column."""

    row: int
    errors: dict[str, list[str]]


@dataclass
class ImportReport:
    dry_run: bool
    rows: int
    imported: list[int] = field(default_factory=list)
    errors: list[RowErrors] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def _poster(kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    errors = {}
    poster: dict[str, Any] = {}
    if kind == "need" and row.get("party"):
        poster["party"] = Party.objects.filter(code=str(row["party"]).strip().upper()).first()
        if poster["party"] is None:
            errors["party"] = [_("Unknown Party: %(code)s.") % {"code": row["party"]}]
    if kind == "offer" and _boolean(row.get("as_expert")) is True:
        poster["as_expert"] = True
    if row.get("organization"):
        value = str(row["organization"]).strip()
        organizations = Organization.objects.all()
        found = (
            organizations.filter(pk=int(value))  # not "²", a digit to isdigit() but not to int()
            if value.isascii() and value.isdigit() and len(value) <= MAX_INTEGER_DIGITS
            else organizations.filter(name__iexact=value)
        )
        poster["organization"] = found.first()
        if poster["organization"] is None:
            name = Truncator(value).chars(100)
            errors["organization"] = [_("Unknown organization: %(name)s.") % {"name": name}]
    if errors:
        raise ValidationError(errors)
    return poster


def _import_row(
    *, user: User, kind: str, row: Mapping[str, Any], status: str, seen_refs: set[str]
) -> Need | Offer:
    unknown = sorted(set(row) - set(columns(kind)) - set(EXPORT_ONLY_COLUMNS))
    if unknown:
        raise ValidationError(
            {"columns": [_("Unknown column: %(names)s.") % {"names": ", ".join(map(str, unknown))}]}
        )
    row = {column: _unquoted(value) for column, value in row.items()}  # any cell, as the export quotes any
    # The values of a wrong type are left out (the services never see them), their errors reported with
    # the services' errors about the rest, so that a row's errors all come at once.
    row, type_errors = typed_row(row)
    if null_errors := services.null_character_errors(row):  # before any query: the database would refuse them
        raise ValidationError({**null_errors, **type_errors})
    try:
        posting = _create(user=user, kind=kind, row=row, seen_refs=seen_refs)
    except ValidationError as error:
        if not type_errors:
            raise
        raise ValidationError({**_messages(error), **type_errors}) from error
    except PermissionDenied as error:
        if not type_errors:
            raise
        raise ValidationError({"poster": [str(error)], **type_errors}) from error
    if type_errors:
        raise ValidationError(type_errors)  # the savepoint around the row takes the posting back
    if status in (PostingStatus.SUBMITTED, PostingStatus.PUBLISHED):
        posting = services.posting_submit(user=user, posting=posting)
    if status == PostingStatus.PUBLISHED:
        posting = services.posting_approve(user=user, posting=posting)
    return posting


def _create(*, user: User, kind: str, row: Mapping[str, Any], seen_refs: set[str]) -> Need | Offer:
    ref = str(row.get("ref") or "").strip() or None
    if ref is not None:
        model = Need if kind == "need" else Offer
        if ref in seen_refs or model.objects.filter(source_ref=ref).exists():
            raise ValidationError({"ref": [_("This reference is already imported: %(ref)s.") % {"ref": ref}]})
        seen_refs.add(ref)
    data = {}
    for column in (*FIELD_COLUMNS[kind], *RELATION_COLUMNS):
        value = row.get(column)
        if value in (None, ""):
            continue  # left out: the model's default, or the service's "required" message
        data[column] = value  # typed above
    create = services.need_create if kind == "need" else services.offer_create
    return create(user=user, data=data, source_ref=ref, **_poster(kind, row))


def _messages(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}


def postings_import(
    *,
    user: User,
    kind: str,
    rows: list[dict[str, Any] | str],
    dry_run: bool = True,
    status: str = PostingStatus.DRAFT,
) -> ImportReport:
    """Check every row through the posting services and report each row's errors. Unless this is a dry run
    and only if no row failed, keep the new postings (drafts, submitted, or published by the secretariat);
    otherwise roll everything back."""
    if kind not in POSTER_COLUMNS:
        raise ValidationError({"kind": [_("Import needs or offers.")]})
    if status == PostingStatus.PUBLISHED:
        permissions.require_secretariat(user, _("Only the secretariat publishes postings directly."))
    if not rows:
        raise ValidationError({"content": [_("There is no row to import.")]})
    if len(rows) > settings.API_IMPORT_MAX_ROWS:
        raise ValidationError(
            {"content": [_("At most %(count)s rows at a time.") % {"count": settings.API_IMPORT_MAX_ROWS}]}
        )
    report = ImportReport(dry_run=dry_run, rows=len(rows))
    seen_refs: set[str] = set()
    with transaction.atomic():
        for number, row in enumerate(rows, start=1):
            try:
                if isinstance(row, str):
                    raise ValidationError(row)
                with transaction.atomic():  # a failing row leaves nothing behind
                    posting = _import_row(user=user, kind=kind, row=row, status=status, seen_refs=seen_refs)
                report.imported.append(posting.pk)
            except ValidationError as error:
                report.errors.append({"row": number, "errors": _messages(error)})
            except PermissionDenied as error:
                report.errors.append({"row": number, "errors": {"poster": [str(error)]}})
        if dry_run or report.errors:
            transaction.set_rollback(True)
            report.imported = []
    return report
