"""Pages for matches: my matches, a match's page with its actions, expressing interest, case studies."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from marketplace import permissions, selectors
from marketplace.models import Need, Offer, User, content_language
from matching import lifecycle, services
from matching import permissions as match_permissions
from matching import selectors as match_selectors
from matching.explanations import reason_lines
from matching.models import ACCEPTED_STATUSES, Match, MatchStatus, Response

from . import forms
from .views import SignedInRequest, public_name_required

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@login_required
def my_matches(request: SignedInRequest) -> HttpResponse:
    """The reader's matches, those waiting for them first, the strongest first within each group."""
    rows = match_selectors.matches_for_reader(user=request.user)
    groups: dict[int, list[match_selectors.ReaderMatch]] = {}
    for row in rows:
        groups.setdefault(row.standing.group, []).append(row)
    return render(
        request,
        "frontend/my_matches.html",
        {
            "for_you": groups.get(match_selectors.YOUR_MOVE, []),
            "for_them": groups.get(match_selectors.THEIR_MOVE, []),
            "active": groups.get(match_selectors.UNDER_WAY, []),
            "ended": groups.get(match_selectors.ENDED, []),
        },
    )


@dataclass(frozen=True)
class SideView:
    """One posting of a match as its page shows it, with that side's answer."""

    side: str  # "need" or "offer"
    posting: Need | Offer
    mine: bool  # the reader answers for this side
    response: str  # "", "accepted" or "declined"
    response_label: "StrOrPromise"
    message: str
    show_contact: bool


def _side_view(match: Match, side: str, *, sides: set[str], show_contact: bool) -> SideView:
    response = getattr(match, f"{side}_response")
    return SideView(
        side=side,
        posting=getattr(match, side),
        mine=side in sides,
        response=response,
        response_label=Response(response).label,
        message=getattr(match, f"{side}_message"),
        show_contact=show_contact,
    )


# What the reader of a match's page does next, by its standing (`matching.selectors.STANDINGS`).
NEXT_STEP = {
    "your_answer": gettext_lazy(
        "Read both postings and why they fit, then accept or decline below. "
        "Contact details are shared once both sides accept."
    ),
    "their_answer": gettext_lazy("You will be notified when the other side answers."),
    "connected": gettext_lazy("Write to each other: the other side's contact details are shown below."),
    "your_report": gettext_lazy(
        "Tell the other side and the secretariat how it went: report the outcome below."
    ),
}


def _action_forms(allowed: set[str]) -> dict[str, Form | bool | None]:
    return {
        "accept": forms.AcceptForm() if "accept" in allowed else None,
        "decline": forms.DeclineForm() if "decline" in allowed else None,
        "start": "start" in allowed,
        "report_outcome": forms.OutcomeForm() if "report_outcome" in allowed else None,
        "close": forms.MatchCloseForm() if "close" in allowed else None,
        "introduce": "introduce" in allowed,
        "dismiss": "dismiss" in allowed,
    }


@login_required
def match_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    match = match_selectors.access_match_page(user=request.user, pk=pk)
    sides = match_permissions.sides_of(request.user, match)
    is_curator = permissions.is_secretariat(request.user)
    connected = match.status in ACCEPTED_STATUSES
    standing = match_selectors.match_standing(match, sides)
    actions = _action_forms(match_permissions.actions_for(request.user, match, sides=sides))
    study = match_selectors.case_study_of(match)
    may_write_story = match.status == MatchStatus.COMPLETED and match_permissions.can_write_story(
        request.user, sides=sides
    )
    may_review_story = bool(
        match_permissions.can_review_story(request.user, sides=sides)
        and study
        and study.need_consent_at
        and study.offer_consent_at
    )
    story = {"title": study.title, "story": study.story, "language": study.language} if study else {}
    return render(
        request,
        "frontend/match_detail.html",
        {
            "match": match,
            "sides": sides,
            "is_curator": is_curator,
            "connected": connected,
            "standing": standing,
            "next_step": NEXT_STEP.get(standing.key, ""),
            # (the next step of the side that must answer says it already)
            "contact_notice": match.status in lifecycle.AWAITING_ANSWER and standing.key != "your_answer",
            "postings": [
                # a side's contact: for the other side and the secretariat, once both sides accepted
                _side_view(
                    match,
                    side,
                    sides=sides,
                    show_contact=connected and (match_permissions.other(side) in sides or is_curator),
                )
                for side in ("need", "offer")
            ],
            "reasons": reason_lines(match.reasons, match_selectors.reason_labels([match])),
            "actions": actions,
            "any_action": any(actions.values()),
            "outcomes": match.outcomes.all(),
            "notes": match.notes.select_related("author") if is_curator else (),
            "note_form": forms.NoteForm() if is_curator else None,
            "study": study,
            "study_form": forms.CaseStudyForm(
                initial=story or {"language": content_language(request.LANGUAGE_CODE)}
            )
            if may_write_story
            else None,
            "review_form": forms.StoryReviewForm() if may_review_story else None,
            "can_consent": bool(
                study and sides and any(getattr(study, f"{side}_consent_at") is None for side in sides)
            ),
            "can_withdraw_consent": bool(
                study and any(getattr(study, f"{side}_consent_at") for side in sides)
            ),
        },
    )


# action → (form class or None, service call taking user, match and the form's cleaned data)
ServiceCall: TypeAlias = Callable[[User, Match, dict[str, Any]], object]
ACTIONS: dict[str, tuple[type[Form] | None, ServiceCall]] = {
    "accept": (forms.AcceptForm, lambda u, m, d: services.match_accept(user=u, match=m, **d)),
    "decline": (forms.DeclineForm, lambda u, m, d: services.match_decline(user=u, match=m, **d)),
    "start": (None, lambda u, m, d: services.match_start(user=u, match=m)),
    "report_outcome": (
        forms.OutcomeForm,
        lambda u, m, d: services.match_report_outcome(user=u, match=m, **d),
    ),
    "close": (forms.MatchCloseForm, lambda u, m, d: services.match_close(user=u, match=m, **d)),
    "introduce": (None, lambda u, m, d: services.match_introduce(user=u, match=m)),
    "dismiss": (None, lambda u, m, d: services.match_dismiss(user=u, match=m)),
    "note": (forms.NoteForm, lambda u, m, d: services.match_note_add(user=u, match=m, **d)),
    "story": (forms.CaseStudyForm, lambda u, m, d: services.case_study_save(user=u, match=m, **d)),
    "consent": (None, lambda u, m, d: services.case_study_consent(user=u, match=m)),
    "withdraw_consent": (None, lambda u, m, d: services.case_study_withdraw_consent(user=u, match=m)),
    "approve_story": (None, lambda u, m, d: services.case_study_approve(user=u, match=m)),
    "send_back_story": (
        forms.StoryReviewForm,
        lambda u, m, d: services.case_study_send_back(user=u, match=m, **d),
    ),
}

DONE = {
    "accept": gettext_lazy("Your answer is recorded."),
    "decline": gettext_lazy("Your answer is recorded."),
    "start": gettext_lazy("Marked as in progress."),
    "report_outcome": gettext_lazy("Thank you for your report."),
    "close": gettext_lazy("The match is closed."),
    "introduce": gettext_lazy("Both sides have been introduced."),
    "dismiss": gettext_lazy("The match is dismissed."),
    "note": gettext_lazy("Note added."),
    "story": gettext_lazy(
        "The case study is saved; it is published once both sides consent and the secretariat approves it."
    ),
    "consent": gettext_lazy("Your consent is recorded."),
    "withdraw_consent": gettext_lazy("Your consent is withdrawn: the case study is not public."),
    "approve_story": gettext_lazy("The case study is approved: it is now public."),
    "send_back_story": gettext_lazy("The case study is sent back to both sides."),
}


@login_required
@require_POST
def match_act(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """Every action on a match: the form's values go to the service; its errors come back as messages."""
    if action not in ACTIONS:
        raise Http404
    match = match_selectors.access_match(user=request.user, pk=pk)
    form_class, call = ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    try:
        if form is not None and not form.is_valid():
            raise ValidationError(
                # an ErrorList yields its messages (str); the stubs say its items (ValidationError too)
                [f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()]  # type: ignore[arg-type]
            )
        data = {k: v for k, v in form.cleaned_data.items() if k != "confirm"} if form else {}
        call(request.user, match, data)
        messages.success(request, str(DONE[action]))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("match_detail", pk=pk)


@public_name_required
@require_POST
def express_interest(request: SignedInRequest, kind: str, pk: int) -> HttpResponse:
    """From a published posting: propose one of your own postings of the other kind to its owners."""
    other = selectors.access_posting(user=request.user, kind=kind, pk=pk)
    own_postings = selectors.postings_to_answer_with(user=request.user, posting=other)
    form = forms.InterestForm(request.POST, own_postings=own_postings)
    if not form.is_valid():
        messages.error(request, _("Choose one of your published postings."))
        return redirect("posting_detail", kind=kind, pk=pk)
    # a queryset of needs or of offers: mypy would solve get_object_or_404's type to their base, Posting
    own = cast("Need | Offer", get_object_or_404(own_postings, pk=form.cleaned_data["own"]))
    try:
        match = services.match_express_interest(
            user=request.user, own=own, other_posting=other, message=form.cleaned_data["message"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("posting_detail", kind=kind, pk=pk)
    messages.success(request, _("Your interest has been sent. You will hear when they answer."))
    return redirect("match_detail", pk=match.pk)


def case_studies(request: HttpRequest) -> HttpResponse:
    """Stories both sides consented to and the secretariat approved."""
    studies = match_selectors.case_studies_public()
    return render(request, "frontend/case_studies.html", {"studies": studies})
