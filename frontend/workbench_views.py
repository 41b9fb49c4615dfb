"""The secretariat's workbench: the match queue (bulk introduce or dismiss), manual matches, the audit log,
and the mentoring cohorts. Every page here is for secretariat staff only."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import selectors as audit_selectors
from marketplace.models import Need, Offer, PostingStatus
from matching import selectors as match_selectors
from matching import services as match_services
from matching.explanations import reason_lines
from mentoring import selectors as mentoring_selectors
from mentoring import services as mentoring_services
from mentoring.models import Mentor, MentoringCohort, MentoringRequest

from . import forms
from .views import SignedInRequest, safe_next, secretariat_required

QUEUE_PAGE = 50


@secretariat_required
def match_queue(request: SignedInRequest) -> HttpResponse:
    """Suggestions waiting for a curator, best first, with their reasons and how long they have waited; and
    the case studies waiting for approval."""
    filters = forms.QueueFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    queue = match_selectors.match_queue(
        filters=match_selectors.QueueFilters(
            region=values.get("region") or "",
            subject=values.get("subject") or "",
            min_days=values.get("min_days"),
        )
    )
    page = Paginator(queue, QUEUE_PAGE).get_page(request.GET.get("page"))
    labels = match_selectors.reason_labels(list(page))
    now = timezone.now()
    rows = [
        {
            "match": match,
            "reasons": reason_lines(match.reasons, labels),
            "days": (now - match.created_at).days,
        }
        for match in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "frontend/match_queue.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "stories": match_selectors.case_studies_awaiting_approval(),
        },
    )


@secretariat_required
@require_POST
def match_queue_bulk(request: SignedInRequest) -> HttpResponse:
    ids = request.POST.getlist("matches")
    form = forms.BulkCurationForm(request.POST, match_ids=[int(pk) for pk in ids if pk.isdigit()])
    if not form.is_valid() or not form.cleaned_data["matches"]:
        messages.error(request, _("Tick at least one match and choose an action."))
    else:
        done, skipped = match_services.matches_curate_bulk(
            user=request.user, match_ids=form.cleaned_data["matches"], action=form.cleaned_data["action"]
        )
        messages.success(
            request,
            _("%(done)d done, %(skipped)d skipped (already decided).") % {"done": done, "skipped": skipped},
        )
    return redirect(safe_next(request, request.POST.get("next"), reverse("match_queue")))


@secretariat_required
def match_create(request: SignedInRequest) -> HttpResponse:
    form = forms.ManualMatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        need = get_object_or_404(Need, pk=form.cleaned_data["need"], status=PostingStatus.PUBLISHED)
        offer = get_object_or_404(Offer, pk=form.cleaned_data["offer"], status=PostingStatus.PUBLISHED)
        try:
            match = match_services.match_create(user=request.user, need=need, offer=offer)
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            messages.success(request, _("Both sides have been introduced."))
            return redirect("match_detail", pk=match.pk)
    return render(
        request, "frontend/simple_form.html", {"form": form, "title": _("Match a need and an offer")}
    )


@secretariat_required
def audit_log(request: SignedInRequest) -> HttpResponse:
    # without NUL characters, which PostgreSQL refuses in text
    entries = audit_selectors.audit_entries(action=request.GET.get("action", "").replace("\x00", "")[:60])
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    actions = audit_selectors.audit_actions()
    return render(request, "frontend/audit_log.html", {"page": page, "actions": actions})


# --- Mentoring ---------------------------------------------------------------------------------------------


@secretariat_required
def mentoring_admin(request: SignedInRequest) -> HttpResponse:
    """Open requests with the engine's candidates, mentors and their places, cohorts."""
    requests = list(mentoring_selectors.open_requests())
    form = forms.CohortForm(request.POST or None, open_requests=requests)
    if request.method == "POST" and form.is_valid():
        chosen = [r for r in requests if r.pk in form.cleaned_data["requests"]]
        try:
            cohort = mentoring_services.cohort_propose(
                user=request.user, name=form.cleaned_data["name"], requests=chosen
            )
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            return redirect("cohort_detail", pk=cohort.pk)
    return render(
        request,
        "frontend/mentoring_admin.html",
        {
            "requests": list(
                zip(requests, mentoring_selectors.mentor_candidates_for(requests, limit=3), strict=True)
            ),
            "mentors": mentoring_selectors.mentors_with_places(),
            "cohorts": MentoringCohort.objects.all()[:20],
            "form": form,
        },
    )


@secretariat_required
def cohort_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(MentoringCohort, pk=pk)
    pairings = {p.request_id: p for p in cohort.pairings.select_related("mentor", "request__party")}
    requests = cohort.requests.select_related("party").order_by("pk")
    mentors = list(mentoring_selectors.mentors_with_places())
    return render(
        request,
        "frontend/cohort_detail.html",
        {
            "cohort": cohort,
            "rows": [(request_, pairings.get(request_.pk)) for request_ in requests],
            "mentors": mentors,
            "total": sum(p.suitability for p in pairings.values()),
        },
    )


@secretariat_required
@require_POST
def cohort_assign(request: SignedInRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(MentoringCohort, pk=pk)
    mentoring_request = get_object_or_404(MentoringRequest, pk=request.POST.get("request", ""))
    mentor_id = request.POST.get("mentor", "")
    mentor = get_object_or_404(Mentor, pk=mentor_id) if mentor_id else None
    try:
        mentoring_services.cohort_assign(
            user=request.user, cohort=cohort, request=mentoring_request, mentor=mentor
        )
        messages.success(request, _("Assignment changed."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("cohort_detail", pk=pk)


@secretariat_required
@require_POST
def cohort_confirm(request: SignedInRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(MentoringCohort, pk=pk)
    try:
        mentoring_services.cohort_confirm(user=request.user, cohort=cohort)
        messages.success(request, _("The cohort is confirmed; mentors and mentees have been told."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("cohort_detail", pk=pk)
