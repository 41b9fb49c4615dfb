"""The API's endpoints. Every view reads through selectors and writes through services; the services check
permissions and rules and raise Django's exceptions, which `api.errors` turns into the one error shape.

Deny by default: the project-wide permission is "signed in"; the few open endpoints say so.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from config.public_cache import PublicAnswersCached, public_api
from marketplace import imports, permissions, selectors, services
from marketplace.models import ApiToken, ExpertProfile, Need, Offer, Party, Scheme, Term, User
from matching import selectors as match_selectors
from matching import services as match_services
from matching.models import Match
from mentoring import selectors as mentoring_selectors
from mentoring import services as mentoring_services
from mentoring.models import MentoringPairing
from notifications import outbox
from notifications import selectors as notification_selectors
from notifications.models import Notification

from . import filters, open_formats
from . import serializers as s
from .parsers import JSONParser, MultiPartParser

if TYPE_CHECKING:  # the stubs' protocol of what a view's permissions answer
    from rest_framework.permissions import _SupportsHasPermission

# Ids in URLs: digits only, within PostgreSQL's bigint; anything else is a 404 before any query.
ID = "[0-9]{1,18}"


def signed_in(request: Request) -> User:
    """The caller where only the signed-in get through (the project-wide IsAuthenticated, IsSecretariat, or
    a write under IsAuthenticatedOrReadOnly): a User, never AnonymousUser. The permissions check it."""
    return cast(User, request.user)


def _valid(request: Request, serializer_class: type[BaseSerializer], **kwargs: Any) -> dict[str, Any]:
    """The request body, checked by the serializer (400 with field messages otherwise)."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class IsSecretariat(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return permissions.is_secretariat(request.user)


class SignedInWithSession(BasePermission):
    """A signed-in session, not a token: a leaked token must not be able to mint tokens that outlive it."""

    message = gettext_lazy("Create tokens while signed in on the site (a token cannot create tokens).")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user.is_authenticated and request.auth is None)


# --- Reference data ---------------------------------------------------------------------------------------


class TermList(PublicAnswersCached, generics.ListAPIView):
    """The controlled vocabulary (CBD subjects, GBF goals and targets, types of support)."""

    permission_classes = [AllowAny]
    serializer_class = s.TermSerializer

    def get_queryset(self) -> QuerySet[Term]:
        scheme = self.request.query_params.get("scheme")
        if scheme in Scheme.values:
            return selectors.terms(scheme=scheme)
        return Term.objects.filter(is_active=True).order_by("scheme", "position")


class TermDetail(PublicAnswersCached, generics.RetrieveAPIView):
    """One vocabulary term: the URI the JSON-LD export gives it."""

    permission_classes = [AllowAny]
    serializer_class = s.TermSerializer

    def get_object(self) -> Term:
        return get_object_or_404(Term, scheme=self.kwargs["scheme"], code=self.kwargs["code"])


class PartyList(PublicAnswersCached, generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = s.PartySerializer
    filterset_class = filters.PartyFilter

    def get_queryset(self) -> QuerySet[Party]:
        return selectors.parties()


class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    """Organizations that post needs and offers (public): those the secretariat has approved."""

    lookup_value_regex = ID
    permission_classes = [AllowAny]
    serializer_class = s.OrganizationSerializer
    filterset_class = filters.OrganizationFilter
    queryset = selectors.organizations_public()


class ExpertViewSet(viewsets.ReadOnlyModelViewSet):
    """Experts' public profiles, for signed-in users; never their e-mail address."""

    lookup_value_regex = ID
    serializer_class = s.ExpertSerializer
    queryset = (
        ExpertProfile.objects.filter(user__is_active=True)
        .select_related("user")
        .prefetch_related("subjects", "countries")
        .order_by("user__name", "pk")
    )


class Me(generics.GenericAPIView):
    """The caller's account and roles."""

    serializer_class = s.MeSerializer

    def get(self, request: Request) -> Response:
        user = signed_in(request)
        return Response(
            s.MeSerializer(
                {
                    "email": user.email,
                    "name": user.name,
                    "preferred_language": user.preferred_language,
                    "is_secretariat": permissions.is_secretariat(user),
                    "is_expert": permissions.is_expert(user),
                    "focal_point_for": [p.code for p in selectors.focal_point_parties(user=user)],
                    "organizations": [o.name for o in selectors.organizations_of(user=user)],
                }
            ).data
        )


# --- Postings ---------------------------------------------------------------------------------------------


def _secretariat_only(request: Request) -> None:
    permissions.require_secretariat(request.user, "")


class PostingViewSet(
    PublicAnswersCached,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Published postings for everyone; drafts, submitted and closed ones for their owners and the
    secretariat. Anyone signed in may post for a Party they are focal point of, an organization they belong
    to, or themselves as an expert."""

    kind: str
    model: type[Need] | type[Offer]
    # the subclass's (read, create, update) serializers
    serializers: tuple[
        type[s.PostingSerializer], type[s.PostingWriteSerializer], type[s.PostingWriteSerializer]
    ]
    permission_classes = [IsAuthenticatedOrReadOnly]
    lookup_value_regex = ID
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["published_at", "expires_on", "created_at", "updated_at", "title"]

    def get_queryset(self) -> QuerySet[Need] | QuerySet[Offer]:
        return selectors.postings_visible_to(user=self.request.user, model=self.model)

    def get_object(self) -> Need | Offer:
        return selectors.access_posting(user=self.request.user, kind=self.kind, pk=self.kwargs["pk"])

    def _read(self, posting: Need | Offer, status_code: int = status.HTTP_200_OK) -> Response:
        posting = self.get_queryset().get(pk=posting.pk)
        return Response(self.serializers[0](posting, context=self.get_serializer_context()).data, status_code)

    def get_serializer_class(self) -> type[BaseSerializer]:
        read, create, update = self.serializers
        return {"create": create, "partial_update": update}.get(self.action, read)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(request, self.serializers[1])
        poster = {key: data.pop(key) for key in ("party", "organization", "as_expert") if key in data}
        create = services.need_create if self.kind == "need" else services.offer_create
        return self._read(create(user=signed_in(request), data=data, **poster), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        posting = self.get_object()
        data = _valid(request, self.serializers[2], partial=True)
        return self._read(services.posting_update(user=signed_in(request), posting=posting, data=data))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Send a draft to the secretariat for validation (owners)."""
        return self._read(services.posting_submit(user=signed_in(request), posting=self.get_object()))

    @extend_schema(request=s.CloseSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close a posting: fulfilled or withdrawn (owners)."""
        posting = self.get_object()
        data = _valid(request, s.CloseSerializer)
        return self._read(
            services.posting_close(user=signed_in(request), posting=posting, reason=data["reason"])
        )

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], permission_classes=[IsSecretariat])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Publish a submitted posting (secretariat)."""
        return self._read(services.posting_approve(user=signed_in(request), posting=self.get_object()))

    @extend_schema(request=s.MessageSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes", permission_classes=[IsSecretariat])
    def request_changes(self, request: Request, pk: str | None = None) -> Response:
        """Send a submitted posting back to its owners with a message (secretariat)."""
        posting = self.get_object()
        data = _valid(request, s.MessageSerializer)
        return self._read(services.posting_request_changes(user=signed_in(request), posting=posting, **data))

    @extend_schema(request=s.MessageSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsSecretariat])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Refuse a submitted posting, with the reason (secretariat)."""
        posting = self.get_object()
        data = _valid(request, s.MessageSerializer)
        return self._read(services.posting_reject(user=signed_in(request), posting=posting, **data))

    @extend_schema(responses=s.SuggestionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None, filter_backends=[])
    def suggestions(self, request: Request, pk: str | None = None) -> Response:
        """The best open matches on the other side, each with its reasons in the reader's language."""
        suggestions = match_selectors.suggestions_for_reader(self.get_object(), user=request.user)
        return Response(
            s.SuggestionSerializer(
                [
                    {
                        "posting": {
                            "id": item.other.pk,
                            "title": item.other.title,
                            "poster": s.poster_of(item.other),
                        },
                        "score": item.score,
                        "reasons": item.reasons,
                        "match": item.match.pk if item.match else None,
                    }
                    for item in suggestions
                ],
                many=True,
            ).data
        )

    @extend_schema(request=s.InterestSerializer, responses={201: s.MatchDetailSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def interest(self, request: Request, pk: str | None = None) -> Response:
        """Express interest in this posting with one of your own published postings of the other kind."""
        posting = self.get_object()
        data = _valid(request, s.InterestSerializer)
        own = (
            selectors.postings_to_answer_with(user=request.user, posting=posting)
            .filter(pk=data["posting"])
            .first()
        )
        if own is None:
            raise ValidationError({"posting": [_("Choose one of your own postings.")]})
        match = match_services.match_express_interest(
            user=signed_in(request), own=own, other_posting=posting, message=data.get("message", "")
        )
        return _match_response(request, match, status.HTTP_201_CREATED)


@extend_schema_view(
    create=extend_schema(request=s.NeedCreateSerializer, responses={201: s.NeedSerializer}),
    partial_update=extend_schema(request=s.NeedWriteSerializer, responses=s.NeedSerializer),
)
class NeedViewSet(PostingViewSet):
    kind, model = "need", Need
    serializers = (s.NeedSerializer, s.NeedCreateSerializer, s.NeedWriteSerializer)
    filterset_class = filters.NeedFilter


@extend_schema_view(
    create=extend_schema(request=s.OfferCreateSerializer, responses={201: s.OfferSerializer}),
    partial_update=extend_schema(request=s.OfferWriteSerializer, responses=s.OfferSerializer),
)
class OfferViewSet(PostingViewSet):
    kind, model = "offer", Offer
    serializers = (s.OfferSerializer, s.OfferCreateSerializer, s.OfferWriteSerializer)
    filterset_class = filters.OfferFilter


# --- Open formats -----------------------------------------------------------------------------------------


class OpenDataView(generics.ListAPIView):
    """Every published posting of a kind, in an open format; the catalogue's filters apply."""

    permission_classes = [AllowAny]
    authentication_classes = []  # open to everyone: a stale token sent along changes nothing
    pagination_class = None
    filter_backends = [DjangoFilterBackend]
    kind = "need"

    def get_queryset(self) -> QuerySet[Need] | QuerySet[Offer]:
        return selectors.published_postings(model=Need if self.kind == "need" else Offer).order_by("pk")

    @property
    def filterset_class(self) -> type[filters.PostingFilter]:
        return filters.NeedFilter if self.kind == "need" else filters.OfferFilter

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        if response.status_code >= 400:  # errors keep the API's JSON shape
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


class OpenDataCSV(OpenDataView):
    renderer_classes = [open_formats.CSVRenderer]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @public_api
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(open_formats.as_csv(self.filter_queryset(self.get_queryset()), self.kind))


class OpenDataJSONLD(OpenDataView):
    renderer_classes = [open_formats.JSONLDRenderer]

    @extend_schema(responses={(200, "application/ld+json"): OpenApiTypes.OBJECT})
    @public_api
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(open_formats.as_jsonld(self.filter_queryset(self.get_queryset())))


class Import(generics.GenericAPIView):
    """Import needs or offers from CSV or JSON Lines: a dry run reports every row's errors; a real run
    imports every row or, if any row fails, none (400 with each row's errors)."""

    serializer_class = s.ImportSerializer
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(responses={200: s.ImportReportSerializer, 201: s.ImportReportSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(request, s.ImportSerializer)
        text = data["content"] if "content" in data else _decoded(data["file"])
        report = imports.postings_import(
            user=signed_in(request),
            kind=data["kind"],
            rows=imports.parse_rows(file_format=data["format"], text=text),
            dry_run=data["dry_run"],
            status=data["status"],
        )
        if not report.dry_run and not report.valid:
            raise _row_errors(report)
        body = s.ImportReportSerializer(
            {
                "dry_run": report.dry_run,
                "rows": report.rows,
                "valid": report.valid,
                "imported": report.imported,
                "errors": report.errors,
            }
        ).data
        return Response(body, status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED)


def _decoded(upload: UploadedFile) -> str:
    try:
        return upload.read().decode("utf-8")
    except UnicodeDecodeError as error:
        raise DjangoValidationError({"file": [_("The file must be UTF-8 text.")]}) from error


def _row_errors(report: imports.ImportReport) -> ValidationError:
    return ValidationError({"rows": {str(row["row"]): row["errors"] for row in report.errors}})


# --- Matches ----------------------------------------------------------------------------------------------


def _match_response(request: Request, match: Match, status_code: int = status.HTTP_200_OK) -> Response:
    match = match_selectors.access_match(user=request.user, pk=match.pk)
    return Response(s.MatchDetailSerializer(match, context={"request": request}).data, status_code)


MATCH_ACTIONS: dict[str, tuple[type[BaseSerializer] | None, Callable[..., object]]] = {
    # action → (request body, service)
    "accept": (s.AcceptSerializer, match_services.match_accept),
    "decline": (s.DeclineSerializer, match_services.match_decline),
    "start": (None, match_services.match_start),
    "report_outcome": (s.ReportOutcomeSerializer, match_services.match_report_outcome),
    "close": (s.MatchCloseSerializer, match_services.match_close),
    "introduce": (None, match_services.match_introduce),
    "dismiss": (None, match_services.match_dismiss),
}


def _match_action(name: str, summary: str) -> Any:
    """One of MatchViewSet's actions (DRF's `action`, as the decorator makes it)."""
    body, service = MATCH_ACTIONS[name]

    @extend_schema(request=body, responses=s.MatchDetailSerializer, summary=summary)
    def act(self: "MatchViewSet", request: Request, pk: str | None = None) -> Response:
        match = match_selectors.access_match(user=request.user, pk=self.kwargs["pk"])
        data = _valid(request, body) if body else {}
        service(user=signed_in(request), match=match, **data)
        return _match_response(request, match)

    act.__name__ = name
    return action(detail=True, methods=["post"], url_path=name.replace("_", "-"))(act)


class MatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Matches involving your postings (the secretariat also opens any match by its id; its queue is
    /queue/matches/). Others get 404."""

    filterset_class = filters.MatchFilter
    ordering_fields = ["created_at", "score"]
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[Match]:
        return match_selectors.matches_of(user=self.request.user)

    def get_object(self) -> Match:
        return match_selectors.access_match(user=self.request.user, pk=self.kwargs["pk"])

    def get_serializer_class(self) -> type[s.MatchSerializer]:
        return s.MatchSerializer if self.action == "list" else s.MatchDetailSerializer

    @extend_schema(request=s.MatchCreateSerializer, responses={201: s.MatchDetailSerializer})
    def create(self, request: Request) -> Response:
        """Pair a need with an offer by hand; it is introduced at once (secretariat)."""
        _secretariat_only(request)
        data = _valid(request, s.MatchCreateSerializer)
        # access_posting answers a posting of the kind asked for
        need = cast(Need, selectors.access_posting(user=request.user, kind="need", pk=data["need"]))
        offer = cast(Offer, selectors.access_posting(user=request.user, kind="offer", pk=data["offer"]))
        return _match_response(
            request, match_services.match_create(user=signed_in(request), need=need, offer=offer), 201
        )

    accept = _match_action("accept", "Accept the match, with a message for the other side (a side)")
    decline = _match_action("decline", "Decline the match, with a reason (a side)")
    start = _match_action("start", "Start the work of a connected match (a side)")
    report_outcome = _match_action("report_outcome", "Report how it went (a side)")
    close = _match_action("close", "Close the match, with a reason (a side or the secretariat)")
    introduce = _match_action("introduce", "Introduce a suggested match to both sides (secretariat)")
    dismiss = _match_action("dismiss", "Dismiss a match (secretariat)")

    @extend_schema(methods=["get"], responses=s.NoteSerializer(many=True))
    @extend_schema(methods=["post"], request=s.NoteSerializer, responses={201: s.NoteSerializer})
    @action(detail=True, methods=["get", "post"], permission_classes=[IsSecretariat], pagination_class=None)
    def notes(self, request: Request, pk: str | None = None) -> Response:
        """The curators' internal notes on a match (secretariat only; never shown to the sides)."""
        match = match_selectors.access_match(user=request.user, pk=self.kwargs["pk"])
        if request.method == "POST":
            note = match_services.match_note_add(
                user=signed_in(request), match=match, **_valid(request, s.NoteSerializer)
            )
            return Response(s.NoteSerializer(note).data, status.HTTP_201_CREATED)
        return Response(s.NoteSerializer(match.notes.select_related("author"), many=True).data)


# --- The secretariat's queues -----------------------------------------------------------------------------


class PostingQueue(generics.ListAPIView):
    """Postings waiting for validation, oldest first (secretariat)."""

    permission_classes = [IsSecretariat]
    serializer_class = s.QueuedPostingSerializer
    pagination_class = None
    filter_backends = []

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = [
            {
                "kind": kind,
                "id": posting.pk,
                "title": posting.title,
                "poster": s.poster_of(posting),
                "language": posting.language,
                "submitted_at": posting.submitted_at,
            }
            for kind, model in (("need", Need), ("offer", Offer))
            for posting in selectors.validation_queue(model=model)
        ]
        rows.sort(key=lambda row: cast(datetime, row["submitted_at"]))  # set when a posting is submitted
        return Response(s.QueuedPostingSerializer(rows, many=True).data)


class MatchQueue(generics.ListAPIView):
    """Pairs waiting for a curator's decision, best first, with filters (secretariat)."""

    permission_classes = [IsSecretariat]
    serializer_class = s.MatchSerializer
    filterset_class = filters.MatchQueueFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Match]:
        return match_selectors.match_queue(filters=match_selectors.QueueFilters())


class MatchBulkCuration(generics.GenericAPIView):
    """Introduce or dismiss many suggested matches at once; reports how many were done and skipped."""

    permission_classes = [IsSecretariat]
    serializer_class = s.BulkCurationSerializer

    @extend_schema(responses=s.BulkResultSerializer)
    def post(self, request: Request) -> Response:
        data = _valid(request, s.BulkCurationSerializer)
        done, skipped = match_services.matches_curate_bulk(
            user=signed_in(request),
            match_ids=data["matches"],
            action=data["action"],
        )
        return Response({"done": done, "skipped": skipped})


# --- Notifications ----------------------------------------------------------------------------------------


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your notifications, newest first, in your language."""

    serializer_class = s.NotificationSerializer
    filter_backends = []

    def get_queryset(self) -> QuerySet[Notification]:
        queryset = notification_selectors.notifications_of(user=self.request.user)
        if self.request.query_params.get("unread") in ("true", "1"):
            queryset = queryset.filter(read_at__isnull=True)
        return queryset

    @extend_schema(request=s.MarkReadSerializer, responses=s.MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request: Request) -> Response:
        data = _valid(request, s.MarkReadSerializer)
        marked = outbox.notifications_mark_read(user=signed_in(request), ids=data.get("ids"))
        return Response({"marked": marked})


class NotificationPreferences(generics.GenericAPIView):
    """How often each kind of notification is e-mailed: instant, daily, weekly or off."""

    serializer_class = s.PreferencesSerializer

    def get(self, request: Request) -> Response:
        return Response(notification_selectors.notification_preferences_of(user=signed_in(request)))

    def put(self, request: Request) -> Response:
        data = _valid(request, s.PreferencesSerializer)
        outbox.preferences_save(user=signed_in(request), frequencies=data)
        return Response(notification_selectors.notification_preferences_of(user=signed_in(request)))


# --- Mentoring --------------------------------------------------------------------------------------------


class PairingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Mentoring pairings you follow (as mentor or mentee; the secretariat sees all); others get 404."""

    serializer_class = s.PairingSerializer
    filter_backends = []
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[MentoringPairing]:
        if permissions.is_secretariat(self.request.user):
            queryset = MentoringPairing.objects.all()
        else:
            queryset = mentoring_selectors.pairings_of(user=self.request.user)
        return (
            queryset.select_related(
                "mentor__party", "mentor__organization", "mentor__expert__user", "request__party"
            )
            .prefetch_related("milestones", "check_ins__author")
            .order_by("-created_at")
        )

    def get_object(self) -> MentoringPairing:
        return mentoring_selectors.access_pairing(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=s.CheckInSerializer, responses={201: s.CheckInSerializer})
    @action(detail=True, methods=["post"], url_path="check-ins")
    def check_ins(self, request: Request, pk: str | None = None) -> Response:
        """Record a check-in on the pairing (either side, or the secretariat)."""
        pairing = self.get_object()
        data = _valid(request, s.CheckInSerializer)
        check_in = mentoring_services.check_in_add(user=signed_in(request), pairing=pairing, **data)
        return Response(s.CheckInSerializer(check_in).data, status.HTTP_201_CREATED)

    @extend_schema(request=s.MilestoneSerializer, responses={201: s.MilestoneSerializer})
    @action(detail=True, methods=["post"])
    def milestones(self, request: Request, pk: str | None = None) -> Response:
        """Add a milestone with its due date."""
        pairing = self.get_object()
        data = _valid(request, s.MilestoneSerializer)
        milestone = mentoring_services.milestone_add(user=signed_in(request), pairing=pairing, **data)
        return Response(s.MilestoneSerializer(milestone).data, status.HTTP_201_CREATED)


# --- Personal API tokens ----------------------------------------------------------------------------------


class TokenViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Your personal API tokens. The secret is shown once, when created; send it as
    `Authorization: Token <secret>`. Revoking a token stops it at once."""

    serializer_class = s.TokenSerializer
    lookup_field = "token_key"
    lookup_value_regex = "[A-Za-z0-9_]{1,30}"
    filter_backends = []
    pagination_class = None

    def get_queryset(self) -> QuerySet[ApiToken]:
        return selectors.api_tokens_of(user=signed_in(self.request))

    def get_object(self) -> ApiToken:
        return selectors.access_api_token(user=signed_in(self.request), token_key=self.kwargs["token_key"])

    def get_permissions(self) -> Sequence["_SupportsHasPermission"]:
        if self.action == "create":
            return [SignedInWithSession()]
        return super().get_permissions()

    @extend_schema(request=s.TokenCreateSerializer, responses={201: s.NewTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(request, s.TokenCreateSerializer)
        token, secret = services.api_token_create(user=signed_in(request), **data)
        token.token = secret
        return Response(s.NewTokenSerializer(token).data, status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        services.api_token_revoke(user=signed_in(self.request), token=instance)
