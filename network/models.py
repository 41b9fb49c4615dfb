"""A network of clearing-houses: the partner instances this one harvests over OAI-PMH, the postings harvested
from them (with their provenance) and the log of every harvest.

A harvested record becomes an ordinary published `marketplace` posting, posted by the partner's own
organization (one per partner, with no members): nobody here answers for it, so the marketplace's one rule
of ownership (`marketplace.permissions.owner_filter`) already makes it read-only, and no local owner is ever
notified about it. Its provenance lives here.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.models import Need, Offer, Organization


class Partner(models.Model):
    """Another instance of the clearing-house this one harvests, registered by the secretariat."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    base_url = models.URLField(
        _("OAI-PMH address"),
        unique=True,
        help_text=_("The partner's OAI-PMH endpoint, for example https://chm.example.org/oai/"),
    )
    serves = models.CharField(
        _("serves"), max_length=200, blank=True, help_text=_("The Party or programme the partner serves.")
    )
    contact_email = models.EmailField(
        _("contact e-mail"), help_text=_("Where suggested matches with the partner's postings are forwarded.")
    )
    # The partner's contact as an addressee of the outbox (which writes to accounts): forwarded matches.
    contact_account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, editable=False, related_name="+"
    )
    harvest_needs = models.BooleanField(_("harvest needs"), default=True)
    harvest_offers = models.BooleanField(_("harvest offers"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The organization that posts the partner's records here: created with the partner, never with members.
    organization = models.OneToOneField(
        Organization, on_delete=models.PROTECT, related_name="network_partner", editable=False
    )
    # Incremental harvests: records changed since `harvested_until` (the partner's responseDate of the last
    # complete harvest); an interrupted one resumes from `resumption_token`.
    harvested_until = models.DateTimeField(null=True, blank=True, editable=False)
    resumption_token = models.TextField(blank=True, editable=False)
    # The end of the window being harvested (the partner's responseDate at its first page), kept until the
    # run completes, so that a resumed run ends where the interrupted one would have.
    pending_until = models.DateTimeField(null=True, blank=True, editable=False)
    run_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_harvest_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HarvestedPosting(models.Model):
    """Where a harvested posting comes from: one row per record of a partner, linked to the local copy."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="postings")
    identifier = models.CharField(_("original identifier"), max_length=300)
    need = models.OneToOneField(
        Need, on_delete=models.CASCADE, null=True, blank=True, related_name="harvested_from"
    )
    offer = models.OneToOneField(
        Offer, on_delete=models.CASCADE, null=True, blank=True, related_name="harvested_from"
    )
    original_url = models.URLField(_("original page"), max_length=500)
    poster_name = models.CharField(_("posted by"), max_length=200, blank=True)
    datestamp = models.DateTimeField(_("changed on the partner at"))
    harvested_at = models.DateTimeField(_("harvested at"))
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-harvested_at"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "identifier"], name="harvested_once_per_partner"),
            models.CheckConstraint(
                condition=Q(need__isnull=True) ^ Q(offer__isnull=True), name="harvested_one_posting"
            ),
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def posting(self) -> Need | Offer:
        posting = self.need or self.offer
        assert posting is not None  # the check constraint: exactly one
        return posting


class LogLevel(models.TextChoices):
    INFO = "info", _("Information")
    STORED = "stored", _("Stored")
    CLOSED = "closed", _("Closed")
    SKIPPED = "skipped", _("Skipped")
    ERROR = "error", _("Error")


class HarvestLogEntry(models.Model):
    """One line of a harvest: a record stored, closed or skipped (with why), or what stopped the run."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="log")
    run = models.UUIDField()
    at = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=10, choices=LogLevel.choices)
    identifier = models.CharField(max_length=300, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "harvest log entries"

    def __str__(self) -> str:
        return f"{self.level} {self.identifier} {self.message[:60]}"
