"""Published needs and offers in open formats: CSV (the import's columns, without contact details) and
JSON-LD with schema.org's `Demand` and `Offer`, vocabulary terms as URIs that resolve in this API."""

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from django.urls import reverse
from rest_framework.renderers import BaseRenderer, JSONRenderer

from marketplace.imports import columns, spreadsheet_safe
from marketplace.models import Language, Need, Offer, OfferKind, Region, Term
from notifications.outbox import absolute_url

CONTACT_COLUMNS = ("contact_name", "contact_email", "contact_phone")


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Mapping[str, Any],
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(data["columns"])
        writer.writerows(data["rows"])
        return out.getvalue().encode("utf-8")


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


def posting_url(posting: Need | Offer) -> str:
    kind = "need" if isinstance(posting, Need) else "offer"
    return absolute_url(reverse("posting_detail", args=[kind, posting.pk]))


def term_uri(term: Term) -> str:
    return absolute_url(reverse("api:term-detail", args=[term.scheme, term.code]))


# --- CSV ------------------------------------------------------------------------------------------------


def csv_columns(kind: str) -> list[str]:
    return ["id", "url", "published_at", "poster", *(c for c in columns(kind) if c not in CONTACT_COLUMNS)]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # Any cell, not only the free texts: names of organizations and experts and imported refs are typed by
    # users too.
    return spreadsheet_safe(text)


def csv_row(posting: Need | Offer, kind: str) -> list[str]:
    values = {
        "id": posting.pk,
        "url": posting_url(posting),
        "published_at": posting.published_at,
        "poster": str(posting.poster),
        "ref": posting.source_ref or posting_url(posting),
        "party": posting.party.code if isinstance(posting, Need) and posting.party else "",
        "organization": posting.organization.name if posting.organization else "",
        "as_expert": isinstance(posting, Offer) and posting.expert_id is not None,
        "subjects": [t.code for t in posting.subjects.all()],
        "gbf_targets": [t.code for t in posting.gbf_targets.all()],
        "support_types": [t.code for t in posting.support_types.all()],
        "countries": [p.code for p in posting.countries.all()],
    }
    return [_cell(values[c] if c in values else getattr(posting, c)) for c in csv_columns(kind)]


def as_csv(postings: Iterable[Need | Offer], kind: str) -> dict[str, Any]:
    return {"columns": csv_columns(kind), "rows": [csv_row(posting, kind) for posting in postings]}


# --- JSON-LD ---------------------------------------------------------------------------------------------

# Inline, so that a JSON-LD processor expands the documents without fetching anything.
CONTEXT = {
    "@vocab": "https://schema.org/",
    "category": {"@id": "https://schema.org/category", "@type": "@id"},
    "url": {"@id": "https://schema.org/url", "@type": "@id"},
}


def _poster_node(posting: Need | Offer) -> dict[str, Any]:
    if isinstance(posting, Need) and posting.party is not None:
        return {
            "@type": "GovernmentOrganization",
            "name": posting.party.name_en,
            "address": {"@type": "PostalAddress", "addressCountry": posting.party.code},
        }
    if posting.organization is not None:
        node: dict[str, Any] = {"@type": "Organization", "name": posting.organization.name}
        if posting.organization.website:
            node["url"] = posting.organization.website
        return node
    assert isinstance(posting, Offer) and posting.expert is not None  # a posting has exactly one poster
    return {"@type": "Person", "name": posting.expert.user.public_name}


def _places(posting: Need | Offer) -> list[dict[str, Any]]:
    places: list[dict[str, Any]] = [
        {"@type": "Country", "name": party.name_en, "identifier": party.code}
        for party in posting.countries.all()
    ]
    places += [
        {"@type": "AdministrativeArea", "name": str(Region(code).label), "identifier": code}
        for code in posting.regions
        if code in Region.values
    ]
    if isinstance(posting, Offer) and posting.global_coverage:
        places.append({"@type": "Place", "name": "Worldwide"})
    return places


def _dates(**dates: Any) -> dict[str, str]:
    return {name: value.isoformat() for name, value in dates.items() if value}


def _node(posting: Need | Offer) -> dict[str, Any]:
    terms = [*posting.subjects.all(), *posting.gbf_targets.all(), *posting.support_types.all()]
    node: dict[str, Any] = {
        "@id": posting_url(posting),
        "url": posting_url(posting),
        "name": posting.title,
        "description": posting.description,
        "inLanguage": posting.language,
        "category": [term_uri(term) for term in terms],
        "areaServed": _places(posting),
    }
    if isinstance(posting, Need):
        return {
            "@type": "Demand",
            **node,
            "@reverse": {"seeks": _poster_node(posting)},
            **_dates(
                validFrom=posting.published_at,
                validThrough=posting.expires_on,
                availabilityStarts=posting.timeframe_start,
                availabilityEnds=posting.timeframe_end,
            ),
        }
    service = {
        "@type": "Course" if posting.kind == OfferKind.TRAINING else "Service",
        "name": posting.title,
        "serviceType": str(OfferKind(posting.kind).label),
        "availableLanguage": [
            {"@type": "Language", "name": str(Language(code).label), "alternateName": code}
            for code in posting.delivery_languages
            if code in Language.values
        ],
    }
    return {
        "@type": "Offer",
        **node,
        "offeredBy": _poster_node(posting),
        "itemOffered": service,
        "inventoryLevel": {"@type": "QuantitativeValue", "value": posting.capacity},
        **_dates(
            validFrom=posting.published_at,
            validThrough=posting.deadline or posting.expires_on,
            availabilityStarts=posting.starts_on,
            availabilityEnds=posting.ends_on,
        ),
    }


def as_jsonld(postings: Iterable[Need | Offer]) -> dict[str, Any]:
    return {"@context": CONTEXT, "@graph": [_node(posting) for posting in postings]}
