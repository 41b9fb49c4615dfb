"""The mentoring programme through the API: declare a mentor, ask for a mentor, the secretariat's cohorts
(propose the optimal assignment, edit it within capacities, confirm) and the actions on a pairing. Every
write is the service the pages call (`mentoring.services`); its permission checks and messages apply."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from marketplace import permissions
from mentoring import selectors as mentoring_selectors
from mentoring import services as mentoring_services
from mentoring.models import (
    Mentor,
    MentoringCohort,
    MentoringMilestone,
    MentoringPairing,
    MentoringRequest,
)

from . import mentoring_serializers as ms
from . import serializers as s
from .views import ID, IsSecretariat, _valid, signed_in

if TYPE_CHECKING:  # the stubs' protocol of what a view's permissions answer
    from rest_framework.permissions import _SupportsHasPermission

MENTOR_EXAMPLE = OpenApiExample(
    "A Party offers to mentor",
    request_only=True,
    value={
        "party": "BE",
        "forms": ["hosting", "training"],
        "languages": ["fr", "en"],
        "capacity": 2,
        "description": "We have hosted eleven national clearing-house sites for twenty years.",
    },
)
REQUEST_EXAMPLE = OpenApiExample(
    "A Party asks for a mentor",
    request_only=True,
    value={
        "party": "TD",
        "forms": ["hosting", "training"],
        "languages": ["fr"],
        "goals": "Our clearing-house site is down; we need hosting and training.",
    },
)
PROPOSE_EXAMPLE = OpenApiExample(
    "Propose a cohort", request_only=True, value={"name": "Francophone cohort 2027", "requests": [3, 4, 5]}
)
ASSIGN_EXAMPLE = OpenApiExample(
    "Give request 5 mentor 2", request_only=True, value={"request": 5, "mentor": 2}
)
PAIR_EXAMPLE = OpenApiExample("Pair with mentor 2", request_only=True, value={"mentor": 2})
GOALS_EXAMPLE = OpenApiExample(
    "Shared goals", request_only=True, value={"goals": "Site migrated and two webmasters trained by June."}
)
END_EXAMPLE = OpenApiExample(
    "The pairing reached its goals", request_only=True, value={"status": "completed"}
)


class MentorViewSet(viewsets.GenericViewSet):
    """Mentors: anyone who answers for a Party, an organization or themselves declares one (POST); the
    secretariat lists them all with their places taken."""

    serializer_class = ms.MentorSerializer
    filter_backends = []
    pagination_class = None

    def get_permissions(self) -> Sequence["_SupportsHasPermission"]:
        if self.action == "list":
            return [IsSecretariat()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Mentor]:
        return mentoring_selectors.mentors_with_places()

    @extend_schema(responses=ms.MentorSerializer(many=True))
    def list(self, request: Request) -> Response:
        """Active mentors with their capacity and places taken (secretariat)."""
        return Response(ms.MentorSerializer(self.get_queryset(), many=True).data)

    @extend_schema(
        request=ms.MentorDeclareSerializer,
        responses={201: ms.MentorSerializer},
        examples=[MENTOR_EXAMPLE],
    )
    def create(self, request: Request) -> Response:
        """Declare (or update) a mentor: forms of support, languages, capacity, experience."""
        data = _valid(request, ms.MentorDeclareSerializer)
        identity: dict[str, Any] = {key: data.pop(key) for key in ("party", "organization") if key in data}
        if data.pop("as_expert"):
            identity["as_expert"] = True
        mentor = mentoring_services.mentor_save(user=signed_in(request), data=data, **identity)
        mentor = self.get_queryset().get(pk=mentor.pk)
        return Response(ms.MentorSerializer(mentor).data, status.HTTP_201_CREATED)


class MentoringRequestViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Mentoring requests: a focal point asks for a mentor for their Party; they see their Parties'
    requests, the secretariat sees the open ones (and pairs one with a mentor directly)."""

    serializer_class = ms.MentoringRequestSerializer
    filter_backends = []
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[MentoringRequest]:
        user = self.request.user
        if permissions.is_secretariat(user):
            return mentoring_selectors.open_requests().order_by("pk")
        return mentoring_selectors.requests_of(user=user)

    @extend_schema(
        request=ms.MentoringRequestCreateSerializer,
        responses={201: ms.MentoringRequestSerializer},
        examples=[REQUEST_EXAMPLE],
    )
    def create(self, request: Request) -> Response:
        """Ask for a mentor for your Party (its focal points)."""
        data = _valid(request, ms.MentoringRequestCreateSerializer)
        created = mentoring_services.mentoring_request_create(
            user=signed_in(request), party=data.pop("party"), data=data
        )
        return Response(ms.MentoringRequestSerializer(created).data, status.HTTP_201_CREATED)

    @extend_schema(
        request=ms.PairRequestSerializer, responses={201: s.PairingSerializer}, examples=[PAIR_EXAMPLE]
    )
    @action(detail=True, methods=["post"], permission_classes=[IsSecretariat])
    def pair(self, request: Request, pk: str | None = None) -> Response:
        """Pair this open request with one mentor, confirmed at once; both sides are told (secretariat)."""
        mentoring_request = get_object_or_404(MentoringRequest, pk=pk)
        data = _valid(request, ms.PairRequestSerializer)
        pairing = mentoring_services.pairing_create(
            user=signed_in(request), request=mentoring_request, mentor=data["mentor"]
        )
        pairing = mentoring_selectors.access_pairing(user=request.user, pk=pairing.pk)
        return Response(s.PairingSerializer(pairing).data, status.HTTP_201_CREATED)


class CohortViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The secretariat's cohorts: propose the assignment that maximises total suitability within every
    mentor's places, edit it, confirm it (then both sides of each pairing are told)."""

    serializer_class = ms.CohortSerializer
    permission_classes = [IsSecretariat]
    filter_backends = []
    lookup_value_regex = ID
    queryset = MentoringCohort.objects.order_by("-created_at", "-pk")

    def _read(self, cohort: MentoringCohort, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(ms.CohortSerializer(MentoringCohort.objects.get(pk=cohort.pk)).data, status_code)

    @extend_schema(
        request=ms.CohortProposeSerializer, responses={201: ms.CohortSerializer}, examples=[PROPOSE_EXAMPLE]
    )
    def create(self, request: Request) -> Response:
        """Propose mentors for a cohort of open requests (nothing is confirmed yet)."""
        data = _valid(request, ms.CohortProposeSerializer)
        cohort = mentoring_services.cohort_propose(
            user=signed_in(request), name=data["name"], requests=data["requests"]
        )
        return self._read(cohort, status.HTTP_201_CREATED)

    @extend_schema(
        request=ms.CohortAssignSerializer, responses=ms.CohortSerializer, examples=[ASSIGN_EXAMPLE]
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Change a request's mentor in the draft cohort, within the new mentor's places (null: unpaired)."""
        cohort = self.get_object()
        data = _valid(request, ms.CohortAssignSerializer)
        mentoring_services.cohort_assign(
            user=signed_in(request), cohort=cohort, request=data["request"], mentor=data["mentor"]
        )
        return self._read(cohort)

    @extend_schema(request=None, responses=ms.CohortSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """Confirm the cohort: its pairings become active and both sides of each are told, once."""
        cohort = mentoring_services.cohort_confirm(user=signed_in(request), cohort=self.get_object())
        return self._read(cohort)


class PairingActionViewSet(viewsets.GenericViewSet):
    """Actions on a pairing you follow (either side or the secretariat), beside /mentoring/pairings/{id}/;
    others get 404."""

    serializer_class = s.PairingSerializer
    filter_backends = []
    lookup_value_regex = ID

    def get_object(self) -> MentoringPairing:
        return mentoring_selectors.access_pairing(user=self.request.user, pk=self.kwargs["pk"])

    def _read(self, pairing: MentoringPairing) -> Response:
        return Response(
            s.PairingSerializer(
                mentoring_selectors.access_pairing(user=self.request.user, pk=pairing.pk)
            ).data
        )

    @extend_schema(request=ms.GoalsSerializer, responses=s.PairingSerializer, examples=[GOALS_EXAMPLE])
    @action(detail=True, methods=["put"])
    def goals(self, request: Request, pk: str | None = None) -> Response:
        """Rewrite the pairing's shared goals."""
        pairing = self.get_object()
        data = _valid(request, ms.GoalsSerializer)
        return self._read(
            mentoring_services.pairing_goals_save(user=signed_in(request), pairing=pairing, **data)
        )

    @extend_schema(request=None, responses=s.MilestoneSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"milestones/(?P<milestone>{ID})/done",
        url_name="milestone-done",
    )
    def milestone_done(
        self, request: Request, pk: str | None = None, milestone: str | None = None
    ) -> Response:
        """Mark a milestone of the pairing as done (today)."""
        pairing = self.get_object()
        done = get_object_or_404(MentoringMilestone, pk=milestone, pairing=pairing)
        return Response(
            s.MilestoneSerializer(
                mentoring_services.milestone_done(user=signed_in(request), milestone=done)
            ).data
        )

    @extend_schema(request=ms.PairingEndSerializer, responses=s.PairingSerializer, examples=[END_EXAMPLE])
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        """End the active pairing: completed, or cancelled."""
        pairing = self.get_object()
        data = _valid(request, ms.PairingEndSerializer)
        return self._read(mentoring_services.pairing_end(user=signed_in(request), pairing=pairing, **data))
