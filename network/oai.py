"""The publisher: this instance's published needs and offers over OAI-PMH 2.0, with the `oai-repo` library
doing the protocol (verbs, arguments, dates, resumption tokens, error answers).

Records are the postings that were ever published: a published one with its metadata, any other (closed,
withdrawn, sent back for validation) as a deleted record, so that harvesters close their copy. Two formats:
`oai_dc` (Dublin Core, which every OAI-PMH repository serves) and `schema_org`, the posting's schema.org
JSON-LD. Both come from one public document per posting, the open data's JSON-LD (`api.open_formats`),
which `config/urls.py` hands to `oai_endpoint` (the network app sits below the API and may not import it):
what is public is decided in one place.
"""

import datetime
import json
import re
from collections.abc import Callable, Iterable
from email.utils import parseaddr
from typing import Any

import oai_repo  # type: ignore[import-untyped]
from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from lxml import etree  # type: ignore[import-untyped]

from marketplace.models import Need, Offer, Term

# A posting's public document: (postings) → {"@context": ..., "@graph": [node, ...]}.
JsonLdBuilder = Callable[[Iterable[Need | Offer]], dict[str, Any]]

DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
JSONLD_NS = "https://chm-matchmaker.org/ns/oai/schema-org/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"

FORMATS = [
    oai_repo.MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS),
    oai_repo.MetadataFormat("schema_org", "https://chm-matchmaker.org/ns/oai/schema-org.xsd", JSONLD_NS),
]
KINDS: dict[str, type[Need] | type[Offer]] = {"need": Need, "offer": Offer}


def repository_id() -> str:
    """The namespace of this instance's identifiers (`oai:<it>:need:12`): NETWORK_REPOSITORY_ID, else the
    host of SITE_URL (with its port, if any, after a hyphen)."""
    configured: str = getattr(settings, "NETWORK_REPOSITORY_ID", "")
    if configured:
        return configured
    host = re.sub(r"^[a-z]+://", "", settings.SITE_URL).split("/")[0]
    return host.replace(":", "-")


def identifier_of(kind: str, pk: int) -> str:
    return f"oai:{repository_id()}:{kind}:{pk}"


def _parse_identifier(identifier: str) -> tuple[type[Need] | type[Offer], int] | None:
    prefix = f"oai:{repository_id()}:"
    if not identifier.startswith(prefix):
        return None
    kind, _sep, pk = identifier[len(prefix) :].partition(":")
    if kind not in KINDS or not pk.isdigit() or len(pk) > 18:
        return None
    return KINDS[kind], int(pk)


def _records(model: type[Need] | type[Offer]) -> Any:
    """What is published: whatever was ever public (a published_at), public or not now."""
    return model.objects.filter(published_at__isnull=False)


def _with_public_fields(model: type[Need] | type[Offer]) -> Any:
    terms = Term.objects.order_by("position")
    poster = "party" if model is Need else "expert__user"
    return (
        _records(model)
        .select_related("organization", poster)
        .prefetch_related(
            Prefetch("subjects", queryset=terms),
            Prefetch("gbf_targets", queryset=terms),
            Prefetch("support_types", queryset=terms),
            "countries",
        )
    )


class PostingData(oai_repo.DataInterface):  # oai-repo ships no type information: an Any base
    """oai-repo's data interface over the postings."""

    limit = 50

    def __init__(self, base_url: str, jsonld: JsonLdBuilder) -> None:
        self.limit = int(getattr(settings, "NETWORK_OAI_PAGE_SIZE", 50))
        self.base_url = base_url
        self.jsonld = jsonld

    def get_identify(self) -> oai_repo.Identify:
        earliest = min(
            (
                d
                for d in (
                    _records(m).order_by("updated_at").values_list("updated_at", flat=True).first()
                    for m in (Need, Offer)
                )
                if d
            ),
            default=timezone.now(),
        )
        admin = parseaddr(getattr(settings, "NETWORK_ADMIN_EMAIL", "") or settings.DEFAULT_FROM_EMAIL)[1]
        return oai_repo.Identify(
            repository_name=repository_name(),
            base_url=self.base_url,
            admin_email=[admin],
            earliest_datestamp=_stamp(earliest),
            deleted_record="transient",
            granularity=GRANULARITY,
        )

    def is_valid_identifier(self, identifier: str) -> bool:
        parsed = _parse_identifier(identifier)
        return parsed is not None and _records(parsed[0]).filter(pk=parsed[1]).exists()

    def get_metadata_formats(self, identifier: str | None = None) -> list[oai_repo.MetadataFormat]:
        return FORMATS

    def get_records_header(self, identifiers: list[str]) -> list[oai_repo.RecordHeader]:
        return [header for header, _posting in self._load(identifiers)]

    def get_record_header(self, identifier: str) -> oai_repo.RecordHeader:
        return self.get_records_header([identifier])[0]

    def get_records_metadata(self, identifiers: list[str], metadataprefix: str) -> list[Any]:
        loaded = self._load(identifiers)
        public = [posting for header, posting in loaded if header.status is None]
        with translation.override("en"):
            nodes = dict(zip(public, self.jsonld(public)["@graph"], strict=True))
        context = self.jsonld([])["@context"]
        # oai-repo leaves out a record whose metadata is None: a deleted record gets a placeholder, taken
        # out of the answer by the view (a deleted record has a header only).
        return [
            _metadata(nodes[posting], context, metadataprefix)
            if header.status is None
            else etree.Element(f"{{{JSONLD_NS}}}deleted")
            for header, posting in loaded
        ]

    def get_record_metadata(self, identifier: str, metadataprefix: str) -> Any:
        return self.get_records_metadata([identifier], metadataprefix)[0]

    def get_record_abouts(self, identifier: str) -> list[Any]:
        return []

    def get_records_abouts(self, identifiers: list[str]) -> list[list[Any]]:
        return [[] for _identifier in identifiers]

    def list_set_specs(self, identifier: str | None = None, cursor: int = 0) -> tuple[None, None, None]:
        return None, None, None

    def get_set(self, setspec: str) -> None:
        return None

    def list_identifiers(
        self,
        metadataprefix: str,
        filter_from: datetime.datetime | None = None,
        filter_until: datetime.datetime | None = None,
        filter_set: str | None = None,
        cursor: int = 0,
    ) -> tuple[list[str], int, None]:
        """Every record changed in the window, oldest change first (then by kind and number), one page."""
        rows: list[tuple[datetime.datetime, str, int]] = []
        for kind, model in KINDS.items():
            queryset = _records(model)
            if filter_from:
                queryset = queryset.filter(updated_at__gte=filter_from)
            if filter_until:  # second granularity: the whole second
                queryset = queryset.filter(updated_at__lt=filter_until + datetime.timedelta(seconds=1))
            rows += [(at, kind, pk) for pk, at in queryset.values_list("pk", "updated_at")]
        rows.sort()
        page = rows[cursor : cursor + self.limit]
        return [identifier_of(kind, pk) for _at, kind, pk in page], len(rows), None

    def _load(self, identifiers: list[str]) -> list[tuple[oai_repo.RecordHeader, Need | Offer]]:
        wanted: dict[type[Need] | type[Offer], list[int]] = {Need: [], Offer: []}
        for identifier in identifiers:
            parsed = _parse_identifier(identifier)
            if parsed:
                wanted[parsed[0]].append(parsed[1])
        found: dict[str, Need | Offer] = {}
        for model, pks in wanted.items():
            kind = "need" if model is Need else "offer"
            for posting in _with_public_fields(model).filter(pk__in=pks):
                found[identifier_of(kind, posting.pk)] = posting
        loaded = []
        for identifier in identifiers:
            posting = found[identifier]
            header = oai_repo.RecordHeader(
                identifier=identifier,
                datestamp=_stamp(posting.updated_at),
                status=None if posting.status == "published" else "deleted",
            )
            loaded.append((header, posting))
        return loaded


def repository_name() -> str:
    """This instance's name for its partners: NETWORK_REPOSITORY_NAME, else the site's own (SITE_NAME)."""
    return getattr(settings, "NETWORK_REPOSITORY_NAME", "") or settings.SITE_NAME or "CHM Matchmaker"


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _metadata(node: dict[str, Any], context: dict[str, Any], prefix: str) -> Any:
    if prefix == "schema_org":
        element = etree.Element(f"{{{JSONLD_NS}}}jsonld", nsmap={"sj": JSONLD_NS})
        element.text = json.dumps({"@context": context, **node}, ensure_ascii=False)
        return element
    return _dublin_core(node)


def _dublin_core(node: dict[str, Any]) -> Any:
    """Simple Dublin Core from the public document: what it says, in DC's fifteen words."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")

    def add(name: str, value: object, language: str = "") -> None:
        if value in (None, ""):
            return
        element = etree.SubElement(root, f"{{{DC_NS}}}{name}")
        element.text = str(value)
        if language:
            element.set("{http://www.w3.org/XML/1998/namespace}lang", language)

    language = node.get("inLanguage", "")
    add("title", node.get("name"), language)
    add("description", node.get("description"), language)
    poster = node.get("@reverse", {}).get("seeks") or node.get("offeredBy") or {}
    add("creator", poster.get("name"))
    add("type", node.get("@type"))
    for term in node.get("category", []):
        add("subject", term)
    for place in node.get("areaServed", []):
        add("coverage", place.get("identifier") or place.get("name"))
    add("language", language)
    add("date", node.get("validFrom"))
    add("identifier", node.get("url"))
    return root


def _mark_deleted(root: Any) -> None:
    """oai-repo writes no `status="deleted"` on headers: set it here on the records that are no longer
    public, and take out their metadata (a placeholder, see `get_records_metadata`)."""
    headers = list(root.iter("header"))
    wanted: dict[type[Need] | type[Offer], list[int]] = {Need: [], Offer: []}
    for header in headers:
        parsed = _parse_identifier(header.findtext("identifier") or "")
        if parsed:
            wanted[parsed[0]].append(parsed[1])
    deleted = {
        identifier_of("need" if model is Need else "offer", pk)
        for model, pks in wanted.items()
        if pks
        for pk in _records(model).filter(pk__in=pks).exclude(status="published").values_list("pk", flat=True)
    }
    for header in headers:
        if header.findtext("identifier") in deleted:
            header.set("status", "deleted")
            for metadata in header.itersiblings("metadata"):
                metadata.getparent().remove(metadata)


def oai_endpoint(jsonld: JsonLdBuilder) -> Callable[[HttpRequest], HttpResponse]:
    """The view of `/oai/` (GET and POST, as the protocol allows), given the builder of public documents."""

    @csrf_exempt
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        arguments = request.GET if request.method == "GET" else request.POST
        # A repeated argument is a badArgument: oai-repo sees it as a list and says so.
        args = {key: values[0] if len(values) == 1 else values for key, values in arguments.lists()}
        base_url = request.build_absolute_uri(request.path)
        response = oai_repo.OAIRepository(PostingData(base_url, jsonld)).process(args)
        _mark_deleted(response.root())
        return HttpResponse(bytes(response), content_type="text/xml; charset=utf-8")

    return view
