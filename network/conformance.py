"""The OAI-PMH schema, from the vendored XSDs (network/schemas): no network access, ever."""

from functools import cache
from pathlib import Path

import xmlschema
from lxml import etree  # type: ignore[import-untyped]

SCHEMAS = Path(__file__).resolve().parent / "schemas"


@cache
def oai_pmh_schema() -> xmlschema.XMLSchema:
    """OAI-PMH 2.0 with the two metadata formats this project serves, each from its local file."""
    return xmlschema.XMLSchema(
        [
            str(SCHEMAS / "OAI-PMH.xsd"),
            str(SCHEMAS / "oai_dc.xsd"),
            str(SCHEMAS / "chm_jsonld.xsd"),
        ],
        allow="local",
        defuse="always",
    )


def errors(document: bytes) -> list[str]:
    """What does not conform in an OAI-PMH answer (empty when it validates)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(document, parser=parser)
    return [
        str(error.reason or error) for error in oai_pmh_schema().iter_errors(root, use_location_hints=False)
    ]
