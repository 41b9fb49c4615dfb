"""Search by words: each posting stemmed in its own language (French, Spanish, English), the query in all
three, accents ignored; the same answer on the pages, through the selector and through the API."""

import re

import factory
import pytest
from django.db import connection
from rest_framework.test import APIClient

from marketplace import selectors
from marketplace.models import Offer
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db

# (language of the posting, its title, a query that must find it)
FOUND = [
    ("fr", "Formation des agents des douanes", "douane"),
    ("fr", "Formation des agents de la douane", "douanes"),
    ("fr", "Formation des agents des douanes", "formations"),
    ("fr", "Formations pour les douaniers", "formation"),
    ("es", "Capacitación de aduaneros", "capacitaciones"),
    ("es", "Capacitaciones para las aduanas", "capacitación"),
    ("es", "Capacitación de aduaneros", "capacitacion"),  # a query typed without its accent
    ("en", "Customs training for border officers", "trainings"),
    ("en", "Trainings for customs officers", "training"),
    ("fr", "Préserver la diversité des pollinisateurs", "diversite"),
    ("fr", "Préserver la diversite des pollinisateurs", "diversité"),
    ("fr", "Détection des espèces envahissantes", "especes envahissante"),
    ("es", "Restauración de manglares", "restauracion manglar"),
    ("fr", "Formation des agents des douanes", '"agents des douanes"'),
    ("fr", "Formation des agents des douanes", "douane -mangrove"),
    ("fr", "Formation des agents des douanes", "mangrove or douane"),
]
NOT_FOUND = [
    ("fr", "Formation des agents des douanes", "mangrove"),
    ("fr", "Formation des agents des douanes", "douane -formation"),  # '-': without, in every language
    ("es", "Capacitación de aduaneros", "aduaneros -capacitaciones"),
    ("fr", "Formation des agents des douanes", '"douanes des agents"'),
]


def _titles(query: str) -> dict[str, list[str]]:
    """What each way in answers for ``query``: the selector, the page and the API."""
    filters = selectors.PostingFilters(q=query)
    page = APIClient().get("/offers/", {"q": query}).content.decode()
    api = APIClient().get("/api/v1/offers/", {"search": query}).json()["results"]
    return {
        "selector": sorted(p.title for p in selectors.published_postings(model=Offer, filters=filters)),
        "page": sorted(re.findall(r'<h3><a href="/offers/\d+/"[^>]*>([^<]*)</a>', page)),
        "api": sorted(row["title"] for row in api),
    }


@pytest.mark.parametrize(("language", "title", "query"), FOUND)
def test_a_word_finds_its_other_forms_in_the_postings_language(language, title, query):
    OfferFactory(title=title, language=language, description="")
    OfferFactory(title="Mapping coral reefs", language="en", description="Seagrass and reef surveys.")
    assert _titles(query) == {"selector": [title], "page": [title], "api": [title]}


@pytest.mark.parametrize(("language", "title", "query"), NOT_FOUND)
def test_other_words_and_excluded_words_do_not_find_it(language, title, query):
    OfferFactory(title=title, language=language, description="")
    assert _titles(query) == {"selector": [], "page": [], "api": []}


def test_the_description_counts_and_each_posting_is_stemmed_in_its_own_language():
    french = OfferFactory(title="Appui", language="fr", description="Nous formons les agents des douanes.")
    english = OfferFactory(title="Support", language="en", description="We train customs officers.")
    OfferFactory(title="Other", language="en", description="Coral reef surveys.")

    def found(query: str) -> set[int]:
        return {p.pk for p in selectors.full_text(Offer.objects.all(), query)}

    assert found("douane") == {french.pk}
    assert found("trained") == {english.pk}
    assert found("douane or trained") == {french.pk, english.pk}
    assert found("-douane -trained") == {p.pk for p in Offer.objects.exclude(pk__in=[french.pk, english.pk])}


def test_stop_words_of_another_language_do_not_hide_a_posting():
    """English's configuration keeps 'la' and 'des' of "la formation des douaniers", French's drops them:
    OR-ed, the French posting is found."""
    posting = OfferFactory(title="Formation pour douaniers", language="fr", description="")
    found = selectors.full_text(Offer.objects.all(), "la formation des douaniers")
    assert [p.pk for p in found] == [posting.pk]


def test_the_search_reads_the_gin_index():
    """The selector's expression is the indexed one (migration marketplace/0003), and the function's cost
    makes the planner read the index: on 300 postings it does, unforced (computing the vector of every
    posting instead took 300 ms on 520)."""
    OfferFactory.create_batch(297, title=factory.Iterator(["Capacitación de aduaneros", "Coral reefs"]))
    OfferFactory.create_batch(3, title="Formation des agents des douanes", language="fr")
    queryset = selectors.full_text(Offer.objects.all(), "douanes")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE marketplace_offer")
        sql, params = queryset.only("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on marketplace_offer_search" in plan, plan
    assert queryset.count() == 3
