"""Reads for matching: postings as the engine sees them, nearest vectors, suggestions, weights."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, TypedDict

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from pgvector import Vector

from marketplace import permissions
from marketplace.models import Need, Offer, Party, PostingStatus, Region, Term
from marketplace.permissions import Reader
from marketplace.selectors import Postings
from matching.engine import postings as engine
from matching.engine.learning import weights_version
from matching.engine.scoring import DEFAULT_WEIGHTS

from . import permissions as match_permissions
from .encoder import encoder
from .explanations import reason_lines
from .models import (
    ACCEPTED_STATUSES,
    INDEXED_DIMENSIONS,
    CaseStudy,
    Match,
    MatchStatus,
    MatchWeights,
    NeedEmbedding,
    OfferEmbedding,
)

# For each side: its posting model, its embedding model, and the name of the key from one to the other.
SIDES: dict[str, tuple[type[Need] | type[Offer], type[NeedEmbedding] | type[OfferEmbedding], str]] = {
    engine.NEED: (Need, NeedEmbedding, "need"),
    engine.OFFER: (Offer, OfferEmbedding, "offer"),
}
HIDDEN_STATUSES = (MatchStatus.DISMISSED, MatchStatus.DECLINED, MatchStatus.CLOSED)


class NoteCount(TypedDict):
    """What `match_queue` adds to each match."""

    note_count: int


if TYPE_CHECKING:  # the stubs' annotated model (django_stubs_ext is a type-checking aid, not a dependency)
    from django_stubs_ext import WithAnnotations

    MatchWithNoteCount: TypeAlias = WithAnnotations[Match, NoteCount]


def other_side(side: str) -> str:
    return engine.OFFER if side == engine.NEED else engine.NEED


def postings_for_engine(side: str) -> Postings:
    """Needs or offers with everything ``as_engine_posting`` reads, in a fixed number of queries."""
    model = SIDES[side][0]
    if issubclass(model, Need):  # side == engine.NEED, in a form the type checker follows
        needs = model.objects.prefetch_related("subjects", "gbf_targets", "support_types", "countries")
        return needs.select_related("party", "organization__country")
    offers = model.objects.prefetch_related("subjects", "gbf_targets", "support_types", "countries")
    return offers.select_related("organization__country").annotate(
        accepted_matches=Count("matches", filter=Q(matches__status__in=ACCEPTED_STATUSES))
    )


class _CommonFields(TypedDict):
    """The fields of the engine's posting that a need and an offer fill alike."""

    id: str
    title: str
    description: str
    language: str
    subjects: frozenset[str]
    gbf_targets: frozenset[str]
    support_types: frozenset[str]
    countries: frozenset[str]
    regions: frozenset[str]
    expires_on: datetime.date
    is_open: bool
    facet_labels: tuple[str, ...]


def as_engine_posting(posting: Need | Offer) -> engine.Posting:
    """The engine's view of a stored posting (from ``postings_for_engine``)."""
    language = posting.language
    subjects, targets, supports = (
        list(posting.subjects.all()),
        list(posting.gbf_targets.all()),
        list(posting.support_types.all()),
    )
    common: _CommonFields = {
        "id": str(posting.pk),
        "title": posting.title,
        "description": posting.description,
        "language": language,
        "subjects": frozenset(term.code for term in subjects),
        "gbf_targets": frozenset(term.code for term in targets),
        "support_types": frozenset(term.code for term in supports),
        "countries": frozenset(party.code for party in posting.countries.all()),
        "regions": frozenset(posting.regions),
        "expires_on": posting.expires_on,
        "is_open": posting.status == PostingStatus.PUBLISHED,
        "facet_labels": tuple(getattr(term, f"label_{language}") for term in (*subjects, *supports)),
    }
    if isinstance(posting, Need):
        home = posting.party or (posting.organization.country if posting.organization else None)
        return engine.Posting(
            side=engine.NEED,
            country=home.code if home else None,
            region=home.region if home else None,
            starts_on=posting.timeframe_start,
            ends_on=posting.timeframe_end,
            **common,
        )
    base = posting.organization.country if posting.organization else None
    return engine.Posting(
        side=engine.OFFER,
        country=base.code if base else None,
        region=base.region if base else None,
        kind=posting.kind,
        languages=frozenset(posting.delivery_languages),
        worldwide=posting.global_coverage,
        starts_on=posting.starts_on,
        ends_on=posting.ends_on,
        deadline=posting.deadline,
        capacity=posting.capacity,
        capacity_left=posting.capacity - getattr(posting, "accepted_matches", 0),
        **common,
    )


def open_posting_ids(side: str) -> list[int]:
    model = SIDES[side][0]
    return list(
        model.objects.filter(status=PostingStatus.PUBLISHED, expires_on__gte=timezone.localdate())
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def pending_match_ids(side: str, *, older_than_seconds: int = 0, among: list[int] | None = None) -> list[int]:
    """Open postings that the matcher has not read since they were last saved (``tasks.match_pending``
    matches them all). With ``older_than_seconds``, only those saved at least that long ago: their task was
    lost (broker down when they were published, or a worker that kept failing). ``among``: only these ids."""
    model = SIDES[side][0]
    unmatched = (
        Q(embedding__isnull=True)
        | Q(embedding__matched_at__isnull=True)
        | Q(embedding__matched_at__lt=F("updated_at"))
    )
    queryset = model.objects.filter(status=PostingStatus.PUBLISHED, expires_on__gte=timezone.localdate())
    queryset = queryset.filter(unmatched)
    if older_than_seconds:
        queryset = queryset.filter(
            updated_at__lt=timezone.now() - datetime.timedelta(seconds=older_than_seconds)
        )
    if among is not None:
        queryset = queryset.filter(pk__in=among)
    return list(queryset.order_by("pk").values_list("pk", flat=True))


def nearest(side: str, vector: np.ndarray, *, model_version: str, limit: int) -> list[int]:
    """Ids of the open postings of ``side`` whose vectors are closest (cosine) to ``vector``.

    Uses the HNSW index when the vectors have the indexed size and the side holds enough of them;
    otherwise an exact scan, which is as fast on small sets and exact by definition.
    """
    model, embedding_model, field = SIDES[side]
    use_index = (
        len(vector) == INDEXED_DIMENSIONS
        and _estimated_rows(embedding_model._meta.db_table) >= settings.MATCHING_EXACT_SCAN_BELOW
    )
    column = f"e.vector::vector({INDEXED_DIMENSIONS})" if use_index else "e.vector"
    query = f"""
        SELECT e.{field}_id FROM {embedding_model._meta.db_table} e
        JOIN {model._meta.db_table} p ON p.id = e.{field}_id
        WHERE e.model_version = %s AND e.dimensions = %s AND p.status = %s AND p.expires_on >= %s
        ORDER BY {column} <=> %s::vector LIMIT %s
    """  # noqa: S608 -- table and column names are ours, every value is a parameter
    with transaction.atomic(), connection.cursor() as cursor:
        if use_index:
            # Filters are applied after the index walk: let pgvector keep walking until enough pass.
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cursor.execute("SET LOCAL hnsw.ef_search = %s", [settings.MATCHING_HNSW_EF_SEARCH])
        literal = Vector(np.asarray(vector, dtype=np.float32)).to_text()
        cursor.execute(
            query,
            [model_version, len(vector), PostingStatus.PUBLISHED, timezone.localdate(), literal, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _estimated_rows(table: str) -> float:
    """The planner's row estimate (free, unlike COUNT); unknown before the first ANALYZE, then taken as
    large, which is harmless: on a small table the planner prefers a sequential scan anyway."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        (rows,) = cursor.fetchone()
    return rows if rows >= 0 else float("inf")


def vectors_of(side: str, ids: list[int], *, model_version: str) -> dict[int, np.ndarray]:
    embedding_model, field = SIDES[side][1], SIDES[side][2]
    rows = embedding_model.objects.filter(**{f"{field}_id__in": ids}, model_version=model_version)
    return {getattr(row, f"{field}_id"): np.asarray(row.vector, dtype=np.float32) for row in rows}


def accepted_needs_by_offer(offer_ids: list[int]) -> dict[int, list[int]]:
    """For each offer, the needs it was accepted for (its history)."""
    history: dict[int, list[int]] = {}
    rows = Match.objects.filter(offer_id__in=offer_ids, status__in=ACCEPTED_STATUSES)
    for need_id, offer_id in rows.values_list("need_id", "offer_id"):
        history.setdefault(offer_id, []).append(need_id)
    return history


def current_weights() -> tuple[dict[str, float], str]:
    """The newest fitted weights, or the defaults when curators have not decided enough yet."""
    latest = MatchWeights.objects.first()
    if latest:
        return latest.weights, latest.version
    return dict(DEFAULT_WEIGHTS), "default-" + weights_version(DEFAULT_WEIGHTS)


def suggestions_for(posting: Need | Offer, *, limit: int = 10) -> list[Match]:
    """The best open matches of a posting, for its page: the other side published, not expired and
    not full, and nothing a curator or a side turned down."""
    today = timezone.localdate()
    if isinstance(posting, Need):
        accepted = Count(
            "offer__matches", filter=Q(offer__matches__status__in=ACCEPTED_STATUSES), distinct=True
        )
        queryset: QuerySet[Match] = (
            posting.matches.annotate(offer_accepted=accepted)
            .filter(offer__status=PostingStatus.PUBLISHED, offer__expires_on__gte=today)
            .filter(Q(offer__deadline__isnull=True) | Q(offer__deadline__gte=today))
            .filter(Q(offer_accepted__lt=F("offer__capacity")) | Q(status__in=ACCEPTED_STATUSES))
            .select_related("offer__organization", "offer__expert__user")
        )
    else:
        queryset = posting.matches.filter(
            need__status=PostingStatus.PUBLISHED, need__expires_on__gte=today
        ).select_related("need__party", "need__organization")
    return list(queryset.exclude(status__in=HIDDEN_STATUSES).order_by("-score", "id")[:limit])


def decided_matches() -> QuerySet[Match]:
    """Matches a person has ruled on, with the features they were scored on (for fitting weights)."""
    return Match.objects.exclude(status=MatchStatus.SUGGESTED).exclude(features={})


@dataclass(frozen=True)
class Suggestion:
    """A suggested posting of the other side as a reader sees it (the posting's page and the API)."""

    other: Need | Offer
    score: float
    reasons: list[str]  # in the reader's language
    match: Match | None  # only for the posting's owners and the secretariat, who may open it


def suggestions_for_reader(posting: Need | Offer, *, user: Reader) -> list[Suggestion]:
    """A published posting's best matches with their reasons in the active language; who may open each
    match (the posting's owners and the secretariat) gets it too. Nothing for a posting not published."""
    if posting.status != PostingStatus.PUBLISHED:
        return []
    rows = suggestions_for(posting)
    labels = reason_labels(rows)
    may_open = permissions.is_secretariat(user) or permissions.is_posting_owner(user, posting)
    return [
        Suggestion(
            other=row.offer if isinstance(posting, Need) else row.need,
            score=row.score,
            reasons=reason_lines(row.reasons, labels),
            match=row if may_open else None,
        )
        for row in rows
    ]


def reason_labels(matches: list[Match]) -> dict[str, str]:
    """Labels, in the active language, of every vocabulary term, Party and region the reasons name."""
    codes: set[str] = set()
    for match in matches:
        reasons = match.reasons
        codes |= set(reasons.get("shared_subjects", [])) | set(reasons.get("shared_targets", []))
        codes |= set(reasons.get("support", [])) | set(reasons.get("outside_coverage", []))
        codes |= set((reasons.get("support_mismatch") or {}).get("sought", []))
        codes.add(reasons.get("covers", ""))
    labels = {code: str(label) for code, label in Region.choices if code in codes}
    labels |= {term.code: term.label for term in Term.objects.filter(code__in=codes)}
    labels |= {party.code: party.name for party in Party.objects.filter(code__in=codes)}
    return labels


# --- The match lifecycle ------------------------------------------------------------------------------------


def offer_is_full(offer: Offer, *, excluding: Match | None = None) -> bool:
    """Whether the offer already serves as many needs as its capacity (connected, in progress, completed)."""
    accepted = Match.objects.filter(offer=offer, status__in=ACCEPTED_STATUSES)
    if excluding is not None:
        accepted = accepted.exclude(pk=excluding.pk)
    return accepted.count() >= offer.capacity


def connected_contact(*, match_id: int, side: str) -> Need | Offer | None:
    """The other side's posting (with its contact details) for one side of a match, only once connected."""
    match = (
        Match.objects.filter(pk=match_id, status__in=ACCEPTED_STATUSES)
        .select_related("need", "offer")
        .first()
    )
    if match is None or side not in ("need", "offer"):
        return None
    return match.offer if side == "need" else match.need


def _with_sides(queryset: QuerySet[Match]) -> QuerySet[Match]:
    return queryset.select_related(
        "need__party", "need__organization", "offer__organization", "offer__expert__user"
    )


def access_match(*, user: Reader, pk: int) -> Match:
    """A match its sides and the secretariat may see; 404 for everyone else (it does not reveal itself)."""
    match = _with_sides(Match.objects.filter(pk=pk)).first()
    if match is None or not match_permissions.can_view_match(user, match):
        raise Http404
    return match


def matches_of(*, user: Reader) -> QuerySet[Match]:
    """Matches involving the user's postings, beyond the engine's private suggestions, newest first."""
    if not user.is_authenticated:
        return Match.objects.none()
    needs = Need.objects.filter(permissions.owner_filter(user, Need))
    offers = Offer.objects.filter(permissions.owner_filter(user, Offer))
    return _with_sides(
        Match.objects.filter(Q(need__in=needs) | Q(offer__in=offers)).exclude(
            status__in=(MatchStatus.SUGGESTED, MatchStatus.DISMISSED)
        )
    ).order_by("-created_at")


@dataclass(frozen=True)
class QueueFilters:
    region: str = ""
    subject: str = ""
    min_days: int | None = None
    status: str = MatchStatus.SUGGESTED


def match_queue(*, filters: QueueFilters) -> QuerySet[MatchWithNoteCount]:
    """The curators' queue: pairs waiting for a decision, best first, both sides still published."""
    today = timezone.localdate()
    queryset = Match.objects.filter(
        status=filters.status,
        need__status=PostingStatus.PUBLISHED,
        offer__status=PostingStatus.PUBLISHED,
        need__expires_on__gte=today,
        offer__expires_on__gte=today,
    )
    if filters.region:
        queryset = queryset.filter(
            Q(need__party__region=filters.region) | Q(need__organization__country__region=filters.region)
        )
    if filters.subject:
        queryset = queryset.filter(
            Q(need__subjects__code=filters.subject) | Q(offer__subjects__code=filters.subject)
        )
    if filters.min_days:
        queryset = queryset.filter(created_at__lte=timezone.now() - datetime.timedelta(days=filters.min_days))
    return (
        _with_sides(Match.objects.filter(pk__in=queryset.values("pk")))
        .annotate(note_count=Count("notes"))
        .order_by("-score", "created_at")
    )


# --- Case studies -----------------------------------------------------------------------------------------

_STORY_RELATED = (
    "match__need__party",
    "match__need__organization",
    "match__offer__organization",
    "match__offer__expert__user",
)


def case_studies_public() -> QuerySet[CaseStudy]:
    """The stories anyone may read: both sides consented and the secretariat approved (``published_at``)."""
    return CaseStudy.objects.filter(published_at__isnull=False).select_related(*_STORY_RELATED)


def case_study_of(match: Match) -> CaseStudy | None:
    """The story of a match (read only where the match itself may be read: see `access_match`)."""
    return CaseStudy.objects.filter(match=match).first()


def case_studies_awaiting_approval() -> QuerySet[CaseStudy]:
    """Stories both sides consented to, waiting for the secretariat, oldest first."""
    return (
        CaseStudy.objects.filter(
            published_at__isnull=True, need_consent_at__isnull=False, offer_consent_at__isnull=False
        )
        .select_related(*_STORY_RELATED)
        .order_by("updated_at", "pk")
    )


# --- Search by meaning ----------------------------------------------------------------------------------


def open_postings_like(side: str, text: str, *, limit: int) -> list[int]:
    """Ids of the open postings of ``side`` closest in meaning to ``text`` (any language), closest first."""

    model = encoder()
    key = "query-vector:" + hashlib.sha256(f"{model.version}\n{text}".encode()).hexdigest()
    vector = cache.get(key)
    if vector is None:
        vector = model.encode([text])[0]
        cache.set(key, vector, settings.QUERY_VECTOR_CACHE_SECONDS)
    return nearest(side, vector, model_version=model.version, limit=limit)


def closest_in_meaning(queryset: Postings, text: str, *, limit: int) -> Postings:
    """The open postings of ``queryset`` closest in meaning to ``text`` (any language), closest first."""
    side = "need" if queryset.model is Need else "offer"
    ids = open_postings_like(side, text, limit=limit)
    closeness = Case(
        *(When(pk=pk, then=Value(position)) for position, pk in enumerate(ids)),
        default=Value(len(ids)),
        output_field=IntegerField(),
    )
    return queryset.filter(pk__in=ids).annotate(closeness=closeness).order_by("closeness")


def posting_visibility(user: Reader, postings: list[Need | Offer]) -> tuple[set[int], set[int]]:
    """For postings of one kind: the ids whose owners' notes the user may read (their own, or all for the
    secretariat) and the ids whose contact details they may see (`permissions.can_view_contact`), in a
    fixed number of queries."""
    ids = [posting.pk for posting in postings]
    if not ids or not user.is_authenticated:
        return set(), set()
    if permissions.is_secretariat(user):
        return set(ids), set(ids)
    model = type(postings[0])
    owned = set(
        model.objects.filter(permissions.owner_filter(user, model), pk__in=ids).values_list("pk", flat=True)
    )
    field, other_field, other_model = ("need", "offer", Offer) if model is Need else ("offer", "need", Need)
    connected = Match.objects.filter(
        status__in=ACCEPTED_STATUSES,
        **{
            f"{field}_id__in": ids,
            f"{other_field}__in": other_model.objects.filter(permissions.owner_filter(user, other_model)),
        },
    ).values_list(f"{field}_id", flat=True)
    return owned, owned | set(connected)
