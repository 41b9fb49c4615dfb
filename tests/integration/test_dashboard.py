"""The gap-analysis dashboard: its figures from the database, and each table as CSV."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import PostingStatus
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
