"""Query parameters of the lists: every facet, full-text search (`search`), search by meaning (`q`)."""

import datetime
from typing import TypeAlias

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField

from marketplace import permissions, selectors
from marketplace.models import (
    TEXT_LANGUAGES,
    DeliveryFormat,
    Language,
    Need,
    Offer,
    OfferKind,
    Organization,
    OrganizationType,
    Party,
    PostingStatus,
    Region,
)
from matching import selectors as match_selectors
from matching.models import Match, MatchStatus
from matching.selectors import QueueFilters

# What a posting filter filters: needs or offers.
Postings: TypeAlias = QuerySet[Need] | QuerySet[Offer]


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, read in UTC: ISO 8601 (and Python) allow time-zone offsets up to ±23:59,
    PostgreSQL only up to ±15:59 (a query with "+18:11" failed in the database: a 500)."""

    def to_python(self, value: str | None) -> datetime.datetime | None:
        moment: datetime.datetime | None = super().to_python(value)
        try:
            return moment.astimezone(datetime.UTC) if moment and moment.tzinfo else moment
        except OverflowError as error:  # past year 9999 once in UTC: not a date
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


def _code_of(field: str, label: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=f"{field}__code", label=label, max_length=60, distinct=True)


class PostingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PostingStatus.choices)
    subject = _code_of("subjects", "Code of a CBD subject")
    gbf_target = _code_of("gbf_targets", "Code of a GBF target")
    support_type = _code_of("support_types", "Code of a type of support")
    region = django_filters.ChoiceFilter(choices=Region.choices, method="filter_region")
    country = django_filters.CharFilter(
        method="filter_country", max_length=2, label="ISO code of a country concerned or covered"
    )
    language = django_filters.ChoiceFilter(choices=TEXT_LANGUAGES)
    organization = django_filters.NumberFilter(field_name="organization_id")
    published_after = UtcDateTimeFilter(field_name="published_at", lookup_expr="gte")
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lte")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only the postings you answer for")
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, label="Words in the title or description (full text)"
    )
    q = django_filters.CharFilter(
        method="filter_meaning",
        max_length=500,
        label="Search by meaning, in any language: the open postings close in meaning, closest first",
    )
    more = django_filters.BooleanFilter(
        method="keep",
        label="With q: also the open postings farther in meaning, after the close ones (as the pages' "
        "'show more')",
    )

    def filter_region(self, queryset: Postings, name: str, value: str) -> Postings:
        return selectors.in_region(queryset, value).distinct()

    def filter_country(self, queryset: Postings, name: str, value: str) -> Postings:
        return selectors.covering_country(queryset, value.upper()).distinct()

    # `value`: a boolean (django-filter skips the method for an empty value); drf-spectacular reads this
    # annotation for the filter's type in the OpenAPI schema.
    def filter_mine(self, queryset: Postings, name: str, value: bool) -> Postings:
        if value is None:
            return queryset
        owned = permissions.owner_filter(self.request.user, queryset.model)
        return queryset.filter(owned) if value else queryset.exclude(owned)

    def filter_search(self, queryset: Postings, name: str, value: str) -> Postings:
        return selectors.full_text(queryset, value) if value.strip() else queryset

    def filter_meaning(self, queryset: Postings, name: str, value: str) -> Postings:
        if not value.strip():
            return queryset
        more = bool(self.form.cleaned_data.get("more"))
        return match_selectors.closest_in_meaning(
            queryset, value, limit=settings.API_SEMANTIC_SEARCH_LIMIT, more=more
        ).postings

    def keep(self, queryset: Postings, name: str, value: bool) -> Postings:
        return queryset  # read by `filter_meaning`


class NeedFilter(PostingFilter):
    party = django_filters.CharFilter(field_name="party__code", max_length=2, label="ISO code of the Party")

    class Meta:
        model = Need
        fields: list[str] = []


class OfferFilter(PostingFilter):
    kind = django_filters.ChoiceFilter(choices=OfferKind.choices)
    delivery_format = django_filters.ChoiceFilter(choices=DeliveryFormat.choices)
    delivery_language = django_filters.ChoiceFilter(choices=Language.choices, method="filter_language")
    global_coverage = django_filters.BooleanFilter()
    expert = django_filters.NumberFilter(field_name="expert_id")

    class Meta:
        model = Offer
        fields: list[str] = []

    def filter_language(self, queryset: QuerySet[Offer], name: str, value: str) -> QuerySet[Offer]:
        return queryset.filter(delivery_languages__contains=[value])


class OrganizationFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=OrganizationType.choices)
    country = django_filters.CharFilter(field_name="country__code", max_length=2)
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=200)

    class Meta:
        model = Organization
        fields: list[str] = []


class PartyFilter(django_filters.FilterSet):
    region = django_filters.ChoiceFilter(choices=Region.choices)

    class Meta:
        model = Party
        fields: list[str] = []


class MatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MatchStatus.choices)

    class Meta:
        model = Match
        fields: list[str] = []


class MatchQueueFilter(django_filters.FilterSet):
    """The curators' queue: filters passed on to `matching.selectors.match_queue`."""

    status = django_filters.ChoiceFilter(choices=MatchStatus.choices, method="keep")
    region = django_filters.ChoiceFilter(choices=Region.choices, method="keep")
    subject = django_filters.CharFilter(max_length=60, method="keep")
    min_days = django_filters.NumberFilter(min_value=0, max_value=3650, method="keep")

    class Meta:
        model = Match
        fields: list[str] = []

    # `value` unannotated: drf-spectacular would give its type in the OpenAPI schema to all four filters,
    # whose types differ (otherwise it reads each from its filter's class).
    def keep(self, queryset: QuerySet[Match], name: str, value) -> QuerySet[Match]:  # type: ignore[no-untyped-def]
        return queryset  # applied together in `filter_queryset`

    def filter_queryset(self, queryset: QuerySet[Match]) -> QuerySet[Match]:
        data = self.form.cleaned_data
        filters = QueueFilters(
            region=data.get("region") or "",
            subject=data.get("subject") or "",
            min_days=int(data["min_days"]) if data.get("min_days") is not None else None,
            status=data.get("status") or MatchStatus.SUGGESTED,
        )
        return match_selectors.match_queue(filters=filters)
