"""The gap-analysis dashboard: its figures from the database, and each table as CSV."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from frontend import dashboard_views
from marketplace import selectors
from marketplace.models import Offer, PostingStatus
from matching import dashboard
from matching.models import MatchStatus
from tests.factories import MatchFactory, NeedFactory, OfferFactory, party

pytestmark = pytest.mark.django_db


def rows(client, table: str) -> list[dict]:
    response = client.get(reverse("dashboard_csv", args=[table]))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def market():
    now = timezone.now()
    # Two open needs on invasive species (Chad, Fiji), one on taxonomy; one offer on invasive species for
    # Fiji only; a draft that counts nowhere.
    chad = NeedFactory(
        title="=HYPERLINK(1)",
        subjects=["invasive-alien-species"],
        published_at=now - datetime.timedelta(days=30),
    )
    NeedFactory(
        party=party("FJ"), subjects=["invasive-alien-species"], published_at=now - datetime.timedelta(days=5)
    )
    NeedFactory(subjects=["taxonomy"], published_at=now - datetime.timedelta(days=10))
    OfferFactory(subjects=["invasive-alien-species"], global_coverage=False, countries=["FJ"])
    NeedFactory(status=PostingStatus.DRAFT, published_at=None, subjects=["invasive-alien-species"])
    # The Chadian need reached a connection 4 days after publication.
    MatchFactory(
        need=chad,
        status=MatchStatus.CONNECTED,
        need_response="accepted",
        offer_response="accepted",
        connected_at=chad.published_at + datetime.timedelta(days=4),
    )
    return chad


def test_the_page_shows_the_gaps_and_the_headline_figures(client, market):
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200
    headline = page.context["headline"]
    # with the match's offer: a worldwide one, on taxonomy
    assert (headline.open_needs, headline.open_offers) == (3, 2)
    assert (headline.needs_connected, headline.needs_published) == (1, 3)
    assert headline.median_days_to_connection == pytest.approx(4)
    subjects = page.context["charts"][0]["table"]
    assert [(r.code, r.needs, r.offers, r.gap) for r in subjects][0] == ("invasive-alien-species", 2, 1, 1)
    assert [w.need.pk for w in page.context["waiting"]][0] != market.pk  # connected: not waiting
    # no GBF target on any posting: that chart says so instead of drawing nothing
    assert page.content.count(b'<svg class="bars"') == 3 and b"No open posting yet." in page.content
    assert b'<svg class="map"' in page.content


def test_each_table_downloads_as_csv(client, market):
    subjects = {row["code"]: row for row in rows(client, "subjects")}
    assert subjects["invasive-alien-species"] == {
        "code": "invasive-alien-species",
        "label": "Invasive alien species",
        "open_needs": "2",
        "open_offers": "1",
        "gap": "1",
    }
    assert (subjects["taxonomy"]["open_needs"], subjects["taxonomy"]["open_offers"]) == ("1", "1")
    regions = {row["code"]: row for row in rows(client, "regions")}
    assert regions["asia-pacific"]["open_needs"] == "1" and regions["asia-pacific"]["open_offers"] == "2"
    countries = {row["code"]: row for row in rows(client, "countries")}
    assert countries["FJ"]["open_needs"] == "1" and countries["FJ"]["open_offers"] == "1"
    assert countries["TD"]["open_needs"] == "2" and float(countries["TD"]["latitude"]) > 0
    waiting = rows(client, "waiting")
    assert str(market.pk) not in [row["need_id"] for row in waiting]
    assert [row["days_waiting"] for row in waiting] == sorted(
        (row["days_waiting"] for row in waiting), key=int, reverse=True
    )
    assert rows(client, "gbf-targets") == [] and rows(client, "support-types")[0]["code"] == "training"
    assert client.get(reverse("dashboard_csv", args=["secrets"])).status_code == 404


def test_text_a_spreadsheet_would_run_is_quoted(client, market):
    market.matches.update(connected_at=None, status=MatchStatus.SUGGESTED)  # waiting again
    titles = [row["title"] for row in rows(client, "waiting")]
    assert "'=HYPERLINK(1)" in titles and "=HYPERLINK(1)" not in titles


def test_offers_for_a_whole_group_or_the_world_are_on_the_map(client, market):
    """Most offers cover a UN regional group or the world, not a country: the map shows them per group and
    in a worldwide band, and each country's count of offers available to it matches the catalogue's."""
    OfferFactory(global_coverage=False, regions=["african"])
    OfferFactory(global_coverage=False, regions=["african", "asia-pacific"])
    OfferFactory(global_coverage=True, regions=["weog"])  # worldwide: counted once, as worldwide
    OfferFactory(status=PostingStatus.DRAFT, global_coverage=False, regions=["african"])  # not open
    reach = dashboard.offer_reach(["TD", "FJ", "FR"])
    # with the market's: the match's worldwide offer and one naming Fiji
    assert reach.worldwide == 2
    assert {r.code: r.offers for r in reach.regions} == {
        "african": 2,
        "asia-pacific": 1,
        "eastern-european": 0,
        "latin-american-caribbean": 0,
        "weog": 0,
    }
    assert reach.serving == {"TD": 2 + 2, "FJ": 2 + 1 + 1, "FR": 2}
    for code, count in reach.serving.items():  # what the catalogue's country filter finds
        filters = selectors.PostingFilters(country=code)
        assert selectors.published_postings(model=Offer, filters=filters).count() == count

    page = client.get(reverse("dashboard"))
    squares = [(spot["region"].code, spot["count"]) for spot in page.context["region_spots"]]
    assert squares == [("african", "2"), ("asia-pacific", "1")]
    html = page.content.decode()
    assert html.count('class="spot region-offers" tabindex="0"') == 2 and '<title id="spot-african">' in html
    assert html.count('class="spot country" tabindex="0"') == 2  # Chad and Fiji, each with its label
    assert "2 open offers are available to every country." in html
    fiji = next(point for point in page.context["points"] if point["row"].code == "FJ")
    assert fiji["label"] == "Fiji, Open needs: 1, Offers available: 4, Naming it: 1"
    assert fiji["x"] + fiji["hit"] * 1.8 <= 192  # its bubble, as large as on a phone, inside the frame


def test_chart_labels_are_whole_and_wrapped():
    label = "Target 4: Halt extinction, protect genetic diversity and manage human-wildlife conflicts"
    rows = [dashboard.GapRow(f"t{i}", f"{label} {i}", 3, 1) for i in range(2)]
    drawn = dashboard_views._bars(rows)["rows"]
    for row, bar in zip(rows, drawn, strict=True):
        lines = [line["text"] for line in bar["lines"]]
        assert len(lines) > 1 and all(len(line) <= dashboard_views.LABEL_CHARACTERS for line in lines)
        assert " ".join(lines) == row.label  # every word, in order
    assert drawn[1]["lines"][0]["y"] > drawn[0]["offers_y"]  # the next row starts below the last bar


def test_figures_are_in_the_readers_format(client, market):
    english = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<dd>33%</dd>" in english and "1 of 3 published needs connected" in english
    french = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<dd>33\u202f%</dd>" in french and "1 des 3 besoins publiés mis en relation" in french
