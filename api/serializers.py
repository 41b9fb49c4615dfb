"""What the API reads and writes. Serializers check shapes and types only; the services own every rule."""

from collections.abc import Iterable
from typing import Any, TypedDict, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models import Manager
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.limits import MESSAGE_MAX_LENGTH, field_limits
from marketplace.models import (
    LABEL_LANGUAGES,
    TEXT_LANGUAGES,
    ApiToken,
    Availability,
    ClosedReason,
    DeliveryFormat,
    ExpertProfile,
    Language,
    Need,
    Offer,
    OfferKind,
    Organization,
    Party,
    PostingStatus,
    Region,
    Subregion,
    Term,
    User,
)
from matching import selectors as match_selectors
from matching.explanations import reason_lines
from matching.models import CloseReason, DeclineReason, Match, MatchOutcome, MatchStatus, Outcome
from matching.permissions import actions_for, sides_of
from mentoring.models import MentoringCheckIn, MentoringMilestone, MentoringPairing
from notifications import kinds, outbox
from notifications.models import Frequency, Notification


def context_of(serializer: serializers.BaseSerializer) -> dict[str, Any]:
    """The serializer's context, which the serializers here also fill in as they go (what a page's postings'
    readers may see, labels, rendered notifications): a dict, typed Mapping in the stubs."""
    return cast(dict[str, Any], serializer.context)


# --- Reference data ---------------------------------------------------------------------------------------


class TermSerializer(serializers.ModelSerializer):
    class Meta:
        model = Term
        fields = ["scheme", "code", "group", *(f"label_{language}" for language in LABEL_LANGUAGES)]


class PartySerializer(serializers.ModelSerializer):
    subregion: "serializers.SlugRelatedField[Subregion]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Party
        fields = [
            "code",
            "iso3",
            *(f"name_{language}" for language in LABEL_LANGUAGES),
            "region",
            "subregion",
        ]


class OrganizationSerializer(serializers.ModelSerializer):
    country: "serializers.SlugRelatedField[Party]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "acronym", "type", "country", "website", "description"]


class ExpertSerializer(serializers.ModelSerializer):
    """An expert's public profile: no e-mail address."""

    name = serializers.CharField(source="user.public_name", read_only=True)
    subjects: "serializers.SlugRelatedField[Term]" = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    countries: "serializers.SlugRelatedField[Party]" = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    languages = serializers.ListField(child=serializers.ChoiceField(choices=Language.choices), read_only=True)
    availability = serializers.ChoiceField(choices=Availability.choices, read_only=True)

    class Meta:
        model = ExpertProfile
        fields = ["id", "name", "bio", "expertise", "subjects", "languages", "countries", "availability"]


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    preferred_language = serializers.CharField()
    is_secretariat = serializers.BooleanField()
    is_expert = serializers.BooleanField()
    focal_point_for = serializers.ListField(child=serializers.CharField())
    organizations = serializers.ListField(child=serializers.CharField())


# --- Postings ---------------------------------------------------------------------------------------------


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField(source="contact_name")
    email = serializers.EmailField(source="contact_email")
    phone = serializers.CharField(source="contact_phone")


class PosterSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["party", "organization", "expert"])
    id = serializers.IntegerField(allow_null=True, help_text="Organization or expert id")
    code = serializers.CharField(allow_null=True, help_text="ISO code of the Party")
    name = serializers.CharField()


class Poster(TypedDict):
    """Who posted a posting (PosterSerializer's fields)."""

    type: str
    id: int | None
    code: str | None
    name: str


def poster_of(posting: Need | Offer) -> Poster:
    if isinstance(posting, Need) and posting.party is not None:
        return {"type": "party", "id": None, "code": posting.party.code, "name": posting.party.name}
    if posting.organization is not None:
        return {
            "type": "organization",
            "id": posting.organization_id,
            "code": None,
            "name": posting.organization.name,
        }
    assert isinstance(posting, Offer) and posting.expert is not None  # a posting has exactly one poster
    return {"type": "expert", "id": posting.expert_id, "code": None, "name": posting.expert.user.public_name}


class PostingListSerializer(serializers.ListSerializer):
    """Works out, once per page, which postings' contacts and secretariat messages the reader may see."""

    def to_representation(self, data: "Manager[Any] | Iterable[Any]") -> list[Any]:
        items = list(data.all() if hasattr(data, "all") else data)
        context_of(self)["visibility"] = match_selectors.posting_visibility(
            self.context["request"].user, items
        )
        return super().to_representation(items)


def _codes() -> "serializers.SlugRelatedField[Term]":
    return serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)


class PostingSerializer(serializers.ModelSerializer):
    subjects = _codes()
    gbf_targets = _codes()
    support_types = _codes()
    countries = _codes()
    poster = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField(
        help_text="Only for the owners, the secretariat and the other side of a connected match."
    )
    status_message = serializers.SerializerMethodField(
        help_text="The secretariat's latest message; only for the owners and the secretariat."
    )

    COMMON = [
        "id",
        "title",
        "description",
        "language",
        "status",
        "closed_reason",
        "status_message",
        "poster",
        "subjects",
        "gbf_targets",
        "support_types",
        "countries",
        "regions",
        "contact",
        "expires_on",
        "created_at",
        "updated_at",
        "published_at",
    ]

    class Meta:
        list_serializer_class = PostingListSerializer

    def _visibility(self, posting: Need | Offer) -> tuple[set[int], set[int]]:
        if "visibility" not in self.context:
            context_of(self)["visibility"] = match_selectors.posting_visibility(
                self.context["request"].user, [posting]
            )
        visibility: tuple[set[int], set[int]] = self.context["visibility"]
        return visibility

    @extend_schema_field(PosterSerializer)
    def get_poster(self, posting: Need | Offer) -> Poster:
        return poster_of(posting)

    @extend_schema_field(ContactSerializer(allow_null=True))
    def get_contact(self, posting: Need | Offer) -> dict[str, Any] | None:
        return ContactSerializer(posting).data if posting.pk in self._visibility(posting)[1] else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_status_message(self, posting: Need | Offer) -> str | None:
        return posting.status_message if posting.pk in self._visibility(posting)[0] else None


# Public fields are listed one by one (not derived from the services' field lists, which hold the contact).
class NeedSerializer(PostingSerializer):
    class Meta(PostingSerializer.Meta):
        model = Need
        fields = [
            *PostingSerializer.COMMON,
            "beneficiaries",
            "timeframe_start",
            "timeframe_end",
            "budget_note",
        ]


class OfferSerializer(PostingSerializer):
    class Meta(PostingSerializer.Meta):
        model = Offer
        fields = [
            *PostingSerializer.COMMON,
            "kind",
            "global_coverage",
            "delivery_languages",
            "capacity",
            "starts_on",
            "ends_on",
            "delivery_format",
            "seats",
            "readiness_level",
            "licensing_terms",
            "eligibility",
            "deadline",
        ]


def _code_list(max_length: int, **kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=max_length), max_length=100, **kwargs)


def _text(model: type[models.Model], name: str) -> serializers.CharField:
    """An optional text with the model field's limit."""
    return serializers.CharField(**field_limits(model, name), allow_blank=True, required=False)


def _message() -> serializers.CharField:
    return serializers.CharField(max_length=MESSAGE_MAX_LENGTH, allow_blank=True, required=False)


class PostingWriteSerializer(serializers.Serializer):
    """Text and facets of a posting (vocabulary and Party codes); the services check the rules."""

    title = serializers.CharField(**field_limits(Need, "title"))
    description = serializers.CharField(**field_limits(Need, "description"))
    language = serializers.ChoiceField(choices=TEXT_LANGUAGES)
    regions = serializers.ListField(child=serializers.ChoiceField(choices=Region.choices), required=False)
    subjects = _code_list(60, help_text="Codes of CBD subjects (see /vocabulary/?scheme=subject)")
    gbf_targets = _code_list(60, required=False, help_text="Codes of GBF targets")
    support_types = _code_list(60, help_text="Codes of types of support")
    countries = _code_list(2, required=False, help_text="ISO codes of Parties")
    contact_name = serializers.CharField(**field_limits(Need, "contact_name"))
    contact_email = serializers.EmailField(**field_limits(Need, "contact_email"))
    contact_phone = _text(Need, "contact_phone")
    expires_on = serializers.DateField()


class NeedWriteSerializer(PostingWriteSerializer):
    beneficiaries = _text(Need, "beneficiaries")
    timeframe_start = serializers.DateField(required=False, allow_null=True)
    timeframe_end = serializers.DateField(required=False, allow_null=True)
    budget_note = _text(Need, "budget_note")


class NeedCreateSerializer(NeedWriteSerializer):
    party = serializers.SlugRelatedField(
        slug_field="code", queryset=Party.objects.all(), required=False, help_text="For a Party: its ISO code"
    )
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, help_text="Or for an organization: its id"
    )


class OfferWriteSerializer(PostingWriteSerializer):
    kind = serializers.ChoiceField(choices=OfferKind.choices)
    global_coverage = serializers.BooleanField(required=False)
    delivery_languages = serializers.ListField(child=serializers.ChoiceField(choices=Language.choices))
    capacity = serializers.IntegerField(**field_limits(Offer, "capacity"), required=False)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    delivery_format = serializers.ChoiceField(
        choices=DeliveryFormat.choices, required=False, allow_blank=True
    )
    seats = serializers.IntegerField(**field_limits(Offer, "seats"), required=False, allow_null=True)
    readiness_level = serializers.IntegerField(
        **field_limits(Offer, "readiness_level"), required=False, allow_null=True
    )
    licensing_terms = _text(Offer, "licensing_terms")
    eligibility = _text(Offer, "eligibility")
    deadline = serializers.DateField(required=False, allow_null=True)


class OfferCreateSerializer(OfferWriteSerializer):
    as_expert = serializers.BooleanField(default=False, help_text="Post in your own name, as an expert")
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, help_text="Or for an organization: its id"
    )


class CloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=[ClosedReason.FULFILLED, ClosedReason.WITHDRAWN])


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=MESSAGE_MAX_LENGTH)


class InterestSerializer(serializers.Serializer):
    posting = serializers.IntegerField(
        min_value=1, help_text="Your own published posting of the other kind (an offer for a need, and back)"
    )
    message = _message()


class SuggestionSerializer(serializers.Serializer):
    posting = serializers.DictField(help_text="The other side's posting: id, title, poster")
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    match = serializers.IntegerField(
        allow_null=True, help_text="The match's id, for the owners and the secretariat"
    )


# --- Matches ----------------------------------------------------------------------------------------------


class MatchSideSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    poster = PosterSerializer()


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = MatchOutcome
        fields = ["side", "outcome", "rating", "feedback", "reported_at"]


class MatchListSerializer(serializers.ListSerializer):
    """Looks up, once per page, the labels every match's reasons name."""

    def to_representation(self, data: "Manager[Any] | Iterable[Any]") -> list[Any]:
        items = list(data.all() if hasattr(data, "all") else data)
        context_of(self)["labels"] = match_selectors.reason_labels(items)
        return super().to_representation(items)


class StandingSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Stable: your_answer, their_answer, connected, closed, …")
    words = serializers.CharField(help_text="In words, in the reader's language")


class MatchSerializer(serializers.ModelSerializer):
    need = serializers.SerializerMethodField()
    offer = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    my_sides = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(help_text="What you may do on this match now")
    standing = serializers.SerializerMethodField(help_text="Whose move it is, for you")
    status = serializers.ChoiceField(choices=MatchStatus.choices, read_only=True)

    class Meta:
        model = Match
        list_serializer_class = MatchListSerializer
        fields = [
            "id",
            "status",
            "score",
            "origin",
            "need",
            "offer",
            "reasons",
            "my_sides",
            "actions",
            "standing",
            "need_response",
            "need_message",
            "offer_response",
            "offer_message",
            "decline_reason",
            "close_reason",
            "close_note",
            "created_at",
            "introduced_at",
            "connected_at",
            "completed_at",
            "closed_at",
        ]

    def _side(self, posting: Need | Offer) -> dict[str, Any]:
        return {"id": posting.pk, "title": posting.title, "poster": poster_of(posting)}

    @extend_schema_field(MatchSideSerializer)
    def get_need(self, match: Match) -> dict[str, Any]:
        return self._side(match.need)

    @extend_schema_field(MatchSideSerializer)
    def get_offer(self, match: Match) -> dict[str, Any]:
        return self._side(match.offer)

    def get_reasons(self, match: Match) -> list[str]:
        labels = self.context.get("labels")
        return reason_lines(
            match.reasons, labels if labels is not None else match_selectors.reason_labels([match])
        )

    def get_my_sides(self, match: Match) -> list[str]:
        return sorted(sides_of(self.context["request"].user, match))

    def get_actions(self, match: Match) -> list[str]:
        return sorted(actions_for(self.context["request"].user, match))

    @extend_schema_field(StandingSerializer)
    def get_standing(self, match: Match) -> dict[str, str]:
        standing = match_selectors.match_standing(match, sides_of(self.context["request"].user, match))
        return {"key": standing.key, "words": str(standing.label)}


class MatchDetailSerializer(MatchSerializer):
    outcomes = OutcomeSerializer(many=True, read_only=True)
    contacts = serializers.SerializerMethodField(
        help_text="Each side's contact, once both sides accepted (or for the secretariat)"
    )

    class Meta(MatchSerializer.Meta):
        fields = [*MatchSerializer.Meta.fields, "outcomes", "contacts"]

    @extend_schema_field(
        serializers.DictField(child=ContactSerializer(allow_null=True), help_text="keys: need, offer")
    )
    def get_contacts(self, match: Match) -> dict[str, Any]:
        user = self.context["request"].user
        contacts: dict[str, Any] = {}
        for side in ("need", "offer"):
            posting = getattr(match, side)
            visible = posting.pk in match_selectors.posting_visibility(user, [posting])[1]
            contacts[side] = ContactSerializer(posting).data if visible else None
        return contacts


class MatchCreateSerializer(serializers.Serializer):
    need = serializers.IntegerField(min_value=1)
    offer = serializers.IntegerField(min_value=1)


class AcceptSerializer(serializers.Serializer):
    message = _message()


class DeclineSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=DeclineReason.choices)
    message = _message()


class ReportOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    rating = serializers.IntegerField(**field_limits(MatchOutcome, "rating"))
    feedback = _text(MatchOutcome, "feedback")


class MatchCloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CloseReason.choices)
    note = _message()


class NoteSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(max_length=4000)
    author: "serializers.StringRelatedField[User]" = serializers.StringRelatedField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class BulkCurationSerializer(serializers.Serializer):
    matches = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)
    action = serializers.ChoiceField(choices=["introduce", "dismiss"])


class BulkResultSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()


class QueuedPostingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["need", "offer"])
    id = serializers.IntegerField()
    title = serializers.CharField()
    poster = PosterSerializer()
    language = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)


# --- Notifications ----------------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=kinds.CHOICES, read_only=True)
    subject = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "url", "created_at", "read_at"]

    def _rendered(self, notification: Notification) -> outbox.Rendered:
        cache: dict[int, outbox.Rendered] = context_of(self).setdefault("rendered", {})
        if notification.pk not in cache:
            cache[notification.pk] = outbox.render(notification)
        return cache[notification.pk]

    def get_subject(self, notification: Notification) -> str:
        return self._rendered(notification).subject

    def get_body(self, notification: Notification) -> str:
        rendered = self._rendered(notification)
        return "\n\n".join(part for part in (rendered.body, rendered.quote, *rendered.details) if part)

    def get_url(self, notification: Notification) -> str:
        return outbox.absolute_url(self._rendered(notification).url)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="Leave out to mark every notification read",
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class PreferencesSerializer(serializers.Serializer):
    """How often each kind of notification is e-mailed; a PUT may name only the kinds it changes."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            kind: serializers.ChoiceField(choices=Frequency.choices, required=False, label=str(label))
            for kind, label in kinds.CHOICES
        }


# --- Mentoring --------------------------------------------------------------------------------------------


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = MentoringMilestone
        fields = ["id", "title", "due_on", "done_on"]
        read_only_fields = ["done_on"]


class CheckInSerializer(serializers.ModelSerializer):
    author: "serializers.StringRelatedField[User]" = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = MentoringCheckIn
        fields = ["id", "note", "author", "created_at"]


class PairingSerializer(serializers.ModelSerializer):
    mentor = serializers.CharField(source="mentor.__str__", read_only=True)
    mentee: "serializers.SlugRelatedField[Party]" = serializers.SlugRelatedField(
        source="request.party", slug_field="code", read_only=True
    )
    forms = serializers.ListField(child=serializers.CharField(), read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)
    check_ins = CheckInSerializer(many=True, read_only=True)

    class Meta:
        model = MentoringPairing
        fields = [
            "id",
            "mentor",
            "mentee",
            "status",
            "forms",
            "goals",
            "suitability",
            "milestones",
            "check_ins",
            "created_at",
            "confirmed_at",
            "ended_at",
        ]


# --- Tokens -----------------------------------------------------------------------------------------------


class TokenSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="token_key", read_only=True, help_text="The token's first characters")

    class Meta:
        model = ApiToken
        fields = ["key", "name", "created", "expiry"]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        **field_limits(ApiToken, "name"), help_text="What the token is for, e.g. the program that uses it"
    )
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=ApiToken.MAX_DAYS, default=ApiToken.DEFAULT_DAYS
    )


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret: shown this once, never again")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


# --- Open formats -----------------------------------------------------------------------------------------


IMPORT_FILE_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".txt")


class ImportSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["need", "offer"])
    format = serializers.ChoiceField(choices=["csv", "jsonl"])
    content = serializers.CharField(
        required=False,
        max_length=2_000_000,
        trim_whitespace=False,
        help_text="The file's text (or send `file`)",
    )
    file = serializers.FileField(required=False, max_length=200, help_text="The file, as multipart form data")
    dry_run = serializers.BooleanField(
        default=True, help_text="Only report each row's errors; import nothing"
    )
    status = serializers.ChoiceField(
        choices=[PostingStatus.DRAFT, PostingStatus.SUBMITTED, PostingStatus.PUBLISHED],
        default=PostingStatus.DRAFT,
        help_text="Leave the postings as drafts, submit them for validation, or publish them (secretariat)",
    )

    def validate_file(self, upload: UploadedFile) -> UploadedFile:
        # Django keeps only the last part of an uploaded file's name ("../../etc/passwd" arrives as "passwd")
        # and the file is read, never stored; a name that is not a text file's is refused all the same.
        assert upload.name is not None and upload.size is not None  # an upload has both (not any File)
        if not upload.name.lower().endswith(IMPORT_FILE_SUFFIXES):
            raise serializers.ValidationError(
                _("Send a .csv, .jsonl or .txt file (not %(name)s).") % {"name": upload.name}
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # None: no limit, as for Django
        if limit is not None and upload.size > limit:
            raise serializers.ValidationError(
                _("The file is too large: at most %(size)s.") % {"size": filesizeformat(limit)}
            )
        return upload

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("content" in data) == ("file" in data):
            raise serializers.ValidationError(
                {"content": [_("Send the rows as content or as a file, one of them.")]}
            )
        return data


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1 for the first row of data")
    # A field named as a Serializer property: DRF's metaclass moves it into the declared fields.
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    valid = serializers.BooleanField(help_text="Every row can be imported")
    imported = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the new postings")
    errors = ImportRowErrorSerializer(many=True)  # type: ignore[assignment]  # a field, as above
