"""The OAI-PMH publisher: its answers validate against the vendored OAI-PMH XSD (with oai_dc and the
schema.org format), error answers included; only public, published postings, closed ones as deleted."""

import json

import pytest
from lxml import etree

from marketplace.models import ClosedReason, PostingStatus
from network import conformance
from network.oai import identifier_of
from tests.factories import NeedFactory, focal_point

OAI = {"oai": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/"}


def oai(client, **params):
    response = client.get("/oai/", params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    problems = conformance.errors(response.content)
    assert problems == [], problems
    return etree.fromstring(response.content)


@pytest.fixture
def postings(db):
    need = NeedFactory(
        party=focal_point("TD").focal_points.get().party,
        language="fr",
        title="Inventaire des espèces exotiques",
        contact_email="secret-need@example.org",
    )
    offer = None
    closed = NeedFactory(party=need.party, status=PostingStatus.CLOSED, closed_reason=ClosedReason.FULFILLED)
    draft = NeedFactory(party=need.party, status=PostingStatus.DRAFT, published_at=None)
    return need, closed, draft, offer


def test_identify_and_formats_validate(client, postings):
    root = oai(client, verb="Identify")
    assert root.findtext("oai:Identify/oai:protocolVersion", namespaces=OAI) == "2.0"
    assert root.findtext("oai:Identify/oai:baseURL", namespaces=OAI) == "http://testserver/oai/"
    root = oai(client, verb="ListMetadataFormats")
    prefixes = root.xpath("//oai:metadataPrefix/text()", namespaces=OAI)
    assert prefixes == ["oai_dc", "schema_org"]


@pytest.mark.parametrize("prefix", ["oai_dc", "schema_org"])
def test_list_records_publishes_public_postings_and_closed_ones_as_deleted(client, postings, prefix):
    need, closed, draft, _offer = postings
    root = oai(client, verb="ListRecords", metadataPrefix=prefix)
    headers = {
        h.findtext("oai:identifier", namespaces=OAI): h.get("status")
        for h in root.iterfind(".//oai:header", OAI)
    }
    assert headers == {identifier_of("need", need.pk): None, identifier_of("need", closed.pk): "deleted"}
    text = etree.tostring(root, encoding="unicode")
    assert "secret-need@example.org" not in text and "contact@example.org" not in text
    assert "Inventaire des espèces exotiques" in text
    if prefix == "schema_org":
        document = json.loads(root.findtext(".//{https://chm-matchmaker.org/ns/oai/schema-org/}jsonld"))
        assert document["@type"] == "Demand" and document["inLanguage"] == "fr"
    else:
        assert root.xpath("//dc:language/text()", namespaces=OAI) == ["fr"]


def test_get_record_and_resumption_and_dates(client, postings, settings):
    need = postings[0]
    root = oai(client, verb="GetRecord", identifier=identifier_of("need", need.pk), metadataPrefix="oai_dc")
    assert root.xpath("//dc:title/text()", namespaces=OAI) == [need.title]
    for _ in range(3):
        NeedFactory(party=need.party)
    settings.NETWORK_OAI_PAGE_SIZE = 2
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc")
    token = root.findtext(".//oai:resumptionToken", namespaces=OAI)
    assert token
    root = oai(client, verb="ListRecords", resumptionToken=token)
    assert len(root.findall(".//oai:record", OAI)) == 2
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2999-01-01"})
    assert root.find("oai:error", OAI).get("code") == "noRecordsMatch"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"verb": "Explode"}, "badVerb"),
        ({}, "badVerb"),
        ({"verb": "ListRecords", "resumptionToken": "%%%not-a-token"}, "badResumptionToken"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        (
            {"verb": "GetRecord", "identifier": "oai:elsewhere:need:1", "metadataPrefix": "oai_dc"},
            "idDoesNotExist",
        ),
        ({"verb": "ListSets"}, "noSetHierarchy"),
        ({"verb": "Identify", "extra": "1"}, "badArgument"),
    ],
)
def test_error_answers_validate(client, db, params, code):
    root = oai(client, **params)
    assert root.find("oai:error", OAI).get("code") == code
