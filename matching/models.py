"""Stored vectors, match suggestions and fitted weights."""

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from core.limits import MESSAGE_MAX_LENGTH
from marketplace.models import Language, Need, Offer

# The HNSW indexes (migration 0001) cover vectors of this size, which both shipped models produce.
# A local model of another size still works: its vectors are searched by an exact scan.
INDEXED_DIMENSIONS = 384


class Embedding(models.Model):
    """A posting's vector, with the model that made it and a hash of the text it was made from."""

    model = models.CharField(max_length=300)
    model_version = models.CharField(max_length=100)
    content_hash = models.CharField(max_length=64)
    dimensions = models.PositiveSmallIntegerField()
    vector = VectorField()
    updated_at = models.DateTimeField(auto_now=True)
    # The `updated_at` of the version of the posting the matcher last stored suggestions for: a published
    # posting saved after that (or never matched) is pending (`selectors.pending_match_ids`), and
    # `tasks.match_pending` matches it.
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def is_current(self, *, model_version: str, content_hash: str) -> bool:
        return self.model_version == model_version and self.content_hash == content_hash


class NeedEmbedding(Embedding):
    need = models.OneToOneField(Need, on_delete=models.CASCADE, primary_key=True, related_name="embedding")

    def __str__(self) -> str:
        return f"need {self.need_id} ({self.model_version})"


class OfferEmbedding(Embedding):
    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, primary_key=True, related_name="embedding")

    def __str__(self) -> str:
        return f"offer {self.offer_id} ({self.model_version})"


class MatchStatus(models.TextChoices):
    """Where a (need, offer) pair stands. The engine only ever creates "suggested" rows and only ever
    rewrites those; every other state is a person's decision and is left alone."""

    SUGGESTED = "suggested", _("Suggested")
    REQUESTED = "requested", _("Interest expressed")
    INTRODUCED = "introduced", _("Introduced")
    DISMISSED = "dismissed", _("Dismissed by the secretariat")
    DECLINED = "declined", _("Declined")
    CONNECTED = "connected", _("Connected")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")


class MatchOrigin(models.TextChoices):
    ENGINE = "engine", _("Suggested by the matcher")
    INTEREST = "interest", _("Interest expressed by one side")
    CURATOR = "curator", _("Created by the secretariat")


class Response(models.TextChoices):
    PENDING = "", _("No answer yet")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class DeclineReason(models.TextChoices):
    NOT_RELEVANT = "not_relevant", _("Not relevant to us")
    NO_CAPACITY = "no_capacity", _("No capacity at the moment")
    TIMING = "timing", _("The timing does not work")
    CONDITIONS = "conditions", _("The conditions do not suit us")
    OTHER = "other", _("Another reason")


class CloseReason(models.TextChoices):
    NO_RESPONSE = "no_response", _("No response from the other side")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
    COULD_NOT_AGREE = "could_not_agree", _("We could not agree on the terms")
    OTHER = "other", _("Another reason")


class Outcome(models.TextChoices):
    ACHIEVED = "achieved", _("Achieved what was hoped")
    PARTLY = "partly", _("Partly achieved")
    NOT_ACHIEVED = "not_achieved", _("Not achieved")


# An offer's accepted matches: they use its capacity and teach the "history" feature.
ACCEPTED_STATUSES = frozenset({MatchStatus.CONNECTED, MatchStatus.IN_PROGRESS, MatchStatus.COMPLETED})
# What curators' decisions teach the weights: kept (introduced or accepted) against turned down.
POSITIVE_STATUSES = ACCEPTED_STATUSES | {MatchStatus.INTRODUCED}
NEGATIVE_STATUSES = frozenset({MatchStatus.DISMISSED, MatchStatus.DECLINED})


class Match(models.Model):
    """One (need, offer) pair: the engine's score and reasons, and what people decided about it."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="matches")
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="matches")
    status = models.CharField(max_length=20, choices=MatchStatus.choices, default=MatchStatus.SUGGESTED)
    score = models.FloatField()
    features = models.JSONField(default=dict, help_text="Feature values at the last scoring.")
    reasons = models.JSONField(default=dict, help_text="Structured explanation of the score.")
    model_version = models.CharField(max_length=100)
    weights_version = models.CharField(max_length=40)
    origin = models.CharField(max_length=10, choices=MatchOrigin.choices, default=MatchOrigin.ENGINE)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Each side's answer, with the message it sent the other side.
    need_response = models.CharField(max_length=10, choices=Response.choices, blank=True)
    need_message = models.TextField(blank=True, validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH)])
    need_responded_at = models.DateTimeField(null=True, blank=True)
    offer_response = models.CharField(max_length=10, choices=Response.choices, blank=True)
    offer_message = models.TextField(blank=True, validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH)])
    offer_responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    close_note = models.TextField(blank=True, validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH)])
    created_at = models.DateTimeField(auto_now_add=True)
    scored_at = models.DateTimeField()
    introduced_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["need", "offer"], name="match_one_per_pair"),
            models.CheckConstraint(
                condition=models.Q(score__gte=0) & models.Q(score__lte=1), name="match_score_0_1"
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["connected", "in_progress", "completed"])
                | (models.Q(need_response="accepted") & models.Q(offer_response="accepted")),
                name="match_connected_only_when_both_accepted",
            ),
        ]
        indexes = [models.Index(fields=["status", "-score"])]
        verbose_name_plural = "matches"

    def __str__(self) -> str:
        return f"{self.need} ↔ {self.offer} ({self.score:.2f})"


class MatchOutcome(models.Model):
    """One side's report on a finished match: how it went, and feedback for the other side and the CHM."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="outcomes")
    side = models.CharField(max_length=5, choices=[("need", _("Need")), ("offer", _("Offer"))])
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)], help_text=_("1 to 5")
    )
    feedback = models.TextField(_("feedback"), blank=True, validators=[MaxLengthValidator(4000)])
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reported_at"]
        constraints = [models.UniqueConstraint(fields=["match", "side"], name="outcome_one_per_side")]

    def __str__(self) -> str:
        return f"{self.match_id} {self.side}: {self.outcome}"


class MatchNote(models.Model):
    """A curator's internal note on a match; never shown to the sides."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    text = models.TextField(validators=[MaxLengthValidator(4000)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text[:60]


class CaseStudy(models.Model):
    """A completed match told as a story; public only once both sides have consented to this text and the
    secretariat has approved it: ``published_at`` is the moment of that approval."""

    match = models.OneToOneField(Match, on_delete=models.CASCADE, related_name="case_study")
    title = models.CharField(_("title"), max_length=200)
    story = models.TextField(_("story"), validators=[MaxLengthValidator(8000)])
    language = models.CharField(_("language of the text"), max_length=2, choices=Language.choices)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    need_consent_at = models.DateTimeField(null=True, blank=True)
    offer_consent_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(_("why the secretariat sent it back"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "-updated_at"]
        verbose_name_plural = "case studies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published_at__isnull=True)
                | (models.Q(need_consent_at__isnull=False) & models.Q(offer_consent_at__isnull=False)),
                name="case_study_published_with_both_consents",
            )
        ]

    def __str__(self) -> str:
        return self.title


class MatchWeights(models.Model):
    """Combination weights fitted on curators' decisions; the newest row is in use."""

    version = models.CharField(max_length=40, unique=True)
    weights = models.JSONField()
    decisions = models.PositiveIntegerField(help_text="How many decided matches they were fitted on.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        verbose_name_plural = "match weights"

    def __str__(self) -> str:
        return self.version
