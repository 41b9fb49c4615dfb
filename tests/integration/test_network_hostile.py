"""Hostile partners: malformed XML or JSON, a 10 MB record, a redirect to another host, a record claiming
another partner's identifier, markup, unknown vocabulary, a timeout. Each gives a clear line in the harvest
log, nothing is stored from the bad record, and the other records are still harvested."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest

from marketplace.models import Need
from network import services
from network.models import HarvestedPosting, HarvestLogEntry
from tests.factories import SecretariatFactory, in_days

JSONLD_NS = "https://chm-matchmaker.org/ns/oai/schema-org/"


def document(host: str, pk: int, **changes) -> dict:
    node = {
        "@type": "Demand",
        "@id": f"http://{host}/needs/{pk}/",
        "url": f"http://{host}/needs/{pk}/",
        "name": f"Need {pk} from a partner",
        "description": "Support to survey invasive alien species.",
        "inLanguage": "en",
        "category": [
            f"http://{host}/api/v1/terms/subject/invasive-alien-species/",
            f"http://{host}/api/v1/terms/support_type/training/",
        ],
        "areaServed": [{"@type": "Country", "name": "Chad", "identifier": "TD"}],
        "@reverse": {"seeks": {"@type": "GovernmentOrganization", "name": "Chad"}},
        "validThrough": in_days(60).isoformat(),
    }
    node.update(changes)
    return node


def record(identifier: str, payload: str) -> str:
    return (
        f"<record><header><identifier>{identifier}</identifier><datestamp>2026-11-30T10:00:00Z</datestamp>"
        f'</header><metadata><jsonld xmlns="{JSONLD_NS}">{escape(payload)}</jsonld></metadata></record>'
    )


def page(*records: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2026-11-30T10:00:00Z</responseDate><request>x</request><ListRecords>"
        + "".join(records)
        + "</ListRecords></OAI-PMH>"
    ).encode()


def good(host: str, pk: int, **changes) -> str:
    return record(f"oai:{host.replace(':', '-')}:need:{pk}", json.dumps(document(host, pk, **changes)))


class Partners(BaseHTTPRequestHandler):
    """Each partner is a loopback address (127.0.0.N): its behaviour is picked by N."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        host = self.headers["Host"]
        behaviour = BEHAVIOURS[urlsplit(f"http://{host}").hostname]
        status, body, headers = behaviour(host)
        if status is None:
            time.sleep(3)
            status, body, headers = 200, page(), {}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the harvester hung up (the timeout)
            self.wfile.write(body)


BEHAVIOURS = {
    "127.0.0.2": lambda host: (200, page(good(host, 1), good(host, 2)), {}),  # a good partner
    "127.0.0.3": lambda host: (200, b"<OAI-PMH><ListRecords><record>", {}),
    "127.0.0.4": lambda host: (
        200,
        page(
            record(f"oai:{host.replace(':', '-')}:need:1", "{not json"),
            record(
                f"oai:{host.replace(':', '-')}:need:2",
                json.dumps(document(host, 2, description="x" * (10 * 1024 * 1024))),
            ),
            good(host, 3, name="<script>alert(1)</script>"),
            good(host, 4, category=[f"http://{host}/api/v1/terms/subject/no-such-subject/"]),
            good(host, 5),
        ),
        {},
    ),
    "127.0.0.5": lambda host: (302, b"", {"Location": "http://evil.example.org/oai/"}),
    "127.0.0.6": lambda host: (
        200,
        page(
            good(host.replace("127.0.0.6", "127.0.0.2"), 9).replace("127.0.0.2", "127.0.0.2"),
            good(host, 1),
        ),
        {},
    ),
    "127.0.0.7": lambda host: (None, b"", {}),  # too slow
}


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("0.0.0.0", 0), Partners)  # noqa: S104  (loopback addresses only in the test)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()


def register(secretariat, port: int, n: int, name: str):
    return services.partner_save(
        user=secretariat,
        data={
            "name": name,
            "base_url": f"http://127.0.0.{n}:{port}/oai/",
            "contact_email": f"p{n}@example.org",
        },
    )


def log(partner) -> list[tuple[str, str, str]]:
    return list(
        HarvestLogEntry.objects.filter(partner=partner)
        .order_by("pk")
        .values_list("level", "identifier", "message")
    )


def test_hostile_partners_are_logged_and_nothing_bad_is_stored(db, server, settings):
    settings.NETWORK_ALLOW_HTTP = True
    settings.NETWORK_HTTP_TIMEOUT = 1
    settings.NETWORK_MAX_RECORD_BYTES = 256 * 1024
    secretariat = SecretariatFactory()
    partners = {n: register(secretariat, server, n, f"Partner {n}") for n in range(2, 8)}

    results = {n: services.harvest_partner(partner.pk) for n, partner in partners.items()}

    assert results[2].stored == 2 and not results[2].error
    assert "Malformed XML" in results[3].error
    assert "another host (evil.example.org)" in results[5].error
    assert "did not answer in time" in results[7].error
    assert results[4].stored == 1 and results[4].skipped == 4
    messages = " | ".join(message for _level, _identifier, message in log(partners[4]))
    assert "Invalid JSON" in messages
    assert "more than 256 kB" in messages
    assert "markup" in messages
    assert "no-such-subject" in messages
    assert results[6].stored == 1 and results[6].skipped == 1
    assert "belongs to another partner (Partner 2)" in " ".join(m for _l, _i, m in log(partners[6]))

    titles = set(Need.objects.values_list("title", flat=True))
    assert titles == {"Need 1 from a partner", "Need 2 from a partner", "Need 5 from a partner"}
    assert HarvestedPosting.objects.count() == 4  # partner 2's two, partner 4's fifth, partner 6's own
    for n in (3, 5, 7):
        assert [level for level, *_rest in log(partners[n])] == ["error"]
