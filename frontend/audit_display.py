"""The audit log as people read it: each action code in words, the record it touched, and what changed, field
by field, with labels and values in words (never the raw before and after that `core.audit` stores)."""

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import AuditEntry
from marketplace.models import ClosedReason, Party, PostingStatus, RoleRequestStatus, User
from matching.models import CloseReason, MatchStatus, Response
from mentoring.models import CohortStatus, Mentor, PairingStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Every action code the apps record (`audit.record` in marketplace, matching and mentoring, and the admin).
ACTION_LABELS: Mapping[str, "StrOrPromise"] = {
    "posting_approve": gettext_lazy("Posting approved and published"),
    "posting_request_changes": gettext_lazy("Changes requested on a posting"),
    "posting_reject": gettext_lazy("Posting rejected"),
    "focal_point_request_approved": gettext_lazy("Focal point request approved"),
    "focal_point_request_rejected": gettext_lazy("Focal point request rejected"),
    "focal_point_grant": gettext_lazy("Focal point role granted in the admin"),
    "focal_point_revoke": gettext_lazy("Focal point role removed in the admin"),
    "organization_approve": gettext_lazy("Organization approved"),
    "organization_reject": gettext_lazy("Organization rejected"),
    "organization_admins_change": gettext_lazy("Organization administrators changed in the admin"),
    "user_roles_change": gettext_lazy("Roles of a person changed in the admin"),
    "match_create": gettext_lazy("Match made by hand"),
    "match_introduce": gettext_lazy("Match introduced"),
    "match_dismiss": gettext_lazy("Match dismissed"),
    "match_close": gettext_lazy("Match closed"),
    "match_note": gettext_lazy("Note added to a match"),
    "case_study_approve": gettext_lazy("Case study approved"),
    "case_study_send_back": gettext_lazy("Case study sent back for changes"),
    "case_study_withdraw_consent": gettext_lazy("Consent to a case study withdrawn"),
    "pairing_create": gettext_lazy("Mentor and mentee paired"),
    "pairing_end": gettext_lazy("Mentoring pairing ended"),
    "cohort_propose": gettext_lazy("Mentoring cohort proposed"),
    "cohort_assign": gettext_lazy("Mentor changed in a cohort"),
    "cohort_confirm": gettext_lazy("Mentoring cohort confirmed"),
}

FIELD_LABELS: Mapping[str, "StrOrPromise"] = {
    "status": gettext_lazy("Status"),
    "closed_reason": gettext_lazy("Reason for closing"),
    "close_reason": gettext_lazy("Reason for closing"),
    "status_message": gettext_lazy("Message to the poster"),
    "need_response": gettext_lazy("Answer of the need's side"),
    "offer_response": gettext_lazy("Answer of the offer's side"),
    "note": gettext_lazy("Note"),
    "decision_note": gettext_lazy("Note"),
    "review_note": gettext_lazy("Note"),
    "approved_at": gettext_lazy("Approved on"),
    "approved_by": gettext_lazy("Approved by"),
    "approved_by_id": gettext_lazy("Approved by"),
    "rejected_at": gettext_lazy("Rejected on"),
    "rejected_by": gettext_lazy("Rejected by"),
    "title": gettext_lazy("Title"),
    "need_consent_at": gettext_lazy("Consent of the need's side"),
    "offer_consent_at": gettext_lazy("Consent of the offer's side"),
    "published_at": gettext_lazy("Published on"),
    "mentor": gettext_lazy("Mentor"),
    "requests": gettext_lazy("Requests"),
    "pairs": gettext_lazy("Pairs"),
    "pairings": gettext_lazy("Pairings"),
    "total_suitability": gettext_lazy("Total suitability"),
    "is_superuser": gettext_lazy("Superuser"),
    "is_staff": gettext_lazy("Admin access"),
    "is_secretariat": gettext_lazy("Secretariat"),
    "groups": gettext_lazy("Groups"),
    "user_permissions": gettext_lazy("Permissions"),
    "admins": gettext_lazy("Administrators"),
    "user": gettext_lazy("Person"),
    "party": gettext_lazy("Party"),
}

# The kind of record an entry names (its model's name), in words; and the page that shows it.
TARGET_LABELS: Mapping[str, "StrOrPromise"] = {
    "need": gettext_lazy("Need"),
    "offer": gettext_lazy("Offer"),
    "match": gettext_lazy("Match"),
    "organization": gettext_lazy("Organization"),
    "focalpointrequest": gettext_lazy("Focal point request"),
    "focalpointassignment": gettext_lazy("Focal point role"),
    "user": gettext_lazy("Person"),
    "mentoringcohort": gettext_lazy("Mentoring cohort"),
    "mentoringpairing": gettext_lazy("Mentoring pairing"),
    "mentoringrequest": gettext_lazy("Mentoring request"),
}
_TARGET_PAGES: Mapping[str, Callable[[int], str]] = {
    "need": lambda pk: reverse("posting_detail", args=["need", pk]),
    "offer": lambda pk: reverse("posting_detail", args=["offer", pk]),
    "match": lambda pk: reverse("match_detail", args=[pk]),
    "organization": lambda pk: reverse("organization_detail", args=[pk]),
    "mentoringcohort": lambda pk: reverse("cohort_detail", args=[pk]),
}

# A status is a code of the target's own choices.
_STATUS_CHOICES: Mapping[str, type[models.TextChoices]] = {
    "need": PostingStatus,
    "offer": PostingStatus,
    "match": MatchStatus,
    "focalpointrequest": RoleRequestStatus,
    "mentoringcohort": CohortStatus,
    "mentoringpairing": PairingStatus,
}
_CODED_FIELDS: Mapping[str, type[models.TextChoices]] = {
    "closed_reason": ClosedReason,
    "close_reason": CloseReason,
    "need_response": Response,
    "offer_response": Response,
}
_PEOPLE_FIELDS = frozenset({"approved_by", "approved_by_id", "rejected_by", "user", "admins"})
_COUNTED_FIELDS = frozenset({"requests", "pairs", "pairings"})


@dataclass(frozen=True)
class Change:
    """A field that changed, in words; `before` is empty when the entry recorded none (a record just made)."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Entry:
    entry: AuditEntry
    action: str
    target: str
    target_url: str
    changes: list[Change]


def action_label(code: str) -> str:
    """An action code in words; an unknown one as itself (made readable), so that nothing is hidden."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code.replace("_", " ").capitalize()


def action_choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    """The log's actions as (code, words), in the order of their words."""
    return sorted(((code, action_label(code)) for code in codes), key=lambda choice: choice[1].casefold())


def _ids(value: object) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [item for item in values if isinstance(item, int) and not isinstance(item, bool)]


@dataclass(frozen=True)
class _Names:
    """The names of the people, Parties and mentors that a page of entries refers to by id."""

    people: Mapping[int, str]
    parties: Mapping[int, str]
    mentors: Mapping[int, str]

    @classmethod
    def of(cls, entries: Iterable[AuditEntry]) -> "_Names":
        wanted: dict[str, set[int]] = {"people": set(), "parties": set(), "mentors": set()}
        for entry in entries:
            for snapshot in (entry.before, entry.after):
                for field, value in snapshot.items():
                    if field in _PEOPLE_FIELDS:
                        wanted["people"].update(_ids(value))
                    elif field == "party":
                        wanted["parties"].update(_ids(value))
                    elif field == "mentor":
                        wanted["mentors"].update(_ids(value))
        return cls(
            people={pk: user.public_name for pk, user in User.objects.in_bulk(wanted["people"]).items()},
            parties={pk: party.name for pk, party in Party.objects.in_bulk(wanted["parties"]).items()},
            mentors={pk: str(mentor) for pk, mentor in Mentor.objects.in_bulk(wanted["mentors"]).items()},
        )


def _moment(text: str) -> str:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "DATETIME_FORMAT")


def _value(field: str, value: Any, target_type: str, names: _Names) -> str:
    """One stored value in words: a code by its label, an id by a name, a date by the reader's locale."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    choices = _STATUS_CHOICES.get(target_type) if field == "status" else _CODED_FIELDS.get(field)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    if field in _PEOPLE_FIELDS:
        return ", ".join(names.people.get(pk, _("Member %(number)s") % {"number": pk}) for pk in _ids(value))
    if field == "party":
        return ", ".join(names.parties.get(pk, str(pk)) for pk in _ids(value))
    if field == "mentor":
        return ", ".join(names.mentors.get(pk, str(pk)) for pk in _ids(value))
    if field in _COUNTED_FIELDS and isinstance(value, list):
        return str(len(value))
    if isinstance(value, float):
        return number_format(value, decimal_pos=2)
    if isinstance(value, str) and field.endswith("_at"):
        return _moment(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def changes(entry: AuditEntry, names: _Names) -> list[Change]:
    """The fields whose value differs before and after (all of `after` for a record just made), in the order
    the entry recorded them."""
    before, after = entry.before or {}, entry.after or {}
    fields = list(after) + [field for field in before if field not in after]
    return [
        Change(
            label=str(FIELD_LABELS.get(field, field.replace("_", " ").capitalize())),
            before=_value(field, before.get(field), entry.target_type, names) if field in before else "",
            after=_value(field, after.get(field), entry.target_type, names),
        )
        for field in fields
        if before.get(field) != after.get(field)
    ]


def _target_url(entry: AuditEntry) -> str:
    page = _TARGET_PAGES.get(entry.target_type)
    try:
        return page(entry.target_id) if page else ""
    except NoReverseMatch:
        return ""


def describe(entries: Iterable[AuditEntry]) -> list[Entry]:
    """A page of the log, ready to read: one query per kind of name the entries refer to."""
    entries = list(entries)
    names = _Names.of(entries)
    return [
        Entry(
            entry=entry,
            action=action_label(entry.action),
            target=str(TARGET_LABELS.get(entry.target_type, entry.target_type)),
            target_url=_target_url(entry),
            changes=changes(entry, names),
        )
        for entry in entries
    ]
