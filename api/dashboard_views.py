"""The API's entry point, the gap-analysis dashboard's tables as JSON (the same reads as the page and its
CSVs: `matching.dashboard`) and the secretariat's audit log."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core import selectors as audit_selectors
from core.models import AuditEntry
from matching import dashboard

from . import mentoring_serializers as ms
from .views import IsSecretariat

# The API root's links: name in the answer → URL name in `api.urls`.
ROOT_LINKS = {
    "needs": "api:need-list",
    "offers": "api:offer-list",
    "matches": "api:match-list",
    "organizations": "api:organization-list",
    "experts": "api:expert-list",
    "parties": "api:parties",
    "vocabulary": "api:vocabulary",
    "me": "api:me",
    "public_name": "api:public-name",
    "expert_profile": "api:my-expert-profile",
    "my_organizations": "api:my-organization-list",
    "invitations": "api:invitation-list",
    "role_requests": "api:role-request-list",
    "role_request_queue": "api:role-request-queue",
    "organization_queue": "api:organization-queue-list",
    "notifications": "api:notification-list",
    "notification_preferences": "api:notification-preferences",
    "tokens": "api:token-list",
    "mentors": "api:mentor-list",
    "mentoring_requests": "api:mentoring-request-list",
    "mentoring_cohorts": "api:cohort-list",
    "mentoring_pairings": "api:pairing-list",
    "posting_queue": "api:posting-queue",
    "match_queue": "api:match-queue",
    "import": "api:import",
    "dashboard": "api:dashboard",
    "audit": "api:audit",
    "schema": "api:schema",
    "docs": "api:docs",
    "redoc": "api:redoc",
}


class ApiRoot(generics.GenericAPIView):
    """The entry point: every resource's address, the OpenAPI schema and its documentation."""

    permission_classes = [AllowAny]
    authentication_classes = []
    filter_backends = []
    pagination_class = None

    @extend_schema(
        responses=inline_serializer("ApiRoot", {key: serializers.URLField() for key in ROOT_LINKS}),
        examples=[
            OpenApiExample(
                "Links",
                response_only=True,
                value={
                    "needs": "https://chm.example.org/api/v1/needs/",
                    "schema": "https://chm.example.org/api/v1/schema/",
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        links = {}
        for key, name in ROOT_LINKS.items():
            try:
                links[key] = request.build_absolute_uri(reverse(name))
            except NoReverseMatch:  # a resource switched off in this deployment
                continue
        return Response(links)


DASHBOARD_EXAMPLE = OpenApiExample(
    "Figures",
    response_only=True,
    value={
        "headline": {
            "open_needs": 42,
            "open_offers": 30,
            "needs_published": 60,
            "needs_connected": 18,
            "match_rate": 0.3,
            "median_days_to_connection": 12.5,
        },
        "subjects": [
            {"code": "cbd-1", "label": "Protected areas", "open_needs": 7, "open_offers": 2, "gap": 5}
        ],
        "gbf_targets": [],
        "support_types": [],
        "regions": [],
        "countries": [
            {
                "code": "TD",
                "name": "Chad",
                "open_needs": 3,
                "open_offers": 0,
                "latitude": 15.0,
                "longitude": 19.0,
            }
        ],
        "worldwide_offers": 4,
        "waiting": [
            {
                "need_id": 7,
                "title": "Hosting",
                "poster": "Chad",
                "published_at": "2026-01-05",
                "days_waiting": 90,
            }
        ],
    },
)


class Dashboard(generics.GenericAPIView):
    """The gap-analysis dashboard's figures and tables (public): the same as the page and its CSVs."""

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = ms.DashboardSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(examples=[DASHBOARD_EXAMPLE])
    def get(self, request: Request) -> Response:
        headline = dashboard.headline()
        figures: dict[str, Any] = {
            "headline": {**vars(headline), "match_rate": headline.match_rate},
            "regions": dashboard.gaps_by_region(),
            "countries": dashboard.by_country(),
            "worldwide_offers": dashboard.worldwide_offers(),
            "waiting": dashboard.needs_waiting_longest(limit=100),
        }
        for name, scheme in dashboard.GAP_SCHEMES.items():
            figures[name.replace("-", "_")] = dashboard.gaps_by_term(scheme)
        return Response(ms.DashboardSerializer(figures).data)


class AuditFilter(django_filters.FilterSet):
    actor = django_filters.NumberFilter(field_name="actor_id", help_text="The actor's user id")
    action = django_filters.CharFilter(field_name="action", help_text="e.g. cohort_confirm")
    target_type = django_filters.CharFilter(field_name="target_type", help_text="The record's kind")
    target_id = django_filters.NumberFilter(field_name="target_id", help_text="The record's id")
    since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", help_text="From (day)"
    )
    until = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", help_text="To (day)")

    class Meta:
        model = AuditEntry
        fields: list[str] = []


class AuditPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class AuditLog(generics.ListAPIView):
    """Every curator action, newest first (secretariat): who did what to which record, before and after;
    follow `next` to page on."""

    permission_classes = [IsSecretariat]
    serializer_class = ms.AuditEntrySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditFilter
    pagination_class = AuditPagination

    def get_queryset(self) -> QuerySet[AuditEntry]:
        return audit_selectors.audit_entries()
