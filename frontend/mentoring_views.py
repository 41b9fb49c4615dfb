"""Mentoring pages for mentors and mentees: declare mentoring capacity, ask for a mentor, follow a pairing."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace import selectors
from marketplace.models import Party
from mentoring import selectors as mentoring_selectors
from mentoring import services as mentoring_services
from mentoring.models import MentoringMilestone, MentoringPairing, PairingStatus

from . import forms
from .views import SignedInRequest, poster_arguments, public_name_required


@login_required
def mentoring_home(request: SignedInRequest) -> HttpResponse:
    parties = selectors.focal_point_parties(user=request.user)
    return render(
        request,
        "frontend/mentoring_home.html",
        {
            "pairings": mentoring_selectors.pairings_of(user=request.user),
            "requests": mentoring_selectors.requests_of(user=request.user),
            "can_mentor": bool(forms.mentor_identities(request.user)),
            "can_request": parties.exists(),
        },
    )


@public_name_required
def mentor_declare(request: SignedInRequest) -> HttpResponse:
    identities = forms.mentor_identities(request.user)
    if not identities:
        raise PermissionDenied
    form = forms.MentorForm(request.POST or None, identities=identities)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["forms"] = data.pop("support_forms")
        try:
            mentoring_services.mentor_save(
                user=request.user, data=data, **poster_arguments("offer", data.pop("mentor_as"))
            )
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            messages.success(request, _("Thank you: the secretariat can now pair you with a mentee."))
            return redirect("mentoring_home")
    return render(request, "frontend/simple_form.html", {"form": form, "title": _("Offer to mentor")})


@login_required
def mentoring_request(request: SignedInRequest) -> HttpResponse:
    form = forms.MentoringRequestForm(request.POST or None, user=request.user)
    if not forms.choice_field(form, "party").choices:
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["forms"] = data.pop("support_forms")
        try:
            mentoring_services.mentoring_request_create(
                user=request.user, party=get_object_or_404(Party, code=data.pop("party")), data=data
            )
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            messages.success(request, _("Your request is sent: the secretariat will propose a mentor."))
            return redirect("mentoring_home")
    return render(request, "frontend/simple_form.html", {"form": form, "title": _("Ask for a mentor")})


def _pairing(request: SignedInRequest, pk: int) -> MentoringPairing:
    return mentoring_selectors.access_pairing(user=request.user, pk=pk)


@login_required
def pairing_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    pairing = _pairing(request, pk)
    return render(
        request,
        "frontend/pairing_detail.html",
        {
            "pairing": pairing,
            "active": pairing.status == PairingStatus.ACTIVE,
            "milestones": pairing.milestones.all(),
            "check_ins": pairing.check_ins.select_related("author"),
            "goals_form": forms.GoalsForm(initial={"goals": pairing.goals}),
            "milestone_form": forms.MilestoneForm(),
            "check_in_form": forms.CheckInForm(),
        },
    )


@login_required
@require_POST
def pairing_act(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    pairing = _pairing(request, pk)
    form_class = {
        "goals": forms.GoalsForm,
        "milestone": forms.MilestoneForm,
        "check_in": forms.CheckInForm,
    }.get(action)
    try:
        if action in ("completed", "cancelled"):
            mentoring_services.pairing_end(user=request.user, pairing=pairing, status=action)
        elif action == "milestone_done":
            milestone = get_object_or_404(
                MentoringMilestone, pk=request.POST.get("milestone", ""), pairing=pairing
            )
            mentoring_services.milestone_done(user=request.user, milestone=milestone)
        elif form_class is None:
            raise Http404
        else:
            form = form_class(request.POST)
            if not form.is_valid():
                # an ErrorList yields its messages (str); the stubs say its items (ValidationError too)
                raise ValidationError([" ".join(errors) for errors in form.errors.values()])  # type: ignore[arg-type]
            services: dict[str, Callable[..., object]] = {
                "goals": mentoring_services.pairing_goals_save,
                "milestone": mentoring_services.milestone_add,
                "check_in": mentoring_services.check_in_add,
            }
            services[action](user=request.user, pairing=pairing, **form.cleaned_data)
        messages.success(request, _("Saved."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("pairing_detail", pk=pk)
