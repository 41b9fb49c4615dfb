"""Reads for the gap-analysis dashboard: where demand outruns supply, and how fast needs find help.

Open postings are the published ones. Every figure is computed from the database on each call; the
numbers involved (hundreds to a few thousand postings) keep that to a handful of aggregate queries.
"""

import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TypeVar

from django.db.models import Count, ForeignObjectRel, Min, Q, QuerySet
from django.utils import timezone

from marketplace.models import Need, Offer, Party, PostingStatus, Region, Scheme, Term

from .models import Match

# Approximate centres (latitude, longitude) of the Parties, from the world-countries data set (ODbL 1.0);
# the European Union's is its geographic centre.
CENTRES_FILE = Path(__file__).resolve().parent.parent / "seed_data" / "country_centres.json"

GAP_SCHEMES = {
    "subjects": Scheme.SUBJECT,
    "gbf-targets": Scheme.GBF_TARGET,
    "support-types": Scheme.SUPPORT_TYPE,
}
FIELD_OF_SCHEME: dict[str, str] = {
    Scheme.SUBJECT: "subjects",
    Scheme.GBF_TARGET: "gbf_targets",
    Scheme.SUPPORT_TYPE: "support_types",
}


@dataclass(frozen=True)
class GapRow:
    code: str
    label: str
    needs: int
    offers: int

    @property
    def gap(self) -> int:
        return self.needs - self.offers


@dataclass(frozen=True)
class CountryRow:
    code: str
    name: str
    needs: int
    offers: int
    latitude: float
    longitude: float


@dataclass(frozen=True)
class WaitingNeed:
    need: Need
    days: int


_PostingT = TypeVar("_PostingT", Need, Offer)


def _open(model: type[_PostingT]) -> QuerySet[_PostingT]:
    return model.objects.filter(status=PostingStatus.PUBLISHED)


def _related_name(model: type[Need] | type[Offer], field: str) -> str:
    """What a term calls the postings of ``model`` that name it in ``field`` (a many-to-many field)."""
    remote = model._meta.get_field(field).remote_field
    assert isinstance(remote, ForeignObjectRel) and remote.related_name  # every such field names it
    return remote.related_name


def gaps_by_term(scheme: str) -> list[GapRow]:
    """Open needs and open offers per vocabulary term, the widest gap first."""
    field = FIELD_OF_SCHEME[scheme]
    terms = Term.objects.filter(scheme=scheme, is_active=True).order_by("position", "code")
    counts = {}
    for side, model in (("needs", Need), ("offers", Offer)):
        related = _related_name(model, field)
        counts[side] = dict(
            terms.annotate(
                n=Count(related, filter=Q(**{f"{related}__status": PostingStatus.PUBLISHED}), distinct=True)
            ).values_list("code", "n")
        )
    rows = [GapRow(t.code, t.label, counts["needs"][t.code], counts["offers"][t.code]) for t in terms]
    return sorted((r for r in rows if r.needs or r.offers), key=lambda r: (-r.gap, -r.needs, r.label))


def gaps_by_region() -> list[GapRow]:
    """Open needs from each UN regional group against the open offers that serve it (worldwide offers and
    offers for the region or one of its countries)."""
    regions = Region.choices
    # one query per side: a distinct count per region (aliases: region codes are not identifiers)
    needs = _open(Need).aggregate(
        **{
            f"r{i}": Count("pk", filter=Q(party__region=code) | Q(countries__region=code), distinct=True)
            for i, (code, _label) in enumerate(regions)
        }
    )
    offers = _open(Offer).aggregate(
        **{
            f"r{i}": Count(
                "pk",
                filter=Q(global_coverage=True) | Q(regions__contains=[code]) | Q(countries__region=code),
                distinct=True,
            )
            for i, (code, _label) in enumerate(regions)
        }
    )
    rows = [
        GapRow(code, str(label), needs[f"r{i}"], offers[f"r{i}"]) for i, (code, label) in enumerate(regions)
    ]
    return sorted(rows, key=lambda r: (-r.gap, r.label))


@cache
def country_centres() -> dict[str, tuple[float, float]]:
    return {code: tuple(centre) for code, centre in json.loads(CENTRES_FILE.read_text()).items()}


def by_country() -> list[CountryRow]:
    """Open needs from or about each country and open offers naming it, for every country with either;
    offers available worldwide are counted apart (`worldwide_offers`)."""
    needs: dict[str, set[int]] = {}
    for pk, code in _open(Need).filter(party__isnull=False).values_list("pk", "party__code"):
        needs.setdefault(code, set()).add(pk)
    for pk, code in _open(Need).values_list("pk", "countries__code"):
        if code:
            needs.setdefault(code, set()).add(pk)
    offers: dict[str, set[int]] = {}
    for pk, code in _open(Offer).values_list("pk", "countries__code"):
        if code:
            offers.setdefault(code, set()).add(pk)
    centres = country_centres()
    rows = []
    for party in Party.objects.filter(code__in=needs.keys() | offers.keys()).order_by("name_en"):
        latitude, longitude = centres.get(party.code, (0.0, 0.0))
        rows.append(
            CountryRow(
                party.code,
                str(party),
                len(needs.get(party.code, ())),
                len(offers.get(party.code, ())),
                latitude,
                longitude,
            )
        )
    return rows


def worldwide_offers() -> int:
    return _open(Offer).filter(global_coverage=True).count()


@dataclass(frozen=True)
class RegionalOffers:
    code: str
    label: str
    offers: int  # open offers for the whole regional group, those available worldwide apart


@dataclass(frozen=True)
class OfferReach:
    """Where the open offers can serve: most cover a whole UN regional group or the world, not one country."""

    worldwide: int
    regions: list[RegionalOffers]  # every UN regional group, in the order of `Region`
    serving: dict[str, int]  # Party code: the open offers that can serve it (named, its group's, worldwide)


def offer_reach(codes: Iterable[str]) -> OfferReach:
    """The open offers available worldwide, those for each whole UN regional group, and for each Party in
    ``codes`` the open offers that can serve it: naming it, for its regional group or worldwide (as the
    catalogue's country filter counts them). Two queries."""
    worldwide: set[int] = set()
    for_region: dict[str, set[int]] = {code: set() for code in Region.values}
    named: dict[str, set[int]] = {}
    rows = _open(Offer).values_list("pk", "global_coverage", "regions", "countries__code")
    for pk, is_global, regions, country in rows:  # a row per country an offer names (one if none)
        if is_global:
            worldwide.add(pk)
        for region in regions:
            for_region.setdefault(region, set()).add(pk)
        if country:
            named.setdefault(country, set()).add(pk)
    parties = dict(Party.objects.filter(code__in=list(codes)).values_list("code", "region"))
    return OfferReach(
        worldwide=len(worldwide),
        regions=[
            RegionalOffers(code, str(label), len(for_region[code] - worldwide))
            for code, label in Region.choices
        ],
        serving={
            code: len(worldwide | for_region.get(region, set()) | named.get(code, set()))
            for code, region in parties.items()
        },
    )


def _first_connections() -> dict[int, datetime]:
    return dict(
        Match.objects.filter(connected_at__isnull=False)
        .values("need_id")
        .annotate(first=Min("connected_at"))
        .values_list("need_id", "first")
    )


@dataclass(frozen=True)
class Headline:
    open_needs: int
    open_offers: int
    needs_published: int
    needs_connected: int
    median_days_to_connection: float | None

    @property
    def match_rate(self) -> float | None:
        """Share of the needs ever published that reached a connection (both sides accepted)."""
        return self.needs_connected / self.needs_published if self.needs_published else None


def headline() -> Headline:
    first = _first_connections()
    published = dict(Need.objects.filter(published_at__isnull=False).values_list("pk", "published_at"))
    waits = [
        (first[pk] - published_at).total_seconds() / 86400
        for pk, published_at in published.items()
        # published_at is never None here (the query leaves those out): the test is for the type checker
        if pk in first and published_at is not None and first[pk] >= published_at
    ]
    return Headline(
        open_needs=_open(Need).count(),
        open_offers=_open(Offer).count(),
        needs_published=len(published),
        needs_connected=sum(1 for pk in published if pk in first),
        median_days_to_connection=statistics.median(waits) if waits else None,
    )


def needs_waiting_longest(*, limit: int = 10) -> list[WaitingNeed]:
    """Open needs that no match has connected yet, longest published first."""
    waiting = (
        _open(Need)
        .exclude(matches__connected_at__isnull=False)
        .select_related("party", "organization")
        .order_by("published_at", "pk")[:limit]
    )
    now = timezone.now()
    # An open need always has its publication date; the condition narrows the nullable field's type.
    return [
        WaitingNeed(need, (now - need.published_at).days) for need in waiting if need.published_at is not None
    ]
