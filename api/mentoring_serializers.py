"""Request and response bodies of the mentoring programme, case studies, the dashboard and the audit log.
Shapes only: every rule (who may, what is valid, what a move allows) is the services'."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import AuditEntry
from marketplace.models import Language, Organization, Party
from matching.models import CaseStudy
from mentoring.models import (
    Mentor,
    MentoringCohort,
    MentoringForm,
    MentoringPairing,
    MentoringRequest,
    PairingStatus,
)

# --- Mentors and requests ---------------------------------------------------------------------------------


class MentorDeclareSerializer(serializers.Serializer):
    """Mentor as exactly one of: a Party (its focal points), an organization (its admins), yourself (an
    expert). Declaring again updates the same mentor; fields left out keep their value."""

    party = serializers.SlugRelatedField(
        slug_field="code", queryset=Party.objects.all(), required=False, help_text="A Party: its ISO code"
    )
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, help_text="Or an organization: its id"
    )
    as_expert = serializers.BooleanField(default=False, help_text="Or yourself, as an expert")
    forms = serializers.ListField(
        child=serializers.ChoiceField(choices=MentoringForm.choices), required=False
    )
    languages = serializers.ListField(child=serializers.ChoiceField(choices=Language.choices), required=False)
    capacity = serializers.IntegerField(required=False, help_text="How many mentees at the same time")
    description = serializers.CharField(required=False, allow_blank=True, help_text="Your experience")
    website = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, help_text="Accepting mentees")


class MentorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    party: "serializers.SlugRelatedField[Party]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    website = serializers.CharField(read_only=True, help_text="An address, or empty when none was given.")
    forms = serializers.ListField(child=serializers.CharField(), read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    places_taken = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Mentor
        fields = [
            "id",
            "name",
            "party",
            "organization",
            "expert",
            "forms",
            "languages",
            "capacity",
            "places_taken",
            "description",
            "website",
            "is_active",
        ]


class MentoringRequestCreateSerializer(serializers.Serializer):
    party = serializers.SlugRelatedField(
        slug_field="code", queryset=Party.objects.all(), help_text="The Party you are focal point of"
    )
    forms = serializers.ListField(
        child=serializers.ChoiceField(choices=MentoringForm.choices), required=False
    )
    languages = serializers.ListField(child=serializers.ChoiceField(choices=Language.choices), required=False)
    goals = serializers.CharField(required=False, allow_blank=True)


class MentoringRequestSerializer(serializers.ModelSerializer):
    party: "serializers.SlugRelatedField[Party]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    forms = serializers.ListField(child=serializers.CharField(), read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = MentoringRequest
        fields = ["id", "party", "forms", "languages", "goals", "status", "created_at"]


class PairRequestSerializer(serializers.Serializer):
    mentor = serializers.PrimaryKeyRelatedField(queryset=Mentor.objects.all())


# --- Cohorts ----------------------------------------------------------------------------------------------


class CohortProposeSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, max_length=200)
    requests = serializers.PrimaryKeyRelatedField(
        many=True, queryset=MentoringRequest.objects.all(), help_text="Open mentoring requests' ids"
    )


class CohortAssignSerializer(serializers.Serializer):
    request = serializers.PrimaryKeyRelatedField(queryset=MentoringRequest.objects.all())
    mentor = serializers.PrimaryKeyRelatedField(
        queryset=Mentor.objects.all(), allow_null=True, help_text="null: leave the request unpaired for now"
    )


class CohortRowSerializer(serializers.Serializer):
    request = serializers.IntegerField()
    party = serializers.CharField()
    pairing = serializers.IntegerField(allow_null=True)
    mentor = serializers.IntegerField(allow_null=True)
    mentor_name = serializers.CharField(allow_null=True)
    suitability = serializers.FloatField(allow_null=True)


class CohortSerializer(serializers.ModelSerializer):
    rows = serializers.SerializerMethodField()
    total_suitability = serializers.SerializerMethodField()

    class Meta:
        model = MentoringCohort
        fields = ["id", "name", "status", "created_at", "confirmed_at", "rows", "total_suitability"]

    def _pairings(self, cohort: MentoringCohort) -> dict[int, MentoringPairing]:
        # kept on the cohort for both of its fields: an attribute of this serializer's, not the model's
        if not hasattr(cohort, "_pairings_by_request"):
            cohort._pairings_by_request = {  # type: ignore[attr-defined]
                p.request_id: p
                for p in cohort.pairings.select_related("mentor__party", "mentor__organization")
            }
        pairings: dict[int, MentoringPairing] = cohort._pairings_by_request  # type: ignore[attr-defined]
        return pairings

    @extend_schema_field(CohortRowSerializer(many=True))
    def get_rows(self, cohort: MentoringCohort) -> list[dict[str, Any]]:
        pairings = self._pairings(cohort)
        rows = []
        for request in cohort.requests.select_related("party").order_by("pk"):
            pairing = pairings.get(request.pk)
            rows.append(
                {
                    "request": request.pk,
                    "party": request.party.code,
                    "pairing": pairing and pairing.pk,
                    "mentor": pairing and pairing.mentor_id,
                    "mentor_name": pairing and str(pairing.mentor),
                    "suitability": pairing and pairing.suitability,
                }
            )
        # many=True: a ListSerializer, whose data is a list (the stubs give the child's ReturnDict)
        return CohortRowSerializer(rows, many=True).data  # type: ignore[return-value]

    def get_total_suitability(self, cohort: MentoringCohort) -> float:
        return sum(p.suitability for p in self._pairings(cohort).values())


# --- Pairing actions --------------------------------------------------------------------------------------


class GoalsSerializer(serializers.Serializer):
    goals = serializers.CharField(allow_blank=True)


class PairingEndSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[PairingStatus.COMPLETED, PairingStatus.CANCELLED])


# --- Case studies -----------------------------------------------------------------------------------------


class CaseStudyWriteSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True)
    story = serializers.CharField(allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices)


class CaseStudySerializer(serializers.ModelSerializer):
    match = serializers.IntegerField(source="match_id", read_only=True)

    class Meta:
        model = CaseStudy
        fields = [
            "match",
            "title",
            "story",
            "language",
            "need_consent_at",
            "offer_consent_at",
            "published_at",
            "review_note",
            "updated_at",
        ]


class SendBackSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, help_text="Why (both sides read it)")


# --- Dashboard and audit log ------------------------------------------------------------------------------


class GapRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    # A field named as Field's attribute: DRF's metaclass moves it into the declared fields.
    label = serializers.CharField()  # type: ignore[assignment]
    open_needs = serializers.IntegerField(source="needs")
    open_offers = serializers.IntegerField(source="offers")
    gap = serializers.IntegerField()


class CountryRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    open_needs = serializers.IntegerField(source="needs")
    open_offers = serializers.IntegerField(source="offers")
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class WaitingNeedSerializer(serializers.Serializer):
    need_id = serializers.IntegerField(source="need.pk")
    title = serializers.CharField(source="need.title")
    poster = serializers.CharField(source="need.poster")
    published_at = serializers.DateTimeField(source="need.published_at")
    days_waiting = serializers.IntegerField(source="days")


class HeadlineSerializer(serializers.Serializer):
    open_needs = serializers.IntegerField()
    open_offers = serializers.IntegerField()
    needs_published = serializers.IntegerField()
    needs_connected = serializers.IntegerField()
    match_rate = serializers.FloatField(allow_null=True)
    median_days_to_connection = serializers.FloatField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    headline = HeadlineSerializer()
    subjects = GapRowSerializer(many=True)
    gbf_targets = GapRowSerializer(many=True)
    support_types = GapRowSerializer(many=True)
    regions = GapRowSerializer(many=True)
    countries = CountryRowSerializer(many=True)
    worldwide_offers = serializers.IntegerField()
    waiting = WaitingNeedSerializer(many=True, help_text="The 100 open needs waiting longest")


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.EmailField(source="actor.email", allow_null=True, read_only=True)
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "actor_id",
            "actor",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "before",
            "after",
        ]
