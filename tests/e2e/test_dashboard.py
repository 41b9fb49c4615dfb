"""The gaps dashboard in a real browser, on 360 and 390 px phones and on a desktop, in English and French:
no sideways scrolling, chart labels whole (never cut into look-alike strings), a legend, offers on the map
(per UN regional group and worldwide, as most offers cover more than one country), labels on hover and on
keyboard focus without any script, every marker inside the frame, the CSV downloads, no serious
accessibility violation."""

import pytest

from marketplace.models import Party
from tests.factories import NeedFactory, OfferFactory, party

from .conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

# In French all four begin "Diversité biologique des …": cut at 26 characters they were one label four times.
LOOK_ALIKE_SUBJECTS = ["dry-subhumid-lands", "forest-biodiversity", "inland-waters", "mountain-biodiversity"]

LABELS = """svg => [...svg.querySelectorAll('text.label')].map(text =>
    [...text.querySelectorAll('tspan')].map(line => line.textContent).join(' ').replace(/\\u00a0/g, ' '))"""
TABLE_LABELS = """svg => [...svg.closest('section').querySelectorAll('tbody th')].map(
    cell => cell.textContent.trim())"""
# The lines of the chart's labels that end past the chart's right edge (cut off).
CLIPPED_LINES = """svg => { const width = svg.getBoundingClientRect().width;
    return [...svg.querySelectorAll('text.label tspan')]
        .filter(line => line.getStartPositionOfChar(0).x + line.getComputedTextLength() > width + 0.5)
        .map(line => line.textContent); }"""
# What of the map's markers, or of the label shown, lies outside the map's frame.
OUTSIDE_THE_FRAME = """selector => { const frame = document.querySelector('svg.map').getBoundingClientRect();
    return [...document.querySelectorAll(selector)].filter(element => {
        const box = element.getBoundingClientRect();
        return box.width && (box.left < frame.left - 0.5 || box.right > frame.right + 0.5
            || box.top < frame.top - 0.5 || box.bottom > frame.bottom + 0.5);
    }).map(element => (element.closest('.spot') || element).outerHTML.slice(0, 120)); }"""


@pytest.fixture
def market():
    """Needs from four countries, Fiji on the antimeridian, on the look-alike subjects; offers as the demo has
    them: two for whole UN regional groups, one worldwide, one naming Fiji."""
    for code, subject in zip(["TD", "CM", "FJ", "PE"], LOOK_ALIKE_SUBJECTS, strict=True):
        NeedFactory(party=party(code), countries=[code], subjects=[subject, "taxonomy"])
    NeedFactory(party=party("TD"), countries=["TD"], subjects=["invasive-alien-species"])
    OfferFactory(global_coverage=False, regions=["african"], subjects=["forest-biodiversity"])
    OfferFactory(global_coverage=False, regions=["african", "asia-pacific"], subjects=["inland-waters"])
    OfferFactory(global_coverage=True, subjects=["taxonomy"])
    OfferFactory(global_coverage=False, countries=["FJ"], subjects=["mountain-biodiversity"])


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
@pytest.mark.parametrize("width", [360, 390])
def test_the_dashboard_on_a_phone(market, open_context, width, locale):
    page = open_context(locale=locale, width=width).new_page()
    page.goto("/dashboard/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("script").count() == 0  # hover and focus labels need no script

    # Whole labels, wrapped inside the chart: none cut, no two alike, the same as the tables' rows.
    charts = page.locator("svg.bars")
    assert charts.count() == 3  # no posting names a GBF target: that chart says so instead
    for i in range(charts.count()):
        chart = charts.nth(i)
        labels = chart.evaluate(LABELS)
        assert len(labels) == len(set(labels)), labels
        assert not [label for label in labels if label.endswith(("…", "..."))], labels
        assert labels == chart.evaluate(TABLE_LABELS)[: len(labels)]
        assert chart.evaluate(CLIPPED_LINES) == []
    subjects = charts.first.evaluate(LABELS)
    look_alike = [label for label in subjects if label.startswith("Diversité biologique des")]
    assert len(look_alike) == (4 if locale == "fr-FR" else 0), subjects

    # The legends: the charts' colours, and the map's four kinds of marker.
    assert page.locator("ul.legend").first.locator("li").count() == 2
    assert page.locator("ul.map-legend li").count() == 4

    # Offers on the map: a square per regional group with offers for the whole group, a ring for the offer
    # naming Fiji, the worldwide offer in the band above the map.
    squares = page.locator("svg.map .region-count")
    assert squares.all_text_contents() == ["2", "1"]  # African States (both), Asia-Pacific States
    assert page.locator("svg.map circle.offer").count() == 1
    assert "1" in page.locator(".worldwide-band").inner_text()
    assert page.locator("svg.map circle.need").count() == 4
    assert page.evaluate(OUTSIDE_THE_FRAME, "svg.map circle, svg.map .mark") == []  # Fiji's bubble included

    # A label on keyboard focus: Tab from the link that skips the map reaches the first marker.
    page.locator(".skip-map").focus()
    page.keyboard.press("Tab")
    focused = page.locator("svg.map .spot:focus")
    assert focused.count() == 1 and focused.locator(".tip").is_visible()
    assert page.locator("svg.map .tip").filter(visible=True).count() == 1
    # Each marker's label, on focus, lies inside the frame.
    spots = page.locator("svg.map .spot")
    for i in range(spots.count()):
        spots.nth(i).focus()
        assert page.evaluate(OUTSIDE_THE_FRAME, "svg.map .spot:focus .tip") == []
    page.locator("h1").click()  # nothing focused: no label shown
    assert page.locator("svg.map .tip").filter(visible=True).count() == 0
    # and on hover: Fiji's, with its figures (the offer naming it, the group's and the worldwide one)
    fiji = page.locator("svg.map .spot.country").filter(has=page.locator("title#spot-FJ"))
    fiji.hover()
    tip = fiji.locator(".tip").text_content() or ""
    assert ("Fidji" if locale == "fr-FR" else "Fiji") in tip and "3" in tip

    # The same figures as text: the whole world and each group, then each country.
    reach = page.locator("table.reach tbody tr")
    assert reach.count() == 6 and reach.first.locator("td").inner_text() == "1"
    assert page.locator("table.countries tbody tr").count() == 4
    assert_accessible(page, f"dashboard at {width} px ({locale})")


def test_the_dashboard_on_a_desktop(market, open_context):
    page = open_context(width=1280).new_page()
    page.goto("/dashboard/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # the groups' squares are named on a wide screen (on a phone their labels and the tables say it)
    names = page.locator("svg.map .region-name").all_text_contents()
    assert names == ["African States", "Asia-Pacific States"]
    # each country's offers: worldwide, for its group, naming it (Fiji: 1 + 1 + 1; Chad: 1 + 2)
    available = dict(
        zip(
            page.locator("table.countries tbody th").all_inner_texts(),
            page.locator("table.countries tbody td:nth-child(3)").all_inner_texts(),
            strict=True,
        )
    )
    assert available["Fiji"].startswith("3") and available["Chad"].startswith("3")
    assert available["Peru"].startswith("1")
    page.locator("table.countries tr", has_text="Chad").get_by_role("link", name="3").click()
    assert page.locator("#results .card").count() == 3  # the catalogue counts them alike
    page.go_back()
    # every table still downloads as CSV
    links = page.locator("a[download]")
    assert links.count() == 6
    for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
        response = page.request.get(href)
        assert response.status == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.text().startswith(("code,", "need_id,"))
    assert_accessible(page, "dashboard at 1280 px")


def test_every_partys_marker_and_label_stay_inside_the_map(open_context):
    """With an open need from each of the 196 Parties (some named by an offer too), on the narrowest phone and
    in French (the longest labels): the page still fits, and every label shown on focus lies in the frame."""
    for i, each in enumerate(Party.objects.all()):
        NeedFactory(party=each, countries=[each.code])
        if i % 7 == 0:
            OfferFactory(global_coverage=False, countries=[each.code])
    for region in ["african", "asia-pacific", "eastern-european", "latin-american-caribbean", "weog"]:
        OfferFactory(global_coverage=False, regions=[region])
    page = open_context(locale="fr-FR", width=360).new_page()
    page.goto("/dashboard/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.evaluate(OUTSIDE_THE_FRAME, "svg.map circle, svg.map .mark") == []
    spots = page.locator("svg.map .spot")
    assert spots.count() == Party.objects.count() + 5
    outside = []
    for i in range(spots.count()):
        spots.nth(i).focus()
        outside += page.evaluate(OUTSIDE_THE_FRAME, "svg.map .spot:focus .tip")
    assert outside == []
