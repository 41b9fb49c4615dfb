"""The mentoring programme: mentors (established clearing-houses, with a capacity), Parties' requests for a
mentor, cohorts that the secretariat assigns at once, pairings and how they are followed."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.models import ExpertProfile, Language, Organization, Party

if TYPE_CHECKING:  # for annotations only: the stubs' generic ArrayField, and their text-or-lazy-text alias
    from collections.abc import Sequence

    from django.db.models.expressions import Combinable
    from django_stubs_ext import StrOrPromise


class MentoringForm(models.TextChoices):
    """The forms of support of the CHM partnership programmes (the seeds)."""

    HOSTING = "hosting", _("Hosting of the national clearing-house")
    SITE_DEVELOPMENT = "site_development", _("Standardised site development and hosting")
    ADVICE = "advice", _("Advice")
    MIRROR_SITE = "mirror_site", _("Mirror site")
    TRAINING = "training", _("Training")


def _forms_field(verbose_name: "StrOrPromise") -> "ArrayField[Sequence[str] | Combinable, list[str]]":
    return ArrayField(
        models.CharField(max_length=20, choices=MentoringForm.choices),
        default=list,
        verbose_name=verbose_name,
    )


def _labels(codes: list[str], choices: type[models.TextChoices]) -> list[str]:
    """The labels of stored codes, in the active language (a code no longer offered is left out)."""
    return [str(choices(code).label) for code in codes if code in choices.values]


class LabelledFormsAndLanguages:
    """The forms of support and languages of a mentor or a request, as a reader sees them."""

    forms: list[str]
    languages: list[str]

    @property
    def form_labels(self) -> list[str]:
        return _labels(self.forms, MentoringForm)

    @property
    def language_labels(self) -> list[str]:
        return _labels(self.languages, Language)


class Mentor(LabelledFormsAndLanguages, models.Model):
    """A Party, organization or expert with an established clearing-house, offering to mentor newer ones."""

    party = models.OneToOneField(
        Party, on_delete=models.CASCADE, null=True, blank=True, related_name="mentor", verbose_name=_("Party")
    )
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="mentor"
    )
    expert = models.OneToOneField(
        ExpertProfile, on_delete=models.CASCADE, null=True, blank=True, related_name="mentor"
    )
    forms = _forms_field(_("forms of support offered"))
    languages = ArrayField(
        models.CharField(max_length=2, choices=Language.choices), default=list, verbose_name=_("languages")
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("How many mentees you can support at the same time."),
    )
    description = models.TextField(
        _("experience"),
        validators=[MaxLengthValidator(4000)],
        help_text=_("Your clearing-house, what you have done, what you can share."),
    )
    website = models.URLField(_("your clearing-house website"), blank=True)
    is_active = models.BooleanField(_("accepting mentees"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(party__isnull=False, organization__isnull=True, expert__isnull=True)
                | Q(party__isnull=True, organization__isnull=False, expert__isnull=True)
                | Q(party__isnull=True, organization__isnull=True, expert__isnull=False),
                name="mentor_one_identity",
            )
        ]

    def __str__(self) -> str:
        return str(self.party or self.organization or self.expert)

    @property
    def region(self) -> str | None:
        home = self.party or (self.organization.country if self.organization else None)
        return home.region if home else None


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Looking for a mentor")
    PAIRED = "paired", _("Paired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class MentoringRequest(LabelledFormsAndLanguages, models.Model):
    """A Party's request (by its focal point) to be mentored for its national clearing-house."""

    party = models.ForeignKey(
        Party, on_delete=models.CASCADE, related_name="mentoring_requests", verbose_name=_("Party")
    )
    forms = _forms_field(_("forms of support sought"))
    languages = ArrayField(
        models.CharField(max_length=2, choices=Language.choices),
        default=list,
        verbose_name=_("languages of work"),
    )
    goals = models.TextField(_("goals"), validators=[MaxLengthValidator(4000)])
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["party"], condition=Q(status="open"), name="mentoring_request_one_open_per_party"
            )
        ]

    def __str__(self) -> str:
        return str(self.party)


class CohortStatus(models.TextChoices):
    DRAFT = "draft", _("Draft: assignment being edited")
    CONFIRMED = "confirmed", _("Confirmed")


class MentoringCohort(models.Model):
    """A round of the programme: the secretariat assigns mentors to several mentees at once."""

    name = models.CharField(_("name"), max_length=200)
    requests = models.ManyToManyField(MentoringRequest, related_name="cohorts", verbose_name=_("mentees"))
    status = models.CharField(max_length=10, choices=CohortStatus.choices, default=CohortStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class PairingStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# Pairings that take one of the mentor's places.
LIVE_PAIRING_STATUSES = (PairingStatus.PROPOSED, PairingStatus.ACTIVE)


class MentoringPairing(models.Model):
    mentor = models.ForeignKey(Mentor, on_delete=models.PROTECT, related_name="pairings")
    request = models.ForeignKey(MentoringRequest, on_delete=models.PROTECT, related_name="pairings")
    cohort = models.ForeignKey(
        MentoringCohort, on_delete=models.CASCADE, null=True, blank=True, related_name="pairings"
    )
    status = models.CharField(max_length=10, choices=PairingStatus.choices, default=PairingStatus.PROPOSED)
    forms = _forms_field(_("forms of support"))
    goals = models.TextField(_("goals"), blank=True, validators=[MaxLengthValidator(4000)])
    suitability = models.FloatField(default=0)
    reasons = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=["proposed", "active"]),
                name="pairing_one_live_per_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.mentor} → {self.request.party}"

    @property
    def form_labels(self) -> list[str]:
        return _labels(self.forms, MentoringForm)


class MentoringMilestone(models.Model):
    pairing = models.ForeignKey(MentoringPairing, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=200)
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.title


class MentoringCheckIn(models.Model):
    pairing = models.ForeignKey(MentoringPairing, on_delete=models.CASCADE, related_name="check_ins")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    note = models.TextField(_("note"), validators=[MaxLengthValidator(4000)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.note[:60]
