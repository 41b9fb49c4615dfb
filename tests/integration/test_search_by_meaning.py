"""Search by meaning shows the close results only, says how many others there are, and shows them behind a
plain link; the API answers the same (with the sentence-transformer model: slow)."""

import re

import pytest
from rest_framework.test import APIClient

from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db

# (language, title, description, subject, type of support): the facets' labels are embedded with the text
QUERY = "former les douaniers à repérer les espèces envahissantes aux frontières"
CLOSE = [
    (
        "en",
        "Border biosecurity course: detecting invasive alien species at points of entry",
        "Training for customs and plant-protection officers on invasive species inspections at borders.",
        "invasive-alien-species",
        "training",
    ),
    (
        "fr",
        "Formation des agents des douanes aux espèces exotiques envahissantes",
        "Reconnaître les plantes et animaux envahissants dans les cargaisons aux postes frontaliers.",
        "invasive-alien-species",
        "training",
    ),
]
FAR = [
    ("en", "Marine spatial planning", "Zoning coral reefs.", "marine-coastal", "technical-advice"),
    ("es", "Bancos de semillas", "Conservar variedades locales.", "agricultural-biodiversity", "funding"),
    ("fr", "Hébergement du site du CHM", "Sauvegardes du portail.", "clearing-house", "chm-hosting"),
    ("en", "Gender in biodiversity strategies", "Gender-responsive NBSAPs.", "gender", "policy-legal-advice"),
    ("es", "Digitalización de herbarios", "Publicación de datos en GBIF.", "taxonomy", "data-information"),
]


@pytest.fixture
def offers():
    from matching.suggestions import posting_match

    made = {}
    for language, title, description, subject, support in CLOSE + FAR:
        facets = {"subjects": [subject], "support_types": [support]}
        offer = OfferFactory(title=title, description=description, language=language, **facets)
        posting_match(side="offer", posting_id=offer.pk)
        made[title] = offer.pk
    return made


def _page(client, url: str) -> tuple[str, list[str], str]:
    """The count line (tags dropped), the cards' titles in order, and the page."""
    html = client.get(url).content.decode()
    line = re.search(r'<p class="result-count">(.*?)</p>', html, re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line.group(1))).strip() if line else ""
    return text, re.findall(r'<h3><a href="/offers/\d+/"[^>]*>([^<]*)</a>', html), html


def test_close_results_first_and_the_rest_behind_show_more(client, offers):
    close_titles = [title for _, title, *_ in CLOSE]
    line, titles, html = _page(client, f"/offers/?q={QUERY}&by_meaning=1")
    assert sorted(titles) == sorted(close_titles)
    assert line == f"2 close results · show {len(FAR)} more"
    link = re.search(r'<a href="(\?[^"]*more=1[^"]*)">show 5 more</a>', html)
    assert link, html

    line, titles, html = _page(client, "/offers/" + link.group(1).replace("&amp;", "&"))
    assert sorted(titles[:2]) == sorted(close_titles) and sorted(titles[2:]) == sorted(t for _, t, *_ in FAR)
    assert line == f"{len(CLOSE) + len(FAR)} results, closest in meaning first · show only the 2 close ones"
    assert html.index("Farther in meaning") > html.index(titles[1]) and html.index(titles[2]) > html.index(
        "Farther in meaning"
    )


def test_a_search_about_nothing_here_shows_no_close_result(client, offers):
    line, titles, _html = _page(client, "/offers/?q=football+scores+and+transfers&by_meaning=1")
    assert titles == []
    assert line == f"No result is close in meaning to your search · show the {len(CLOSE) + len(FAR)} nearest"
    assert "Nothing matches these filters." not in _html


def test_the_api_answers_as_the_page(client, offers):
    api = APIClient()
    _line, page_close, _ = _page(client, f"/offers/?q={QUERY}&by_meaning=1")
    _line, page_all, _ = _page(client, f"/offers/?q={QUERY}&by_meaning=1&more=1")

    def titles(**params: str) -> list[str]:
        return [row["title"] for row in api.get("/api/v1/offers/", params).json()["results"]]

    close, every = titles(q=QUERY), titles(q=QUERY, more="true")
    assert close == page_close and len(close) == len(CLOSE)
    assert every == page_all and len(every) == len(CLOSE) + len(FAR)
