"""Reads of the mentoring programme: mentors and their places, open requests, who answers for each side,
pairings one may follow, and the engine's suitability of every mentor for every request."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

import numpy as np
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from numpy.typing import NDArray

from marketplace import permissions
from marketplace import selectors as marketplace_selectors
from marketplace.models import User
from matching.encoder import encoder
from matching.engine import mentoring as engine

from .models import (
    LIVE_PAIRING_STATUSES,
    Mentor,
    MentoringPairing,
    MentoringRequest,
    PairingStatus,
    RequestStatus,
)


class PlacesTaken(TypedDict):
    """What `mentors_with_places` adds to each mentor."""

    places_taken: int


if TYPE_CHECKING:  # the stubs' annotated model (django_stubs_ext is a type-checking aid, not a dependency)
    from django_stubs_ext import WithAnnotations

    MentorWithPlaces: TypeAlias = WithAnnotations[Mentor, PlacesTaken]

# --- Reads --------------------------------------------------------------------------------------------------


def mentors_with_places() -> "QuerySet[MentorWithPlaces]":
    """Active mentors, each annotated with ``places_taken`` (proposed and active pairings)."""
    return (
        Mentor.objects.filter(is_active=True)
        .select_related("party", "organization__country", "expert__user")
        .annotate(places_taken=Count("pairings", filter=Q(pairings__status__in=LIVE_PAIRING_STATUSES)))
        .order_by("pk")
    )


def open_requests() -> QuerySet[MentoringRequest]:
    return MentoringRequest.objects.filter(status=RequestStatus.OPEN).select_related("party")


def requests_of(*, user: User | AnonymousUser) -> QuerySet[MentoringRequest]:
    """The mentoring requests of the Parties the user is focal point for."""
    parties = marketplace_selectors.focal_point_parties(user=user)
    return MentoringRequest.objects.filter(party__in=parties).select_related("party").order_by("pk")


def mentor_owners(mentor: Mentor) -> QuerySet[User]:
    """Who answers for a mentor: the Party's focal points, the organization's members, or the expert."""
    if mentor.party_id:
        who = Q(focal_points__party_id=mentor.party_id)
    elif mentor.organization_id:
        who = Q(memberships__organization_id=mentor.organization_id)
    else:
        who = Q(expert_profile__pk=mentor.expert_id)
    return User.objects.filter(who, is_active=True).distinct()


def mentee_owners(request: MentoringRequest) -> QuerySet[User]:
    return User.objects.filter(focal_points__party_id=request.party_id, is_active=True).distinct()


def can_follow_pairing(user: User, pairing: MentoringPairing) -> bool:
    """The mentor's people, the mentee's focal points and the secretariat follow a pairing."""
    return (
        permissions.is_secretariat(user)
        or mentor_owners(pairing.mentor).filter(pk=user.pk).exists()
        or permissions.is_focal_point_for(user, pairing.request.party)
    )


def access_pairing(*, user: User | AnonymousUser, pk: int) -> MentoringPairing:
    """A pairing its two sides and the secretariat follow; 404 for everyone else, and for the sides while it
    is only proposed in a draft cohort (the secretariat may still change it)."""
    pairing = (
        MentoringPairing.objects.select_related("mentor", "request__party", "cohort").filter(pk=pk).first()
    )
    if pairing is None or not user.is_authenticated or not can_follow_pairing(user, pairing):
        raise Http404
    if pairing.status == PairingStatus.PROPOSED and not permissions.is_secretariat(user):
        raise Http404
    return pairing


def pairings_of(*, user: User | AnonymousUser) -> QuerySet[MentoringPairing]:
    if not user.is_authenticated:
        return MentoringPairing.objects.none()
    mine = (
        Q(mentor__party__focal_points__user=user)
        | Q(mentor__organization__memberships__user=user)
        | Q(mentor__expert__user=user)
        | Q(request__party__focal_points__user=user)
    )
    return (
        MentoringPairing.objects.filter(pk__in=MentoringPairing.objects.filter(mine).values("pk"))
        .exclude(status=PairingStatus.PROPOSED)
        .select_related("mentor__party", "mentor__organization", "mentor__expert__user", "request__party")
    )


@dataclass(frozen=True)
class Candidate:
    mentor: Mentor
    score: float
    reasons: dict[str, Any]  # the engine's (matching.engine.mentoring.suitability)
    places_left: int


def _engine_mentor(mentor: Mentor) -> engine.Mentor:
    home = mentor.party or (mentor.organization.country if mentor.organization else None)
    return engine.Mentor(
        id=str(mentor.pk),
        forms=frozenset(mentor.forms),
        languages=frozenset(mentor.languages),
        region=home.region if home else None,
        country=home.code if home else None,
    )


def _engine_mentee(request: MentoringRequest) -> engine.Mentee:
    return engine.Mentee(
        id=str(request.pk),
        country=request.party.code,
        forms=frozenset(request.forms),
        languages=frozenset(request.languages),
        region=request.party.region,
    )


def suitability_matrix(
    requests: Sequence[MentoringRequest], mentors: Sequence[Mentor]
) -> tuple[NDArray[np.float64], list[list[dict[str, Any]]]]:
    """Suitability of every mentor for every request (rows), with reasons. The semantic part compares the
    mentor's experience with the mentee's goals through the matching engine's model, across languages."""
    scores = np.zeros((len(requests), len(mentors)))
    reasons: list[list[dict[str, Any]]] = [[{} for _mentor in mentors] for _request in requests]
    if not requests or not mentors:
        return scores, reasons
    model = encoder()
    goals = model.encode([request.goals for request in requests])
    experience = model.encode([mentor.description for mentor in mentors])
    semantic = model.calibrate(goals @ experience.T)
    for row, request in enumerate(requests):
        mentee = _engine_mentee(request)
        for column, mentor in enumerate(mentors):
            scores[row, column], reasons[row][column] = engine.suitability(
                _engine_mentor(mentor), mentee, semantic=float(semantic[row, column])
            )
    return scores, reasons


def mentor_candidates_for(requests: Sequence[MentoringRequest], *, limit: int = 5) -> list[list[Candidate]]:
    """For each mentee, the engine's best mentors among those with a place left (one matrix for all)."""
    mentors = [m for m in mentors_with_places() if m.places_taken < m.capacity]
    scores, reasons = suitability_matrix(requests, mentors)

    def candidate(row: int, column: int) -> Candidate:
        mentor = mentors[column]
        places_left = mentor.capacity - mentor.places_taken
        return Candidate(mentor, float(scores[row, column]), reasons[row][column], places_left)

    def best(row: int) -> list[int]:
        return sorted(range(len(mentors)), key=lambda column: -scores[row, column])[:limit]

    return [[candidate(row, c) for c in best(row) if scores[row, c] > 0] for row in range(len(requests))]


def mentor_candidates(request: MentoringRequest, *, limit: int = 5) -> list[Candidate]:
    return mentor_candidates_for([request], limit=limit)[0]
