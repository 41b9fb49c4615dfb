"""Stored vectors, match suggestions and fitted weights."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from marketplace.models import Need, Offer

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
    INTRODUCED = "introduced", _("Introduced")
    DISMISSED = "dismissed", _("Dismissed by the secretariat")
    DECLINED = "declined", _("Declined")
    CONNECTED = "connected", _("Connected")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")


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
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    scored_at = models.DateTimeField()

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["need", "offer"], name="match_one_per_pair"),
            models.CheckConstraint(
                condition=models.Q(score__gte=0) & models.Q(score__lte=1), name="match_score_0_1"
            ),
        ]
        indexes = [models.Index(fields=["status", "-score"])]
        verbose_name_plural = "matches"

    def __str__(self) -> str:
        return f"{self.need} ↔ {self.offer} ({self.score:.2f})"


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
