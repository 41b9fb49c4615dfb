"""Every write of the network app: registering partners and harvesting them.

A harvest (`harvest_partner`) asks the partner for what changed since its last complete harvest, page by
page, checkpointing each page's resumption token on the partner (an interrupted harvest resumes there), and
stores each record in its own transaction or skips it with a line in the harvest log: never half a record.
A record unchanged since the last harvest (same content hash) is not written again, so a harvest run twice
changes nothing. Stored postings are announced through `marketplace.posting_events` like local ones: the
matcher embeds and matches them.
"""

import datetime
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace import permissions, posting_events
from marketplace import services as marketplace_services
from marketplace.catalogue_cache import catalogue_changed
from marketplace.models import (
    ClosedReason,
    Need,
    Offer,
    OfferKind,
    Organization,
    OrganizationType,
    Party,
    PostingStatus,
    Scheme,
    Term,
    User,
)
from matching.models import Match
from notifications import outbox
from notifications.models import Notification

from . import harvest, notification_kinds, oai
from .models import HarvestedPosting, HarvestLogEntry, LogLevel, Partner

HARVESTER_EMAIL = permissions.EXTERNAL_ORIGIN_EMAIL
JSONLD_NS = "https://chm-matchmaker.org/ns/oai/schema-org/"
SCHEMA_PREFIX = "schema_org"
# Anything that looks like markup in a text: harvested texts are plain, as local ones are.
MARKUP = re.compile(r"<\s*[A-Za-z!/?]|&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
PARTNER_FIELDS = (
    "name",
    "base_url",
    "serves",
    "contact_email",
    "harvest_needs",
    "harvest_offers",
    "is_active",
)
# What the open data does not carry (see api/open_formats.py): left empty on a harvested copy.
NOT_PUBLISHED = {"delivery_format", "eligibility", "contact_name", "contact_email"}


class RecordRefused(Exception):
    """A record that is not stored, and why (for the harvest log)."""


# --- Partners -----------------------------------------------------------------------------------------


def harvester_account() -> User:
    """The account harvested postings are created by: inactive, no password, never notified (nobody owns
    a harvested posting: see `Partner.organization`)."""
    user, created = User.objects.get_or_create(
        email=HARVESTER_EMAIL, defaults={"name": "Network harvester", "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def namespace_of(base_url: str) -> str:
    """The identifiers a partner may publish: `oai:<its host>:` (a port after a hyphen), as `network.oai`
    names this instance's own."""
    return f"oai:{urlsplit(base_url).netloc.replace(':', '-')}:"


def _partner_errors(partner: Partner) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        partner.full_clean(exclude=["organization"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if (
        "base_url" not in errors
        and urlsplit(partner.base_url).scheme != "https"
        and not harvest.http_allowed()
    ):
        errors["base_url"] = [_("A partner's address must start with https://.")]
    return errors


@transaction.atomic
def partner_save(*, user: User, data: dict[str, Any], partner: Partner | None = None) -> Partner:
    """Register a partner (with the organization its postings are shown under) or change one."""
    permissions.require_secretariat(user, _("Only the secretariat registers partners."))
    partner = partner or Partner()
    for name in PARTNER_FIELDS:
        if name in data:
            setattr(partner, name, data[name])
    if errors := _partner_errors(partner):
        raise ValidationError(errors)
    partner.contact_account = _contact_account(partner)
    if partner.pk is None:
        partner.organization = Organization.objects.create(
            name=_unique_organization_name(partner.name),
            type=OrganizationType.OTHER,
            website=partner.base_url,
            description=_("Partner clearing-house: its postings are harvested over OAI-PMH."),
            approved_at=timezone.now(),
            approved_by=user,
        )
    else:
        Organization.objects.filter(pk=partner.organization_id).update(website=partner.base_url)
    partner.save()
    return partner


def _contact_account(partner: Partner) -> User:
    """The outbox writes to accounts: the contact's own if they have one here, else one made for them (no
    password, no role: it only receives what partners are sent)."""
    account = User.objects.filter(email__iexact=partner.contact_email).first()
    if account is None:
        account = User(email=partner.contact_email, name=partner.name[:200])
        account.set_unusable_password()
        account.save()
    return account


def _unique_organization_name(name: str) -> str:
    candidate, number = name, 1
    while Organization.objects.filter(name=candidate).exists():
        number += 1
        candidate = f"{name} ({number})"
    return candidate


# --- Records --------------------------------------------------------------------------------------------


def _text(node: dict[str, Any], key: str) -> str:
    value = node.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordRefused(_("“%(field)s” is not a text.") % {"field": key})
    if MARKUP.search(value):
        raise RecordRefused(_("“%(field)s” holds HTML or other markup.") % {"field": key})
    return value


def _date(node: dict[str, Any], key: str) -> datetime.date | None:
    value = node.get(key)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError as error:
        raise RecordRefused(_("“%(field)s” is not a date.") % {"field": key}) from error


def _codes(node: dict[str, Any]) -> dict[str, list[str]]:
    """The vocabulary codes of `category`: term URIs that end in /<scheme>/<code>/."""
    found: dict[str, list[str]] = {"subjects": [], "gbf_targets": [], "support_types": []}
    fields = {
        Scheme.SUBJECT: "subjects",
        Scheme.GBF_TARGET: "gbf_targets",
        Scheme.SUPPORT_TYPE: "support_types",
    }
    categories = node.get("category", [])
    if not isinstance(categories, list):
        categories = [categories]
    for uri in categories:
        parts = [part for part in urlsplit(str(uri)).path.split("/") if part]
        if len(parts) < 2 or parts[-2] not in fields:
            raise RecordRefused(_("Unknown vocabulary term: %(uri)s") % {"uri": str(uri)[:120]})
        found[fields[Scheme(parts[-2])]].append(parts[-1])
    return found


def _places(node: dict[str, Any]) -> tuple[list[str], list[str], bool]:
    countries, regions, worldwide = [], [], False
    places = node.get("areaServed", [])
    for place in places if isinstance(places, list) else []:
        if not isinstance(place, dict):
            raise RecordRefused(_("“areaServed” is malformed."))
        kind = place.get("@type")
        if kind == "Country":
            countries.append(str(place.get("identifier", "")))
        elif kind == "AdministrativeArea":
            regions.append(str(place.get("identifier", "")))
        elif kind == "Place" and place.get("name") == "Worldwide":
            worldwide = True
    return countries, regions, worldwide


def _offer_kind(node: dict[str, Any]) -> str:
    service = node.get("itemOffered") or {}
    if not isinstance(service, dict):
        raise RecordRefused(_("“itemOffered” is malformed."))
    if service.get("@type") == "Course":
        return OfferKind.TRAINING
    with translation.override("en"):
        by_label = {str(choice.label): choice.value for choice in OfferKind}
    kind = by_label.get(str(service.get("serviceType", "")))
    if kind is None:
        raise RecordRefused(
            _("Unknown kind of offer: %(kind)s") % {"kind": str(service.get("serviceType"))[:60]}
        )
    return kind


def record_document(record: harvest.Record) -> dict[str, Any]:
    """The JSON-LD document a `schema_org` record carries."""
    metadata = record.metadata
    if metadata is None or metadata.tag != f"{{{JSONLD_NS}}}jsonld" or len(metadata):
        raise RecordRefused(_("The record is not in the schema_org format."))
    try:
        document = json.loads(metadata.text or "")
    except ValueError as error:
        raise RecordRefused(_("Invalid JSON: %(error)s") % {"error": str(error)[:120]}) from error
    if not isinstance(document, dict):
        raise RecordRefused(_("Invalid JSON: not an object."))
    return document


def record_data(kind: str, document: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The posting's fields as the marketplace's services take them, and the poster's public name."""
    expected = "Demand" if kind == "need" else "Offer"
    if document.get("@type") != expected:
        raise RecordRefused(_("The record is not a %(type)s.") % {"type": expected})
    countries, regions, worldwide = _places(document)
    data: dict[str, Any] = {
        "title": _text(document, "name"),
        "description": _text(document, "description"),
        "language": _text(document, "inLanguage"),
        "regions": regions,
        "countries": countries,
        "expires_on": _date(document, "validThrough"),
        **_codes(document),
    }
    if kind == "need":
        poster = (document.get("@reverse") or {}).get("seeks") or {}
        data.update(
            timeframe_start=_date(document, "availabilityStarts"),
            timeframe_end=_date(document, "availabilityEnds"),
        )
    else:
        poster = document.get("offeredBy") or {}
        service = document.get("itemOffered") or {}
        languages = service.get("availableLanguage", []) if isinstance(service, dict) else []
        capacity = (document.get("inventoryLevel") or {}).get("value", 1)
        if not isinstance(capacity, int) or isinstance(capacity, bool):
            raise RecordRefused(_("“inventoryLevel” is not a number."))
        data.update(
            kind=_offer_kind(document),
            global_coverage=worldwide,
            delivery_languages=[
                str(language.get("alternateName", "")) for language in languages if isinstance(language, dict)
            ],
            capacity=capacity,
            starts_on=_date(document, "availabilityStarts"),
            ends_on=_date(document, "availabilityEnds"),
        )
    if not isinstance(poster, dict):
        raise RecordRefused(_("The poster is malformed."))
    return data, _text(poster, "name")[:200]


def _validated(posting: Need | Offer, kind: str, data: dict[str, Any]) -> None:
    """The marketplace's own rules (field limits, vocabulary codes, dates), less what the open data does
    not carry."""
    errors = marketplace_services.posting_errors(kind, data, posting)
    errors = {name: messages for name, messages in errors.items() if name not in NOT_PUBLISHED}
    if errors:
        raise RecordRefused(
            "; ".join(
                f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in sorted(errors.items())
            )
        )


def _apply(posting: Need | Offer, data: dict[str, Any]) -> dict[str, list[Any]]:
    relations: dict[str, list[Any]] = {}
    for name, value in data.items():
        if name == "countries":
            relations[name] = list(Party.objects.filter(code__in=value))
        elif name in ("subjects", "gbf_targets", "support_types"):
            scheme = {"subjects": Scheme.SUBJECT, "gbf_targets": Scheme.GBF_TARGET}.get(
                name, Scheme.SUPPORT_TYPE
            )
            relations[name] = list(Term.objects.filter(scheme=scheme, code__in=value, is_active=True))
        else:
            setattr(posting, name, value)
    return relations


@dataclass
class RecordOutcome:
    level: str  # a LogLevel, or "" for a record left as it was
    message: str = ""


def _owner(partner: Partner, identifier: str) -> str:
    """Why the identifier is not this partner's to publish, or ""."""
    if identifier.startswith(namespace_of(partner.base_url)):
        return ""
    for other in Partner.objects.exclude(pk=partner.pk).only("name", "base_url"):
        if identifier.startswith(namespace_of(other.base_url)):
            return _("Refused: the identifier belongs to another partner (%(name)s).") % {"name": other.name}
    return _("Refused: the identifier is not in the partner's namespace (%(namespace)s).") % {
        "namespace": namespace_of(partner.base_url)
    }


def store_record(partner: Partner, record: harvest.Record) -> RecordOutcome:
    """Store, update or close the local copy of one record, in one transaction; or refuse it."""
    if refused := _owner(partner, record.identifier):
        return RecordOutcome(LogLevel.SKIPPED, refused)
    kind = record.identifier[len(namespace_of(partner.base_url)) :].partition(":")[0]
    if kind not in ("need", "offer"):
        return RecordOutcome(LogLevel.SKIPPED, _("Refused: not a need nor an offer."))
    if not (partner.harvest_needs if kind == "need" else partner.harvest_offers):
        return RecordOutcome("")
    max_bytes = int(getattr(settings, "NETWORK_MAX_RECORD_BYTES", 256 * 1024))
    if record.size > max_bytes:
        return RecordOutcome(
            LogLevel.SKIPPED,
            _("Refused: the record is %(size)s kB, more than %(limit)s kB.")
            % {"size": record.size // 1024, "limit": max_bytes // 1024},
        )
    with transaction.atomic():
        origin = (
            HarvestedPosting.objects.select_for_update(of=("self",))
            .select_related("need", "offer")
            .filter(partner=partner, identifier=record.identifier)
            .first()
        )
        if record.deleted:
            return _close(origin)
        try:
            document = record_document(record)
            content_hash = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
            if (
                origin
                and origin.content_hash == content_hash
                and origin.posting.status == PostingStatus.PUBLISHED
            ):
                return RecordOutcome("")
            data, poster_name = record_data(kind, document)
            original_url = _text(document, "url")
            if urlsplit(original_url).netloc != urlsplit(partner.base_url).netloc:
                raise RecordRefused(_("Refused: the original page is not on the partner's site."))
            posting = origin.posting if origin else (Need() if kind == "need" else Offer())
            posting.organization = partner.organization
            posting.created_by = posting.created_by if posting.pk else harvester_account()
            posting.contact_name = partner.name[:200]
            posting.contact_email = partner.contact_email
            _validated(posting, kind, data)
        except RecordRefused as refused:
            return RecordOutcome(LogLevel.SKIPPED, str(refused))
        relations = _apply(posting, data)
        now = timezone.now()
        posting.status, posting.closed_reason, posting.closed_at = PostingStatus.PUBLISHED, "", None
        posting.published_at = posting.published_at or now
        posting.save()
        for name, values in relations.items():
            getattr(posting, name).set(values)
        HarvestedPosting.objects.update_or_create(
            partner=partner,
            identifier=record.identifier,
            defaults={
                "need": posting if isinstance(posting, Need) else None,
                "offer": posting if isinstance(posting, Offer) else None,
                "original_url": original_url[:500],
                "poster_name": poster_name,
                "datestamp": record.datestamp,
                "harvested_at": now,
                "content_hash": content_hash,
            },
        )
        catalogue_changed()
        posting_events.posting_saved(posting)
        return RecordOutcome(LogLevel.STORED, posting.title[:200])


def _close(origin: HarvestedPosting | None) -> RecordOutcome:
    if origin is None or origin.posting.status == PostingStatus.CLOSED:
        return RecordOutcome("")
    posting = origin.posting
    posting.status, posting.closed_reason, posting.closed_at = (
        PostingStatus.CLOSED,
        ClosedReason.WITHDRAWN,
        timezone.now(),
    )
    posting.save(update_fields=["status", "closed_reason", "closed_at", "updated_at"])
    HarvestedPosting.objects.filter(pk=origin.pk).update(content_hash="", harvested_at=timezone.now())
    catalogue_changed()
    posting_events.posting_saved(posting)
    return RecordOutcome(LogLevel.CLOSED, posting.title[:200])


# --- Harvests -------------------------------------------------------------------------------------------


@dataclass
class HarvestResult:
    stored: int = 0
    closed: int = 0
    skipped: int = 0
    unchanged: int = 0
    pages: int = 0
    complete: bool = False
    error: str = ""


def _log(partner: Partner, run: uuid.UUID, level: str, message: str, identifier: str = "") -> None:
    HarvestLogEntry.objects.create(
        partner=partner, run=run, level=level, identifier=identifier[:300], message=message
    )


def harvest_partner(partner_id: int, *, max_pages: int | None = None) -> HarvestResult:
    """Harvest what changed on the partner since its last complete harvest (see the module's docstring).
    `max_pages` stops after that many pages, as an interruption would (the next run resumes)."""
    partner = Partner.objects.select_related("organization").get(pk=partner_id)
    run, result = uuid.uuid4(), HarvestResult()
    if not partner.is_active:
        return result
    restarted = False
    while max_pages is None or result.pages < max_pages:
        if partner.resumption_token:
            params = {"verb": "ListRecords", "resumptionToken": partner.resumption_token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": SCHEMA_PREFIX}
            if partner.harvested_until:
                params["from"] = partner.harvested_until.astimezone(datetime.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                )
        try:
            page = harvest.parse_page(harvest.fetch(partner.base_url, params))
        except harvest.HarvestError as error:
            result.error = str(error)
            _log(partner, run, LogLevel.ERROR, result.error)
            break
        result.pages += 1
        if page.error_code == "badResumptionToken" and not restarted:
            # the partner's list changed under the token: harvest the same window again (records already
            # stored are left as they are)
            _log(partner, run, LogLevel.INFO, _("The partner refused the resumption token: starting again."))
            restarted = True
            Partner.objects.filter(pk=partner.pk).update(resumption_token="")
            partner.resumption_token = ""
            continue
        if page.error_code and page.error_code != "noRecordsMatch":
            result.error = f"{page.error_code}: {page.error_message}"
            _log(partner, run, LogLevel.ERROR, result.error)
            break
        if not partner.resumption_token:
            partner.pending_until = page.response_date
        for record in page.records:
            outcome = store_record(partner, record)
            if outcome.level == LogLevel.STORED:
                result.stored += 1
            elif outcome.level == LogLevel.CLOSED:
                result.closed += 1
            elif outcome.level == LogLevel.SKIPPED:
                result.skipped += 1
            else:
                result.unchanged += 1
            if outcome.level:
                _log(partner, run, outcome.level, outcome.message, record.identifier)
        # the checkpoint: the next page, or the end of the window
        partner.resumption_token = page.resumption_token
        if not page.resumption_token:
            partner.harvested_until, partner.pending_until = partner.pending_until, None
            partner.last_harvest_at = timezone.now()
            result.complete = True
        Partner.objects.filter(pk=partner.pk).update(
            resumption_token=partner.resumption_token,
            pending_until=partner.pending_until,
            harvested_until=partner.harvested_until,
            last_harvest_at=partner.last_harvest_at,
        )
        if result.complete:
            break
    if result.complete or result.stored or result.closed or result.skipped:
        _log(
            partner,
            run,
            LogLevel.INFO,
            _("Harvest: %(stored)s stored, %(closed)s closed, %(skipped)s skipped, %(unchanged)s unchanged.")
            % {
                "stored": result.stored,
                "closed": result.closed,
                "skipped": result.skipped,
                "unchanged": result.unchanged,
            },
        )
    return result


# --- Acting across instances ----------------------------------------------------------------------------


def match_forward(*, user: User, match: Match) -> bool:
    """The secretariat forwards a suggestion between a local posting and a harvested one to the partner's
    registered contact, through the outbox (once per match, however often it is asked). Only public
    things cross: titles and addresses, no one's contact details. False when it had been forwarded."""
    permissions.require_secretariat(user, _("Only the secretariat forwards matches to partners."))
    need_origin = HarvestedPosting.objects.select_related("partner").filter(need=match.need_id).first()
    offer_origin = HarvestedPosting.objects.select_related("partner").filter(offer=match.offer_id).first()
    if (need_origin is None) == (offer_origin is None):
        raise ValidationError(_("Only a match between a local posting and a harvested one is forwarded."))
    origin = need_origin or offer_origin
    assert origin is not None
    local = match.offer if need_origin else match.need
    local_kind = "offer" if need_origin else "need"
    partner = origin.partner
    if partner.contact_account is None:
        raise ValidationError(_("This partner has no contact to forward to."))
    event_key = f"network:forward:{match.pk}"
    with transaction.atomic():
        if Notification.objects.filter(event_key=event_key).exists():
            return False
        outbox.notify(
            kind=notification_kinds.MATCH_FORWARDED,
            event_key=event_key,
            recipients=[partner.contact_account],
            context={
                "title": origin.posting.title,
                "original_url": origin.original_url,
                "local_title": local.title,
                "site": oai.repository_name(),
                "path": reverse("posting_detail", args=[local_kind, local.pk]),
            },
        )
    return True


def harvest_now(*, user: User, partner: Partner) -> None:
    """The secretariat's "Harvest now": queued for the worker."""
    permissions.require_secretariat(user, _("Only the secretariat harvests partners."))
    if not partner.is_active:
        raise PermissionDenied(_("This partner is not active."))
    from . import tasks  # the task module imports this one

    tasks.harvest_partner_task.delay_on_commit(partner.pk)  # type: ignore[attr-defined]
