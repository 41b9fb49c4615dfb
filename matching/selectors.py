"""Reads for matching: postings as the engine sees them, nearest vectors, suggestions, weights."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, TypedDict

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
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
    Response,
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
    from django_stubs_ext import StrOrPromise, WithAnnotations

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
        "facet_labels": tuple(term.label_in(language) for term in (*subjects, *supports)),
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
    """Ids of the open postings of ``side`` whose vectors are closest (cosine) to ``vector``."""
    return [pk for pk, _similarity in nearest_scored(side, vector, model_version=model_version, limit=limit)]


def nearest_scored(
    side: str, vector: np.ndarray, *, model_version: str, limit: int
) -> list[tuple[int, float]]:
    """(id, cosine similarity) of the open postings of ``side`` whose vectors are closest to ``vector``.

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
        SELECT e.{field}_id, {column} <=> %s::vector AS distance FROM {embedding_model._meta.db_table} e
        JOIN {model._meta.db_table} p ON p.id = e.{field}_id
        WHERE e.model_version = %s AND e.dimensions = %s AND p.status = %s AND p.expires_on >= %s
        ORDER BY distance LIMIT %s
    """  # noqa: S608 -- table and column names are ours, every value is a parameter
    with transaction.atomic(), connection.cursor() as cursor:
        if use_index:
            # Filters are applied after the index walk: let pgvector keep walking until enough pass.
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cursor.execute("SET LOCAL hnsw.ef_search = %s", [settings.MATCHING_HNSW_EF_SEARCH])
        literal = Vector(np.asarray(vector, dtype=np.float32)).to_text()
        cursor.execute(
            query,
            [literal, model_version, len(vector), PostingStatus.PUBLISHED, timezone.localdate(), limit],
        )
        return [(pk, 1.0 - float(distance)) for pk, distance in cursor.fetchall()]


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


# What the match page shows of both postings, besides their posters (`_with_sides`).
_POSTINGS_SHOWN = [
    f"{side}__{field}" for side in ("need", "offer") for field in ("subjects", "support_types", "countries")
]


def access_match_page(*, user: Reader, pk: int) -> Match:
    """`access_match`, with both postings' subjects, support and countries and the outcome reports."""
    match = access_match(user=user, pk=pk)
    prefetch_related_objects([match], *_POSTINGS_SHOWN, "outcomes")
    return match


def matches_of(*, user: Reader) -> QuerySet[Match]:
    """Matches involving the user's postings, beyond the engine's private suggestions, newest first."""
    if not user.is_authenticated:
        return Match.objects.none()
    needs, offers = _owned(user)
    return _with_sides(
        Match.objects.filter(Q(need__in=needs) | Q(offer__in=offers)).exclude(
            status__in=(MatchStatus.SUGGESTED, MatchStatus.DISMISSED)
        )
    ).order_by("-created_at")


def _owned(user: Reader) -> tuple[QuerySet[Need], QuerySet[Offer]]:
    return (
        Need.objects.filter(permissions.owner_filter(user, Need)),
        Offer.objects.filter(permissions.owner_filter(user, Offer)),
    )


# --- Where a match stands for its reader --------------------------------------------------------------------

# Groups, in the order a reader's matches are listed: their move first, then the other side's, then the
# matches under way, then those that ended.
YOUR_MOVE, THEIR_MOVE, UNDER_WAY, ENDED = range(4)

# key → (group, words). The keys are stable (the API, the pages' styles); the words are the reader's.
STANDINGS: dict[str, tuple[int, StrOrPromise]] = {
    "your_answer": (YOUR_MOVE, _("Waiting for your answer")),
    "your_report": (YOUR_MOVE, _("Completed: waiting for your report on the outcome")),
    "their_answer": (THEIR_MOVE, _("Waiting for the other side's answer")),
    "both_answers": (THEIR_MOVE, _("Waiting for both sides' answers")),
    "one_answer": (THEIR_MOVE, _("Waiting for one side's answer")),
    "secretariat": (THEIR_MOVE, _("Waiting for the secretariat's introduction")),
    "connected": (UNDER_WAY, _("Both accepted: in touch")),
    "in_progress": (UNDER_WAY, _("Work in progress")),
    "completed": (ENDED, _("Completed")),
    "you_declined": (ENDED, _("You declined")),
    "they_declined": (ENDED, _("The other side declined")),
    "declined": (ENDED, _("Declined")),
    "closed": (ENDED, _("Closed")),
    "dismissed": (ENDED, _("Dismissed by the secretariat")),
}


@dataclass(frozen=True)
class Standing:
    """Where a match stands for one reader: whose move it is, in words."""

    key: str
    group: int
    label: StrOrPromise


def match_standing(match: Match, sides: Collection[str]) -> Standing:
    """The one place that says, from a match's state and the sides the reader answers for (none for the
    secretariat), whose move it is: the match page, my matches and the API all read it."""
    key = _standing_key(match, set(sides))
    group, label = STANDINGS[key]
    return Standing(key=key, group=group, label=label)


def _standing_key(match: Match, sides: set[str]) -> str:
    status = match.status
    pending = {side for side in ("need", "offer") if getattr(match, f"{side}_response") == Response.PENDING}
    if status == MatchStatus.SUGGESTED:
        return "secretariat"
    if status in (MatchStatus.REQUESTED, MatchStatus.INTRODUCED):
        if sides & pending:
            return "your_answer"
        if sides:
            return "their_answer"
        return "both_answers" if len(pending) == 2 else "one_answer"
    if status == MatchStatus.DECLINED:
        declined = {
            side for side in ("need", "offer") if getattr(match, f"{side}_response") == Response.DECLINED
        }
        if not sides:
            return "declined"
        return "you_declined" if sides & declined else "they_declined"
    if status == MatchStatus.COMPLETED:
        reported = {outcome.side for outcome in match.outcomes.all()}
        return "your_report" if sides - reported else "completed"
    # connected, in progress, closed and dismissed read as their status (the keys are the same)
    return str(status) if str(status) in STANDINGS else "dismissed"


@dataclass(frozen=True)
class ReaderMatch:
    """One of the reader's matches, with the sides they answer for and where it stands for them."""

    match: Match
    sides: frozenset[str]
    standing: Standing


def matches_for_reader(*, user: Reader) -> list[ReaderMatch]:
    """The reader's matches (`matches_of`) in the order they should deal with them: those waiting for the
    reader first, then those waiting for the other side, then those under way, then those that ended; the
    strongest first within each group. The reader's sides come from the same query."""
    if not user.is_authenticated:
        return []
    needs, offers = _owned(user)
    rows = matches_of(user=user).annotate(
        on_need_side=ExpressionWrapper(Q(need__in=needs), output_field=BooleanField()),
        on_offer_side=ExpressionWrapper(Q(offer__in=offers), output_field=BooleanField()),
    )
    result = []
    for match in rows.prefetch_related("outcomes"):
        sides = frozenset(
            side for side, mine in (("need", match.on_need_side), ("offer", match.on_offer_side)) if mine
        )
        result.append(ReaderMatch(match=match, sides=sides, standing=match_standing(match, sides)))
    result.sort(key=lambda row: (row.standing.group, -row.match.score, row.match.pk))
    return result


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


@dataclass(frozen=True)
class QueueSummary:
    """How many suggestions a queue holds, and since when the oldest of them has waited (None: empty)."""

    count: int
    oldest: datetime.datetime | None

    def oldest_days(self, now: datetime.datetime) -> int | None:
        return (now - self.oldest).days if self.oldest is not None else None


def match_queue_summary(queue: QuerySet[Match]) -> QueueSummary:
    """The size of a queue as `match_queue` answers it, and the oldest suggestion's time: a match waits
    from its `created_at` (a suggestion is made once; a re-score updates `scored_at` and leaves the wait
    as it was; a dismissed pair is never suggested again, and a stale suggestion is deleted)."""
    totals = Match.objects.filter(pk__in=queue.values("pk")).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    return QueueSummary(count=totals["count"], oldest=totals["oldest"])


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


# Which results of a search by meaning are "close" (shown first; the others behind "show more"): those within
# CLOSE_MARGIN of the best result or at least as near as unrelated texts come to each other (a near
# paraphrase must not hide the others), and never below CLOSE_FLOOR. In units of the model's own span from
# unrelated texts (0) to a translation (1), `Encoder.similarity_range`, so that they hold for another model:
# for multilingual-e5-small that span is cosine 0.838 -> 0.915, a unit 0.077 of cosine.
# Measured with e5-small (cosine of the query to each posting's vector):
# - evaluation set (seed_data/evaluation), the 102 needs' titles as queries against the 90 offers: within
#   0.03 of the best (0.4 unit) are 95 % of the offers judged relevant, 62 % of the partly relevant, and a
#   median of 13 offers per query (90th percentile 36); within 0.02: 88 %, median 6; 0.04: 98 %, median 29.
#   25 short queries (one to four words, three languages): best 0.820 to 0.882, 1 to 30 offers close
#   (median 9). Whole needs as queries (long texts sit nearer everything): 100 % of the relevant, median 37.
# - demo data (seed_data, 25 open offers and 28 open needs), 16 short queries ("douane", "invasive species",
#   "site web du CHM", "conocimientos tradicionales", ...): 1 to 14 close (median 2 to 3 per side). The
#   sentence "former les douaniers à repérer les espèces envahissantes aux frontières": 8 offers of 25
#   (without the unrelated level, the margin alone kept 1, the French paraphrase at 0.94, and hid an English
#   border-biosecurity course at 0.85: tests/integration/test_search_by_meaning.py).
# - the floor: queries about nothing here ("football scores", "qwerty", "wedding dress", "bitcoin price")
#   come no nearer than 0.77 to 0.80 on the demo data (0.81 to 0.82 at most on the evaluation set, e.g.
#   "recette de tarte aux pommes"), while every real query's best is 0.805 or more: cosine 0.80, half a
#   unit below the unrelated level, leaves nothing close for the first and keeps every real one.
CLOSE_MARGIN = 0.4
CLOSE_FLOOR = -0.5


def close_results(ranked: list[tuple[int, float]], similarity_range: tuple[float, float]) -> list[int]:
    """Ids of the close results among ``ranked`` (id, cosine), closest first: see CLOSE_MARGIN."""
    if not ranked:
        return []
    unrelated, translation = similarity_range
    unit = translation - unrelated
    best = max(similarity for _pk, similarity in ranked)
    cut = max(min(best - CLOSE_MARGIN * unit, unrelated), unrelated + CLOSE_FLOOR * unit)
    return [pk for pk, similarity in sorted(ranked, key=lambda row: -row[1]) if similarity >= cut]


def open_postings_like(side: str, text: str, *, limit: int) -> list[tuple[int, float]]:
    """(id, cosine) of the open postings of ``side`` closest in meaning to ``text`` (any language), closest
    first."""

    model = encoder()
    key = "query-vector:" + hashlib.sha256(f"{model.version}\n{text}".encode()).hexdigest()
    vector = cache.get(key)
    if vector is None:
        vector = model.encode([text])[0]
        cache.set(key, vector, settings.QUERY_VECTOR_CACHE_SECONDS)
    return nearest_scored(side, vector, model_version=model.version, limit=limit)


@dataclass(frozen=True)
class MeaningResults:
    """A search by meaning: ``postings`` closest first, the close ones only or, with ``more``, every one
    (each annotated ``is_close``); how many are close, and how many there are in all."""

    postings: Postings
    close: int
    total: int

    @property
    def farther(self) -> int:
        return self.total - self.close


def closest_in_meaning(queryset: Postings, text: str, *, limit: int, more: bool = False) -> MeaningResults:
    """The open postings of ``queryset`` closest in meaning to ``text`` (any language), closest first: the
    close ones (within CLOSE_MARGIN of the best of ``queryset``), or every one of the ``limit`` nearest
    with ``more``."""
    side = "need" if queryset.model is Need else "offer"
    scored = open_postings_like(side, text, limit=limit)
    kept = set(queryset.filter(pk__in=[pk for pk, _ in scored]).values_list("pk", flat=True))
    ranked = sorted(((pk, similarity) for pk, similarity in scored if pk in kept), key=lambda row: -row[1])
    close = close_results(ranked, encoder().similarity_range)
    ids = [pk for pk, _ in ranked] if more else close
    closeness = Case(
        *(When(pk=pk, then=Value(position)) for position, pk in enumerate(ids)),
        default=Value(len(ids)),
        output_field=IntegerField(),
    )
    is_close = Case(When(pk__in=close, then=Value(True)), default=Value(False), output_field=BooleanField())
    postings = (
        queryset.filter(pk__in=ids).annotate(closeness=closeness, is_close=is_close).order_by("closeness")
    )
    return MeaningResults(postings=postings, close=len(close), total=len(ranked))


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
