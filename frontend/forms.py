"""Page forms. They only turn request data into Python values; the services validate and write, and their
errors are shown on the matching fields (see `apply_service_errors`)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict, cast, overload

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField, BoundWidget
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from core.limits import MESSAGE_MAX_LENGTH, field_limits
from marketplace import selectors, services
from marketplace.models import (
    TEXT_LANGUAGES,
    ApiToken,
    ClosedReason,
    ExpertProfile,
    Language,
    Need,
    Offer,
    OfferKind,
    Organization,
    Region,
    Scheme,
    User,
    validate_public_name,
)
from matching.models import CaseStudy, CloseReason, DeclineReason, MatchOutcome, Outcome
from mentoring.models import MentoringForm, MentoringRequest
from notifications import kinds
from notifications.models import Frequency

if TYPE_CHECKING:  # the stubs' text-or-lazy-text alias (django_stubs_ext is a type-checking aid only)
    from django_stubs_ext import StrOrPromise

# A choice of a form field: (value, label); and a group of them under a heading.
Choice: TypeAlias = tuple[Any, "StrOrPromise"]
ChoiceGroup: TypeAlias = tuple["StrOrPromise", list[Choice]]
# What `selectors.filter_choices()` answers: each vocabulary's terms and the Parties, as dictionaries.
FilterChoices: TypeAlias = Mapping[str, Sequence[Mapping[str, Any]]]

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


@overload
def _term_choices(
    scheme: str, grouped: Literal[False] = False, *, cached: FilterChoices | None = None
) -> list[Choice]: ...
@overload
def _term_choices(
    scheme: str, grouped: Literal[True], *, cached: FilterChoices | None = None
) -> list[ChoiceGroup]: ...
def _term_choices(
    scheme: str, grouped: bool = False, *, cached: FilterChoices | None = None
) -> list[Choice] | list[ChoiceGroup]:
    """A vocabulary's choices; `cached`: `selectors.filter_choices()` when the caller already has it."""
    terms = (cached or selectors.filter_choices())[scheme]
    if not grouped:
        return [(term["code"], term["label"]) for term in terms]
    groups: dict[str, list[Choice]] = {}
    for term in terms:
        groups.setdefault(term["group"], []).append((term["code"], term["label"]))
    names = {"thematic-programme": _("Thematic programmes"), "cross-cutting": _("Cross-cutting issues")}
    return [(names.get(group, group), choices) for group, choices in groups.items()]


def _party_choices(*, cached: FilterChoices | None = None) -> list[Choice]:
    parties = (cached or selectors.filter_choices())["parties"]
    return [(party["code"], party["name"]) for party in sorted(parties, key=lambda party: party["name"])]


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """One of the form's choice fields (its own copy, whose choices are set per form)."""
    return cast(forms.ChoiceField, form.fields[name])


def apply_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


# The posting form in sections, in the order a poster thinks: what, for whom, where, when, contact. An offer's
# fields that only mean something for one kind of offer have a section of their own, keyed by that kind (the
# page shows it for that kind only; with JavaScript off every section stays and says which kind it is for).
NEED_SECTIONS: tuple[tuple[str, "StrOrPromise", tuple[str, ...]], ...] = (
    (
        "what",
        _("What is needed"),
        ("title", "description", "language", "support_types", "subjects", "gbf_targets"),
    ),
    ("whom", _("For whom"), ("poster", "beneficiaries", "budget_note")),
    ("where", _("Where"), ("countries",)),
    ("when", _("When"), ("timeframe_start", "timeframe_end", "expires_on")),
    ("contact", _("Contact"), ("contact_name", "contact_email", "contact_phone")),
)
OFFER_SECTIONS: tuple[tuple[str, "StrOrPromise", tuple[str, ...]], ...] = (
    (
        "what",
        _("What is offered"),
        ("kind", "title", "description", "language", "support_types", "subjects", "gbf_targets"),
    ),
    ("whom", _("Who offers it"), ("poster", "capacity")),
    ("where", _("Where and in which languages"), ("countries", "delivery_languages")),
    (
        OfferKind.TRAINING,
        _("About the course or workshop"),
        ("starts_on", "ends_on", "delivery_format", "seats"),
    ),
    (OfferKind.TECHNOLOGY, _("About the technology"), ("readiness_level", "licensing_terms")),
    (OfferKind.FUNDING, _("About the funding"), ("eligibility", "deadline")),
    ("when", _("When"), ("expires_on",)),
    ("contact", _("Contact"), ("contact_name", "contact_email", "contact_phone")),
)
# The Kunming-Montreal framework's three groups of targets (section H), by target number.
GBF_TARGET_GROUPS: tuple[tuple[range, "StrOrPromise"], ...] = (
    (range(1, 9), _("Reducing threats to biodiversity (targets 1–8)")),
    (range(9, 14), _("Meeting people's needs through sustainable use and benefit-sharing (targets 9–13)")),
    (range(14, 24), _("Tools and solutions for implementation and mainstreaming (targets 14–23)")),
)


@dataclass
class Fold:
    """One collapsible block of a long list of check boxes: a summary line, and the boxes under headings."""

    id: str
    summary: "StrOrPromise"
    groups: Sequence[tuple["StrOrPromise | None", list[BoundWidget]]]

    @property
    def chosen(self) -> int:
        return sum(1 for _heading, widgets in self.groups for widget in widgets if widget.data["selected"])


@dataclass
class Section:
    key: str
    title: "StrOrPromise"
    fields: list[BoundField]
    only_for: "StrOrPromise | None" = None  # an offer kind's label, for a section of that kind only


# Long lists of check boxes, folded into blocks that open on demand (see `PostingForm.folds`).
FOLDED_FIELDS = ("support_types", "subjects", "gbf_targets", "countries")


def _target_number(widget: BoundWidget) -> int:
    """A GBF target's number, from its code (gbf-target-12)."""
    return int(str(widget.data["value"]).rsplit("-", 1)[-1])


class PostingForm(forms.Form):
    """Fields shared by needs and offers; facets are vocabulary codes. Shown in `sections()`, the long lists
    of check boxes folded (`folds()`); every rule the services check runs in the same round (`clean`)."""

    model: type[Need] | type[Offer] | None = None  # NeedForm's and OfferForm's
    scalar_fields: tuple[str, ...] = ()
    section_fields: tuple[tuple[str, "StrOrPromise", tuple[str, ...]], ...] = ()
    support_label: "StrOrPromise"  # NeedForm's and OfferForm's
    countries_label: "StrOrPromise"
    folded_fields = FOLDED_FIELDS

    def __init__(
        self,
        *args: Any,
        poster_choices: Sequence[Choice] | None = None,
        posting: Need | Offer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        assert self.model is not None, "a need's or an offer's form"
        self.posting = posting
        generated = fields_for_model(self.model, fields=self.scalar_fields)
        for name in self.scalar_fields:
            if name in generated and name not in self.declared_fields:
                field = generated[name]
                if isinstance(field, forms.DateField):
                    field.widget = DATE
                if isinstance(field.widget, forms.Textarea):  # the browser keeps count (see posting-form.js)
                    field.widget.attrs.update(rows=4, maxlength=field_limits(self.model, name)["max_length"])
                self.fields[name] = field
        cached = selectors.filter_choices()
        self._subject_groups = _term_choices(Scheme.SUBJECT, grouped=True, cached=cached)
        self.fields["subjects"] = forms.MultipleChoiceField(
            label=_("Subjects"),
            choices=self._subject_groups,
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("Choose at least one.")},
        )
        self.fields["gbf_targets"] = forms.MultipleChoiceField(
            label=_("GBF targets"),
            choices=_term_choices(Scheme.GBF_TARGET, cached=cached),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_(
                "The targets of the Kunming-Montreal Global Biodiversity Framework this work serves."
            ),
        )
        self.fields["support_types"] = forms.MultipleChoiceField(
            label=self.support_label,
            choices=_term_choices(Scheme.SUPPORT_TYPE, cached=cached),
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("Choose at least one.")},
        )
        self.fields["countries"] = forms.MultipleChoiceField(
            label=self.countries_label,
            choices=_party_choices(cached=cached),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_("Open a region to choose its countries, or choose the whole region."),
        )
        self.fields["regions"] = forms.MultipleChoiceField(
            label=_("Regions"), choices=Region.choices, required=False, widget=forms.CheckboxSelectMultiple
        )
        self._party_regions = {party["code"]: party["region"] for party in cached["parties"]}
        if poster_choices is not None:
            # One choice is chosen for the poster; among several, the poster says which (no default Party).
            empty: list[Choice] = [("", _("Choose…"))] if len(poster_choices) > 1 else []
            self.fields["poster"] = forms.ChoiceField(
                label=_("Posted for"), choices=empty + list(poster_choices)
            )
        # In the page's order, so that an error summary lists the errors as the page shows them.
        self.order_fields([name for _key, _title, names in self.section_fields for name in names])
        # Where an error summary's link lands for a folded list: its first summary line.
        self.error_anchors = {name: f"fold-{name}-0" for name in FOLDED_FIELDS}

    def clean(self) -> dict[str, Any]:
        """The services' own rules (dates in order, expiry ahead, where an offer is available…) on what is
        filled in so far, so that every error shows in one round; a field already in error keeps its own."""
        cleaned = super().clean() or {}
        kind = "need" if self.model is Need else "offer"
        data = {name: value for name, value in cleaned.items() if name != "poster"}
        for field, messages in services.posting_errors(kind, data, self.posting).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, messages)
        return cleaned

    def sections(self) -> list[Section]:
        kinds = dict(OfferKind.choices)
        return [
            Section(
                key=key,
                title=title,
                fields=[self[name] for name in names if name in self.fields],
                only_for=kinds.get(key),
            )
            for key, title, names in self.section_fields
            if any(name in self.fields for name in names)
        ]

    def folds(self, name: str) -> list[Fold]:
        """A folded field's check boxes in collapsible blocks: subjects in one (thematic programmes, then
        cross-cutting issues), support types in one, GBF targets by the framework's three groups, countries
        by UN region, each region's block starting with the whole region."""
        widgets = list(self[name])
        if name == "gbf_targets":
            return [
                Fold(
                    f"fold-{name}-{index}",
                    title,
                    [(None, [w for w in widgets if _target_number(w) in numbers])],
                )
                for index, (numbers, title) in enumerate(GBF_TARGET_GROUPS)
            ]
        if name == "countries":
            regions = list(self["regions"])
            return [
                Fold(
                    f"fold-{name}-{index}",
                    region.choice_label,
                    [
                        (
                            None,
                            [
                                region,
                                *(
                                    w
                                    for w in widgets
                                    if self._party_regions.get(w.data["value"]) == region.data["value"]
                                ),
                            ],
                        )
                    ],
                )
                for index, region in enumerate(regions)
            ]
        if name == "subjects":
            headings = [
                (group, [w for w in widgets if w.data["value"] in {code for code, _label in choices}])
                for group, choices in self._subject_groups
            ]
            return [Fold(f"fold-{name}-0", _("Choose the subjects"), headings)]
        return [Fold(f"fold-{name}-0", _("Choose the types of support"), [(None, widgets)])]

    def data_for_service(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "poster"}

    @classmethod
    def initial_from(cls, posting: Need | Offer) -> dict[str, Any]:
        initial = {name: getattr(posting, name) for name in cls.scalar_fields}
        for relation in ("subjects", "gbf_targets", "support_types"):
            initial[relation] = [term.code for term in getattr(posting, relation).all()]
        initial["countries"] = [party.code for party in posting.countries.all()]
        return initial


class NeedForm(PostingForm):
    model = Need
    section_fields = NEED_SECTIONS
    support_label = _("Types of support sought")
    countries_label = _("Countries concerned")
    scalar_fields = services.NEED_FIELDS


class OfferForm(PostingForm):
    model = Offer
    section_fields = OFFER_SECTIONS
    support_label = _("Types of support offered")
    countries_label = _("Countries covered")
    scalar_fields = services.OFFER_FIELDS
    delivery_languages = forms.MultipleChoiceField(
        label=_("Languages of delivery"), choices=Language.choices, widget=forms.CheckboxSelectMultiple
    )


POSTING_FORMS = {"need": NeedForm, "offer": OfferForm}


def need_poster_choices(user: User) -> list[Choice]:
    parties: list[Choice] = [(f"party:{p.code}", p.name) for p in selectors.focal_point_parties(user=user)]
    organizations = [
        (f"org:{o.pk}", o.name) for o in selectors.organizations_of(user=user, approved_only=True)
    ]
    return parties + organizations


def offer_poster_choices(user: User) -> list[Choice]:
    choices: list[Choice] = [("expert", _("Myself, as an expert"))] if hasattr(user, "expert_profile") else []
    return choices + [
        (f"org:{o.pk}", o.name) for o in selectors.organizations_of(user=user, approved_only=True)
    ]


class ModerationForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("changes", _("Request changes")), ("reject", _("Reject"))],
        error_messages={"required": _("Choose a decision.")},
    )
    message = forms.CharField(
        label=_("Message to the poster"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
    )


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[(ClosedReason.FULFILLED, _("Fulfilled")), (ClosedReason.WITHDRAWN, _("Withdrawn"))]
    )


class FocalPointRequestForm(forms.Form):
    party = forms.ChoiceField(label=_("Party"))
    justification = forms.CharField(
        label=_("Your mandate"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MESSAGE_MAX_LENGTH,
        help_text=_("Your position and how the secretariat can verify your nomination."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "party").choices = [("", _("Choose your Party…")), *_party_choices()]


class RoleDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        error_messages={"required": _("Choose a decision.")},
    )
    note = forms.CharField(required=False, max_length=MESSAGE_MAX_LENGTH)


def public_name_field() -> forms.CharField:
    """The name others see, as asked at sign-up, on its own page and in the expert profile."""
    return forms.CharField(
        label=_("Your name"),
        max_length=User._meta.get_field("name").max_length,
        validators=[validate_public_name],
        help_text=_(
            "Shown with your postings, matches and mentoring. Your e-mail address is never shown to others."
        ),
        error_messages={"required": _("Give the name others will see: yours, or how you want to be known.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class PublicNameForm(forms.Form):
    name = public_name_field()


class ExpertProfileForm(forms.ModelForm):
    name = public_name_field()
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=Language.choices, widget=forms.CheckboxSelectMultiple
    )
    subjects = forms.MultipleChoiceField(
        label=_("Subjects"), required=False, widget=forms.CheckboxSelectMultiple
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries of experience"), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )

    field_order = ["name", "bio", "expertise"]

    class Meta:
        model = ExpertProfile
        fields = ["bio", "expertise", "availability"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cached = selectors.filter_choices()
        choice_field(self, "subjects").choices = _term_choices(Scheme.SUBJECT, grouped=True, cached=cached)
        choice_field(self, "countries").choices = _party_choices(cached=cached)
        if self.instance.pk:
            self.initial.setdefault("languages", self.instance.languages)
            self.initial.setdefault("subjects", [t.code for t in self.instance.subjects.all()])
            self.initial.setdefault("countries", [p.code for p in self.instance.countries.all()])


class OrganizationForm(forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Organization
        fields = ["name", "acronym", "type", "country", "website", "description"]


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))


# --- Matches ------------------------------------------------------------------------------------------------

MESSAGE = forms.CharField(
    label=_("Message to the other side (optional)"),
    required=False,
    max_length=MESSAGE_MAX_LENGTH,
    widget=forms.Textarea(attrs={"rows": 3}),
)


class AcceptForm(forms.Form):
    message = MESSAGE


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=DeclineReason.choices)
    message = MESSAGE
    # A decline cannot be undone: a tick box to confirm (it works without JavaScript).
    confirm = forms.BooleanField(label=_("Yes, decline this match (this cannot be undone)"))


RATINGS = field_limits(MatchOutcome, "rating")


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    rating = forms.TypedChoiceField(
        label=_("How useful was the cooperation? (1 to 5)"),
        choices=[(i, str(i)) for i in reversed(range(RATINGS["min_value"], RATINGS["max_value"] + 1))],
        coerce=int,
    )
    feedback = forms.CharField(
        label=_("Feedback"),
        required=False,
        **field_limits(MatchOutcome, "feedback"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MatchCloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=CloseReason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=MESSAGE_MAX_LENGTH)
    confirm = forms.BooleanField(label=_("Yes, close this match (this cannot be undone)"))


class CaseStudyForm(forms.Form):
    title = forms.CharField(label=_("Title"), **field_limits(CaseStudy, "title"))
    story = forms.CharField(
        label=_("Story"), **field_limits(CaseStudy, "story"), widget=forms.Textarea(attrs={"rows": 8})
    )
    language = forms.ChoiceField(label=_("Language of the text"), choices=TEXT_LANGUAGES)


class StoryReviewForm(forms.Form):
    note = forms.CharField(
        label=_("Why it is sent back (both sides read it)"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class InterestForm(forms.Form):
    """Express interest in a posting with one of the user's own published postings of the other kind."""

    own = forms.TypedChoiceField(label=_("With your posting"), coerce=int)
    message = MESSAGE

    def __init__(self, *args: Any, own_postings: Iterable[Need | Offer] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "own").choices = [(posting.pk, posting.title) for posting in own_postings]


class QueueFilterForm(forms.Form):
    region = forms.ChoiceField(
        label=_("Region of the need"), required=False, choices=[("", _("Any"))] + Region.choices
    )
    subject = forms.ChoiceField(label=_("Subject"), required=False)
    min_days = forms.IntegerField(
        label=_("Waiting at least (days)"), required=False, min_value=0, max_value=3650
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "subject").choices = [("", _("Any")), *_term_choices(Scheme.SUBJECT)]


class BulkCurationForm(forms.Form):
    action = forms.ChoiceField(choices=[("introduce", _("Introduce")), ("dismiss", _("Dismiss"))])
    matches = forms.TypedMultipleChoiceField(coerce=int)

    def __init__(self, *args: Any, match_ids: Iterable[int] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "matches").choices = [(pk, pk) for pk in match_ids]


class ManualMatchForm(forms.Form):
    need = forms.TypedChoiceField(label=_("Need"), coerce=int)
    offer = forms.TypedChoiceField(label=_("Offer"), coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        models: tuple[tuple[str, type[Need] | type[Offer]], ...] = (("need", Need), ("offer", Offer))
        for field, model in models:
            postings = selectors.published_postings(model=model).order_by("title")
            choice_field(self, field).choices = [(p.pk, f"{p.title} — {p.poster}") for p in postings]


# --- Notifications ------------------------------------------------------------------------------------------


class PreferencesForm(forms.Form):
    """The language of the e-mails, then one choice of frequency per kind of notification."""

    def __init__(
        self, *args: Any, current: Mapping[str, str] | None = None, language: str = "en", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        current = current or {}
        self.fields["preferred_language"] = forms.ChoiceField(
            label=_("Language of your e-mails"), choices=services.email_languages(), initial=language
        )
        for kind, label in kinds.CHOICES:
            self.fields[kind] = forms.ChoiceField(
                label=cast("StrOrPromise", label),  # gettext_lazy texts, typed Promise in notifications.kinds
                choices=Frequency.choices,
                initial=current.get(kind, Frequency.INSTANT),
            )


# --- Mentoring ----------------------------------------------------------------------------------------------


class CheckboxChoices(TypedDict):
    """Keyword arguments of a MultipleChoiceField shown as checkboxes."""

    widget: type[forms.Widget]
    choices: Sequence[Choice]


FORMS_FIELD = CheckboxChoices(widget=forms.CheckboxSelectMultiple, choices=MentoringForm.choices)
LANGUAGES_FIELD = CheckboxChoices(widget=forms.CheckboxSelectMultiple, choices=Language.choices)


class MentorForm(forms.Form):
    mentor_as = forms.ChoiceField(label=_("Mentor as"))
    support_forms = forms.MultipleChoiceField(label=_("Forms of support you offer"), **FORMS_FIELD)
    languages = forms.MultipleChoiceField(label=_("Languages"), **LANGUAGES_FIELD)
    capacity = forms.IntegerField(
        label=_("How many mentees at the same time"), min_value=1, max_value=50, initial=1
    )
    description = forms.CharField(
        label=_("Experience"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Your clearing-house, what you have done, what you can share."),
    )
    website = forms.URLField(label=_("Your clearing-house website"), required=False)
    is_active = forms.BooleanField(label=_("Accepting mentees"), required=False, initial=True)

    def __init__(self, *args: Any, identities: Sequence[Choice] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "mentor_as").choices = identities


def mentor_identities(user: User) -> list[Choice]:
    choices: list[Choice] = [
        (f"party:{party.code}", party.name) for party in selectors.focal_point_parties(user=user)
    ]
    choices += [
        (f"org:{membership.organization_id}", membership.organization.name)
        for membership in user.memberships.filter(
            is_admin=True, organization__in=selectors.organizations_public()
        ).select_related("organization")
    ]
    if hasattr(user, "expert_profile"):
        choices.append(("expert", _("Myself, as an expert")))
    return choices


class MentoringRequestForm(forms.Form):
    party = forms.ChoiceField(label=_("Party"))
    support_forms = forms.MultipleChoiceField(label=_("Forms of support sought"), **FORMS_FIELD)
    languages = forms.MultipleChoiceField(label=_("Languages of work"), **LANGUAGES_FIELD)
    goals = forms.CharField(
        label=_("Goals"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Where your national clearing-house stands, and what you want it to become."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "party").choices = [
            (p.code, p.name) for p in selectors.focal_point_parties(user=user)
        ]


class CohortForm(forms.Form):
    name = forms.CharField(label=_("Name of the cohort"), max_length=200)
    requests = forms.TypedMultipleChoiceField(
        label=_("Mentees"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, open_requests: Iterable[MentoringRequest] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "requests").choices = [(r.pk, r.party.name) for r in open_requests]


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=200)
    due_on = forms.DateField(label=_("Due on"), widget=DATE)


class CheckInForm(forms.Form):
    note = forms.CharField(
        label=_("Check-in note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class GoalsForm(forms.Form):
    goals = forms.CharField(
        label=_("Goals"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("What is it for?"),
        **field_limits(ApiToken, "name"),
        help_text=_("For example: national CHM sync"),
    )
    expires_in_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=ApiToken.MAX_DAYS, initial=ApiToken.DEFAULT_DAYS
    )
