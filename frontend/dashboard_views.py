"""The gap-analysis dashboard: public, server-drawn SVG charts (no script), each table also as CSV.

The charts are drawn for a 360 px phone as for a desktop: a bar chart has no viewBox (its text keeps its size
in pixels, its bars are percentages of its width) and each label is wrapped whole over as many lines as it
needs. The map places needs in their country; offers, which mostly cover a whole UN regional group or the
world, appear once per group (a square beside it) and in a worldwide band, with the same figures in tables.
"""

import csv
import math
import textwrap
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _

from config.public_cache import public_page
from marketplace.imports import spreadsheet_safe
from marketplace.models import Need
from marketplace.selectors import strip_accents
from matching import dashboard

BAR_ROWS = 12  # a chart shows the widest gaps; the table and the CSV have every row
# A bar chart, in CSS pixels: labels of 14 px on lines of at most LABEL_CHARACTERS (a 360 px phone's column
# holds them), then the needs' bar over the offers' bar, each after its count.
LABEL_CHARACTERS = 38
LINE = 18  # px between two lines of a label
BAR = 9  # px: a bar's thickness
BAR_START = 44  # px: the counts' column before the bars
BAR_SPAN = 76  # % of the chart's width: the longest bar (BAR_START + 76 % fits from 190 px up)
ROW_GAP = 12  # px between two rows
# The map: an equirectangular projection, one unit per degree, from 84° N to 58° S (no Antarctica), wide
# enough that a bubble on the antimeridian (Fiji, Tonga) stays inside the frame.
MAP_BOX = (-192, -84, 384, 142)  # x, y, width, height of the viewBox
MAP_MARGIN = 14  # units kept between a marker's centre and the frame (its largest radius on a phone)
TIP_CHARACTERS = 24  # a tip's lines: at most about 200 units wide on a phone
PHONE_TIP, PHONE_MARK = 14, 1.8  # a tip's font size and the markers' scale on a phone (dashboard.css)
# Where each UN regional group's square goes: open sea beside the group, clear of its countries' bubbles.
REGION_SPOTS = {  # (latitude, longitude)
    "african": (-12, -8),
    "asia-pacific": (-8, 80),
    "eastern-european": (74, 38),
    "latin-american-caribbean": (-18, -102),
    "weog": (44, -38),
}


def _number(value: int) -> str:
    """A count in the reader's format (1,234 / 1 234)."""
    return formats.number_format(value, force_grouping=True)


def _unbreakable(text: str) -> str:
    """The text with a no-break space where French typography wants one ("Cible 4 : …", "30 %"), so that a
    wrapped line never starts with a colon or a percent sign."""
    for before, after in (
        (" :", "\u00a0:"),
        (" ;", "\u00a0;"),
        (" %", "\u00a0%"),
        ("« ", "«\u00a0"),
        (" »", "\u00a0»"),
    ):
        text = text.replace(before, after)
    return text


def _bars(rows: list[dashboard.GapRow]) -> dict[str, Any]:
    shown = rows[:BAR_ROWS]
    largest = max([max(row.needs, row.offers) for row in shown] or [1]) or 1

    def length(count: int) -> str:  # a % of the chart's width; a non-zero count shows at least a sliver
        return f"{max(BAR_SPAN * count / largest, 0.6):.1f}" if count else ""

    drawn, top = [], 0
    for row in shown:
        label = _unbreakable(row.label)
        lines = textwrap.wrap(label, LABEL_CHARACTERS, break_on_hyphens=False) or [label]
        bars = top + LINE * len(lines) + 5
        drawn.append(
            {
                "row": row,
                "lines": [{"text": text, "y": top + LINE * (i + 1) - 4} for i, text in enumerate(lines)],
                "needs_y": bars,
                "offers_y": bars + BAR + 2,
                "needs": length(row.needs),
                "offers": length(row.offers),
                "needs_count": _number(row.needs),
                "offers_count": _number(row.offers),
            }
        )
        top = bars + 2 * BAR + 2 + ROW_GAP
    return {"rows": drawn, "height": max(top - ROW_GAP + 2, 0), "start": BAR_START}


def _tip(lines: list[str], x: float, y: float, radius: float) -> dict[str, Any]:
    """A marker's label, shown on hover and on keyboard focus, wrapped for a phone and kept inside the frame
    (measured as on a phone, where text is largest): above the marker, else below, else beside it towards
    the middle of the map, else on the roomier side."""
    wrapped = [part for line in lines for part in textwrap.wrap(_unbreakable(line), TIP_CHARACTERS) or [line]]
    count = len(wrapped)
    left, top, width, height = MAP_BOX
    tall = (count * 1.2 + 0.4) * PHONE_TIP + radius + 1
    wide = max(len(line) for line in wrapped) * 0.55 * PHONE_TIP  # measured: 0.5 em a character
    room_above, room_below = y - top, top + height - y
    beside = radius * PHONE_MARK + 1
    if tall > max(room_above, room_below) and (
        x - beside - wide >= left if x >= 0 else x + beside + wide <= left + width
    ):
        return {
            "anchor": "end" if x >= 0 else "start",
            "x": round(x - beside if x >= 0 else x + beside, 2),
            "y": y,
            "lines": [
                {"text": text, "y": f"{(i - (count - 1) / 2) * 1.2 + 0.35:.2f}em"}
                for i, text in enumerate(wrapped)
            ],
        }
    above = room_above >= tall or room_above >= room_below
    return {
        "anchor": "start" if x < -50 else "end" if x > 50 else "middle",
        "x": x,
        "y": round(y - radius - 1 if above else y + radius + 1, 2),
        "lines": [
            {"text": text, "y": f"{(i - count + 1) * 1.2 - 0.4:.1f}em" if above else f"{i * 1.2 + 1:.1f}em"}
            for i, text in enumerate(wrapped)
        ],
    }


def _on_map(latitude: float, longitude: float) -> tuple[float, float]:
    left, top, width, height = MAP_BOX
    x = min(max(longitude, left + MAP_MARGIN), left + width - MAP_MARGIN)
    y = min(max(-latitude, top + MAP_MARGIN), top + height - MAP_MARGIN)
    return round(x, 1), round(y, 1)


def _map_points(rows: list[dashboard.CountryRow], reach: dashboard.OfferReach) -> list[dict[str, Any]]:
    largest = max([max(row.needs, row.offers) for row in rows] or [1]) or 1

    def radius(count: int) -> float:
        return round(2 + 5.5 * math.sqrt(count / largest), 2) if count else 0

    points = []
    for row in rows:
        x, y = _on_map(row.latitude, row.longitude)
        serving = reach.serving.get(row.code, row.offers)
        lines = [
            row.name,
            _("Open needs: %(count)s") % {"count": _number(row.needs)},
            _("Offers available: %(count)s") % {"count": _number(serving)},
        ]
        if row.offers:
            lines.append(_("Naming it: %(count)s") % {"count": _number(row.offers)})
        needs, offers = radius(row.needs), radius(row.offers)
        points.append(
            {
                "row": row,
                "x": x,
                "y": y,
                "needs": needs,
                "offers": offers,
                "hit": max(needs, offers, 2.5),
                "label": ", ".join(lines),
                "tip": _tip(lines, x, y, max(needs, offers, 2.5)),
                "serving": _number(serving),
            }
        )
    return points


def _region_spots(reach: dashboard.OfferReach) -> list[dict[str, Any]]:
    spots = []
    for region in reach.regions:
        if not region.offers or region.code not in REGION_SPOTS:
            continue
        x, y = _on_map(*REGION_SPOTS[region.code])
        count = _number(region.offers)
        lines = [region.label, _("Regional offers: %(count)s") % {"count": count}]
        side = 4 + 3 * max(len(count), 2)
        spots.append(
            {
                "region": region,
                "x": x,
                "y": y,
                "count": count,
                "side": side,
                "half": side / 2,
                "label": ", ".join(lines),
                "name": textwrap.wrap(region.label, TIP_CHARACTERS),
                "tip": _tip(lines, x, y, side / 2),
            }
        )
    return spots


def _gaps(name: str) -> list[dashboard.GapRow]:
    """One of the gap tables: "regions", or a vocabulary's ("subjects", "gbf-targets", "support-types")."""
    if name == "regions":
        return dashboard.gaps_by_region()
    return dashboard.gaps_by_term(dashboard.GAP_SCHEMES[name])


def _published_day(need: Need) -> str:
    assert need.published_at is not None  # an open need has been published
    return need.published_at.date().isoformat()


def _chart(name: str, title: str, note: str = "") -> dict[str, Any]:
    table = _gaps(name)
    return {"name": name, "title": title, "note": note, "table": table, "bars": _bars(table)}


def _figures(headline: dashboard.Headline) -> dict[str, str | None]:
    """The headline's figures in the reader's format."""
    rate = headline.match_rate
    return {
        "open_needs": _number(headline.open_needs),
        "open_offers": _number(headline.open_offers),
        "connected": _number(headline.needs_connected),
        "published": _number(headline.needs_published),
        "match_rate": None if rate is None else _("%(percent)s%%") % {"percent": _number(round(100 * rate))},
    }


@public_page
def dashboard_page(request: HttpRequest) -> HttpResponse:
    headline = dashboard.headline()
    # in the reader's alphabet, case and accents aside: Tchad under T, Éthiopie after Espagne
    countries = sorted(dashboard.by_country(), key=lambda row: strip_accents(row.name.casefold()))
    reach = dashboard.offer_reach(row.code for row in countries)
    left, top, width, height = MAP_BOX
    return render(
        request,
        "frontend/dashboard.html",
        {
            "headline": headline,
            "figures": _figures(headline),
            "charts": [
                _chart("subjects", _("By subject")),
                _chart("gbf-targets", _("By GBF target")),
                _chart("support-types", _("By type of support")),
                _chart(
                    "regions",
                    _("By UN regional group"),
                    _(
                        "The offers that serve a group: those available worldwide, those for the whole group "
                        "and those naming one of its countries."
                    ),
                ),
            ],
            "countries": countries,
            "points": _map_points(countries, reach),
            "region_spots": _region_spots(reach),
            "reach": reach,
            "worldwide": _number(reach.worldwide),
            "waiting": dashboard.needs_waiting_longest(),
            "map_box": f"{left} {top} {width} {height}",
        },
    )


def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    rows: list[list[Any]]
    if table in (*dashboard.GAP_SCHEMES, "regions"):
        header = ["code", "label", "open_needs", "open_offers", "gap"]
        rows = [[r.code, r.label, r.needs, r.offers, r.gap] for r in _gaps(table)]
    elif table == "countries":
        header = ["code", "name", "open_needs", "open_offers", "latitude", "longitude"]
        rows = [[r.code, r.name, r.needs, r.offers, r.latitude, r.longitude] for r in dashboard.by_country()]
    elif table == "waiting":
        header = ["need_id", "title", "poster", "published_at", "days_waiting"]
        rows = [
            [w.need.pk, w.need.title, str(w.need.poster), _published_day(w.need), w.days]
            for w in dashboard.needs_waiting_longest(limit=100)
        ]
    else:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="chm-dashboard-{table}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(value) for value in row] for row in rows)
    return response
