"""Who posts what: accounts and roles, Parties, organizations, experts, the vocabulary, needs and offers.

Models hold data and database-level guarantees only; every write goes through `services.py`.
"""

from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken

from core.limits import MESSAGE_MAX_LENGTH

if TYPE_CHECKING:  # for annotations only: the stubs' text-or-lazy-text alias
    from django_stubs_ext import StrOrPromise

# The six UN languages, as the labels' and names' columns spell them (label_en … label_ru).
LABEL_LANGUAGES = ("en", "fr", "es", "ar", "zh", "ru")


def content_language(language: str | None) -> str:
    """The 2-letter code the models store for an interface language: "zh-hans" (simplified Chinese, 7
    letters) is "zh", "fr" is "fr"; none is English. The one place where the two spellings meet."""
    return (language or "en").split("-")[0].lower()[:2] or "en"


def _description_validators() -> list[MaxLengthValidator]:
    return [MaxLengthValidator(settings.POSTING_DESCRIPTION_MAX_LENGTH)]


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")
    SPANISH = "es", _("Spanish")
    PORTUGUESE = "pt", _("Portuguese")
    ARABIC = "ar", _("Arabic")
    RUSSIAN = "ru", _("Russian")
    CHINESE = "zh", _("Chinese")


# A posting may be written in a language that is none of the above: "und", the BCP 47 tag of an undetermined
# language (valid in an HTML lang attribute). Search by words reads it word by word, without stemming; the
# matcher does not count it as a shared language of work.
OTHER_LANGUAGE = "und"
TEXT_LANGUAGES: list[tuple[str, "StrOrPromise"]] = [
    *Language.choices,
    (OTHER_LANGUAGE, _("Another language")),
]


class Region(models.TextChoices):
    """The UN regional groups."""

    AFRICAN = "african", _("African States")
    ASIA_PACIFIC = "asia-pacific", _("Asia-Pacific States")
    EASTERN_EUROPEAN = "eastern-european", _("Eastern European States")
    LATIN_AMERICAN_CARIBBEAN = "latin-american-caribbean", _("Latin American and Caribbean States")
    WEOG = "weog", _("Western European and other States")


class LabelledMixin(models.Model):
    """Labels in the six UN languages; `label` picks the active language, falling back to English. Arabic,
    Chinese and Russian came later and may be blank (English is shown then)."""

    label_en = models.CharField(max_length=200)
    label_fr = models.CharField(max_length=200)
    label_es = models.CharField(max_length=200)
    label_ar = models.CharField(max_length=200, blank=True)
    label_zh = models.CharField(max_length=200, blank=True)
    label_ru = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_in(get_language())

    def label_in(self, language: str | None) -> str:
        """The label in a language (an interface code such as "zh-hans" or a stored one such as "zh");
        English when there is none."""
        code = content_language(language)
        value: str = getattr(self, f"label_{code}", "") if code in LABEL_LANGUAGES else ""
        return value or self.label_en


# --- Accounts ---------------------------------------------------------------------------------------


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.update(is_staff=True, is_superuser=True, is_secretariat=True)
        return self.create_user(email, password, **extra_fields)


def validate_public_name(value: str) -> None:
    """A public name is shown to everyone: it must not be (or carry) an e-mail address."""
    if "@" in value:
        raise ValidationError(
            _("Your name is shown to everyone: do not put an e-mail address in it."), code="email_in_name"
        )


# The plugin cannot type the reverse manager of ApiToken.user (`auth_token_set`): knox's base is untyped.
class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]
    """A person; e-mail is the login. Roles come from the related records (see `permissions.py`)."""

    email = models.EmailField(_("e-mail address"), unique=True)
    # Blank only for accounts from before names were asked; they are asked for one at their next sign-in.
    name = models.CharField(_("full name"), max_length=200, blank=True, validators=[validate_public_name])
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    is_secretariat = models.BooleanField(
        _("secretariat staff"), default=False, help_text=_("Validates postings and grants roles.")
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        """How the person is named wherever others can see them: the name they gave, or else a neutral label
        that says nothing about them (never their e-mail address)."""
        return self.name.strip() or gettext("Member %(number)s") % {"number": self.pk}


class ApiToken(AbstractAuthToken):  # type: ignore[misc]  # knox ships no type information (an Any base)
    """A personal API token (django-rest-knox: stored as a hash, shown once). A user holds several, each
    named after the program that uses it, and revokes them one by one."""

    name = models.CharField(_("name"), max_length=100)

    DEFAULT_DAYS = 90
    MAX_DAYS = 365
    PER_USER = 20

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"


# --- Geography and vocabulary -----------------------------------------------------------------------


class Subregion(LabelledMixin):
    code = models.SlugField(max_length=40, unique=True)

    class Meta:
        ordering = ["code"]


class Party(models.Model):
    """A Party to the Convention: 195 states and the European Union."""

    code = models.CharField(_("ISO code"), max_length=2, unique=True)
    iso3 = models.CharField(max_length=3, unique=True)
    name_en = models.CharField(max_length=120)
    name_fr = models.CharField(max_length=120)
    name_es = models.CharField(max_length=120)
    name_ar = models.CharField(max_length=120, blank=True)  # from CLDR (seed_data/cldr_names.py)
    name_zh = models.CharField(max_length=120, blank=True)
    name_ru = models.CharField(max_length=120, blank=True)
    region = models.CharField(_("UN regional group"), max_length=30, choices=Region.choices)
    subregion = models.ForeignKey(Subregion, on_delete=models.PROTECT, related_name="parties")

    class Meta:
        ordering = ["name_en"]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_in(get_language())

    def name_in(self, language: str | None) -> str:
        code = content_language(language)
        value: str = getattr(self, f"name_{code}", "") if code in LABEL_LANGUAGES else ""
        return value or self.name_en


class Scheme(models.TextChoices):
    SUBJECT = "subject", _("CBD subject")
    GBF_GOAL = "gbf_goal", _("GBF goal")
    GBF_TARGET = "gbf_target", _("GBF target")
    SUPPORT_TYPE = "support_type", _("Type of support")


class Term(LabelledMixin):
    """One entry of the controlled vocabulary. Terms are data: loaded from seed_data/, edited in the admin,
    retired (inactive) rather than deleted so that old postings keep their meaning."""

    scheme = models.CharField(max_length=20, choices=Scheme.choices)
    code = models.SlugField(max_length=60)
    group = models.SlugField(max_length=40, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["scheme", "position"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="term_unique_code_per_scheme")]


class VocabularyRelease(models.Model):
    """The vocabulary version loaded into this database, so that loading the same files twice is a no-op."""

    version = models.CharField(max_length=40, unique=True)
    loaded_at = models.DateTimeField(auto_now_add=True)
    term_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-loaded_at"]

    # --- Organizations, experts and roles ---------------------------------------------------------------

    def __str__(self) -> str:
        return self.version


class OrganizationType(models.TextChoices):
    GOVERNMENT = "government", _("Government agency")
    NGO = "ngo", _("Non-governmental organization")
    ACADEMIA = "academia", _("Academia or research")
    IPLC = "iplc", _("Indigenous peoples and local communities")
    PRIVATE = "private", _("Private sector")
    INTERGOVERNMENTAL = "intergovernmental", _("Intergovernmental organization")
    OTHER = "other", _("Other")


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=OrganizationType.choices)
    country = models.ForeignKey(
        Party,
        verbose_name=_("country"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        help_text=_("Leave empty for an international organization."),
    )
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True, validators=[MaxLengthValidator(2000)])
    created_at = models.DateTimeField(auto_now_add=True)
    # A registered organization waits for the secretariat: until approved it cannot invite nor post
    # (`permissions.is_approved_organization`), and it is not listed publicly.
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True, validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH)])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True) | Q(rejected_at__isnull=True),
                name="organization_not_both_approved_and_rejected",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationMembership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    is_admin = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization}"


class OrganizationInvitation(models.Model):
    """An organization admin's invitation; the invitee accepts it once signed in with that e-mail."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"


class Availability(models.TextChoices):
    AVAILABLE = "available", _("Available")
    LIMITED = "limited", _("Limited availability")
    UNAVAILABLE = "unavailable", _("Not available at the moment")


class ExpertProfile(models.Model):
    """Having a profile is what makes a user an expert."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expert_profile"
    )
    bio = models.TextField(_("biography"), validators=[MaxLengthValidator(4000)])
    expertise = models.TextField(_("expertise"), validators=[MaxLengthValidator(2000)])
    subjects = models.ManyToManyField(Term, blank=True, related_name="+", verbose_name=_("subjects"))
    languages = ArrayField(
        models.CharField(max_length=2, choices=Language.choices), default=list, verbose_name=_("languages")
    )
    countries = models.ManyToManyField(
        Party, blank=True, related_name="+", verbose_name=_("countries of experience")
    )
    availability = models.CharField(
        _("availability"), max_length=20, choices=Availability.choices, default=Availability.AVAILABLE
    )

    def __str__(self) -> str:
        return str(self.user)


class FocalPointAssignment(models.Model):
    """The secretariat-granted role of national focal point for a Party."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="focal_points")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="focal_points")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "party"], name="focal_point_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.party}"


class RoleRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class FocalPointRequest(models.Model):
    """A user's request to act as focal point for a Party, decided by the secretariat."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_requests")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="+", verbose_name=_("Party"))
    justification = models.TextField(_("justification"), validators=[MaxLengthValidator(2000)])
    status = models.CharField(
        max_length=10, choices=RoleRequestStatus.choices, default=RoleRequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "party"],
                condition=Q(status="pending"),
                name="focal_point_request_one_pending",
            )
        ]

    # --- Postings ---------------------------------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.user} → {self.party} ({self.status})"


class PostingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for validation")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")


class ClosedReason(models.TextChoices):
    FULFILLED = "fulfilled", _("Fulfilled")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")
    REJECTED = "rejected", _("Rejected by the secretariat")


class Posting(models.Model):
    """What needs and offers share: text, facets, lifecycle, contact person."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), validators=_description_validators())
    language = models.CharField(_("language of the text"), max_length=3, choices=TEXT_LANGUAGES)
    status = models.CharField(max_length=10, choices=PostingStatus.choices, default=PostingStatus.DRAFT)
    closed_reason = models.CharField(max_length=10, choices=ClosedReason.choices, blank=True)
    status_message = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH)],
        help_text="The secretariat's latest message to the poster (changes requested, rejection).",
    )
    regions = ArrayField(
        models.CharField(max_length=30, choices=Region.choices),
        default=list,
        blank=True,
        verbose_name=_("regions"),
    )
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact telephone"), max_length=40, blank=True)
    expires_on = models.DateField(_("expires on"))
    source_ref = models.CharField(
        max_length=100,
        unique=True,
        null=True,
        blank=True,
        help_text="Reference of an imported or seeded posting.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-published_at", "-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def region_labels(self) -> list["StrOrPromise"]:
        return [Region(code).label for code in self.regions if code in Region.values]

    @property
    def status_label(self) -> "StrOrPromise":
        """The status in words, agreeing with the kind of posting: a need and an offer differ in gender in
        French ("besoin publié", "offre publiée")."""
        return _KIND_STATUS_LABELS[self._meta.model_name or ""].get(self.status, self.status)

    @property
    def closed_reason_label(self) -> "StrOrPromise":
        return _KIND_STATUS_LABELS[self._meta.model_name or ""].get(self.closed_reason, self.closed_reason)


# Statuses and reasons for closing, translated with the kind of posting as context (see `status_label`).
_KIND_STATUS_LABELS: dict[str, dict[str, "StrOrPromise"]] = {
    "need": {
        PostingStatus.DRAFT: pgettext_lazy("need", "Draft"),
        PostingStatus.SUBMITTED: pgettext_lazy("need", "Submitted for validation"),
        PostingStatus.PUBLISHED: pgettext_lazy("need", "Published"),
        PostingStatus.CLOSED: pgettext_lazy("need", "Closed"),
        ClosedReason.FULFILLED: pgettext_lazy("need", "Fulfilled"),
        ClosedReason.WITHDRAWN: pgettext_lazy("need", "Withdrawn"),
        ClosedReason.EXPIRED: pgettext_lazy("need", "Expired"),
        ClosedReason.REJECTED: pgettext_lazy("need", "Rejected by the secretariat"),
    },
    "offer": {
        PostingStatus.DRAFT: pgettext_lazy("offer", "Draft"),
        PostingStatus.SUBMITTED: pgettext_lazy("offer", "Submitted for validation"),
        PostingStatus.PUBLISHED: pgettext_lazy("offer", "Published"),
        PostingStatus.CLOSED: pgettext_lazy("offer", "Closed"),
        ClosedReason.FULFILLED: pgettext_lazy("offer", "Fulfilled"),
        ClosedReason.WITHDRAWN: pgettext_lazy("offer", "Withdrawn"),
        ClosedReason.EXPIRED: pgettext_lazy("offer", "Expired"),
        ClosedReason.REJECTED: pgettext_lazy("offer", "Rejected by the secretariat"),
    },
}


def _closed_reason_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(status=PostingStatus.CLOSED) & ~Q(closed_reason=""))
        | (~Q(status=PostingStatus.CLOSED) & Q(closed_reason="")),
        name=name,
    )


class Need(Posting):
    """A Party's or an organization's request for support."""

    party = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="needs", verbose_name=_("Party")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="needs"
    )
    subjects = models.ManyToManyField(Term, related_name="needs_by_subject", verbose_name=_("subjects"))
    gbf_targets = models.ManyToManyField(
        Term, blank=True, related_name="needs_by_target", verbose_name=_("GBF targets")
    )
    support_types = models.ManyToManyField(
        Term, related_name="needs_by_support", verbose_name=_("types of support sought")
    )
    countries = models.ManyToManyField(
        Party, blank=True, related_name="needs_concerning", verbose_name=_("countries concerned")
    )
    beneficiaries = models.TextField(_("beneficiaries"), blank=True, validators=[MaxLengthValidator(2000)])
    timeframe_start = models.DateField(_("start of the timeframe"), null=True, blank=True)
    timeframe_end = models.DateField(_("end of the timeframe"), null=True, blank=True)
    budget_note = models.TextField(
        _("budget and co-financing"), blank=True, validators=[MaxLengthValidator(2000)]
    )

    class Meta(Posting.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(party__isnull=True) ^ Q(organization__isnull=True), name="need_one_poster"
            ),
            models.CheckConstraint(
                condition=Q(timeframe_start__isnull=True)
                | Q(timeframe_end__isnull=True)
                | Q(timeframe_end__gte=F("timeframe_start")),
                name="need_timeframe_ordered",
            ),
            _closed_reason_constraint("need_closed_reason_iff_closed"),
        ]
        indexes = [models.Index(fields=["status", "expires_on"])]

    @property
    def poster(self) -> "Party | Organization | None":
        return self.party or self.organization


class OfferKind(models.TextChoices):
    EXPERTISE = "expertise", _("Expertise or advice")
    TRAINING = "training", _("Training course or workshop")
    TECHNOLOGY = "technology", _("Technology")
    MENTORING = "mentoring", _("Mentoring")
    FUNDING = "funding", _("Funding opportunity")


class DeliveryFormat(models.TextChoices):
    ONLINE = "online", _("Online")
    IN_PERSON = "in_person", _("In person")
    HYBRID = "hybrid", _("Hybrid")


class Offer(Posting):
    """An expert's or an organization's offer of support."""

    expert = models.ForeignKey(
        ExpertProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="offers"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="offers"
    )
    kind = models.CharField(_("kind of offer"), max_length=20, choices=OfferKind.choices)
    subjects = models.ManyToManyField(Term, related_name="offers_by_subject", verbose_name=_("subjects"))
    gbf_targets = models.ManyToManyField(
        Term, blank=True, related_name="offers_by_target", verbose_name=_("GBF targets")
    )
    support_types = models.ManyToManyField(
        Term, related_name="offers_by_support", verbose_name=_("types of support offered")
    )
    countries = models.ManyToManyField(
        Party, blank=True, related_name="offers_covering", verbose_name=_("countries covered")
    )
    global_coverage = models.BooleanField(_("available worldwide"), default=False)
    delivery_languages = ArrayField(
        models.CharField(max_length=2, choices=Language.choices),
        default=list,
        verbose_name=_("languages of delivery"),
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("How many needs this offer can serve at the same time."),
    )
    # Training course or workshop
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    delivery_format = models.CharField(_("format"), max_length=10, choices=DeliveryFormat.choices, blank=True)
    seats = models.PositiveIntegerField(
        _("seats"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    # Technology
    readiness_level = models.PositiveSmallIntegerField(
        _("technology readiness level"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(9)],
    )
    licensing_terms = models.TextField(
        _("licensing terms"), blank=True, validators=[MaxLengthValidator(2000)]
    )
    # Funding opportunity
    eligibility = models.TextField(_("eligibility"), blank=True, validators=[MaxLengthValidator(2000)])
    deadline = models.DateField(_("application deadline"), null=True, blank=True)

    class Meta(Posting.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(expert__isnull=True) ^ Q(organization__isnull=True), name="offer_one_poster"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="offer_dates_ordered",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="offer_capacity_positive"),
            _closed_reason_constraint("offer_closed_reason_iff_closed"),
        ]
        indexes = [models.Index(fields=["status", "expires_on"])]

    @property
    def delivery_language_labels(self) -> list["StrOrPromise"]:
        return [Language(code).label for code in self.delivery_languages if code in Language.values]

    @property
    def poster(self) -> "ExpertProfile | Organization | None":
        return self.expert or self.organization
