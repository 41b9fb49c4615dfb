"""The harvester's side of OAI-PMH: fetch one page from a partner, safely, and read its records.

Written here rather than with a client library: the maintained ones (oaipmh-scythe, Sickle) read whole
answers into memory, parse them with lxml's `recover=True` (a malformed page is silently repaired) and hide
the page boundaries, while a harvest must cut oversized answers, refuse redirects to other hosts, report
malformed XML as such, and checkpoint each page's resumption token. The protocol's client side is small:
one GET per page.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree  # type: ignore[import-untyped]

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
NS = {"oai": OAI_NS}


class HarvestError(Exception):
    """A page could not be fetched or read: the run stops there (and resumes from there next time)."""


@dataclass
class Record:
    identifier: str
    datestamp: datetime.datetime
    deleted: bool
    metadata: Any = None  # the element inside <metadata>, or None
    size: int = 0  # bytes of the serialized metadata


@dataclass
class Page:
    response_date: datetime.datetime
    records: list[Record] = field(default_factory=list)
    resumption_token: str = ""
    error_code: str = ""
    error_message: str = ""


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def http_allowed() -> bool:
    return bool(settings.DEBUG or getattr(settings, "NETWORK_ALLOW_HTTP", False))


def fetch(base_url: str, params: dict[str, str]) -> bytes:
    """GET one answer: HTTPS only (unless DEBUG or NETWORK_ALLOW_HTTP), a timeout, no redirect to another
    host, at most NETWORK_MAX_RESPONSE_BYTES read."""
    if urlsplit(base_url).scheme != "https" and not http_allowed():
        raise HarvestError(_("Refused: the partner's address is not HTTPS."))
    max_bytes = _limit("NETWORK_MAX_RESPONSE_BYTES", 20 * 1024 * 1024)
    timeout = float(getattr(settings, "NETWORK_HTTP_TIMEOUT", 20))
    url = base_url
    for _hop in range(3):
        try:
            response = requests.get(
                url,
                params=params,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
                headers={"User-Agent": "CHM-Matchmaker-harvester/1.0", "Accept": "text/xml"},
            )
        except requests.Timeout as error:
            raise HarvestError(
                _("The partner did not answer in time (%(seconds)s s).") % {"seconds": timeout}
            ) from error
        except requests.RequestException as error:
            raise HarvestError(
                _("The partner could not be reached: %(error)s") % {"error": type(error).__name__}
            ) from error
        with response:
            if response.is_redirect:
                target = requests.compat.urljoin(url, response.headers.get("Location", ""))
                if urlsplit(target).netloc != urlsplit(base_url).netloc or (
                    urlsplit(target).scheme != "https" and not http_allowed()
                ):
                    raise HarvestError(
                        _("Refused: the partner redirected to another host (%(host)s).")
                        % {"host": urlsplit(target).netloc or "?"}
                    )
                url, params = target, {}
                continue
            if response.status_code != 200:
                raise HarvestError(
                    _("The partner answered HTTP %(status)s.") % {"status": response.status_code}
                )
            body = bytearray()
            try:
                for chunk in response.iter_content(chunk_size=65536):
                    body += chunk
                    if len(body) > max_bytes:
                        raise HarvestError(
                            _("Refused: the answer is larger than %(megabytes)s MB; reading stopped there.")
                            % {"megabytes": max_bytes // (1024 * 1024)}
                        )
            except requests.RequestException as error:
                raise HarvestError(
                    _("The partner did not answer in time (%(seconds)s s).") % {"seconds": timeout}
                ) from error
            return bytes(body)
    raise HarvestError(_("Refused: too many redirects."))


def _parser() -> etree.XMLParser:
    # No entities, no DTD, no network: a hostile page cannot expand or fetch anything. Long text nodes are
    # allowed (huge_tree) because the answer is already cut at NETWORK_MAX_RESPONSE_BYTES, so that one
    # oversized record is refused on its own and the others on its page are still read.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def _datetime(text: str | None) -> datetime.datetime:
    text = (text or "").strip()
    try:
        if len(text) == 10:
            return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(datetime.UTC)
    except ValueError as error:
        raise HarvestError(_("Malformed date: %(date)s") % {"date": text[:40]}) from error


def parse_page(body: bytes) -> Page:
    """Read one OAI-PMH answer (ListRecords), or raise HarvestError saying what is wrong with it."""
    try:
        root = etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise HarvestError(_("Malformed XML: %(error)s") % {"error": str(error)[:200]}) from error
    if root.getroottree().docinfo.doctype:
        raise HarvestError(_("Refused: the answer declares a DOCTYPE."))
    if root.tag != f"{{{OAI_NS}}}OAI-PMH":
        raise HarvestError(_("Not an OAI-PMH answer."))
    page = Page(response_date=_datetime(root.findtext("oai:responseDate", namespaces=NS)))
    answer_error = root.find("oai:error", NS)
    if answer_error is not None:
        page.error_code = answer_error.get("code", "")
        page.error_message = (answer_error.text or "")[:300]
        return page
    for record in root.iterfind("oai:ListRecords/oai:record", NS):
        header = record.find("oai:header", NS)
        if header is None:
            continue
        metadata = record.find("oai:metadata", NS)
        content = metadata[0] if metadata is not None and len(metadata) else None
        page.records.append(
            Record(
                identifier=(header.findtext("oai:identifier", namespaces=NS) or "").strip(),
                datestamp=_datetime(header.findtext("oai:datestamp", namespaces=NS)),
                deleted=header.get("status") == "deleted",
                metadata=content,
                size=len(etree.tostring(content)) if content is not None else 0,
            )
        )
    page.resumption_token = (
        root.findtext("oai:ListRecords/oai:resumptionToken", namespaces=NS) or ""
    ).strip()
    return page
