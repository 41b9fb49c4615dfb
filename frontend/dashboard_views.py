"""The gap-analysis dashboard: public, server-drawn SVG charts (no script), each table also as CSV."""

import csv
import math
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from config.public_cache import public_page
from marketplace.imports import spreadsheet_safe
from marketplace.models import Need
from matching import dashboard

BAR_ROWS = 12  # a chart shows the widest gaps; the table and the CSV have every row
BAR_LENGTH = 288  # SVG units of the longest bar (the chart is 600 wide: labels, bars, counts)
MAP_WIDTH, MAP_HEIGHT = 360, 180  # degrees: an equirectangular projection, one unit per degree


def _bars(rows: list[dashboard.GapRow]) -> dict[str, Any]:
    shown = rows[:BAR_ROWS]
    largest = max([max(row.needs, row.offers) for row in shown] or [1]) or 1
    return {
        "rows": [
            {
                "row": row,
                "needs": BAR_LENGTH * row.needs / largest,
                "offers": BAR_LENGTH * row.offers / largest,
                "y": 28 * i,
            }
            for i, row in enumerate(shown)
        ],
        "height": 28 * len(shown) + 4,
    }


def _map_points(rows: list[dashboard.CountryRow]) -> list[dict[str, Any]]:
    largest = max([max(row.needs, row.offers) for row in rows] or [1]) or 1

    def radius(count: int) -> float:
        return round(1.5 + 6 * math.sqrt(count / largest), 2) if count else 0

    return [
        {
            "row": row,
            "x": row.longitude,
            "y": -row.latitude,
            "needs": radius(row.needs),
            "offers": radius(row.offers),
        }
        for row in rows
    ]


def _gaps(name: str) -> list[dashboard.GapRow]:
    """One of the gap tables: "regions", or a vocabulary's ("subjects", "gbf-targets", "support-types")."""
    if name == "regions":
        return dashboard.gaps_by_region()
    return dashboard.gaps_by_term(dashboard.GAP_SCHEMES[name])


def _published_day(need: Need) -> str:
    assert need.published_at is not None  # an open need has been published
    return need.published_at.date().isoformat()


def _chart(name: str, title: str) -> dict[str, Any]:
    table = _gaps(name)
    return {"name": name, "title": title, "table": table, "bars": _bars(table)}


@public_page
def dashboard_page(request: HttpRequest) -> HttpResponse:
    countries = dashboard.by_country()
    return render(
        request,
        "frontend/dashboard.html",
        {
            "headline": dashboard.headline(),
            "charts": [
                _chart("subjects", _("By subject")),
                _chart("gbf-targets", _("By GBF target")),
                _chart("support-types", _("By type of support")),
                _chart("regions", _("By UN regional group")),
            ],
            "countries": countries,
            "points": _map_points(countries),
            "worldwide_offers": dashboard.worldwide_offers(),
            "waiting": dashboard.needs_waiting_longest(),
            "map_size": (MAP_WIDTH, MAP_HEIGHT),
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
