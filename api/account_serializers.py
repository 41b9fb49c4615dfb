"""What the API reads and writes for one's own account: public name, expert profile, focal-point requests,
organizations and invitations. Shapes and types only: the services own every rule."""

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from core.limits import MESSAGE_MAX_LENGTH
from marketplace import permissions
from marketplace.models import (
    Availability,
    FocalPointRequest,
    Language,
    Organization,
    OrganizationInvitation,
    OrganizationMembership,
    OrganizationType,
    Party,
    RoleRequestStatus,
)

# --- Public name and expert profile -----------------------------------------------------------------------


class PublicNameSerializer(serializers.Serializer):
    name = serializers.CharField(
        allow_blank=True, help_text="The name others see wherever you appear; never an e-mail address."
    )


class ExpertProfileWriteSerializer(serializers.Serializer):
    """The whole profile, as the page's form: subjects and countries left out are cleared."""

    name = serializers.CharField(
        required=False, allow_blank=True, help_text="Your public name; unchanged when left out."
    )
    bio = serializers.CharField(allow_blank=True)
    expertise = serializers.CharField(allow_blank=True)
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=Language.choices), allow_empty=False
    )
    availability = serializers.ChoiceField(choices=Availability.choices, required=False)
    subjects = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="CBD subject codes (/vocabulary/?scheme=subject)",
    )
    countries = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Party codes (/parties/)"
    )


EXPERT_PROFILE_EXAMPLE = OpenApiExample(
    "An expert profile",
    value={
        "name": "Aïssatou Diallo",
        "bio": "Botanist, 15 years of herbarium digitisation in West Africa.",
        "expertise": "Herbarium digitisation; DNA barcoding; GBIF data publishing.",
        "languages": ["fr", "en"],
        "availability": "available",
        "subjects": ["dry-subhumid-lands"],
        "countries": ["SN", "ML"],
    },
    request_only=True,
)

# --- Focal-point requests ---------------------------------------------------------------------------------


class RoleRequestSerializer(serializers.ModelSerializer):
    party: "serializers.SlugRelatedField[Party]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    status = serializers.ChoiceField(choices=RoleRequestStatus.choices, read_only=True)

    class Meta:
        model = FocalPointRequest
        fields = ["id", "party", "justification", "status", "created_at", "decided_at", "decision_note"]
        read_only_fields = fields


class QueuedRoleRequestSerializer(RoleRequestSerializer):
    """A pending request as the secretariat sees it: who asks."""

    user_name = serializers.CharField(source="user.public_name", read_only=True)
    user_email = serializers.EmailField(source="user.email", read_only=True)

    class Meta(RoleRequestSerializer.Meta):
        fields = [*RoleRequestSerializer.Meta.fields, "user_name", "user_email"]
        read_only_fields = fields


class RoleRequestCreateSerializer(serializers.Serializer):
    party = serializers.SlugRelatedField(
        slug_field="code", queryset=Party.objects.all(), help_text="Party code"
    )
    justification = serializers.CharField(
        allow_blank=True, help_text="Your position and how the secretariat can verify your nomination."
    )


ROLE_REQUEST_EXAMPLE = OpenApiExample(
    "Ask to be focal point for Senegal",
    value={"party": "SN", "justification": "Appointed national CHM focal point by decree 2024-12."},
    request_only=True,
)


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MESSAGE_MAX_LENGTH,
        help_text="Shown to the person who asked.",
    )


DECISION_EXAMPLE = OpenApiExample(
    "A decision with a note", value={"note": "Confirmed with the ministry."}, request_only=True
)

# --- Organizations and invitations -----------------------------------------------------------------------


class OrganizationCreateSerializer(serializers.Serializer):
    name = serializers.CharField()
    acronym = serializers.CharField(required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=OrganizationType.choices)
    country = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Party.objects.all(),
        required=False,
        allow_null=True,
        help_text="Party code; leave out for an international organization.",
    )
    website = serializers.URLField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)


ORGANIZATION_FIELDS = {
    "name": "Herbier du Sahel",
    "acronym": "HDS",
    "type": "academia",
    "country": "SN",
    "website": "https://herbier-sahel.example.org",
    "description": "A university herbarium digitising the Sahel's flora.",
}
ORGANIZATION_EXAMPLE = OpenApiExample(
    "Register an organization",
    value=ORGANIZATION_FIELDS,
    request_only=True,
)


class MemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.public_name", read_only=True)

    class Meta:
        model = OrganizationMembership
        fields = ["name", "is_admin", "joined_at"]
        read_only_fields = fields


class AdminSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.public_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = OrganizationMembership
        fields = ["name", "email"]
        read_only_fields = fields


class ReviewedOrganizationSerializer(serializers.ModelSerializer):
    """A registered organization as the secretariat reviews it: who registered it (its admins, with their
    e-mail addresses) and the decision, if any."""

    country: "serializers.SlugRelatedField[Party]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    website = serializers.CharField(read_only=True, help_text="An address, or empty when none was given.")
    admins = AdminSerializer(source="admin_memberships", many=True, read_only=True)

    class Meta:
        model = Organization
        fields = [
            *("id", "name", "acronym", "type", "country", "website", "description", "created_at"),
            *("admins", "approved_at", "rejected_at", "decision_note"),
        ]
        read_only_fields = fields


REVIEWED_ORGANIZATION_RESPONSE = OpenApiExample(
    "An organization waiting for a decision",
    value={
        "id": 7,
        "name": "Réseau des aires protégées d'Afrique centrale",
        "acronym": "RAPAC",
        "type": "ngo",
        "country": "GA",
        "website": "",
        "description": "Protected-area managers of Central Africa.",
        "created_at": "2026-11-02T09:30:00Z",
        "admins": [{"name": "Aïssatou Diallo", "email": "a.diallo@example.org"}],
        "approved_at": None,
        "rejected_at": None,
        "decision_note": "",
    },
    response_only=True,
)


class MyOrganizationSerializer(serializers.ModelSerializer):
    """One of your organizations, with its members; `is_approved`: the secretariat approved it, so it may
    invite members and post."""

    country: "serializers.SlugRelatedField[Party]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    website = serializers.CharField(read_only=True, help_text="An address, or empty when none was given.")
    is_admin = serializers.SerializerMethodField()
    is_approved = serializers.SerializerMethodField()
    members = MemberSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Organization
        fields = [
            *("id", "name", "acronym", "type", "country", "website", "description"),
            *("is_admin", "is_approved", "members"),
        ]
        read_only_fields = fields

    def get_is_admin(self, organization: Organization) -> bool:
        return permissions.is_organization_admin(self.context["request"].user, organization)

    def get_is_approved(self, organization: Organization) -> bool:
        return permissions.is_approved_organization(organization)


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()


INVITATION_EXAMPLE = OpenApiExample(
    "Invite a colleague", value={"email": "colleague@example.org"}, request_only=True
)


class InvitedOrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    organization = InvitedOrganizationSerializer(read_only=True)

    class Meta:
        model = OrganizationInvitation
        fields = ["id", "organization", "email", "created_at"]
        read_only_fields = fields


# --- Response examples ------------------------------------------------------------------------------------

ROLE_REQUEST_RESPONSE = OpenApiExample(
    "A pending request",
    value={
        "id": 12,
        "party": "SN",
        "justification": "Appointed national CHM focal point by decree 2024-12.",
        "status": "pending",
        "created_at": "2026-03-02T09:15:00Z",
        "decided_at": None,
        "decision_note": "",
    },
    response_only=True,
)
QUEUED_ROLE_REQUEST_RESPONSE = OpenApiExample(
    "A request waiting for the secretariat",
    value={
        **ROLE_REQUEST_RESPONSE.value,
        "user_name": "Aïssatou Diallo",
        "user_email": "a.diallo@environnement.gouv.sn",
    },
    response_only=True,
)
ORGANIZATION_RESPONSE = OpenApiExample(
    "One of your organizations",
    value={
        "id": 7,
        **ORGANIZATION_FIELDS,
        "is_admin": True,
        "is_approved": True,
        "members": [{"name": "Aïssatou Diallo", "is_admin": True, "joined_at": "2026-03-02T09:15:00Z"}],
    },
    response_only=True,
)
INVITATION_RESPONSE = OpenApiExample(
    "An open invitation",
    value={
        "id": 31,
        "organization": {"id": 7, "name": "Herbier du Sahel"},
        "email": "colleague@example.org",
        "created_at": "2026-03-03T10:00:00Z",
    },
    response_only=True,
)
EXPERT_PROFILE_RESPONSE = OpenApiExample(
    "Your expert profile",
    value={
        "id": 5,
        **EXPERT_PROFILE_EXAMPLE.value,
    },
    response_only=True,
)
