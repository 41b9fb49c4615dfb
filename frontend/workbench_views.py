"""The secretariat's workbench: the validation queue (postings, focal point requests, new organizations), the
match queue (bulk introduce or dismiss), manual matches, the audit log, and the mentoring cohorts. Every page
here is for secretariat staff only."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms as django_forms
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
from marketplace import selectors as marketplace_selectors
from marketplace import services as marketplace_services
from marketplace.models import FocalPointRequest, Need, Offer, PostingStatus, User
from matching import selectors as match_selectors
from matching import services as match_services
from matching.explanations import reason_lines
from mentoring import selectors as mentoring_selectors
from mentoring import services as mentoring_services
from mentoring.models import Mentor, MentoringCohort, MentoringRequest

from . import audit_display, forms
from .views import SignedInRequest, safe_next, secretariat_required

QUEUE_PAGE = 20
AUDIT_PAGE = 50


# --- Validation queue --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """A decision the queue did not record: the anchor of its item (`need-12`) and its form, bound, with the
    errors, the option chosen and the message typed."""

    anchor: str
    form: django_forms.Form


@dataclass(frozen=True)
class RoleRequestItem:
    """A pending focal point request, with what the secretariat should know before deciding it: the other
    requests waiting for the same Party and the Party's focal points already in office."""

    request: FocalPointRequest
    form: django_forms.Form | None
    others: list[FocalPointRequest]
    holders: list[User]


def _role_request_items(
    requests: list[FocalPointRequest], form_for: Callable[[str], django_forms.Form | None]
) -> list[RoleRequestItem]:
    by_party: dict[int, list[FocalPointRequest]] = {}
    for role_request in requests:
        by_party.setdefault(role_request.party_id, []).append(role_request)
    return [
        RoleRequestItem(
            request=role_request,
            form=form_for(f"role-request-{role_request.pk}"),
            others=[other for other in by_party[role_request.party_id] if other.pk != role_request.pk],
            holders=[
                assignment.user
                for assignment in role_request.party.focal_points.all()
                if assignment.user_id != role_request.user_id
            ],
        )
        for role_request in requests
    ]


def _error_text(form: django_forms.Form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _validation_queue_page(request: SignedInRequest, refused: Refused | None = None) -> HttpResponse:
    """The queue; with `refused`, its item shows the form as it was sent and why it was not recorded (400)."""

    def form_for(anchor: str) -> django_forms.Form | None:
        return refused.form if refused is not None and refused.anchor == anchor else None

    queues = [
        (kind, [(posting, form_for(f"{kind}-{posting.pk}")) for posting in postings])
        for kind, postings in (
            (kind, marketplace_selectors.validation_queue(model=model))
            for kind, model in marketplace_selectors.POSTING_MODELS.items()
        )
    ]
    role_requests = _role_request_items(
        list(
            marketplace_selectors.pending_focal_point_requests().prefetch_related("party__focal_points__user")
        ),
        form_for,
    )
    organizations = [
        (organization, form_for(f"organization-{organization.pk}"))
        for organization in marketplace_selectors.pending_organizations()
    ]
    shown = any(form for _kind, items in queues for _posting, form in items)
    shown = shown or any(item.form for item in role_requests) or any(form for _o, form in organizations)
    if refused is not None and not shown:  # decided meanwhile, by someone else: no item to show it on
        messages.error(request, _error_text(refused.form))
        return redirect("validation_queue")
    return render(
        request,
        "frontend/validation_queue.html",
        {
            "queues": queues,
            "role_requests": role_requests,
            "organizations": organizations,
            "refused": refused,
        },
        status=400 if refused is not None else 200,
    )


@secretariat_required
def validation_queue(request: SignedInRequest) -> HttpResponse:
    """Postings submitted for validation, focal point requests and new organizations, oldest first."""
    return _validation_queue_page(request)


@secretariat_required
@require_POST
def posting_moderate(request: SignedInRequest, kind: str, pk: int) -> HttpResponse:
    """Approve, send back for changes or reject a submitted posting, from the queue or from its page."""
    posting = marketplace_selectors.access_posting(user=request.user, kind=kind, pk=pk)
    form = forms.ModerationForm(request.POST)
    from_queue = request.POST.get("next") == reverse("validation_queue")
    if form.is_valid():
        decision, message = form.cleaned_data["decision"], form.cleaned_data["message"]
        try:
            if decision == "approve":
                marketplace_services.posting_approve(user=request.user, posting=posting)
            elif decision == "changes":
                marketplace_services.posting_request_changes(
                    user=request.user, posting=posting, message=message
                )
            else:
                marketplace_services.posting_reject(user=request.user, posting=posting, message=message)
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            messages.success(request, _("Decision recorded for “%(title)s”.") % {"title": posting.title})
            if from_queue:
                return redirect("validation_queue")
            return redirect("posting_detail", kind=kind, pk=pk)
    if from_queue:
        return _validation_queue_page(request, Refused(f"{kind}-{pk}", form))
    messages.error(request, _error_text(form))
    return redirect("posting_detail", kind=kind, pk=pk)


def _record_decision(
    http_request: SignedInRequest,
    *,
    approve: Callable[..., object],
    reject: Callable[..., object],
    target: dict[str, Any],
    anchor: str,
) -> HttpResponse:
    """The secretariat's approval or rejection, with a note, from the validation queue; `target`: the
    service's argument naming what is decided; `anchor`: its item on the queue, where a refusal is shown."""
    form = forms.RoleDecisionForm(http_request.POST)
    if form.is_valid():
        decide = approve if form.cleaned_data["decision"] == "approve" else reject
        try:
            decide(user=http_request.user, note=form.cleaned_data["note"], **target)
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            messages.success(http_request, _("Decision recorded."))
            return redirect("validation_queue")
    return _validation_queue_page(http_request, Refused(anchor, form))


@secretariat_required
@require_POST
def focal_point_decide(request: SignedInRequest, pk: int) -> HttpResponse:
    return _record_decision(
        request,
        approve=marketplace_services.focal_point_request_approve,
        reject=marketplace_services.focal_point_request_reject,
        target={"request": get_object_or_404(marketplace_selectors.focal_point_requests_for_review(), pk=pk)},
        anchor=f"role-request-{pk}",
    )


@secretariat_required
@require_POST
def organization_decide(request: SignedInRequest, pk: int) -> HttpResponse:
    return _record_decision(
        request,
        approve=marketplace_services.organization_approve,
        reject=marketplace_services.organization_reject,
        target={"organization": get_object_or_404(marketplace_selectors.organizations_for_review(), pk=pk)},
        anchor=f"organization-{pk}",
    )


# --- Match queue -------------------------------------------------------------------------------------------


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
            # waiting since the suggestion was made (a later re-score leaves the wait as it was)
            "days": (now - match.created_at).days,
        }
        for match in page
    ]
    summary = match_selectors.match_queue_summary(queue)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "frontend/match_queue.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "waiting": summary.count,
            "oldest_days": summary.oldest_days(now),
            "query": query.urlencode(),
            "stories": match_selectors.case_studies_awaiting_approval(),
        },
    )


@secretariat_required
@require_POST
def match_queue_bulk(request: SignedInRequest) -> HttpResponse:
    # The page's checkboxes are named "match": a form control named "matches" would shadow the form
    # element's own `matches()` method in the browser (and break the scripts that call it).
    ids = request.POST.getlist("match")
    form = forms.BulkCurationForm(
        {"action": request.POST.get("action", ""), "matches": ids},
        match_ids=[int(pk) for pk in ids if pk.isdigit()],
    )
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
    return render(request, "frontend/match_create.html", {"form": form})


@secretariat_required
def audit_log(request: SignedInRequest) -> HttpResponse:
    """Every curator action, newest first: the action in words, and what changed, field by field."""
    # without NUL characters, which PostgreSQL refuses in text
    action = request.GET.get("action", "").replace("\x00", "")[:60]
    entries = audit_selectors.audit_entries(action=action)
    page = Paginator(entries, AUDIT_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "frontend/audit_log.html",
        {
            "page": page,
            "entries": audit_display.describe(page),
            "actions": audit_display.action_choices(audit_selectors.audit_actions()),
            "action": action,
            "query": query.urlencode(),
        },
    )


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
