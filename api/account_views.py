"""One's own account through the API, as on the pages (/my/…): public name, expert profile, focal-point
requests (and the secretariat's decisions on them), organizations and their invitations.

Each endpoint calls the same service or selector as its page; the services check permissions and rules.
A move the record's present state forbids (a request already decided, an invitation already accepted, the
last admin leaving) answers 409, with the service's message and code."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from marketplace import permissions, selectors, services
from marketplace.models import ExpertProfile, FocalPointRequest, Organization, OrganizationInvitation, User

from . import account_serializers as a
from . import serializers as s
from .views import ID, IsSecretariat, _valid, signed_in

# --- Public name and expert profile -----------------------------------------------------------------------


class PublicName(generics.GenericAPIView):
    """The name others see wherever you appear (postings, matches, mentoring, e-mails)."""

    serializer_class = a.PublicNameSerializer

    @extend_schema(examples=[a.OpenApiExample("Your public name", value={"name": "Aïssatou Diallo"})])
    def get(self, request: Request) -> Response:
        return Response({"name": signed_in(request).name})

    @extend_schema(
        request=a.PublicNameSerializer,
        responses=a.PublicNameSerializer,
        examples=[a.OpenApiExample("A public name", value={"name": "Aïssatou Diallo"})],
    )
    def put(self, request: Request) -> Response:
        data = _valid(request, a.PublicNameSerializer)
        user = services.user_public_name_set(user=signed_in(request), name=data["name"])
        return Response({"name": user.name})


class MyExpertProfile(generics.GenericAPIView):
    """Your expert profile: having one makes you an expert, who may offer help in their own name. PUT
    creates or replaces it (and your public name, when given), as the page's form does."""

    serializer_class = s.ExpertSerializer

    def _read(self, user: User) -> Response:
        profile = get_object_or_404(
            ExpertProfile.objects.select_related("user").prefetch_related("subjects", "countries"), user=user
        )
        return Response(s.ExpertSerializer(profile).data)

    @extend_schema(examples=[a.EXPERT_PROFILE_RESPONSE])
    def get(self, request: Request) -> Response:
        return self._read(signed_in(request))

    @extend_schema(
        request=a.ExpertProfileWriteSerializer,
        responses=s.ExpertSerializer,
        examples=[a.EXPERT_PROFILE_EXAMPLE],
    )
    def put(self, request: Request) -> Response:
        data = _valid(request, a.ExpertProfileWriteSerializer)
        services.expert_profile_save(user=signed_in(request), data=data)
        return self._read(signed_in(request))


# --- Focal-point requests ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(examples=[a.ROLE_REQUEST_RESPONSE]),
    retrieve=extend_schema(examples=[a.ROLE_REQUEST_RESPONSE]),
)
class RoleRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Your requests to act as national focal point for a Party; the secretariat approves or rejects them
    (its queue: /queue/role-requests/). Others' requests answer 404 (the secretariat opens any)."""

    serializer_class = a.RoleRequestSerializer
    filter_backends = []
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[FocalPointRequest]:
        return selectors.focal_point_requests_of(user=signed_in(self.request))

    def get_object(self) -> FocalPointRequest:
        if permissions.is_secretariat(self.request.user):
            return get_object_or_404(selectors.focal_point_requests_for_review(), pk=self.kwargs["pk"])
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(
        request=a.RoleRequestCreateSerializer,
        responses={201: a.RoleRequestSerializer},
        examples=[a.ROLE_REQUEST_EXAMPLE],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(request, a.RoleRequestCreateSerializer)
        role_request = services.focal_point_request_create(user=signed_in(request), **data)
        return Response(a.RoleRequestSerializer(role_request).data, status.HTTP_201_CREATED)

    def _decide(self, request: Request, service: Callable[..., FocalPointRequest]) -> Response:
        role_request = self.get_object()
        data = _valid(request, a.DecisionSerializer)
        role_request = service(user=signed_in(request), request=role_request, note=data.get("note", ""))
        return Response(a.RoleRequestSerializer(role_request).data)

    @extend_schema(
        request=a.DecisionSerializer,
        responses={200: a.RoleRequestSerializer},
        examples=[a.DECISION_EXAMPLE],
    )
    @action(detail=True, methods=["post"], permission_classes=[IsSecretariat])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Grant the role: the person becomes focal point for the Party (secretariat)."""
        return self._decide(request, services.focal_point_request_approve)

    @extend_schema(
        request=a.DecisionSerializer,
        responses={200: a.RoleRequestSerializer},
        examples=[a.DECISION_EXAMPLE],
    )
    @action(detail=True, methods=["post"], permission_classes=[IsSecretariat])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Decline the request, with a note for the person (secretariat)."""
        return self._decide(request, services.focal_point_request_reject)


@extend_schema_view(get=extend_schema(examples=[a.QUEUED_ROLE_REQUEST_RESPONSE]))
class RoleRequestQueue(generics.ListAPIView):
    """Focal-point requests waiting for a decision, oldest first, with who asks (secretariat)."""

    permission_classes = [IsSecretariat]
    serializer_class = a.QueuedRoleRequestSerializer
    filter_backends = []

    def get_queryset(self) -> QuerySet[FocalPointRequest]:
        return selectors.pending_focal_point_requests().order_by("created_at", "pk")


@extend_schema_view(
    list=extend_schema(examples=[a.REVIEWED_ORGANIZATION_RESPONSE]),
    retrieve=extend_schema(examples=[a.REVIEWED_ORGANIZATION_RESPONSE]),
)
class OrganizationQueue(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Registered organizations waiting for the secretariat's decision, oldest first (secretariat). Any
    organization can be read and decided on by its id; a second decision answers 409."""

    permission_classes = [IsSecretariat]
    serializer_class = a.ReviewedOrganizationSerializer
    filter_backends = []
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[Organization]:
        if self.action == "list":
            return selectors.pending_organizations()
        return selectors.organizations_for_review()

    def _decide(self, request: Request, service: Callable[..., Organization]) -> Response:
        organization = self.get_object()
        data = _valid(request, a.DecisionSerializer)
        service(user=signed_in(request), organization=organization, note=data.get("note", ""))
        return Response(a.ReviewedOrganizationSerializer(self.get_object()).data)

    @extend_schema(request=a.DecisionSerializer, examples=[a.DECISION_EXAMPLE])
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve the organization: its admins may now invite members and post for it."""
        return self._decide(request, services.organization_approve)

    @extend_schema(request=a.DecisionSerializer, examples=[a.DECISION_EXAMPLE])
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Refuse the organization, with a note for its admins: it stays unlisted and cannot post."""
        return self._decide(request, services.organization_reject)


# --- Organizations and invitations -----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(examples=[a.ORGANIZATION_RESPONSE]),
    retrieve=extend_schema(examples=[a.ORGANIZATION_RESPONSE]),
)
class MyOrganizationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The organizations you belong to, approved or not, with their members; others' answer 404. Whoever
    registers an organization becomes its admin; once the secretariat approves it, admins invite members."""

    serializer_class = a.MyOrganizationSerializer
    filter_backends = []
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[Organization]:
        return (
            selectors.organizations_of(user=self.request.user)
            .select_related("country")
            .prefetch_related("memberships__user")
        )

    def _read(self, organization: Organization, status_code: int = status.HTTP_200_OK) -> Response:
        organization = self.get_queryset().get(pk=organization.pk)
        return Response(
            a.MyOrganizationSerializer(organization, context={"request": self.request}).data, status_code
        )

    @extend_schema(
        request=a.OrganizationCreateSerializer,
        responses={201: a.MyOrganizationSerializer},
        examples=[a.ORGANIZATION_EXAMPLE],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(request, a.OrganizationCreateSerializer)
        organization = services.organization_create(user=signed_in(request), data=data)
        return self._read(organization, status.HTTP_201_CREATED)

    @extend_schema(
        request=a.InvitationCreateSerializer,
        responses={201: a.InvitationSerializer},
        examples=[a.INVITATION_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def invitations(self, request: Request, pk: str | None = None) -> Response:
        """Invite someone by e-mail to join (the organization's admins, once it is approved)."""
        organization = self.get_object()
        data = _valid(request, a.InvitationCreateSerializer)
        invitation = services.organization_invite(
            user=signed_in(request), organization=organization, email=data["email"]
        )
        return Response(a.InvitationSerializer(invitation).data, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def leave(self, request: Request, pk: str | None = None) -> Response:
        """Leave the organization (its last admin cannot)."""
        organization = self.get_object()
        services.organization_leave(user=signed_in(request), organization=organization)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(list=extend_schema(examples=[a.INVITATION_RESPONSE]))
class InvitationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Open invitations to join an organization, sent to your e-mail address; others' answer 404."""

    serializer_class = a.InvitationSerializer
    filter_backends = []
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[OrganizationInvitation]:
        return selectors.open_invitations_for(user=self.request.user).order_by("created_at", "pk")

    @extend_schema(
        request=None,
        responses={200: a.MyOrganizationSerializer},
        examples=[a.ORGANIZATION_RESPONSE],
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Join the organization."""
        invitation = self.get_object()
        membership = services.organization_invitation_accept(user=signed_in(request), invitation=invitation)
        organization = (
            selectors.organizations_of(user=request.user)
            .select_related("country")
            .prefetch_related("memberships__user")
            .get(pk=membership.organization_id)
        )
        return Response(a.MyOrganizationSerializer(organization, context={"request": request}).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """Turn the invitation down; the organization may invite you again later."""
        invitation = self.get_object()
        services.organization_invitation_decline(user=signed_in(request), invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)
