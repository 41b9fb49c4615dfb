"""Writes of the mentoring programme: mentors and requests; pairings one at a time or a whole cohort at once
by an optimal assignment that a curator edits before confirming; then goals, milestones and check-ins.

Writes follow the services' rules: permission first, everything validated before anything is written,
one transaction.
"""

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from marketplace import permissions
from marketplace.models import ExpertProfile, Organization, Party, User
from matching.engine import mentoring as engine
from notifications import outbox

from . import notification_kinds
from .models import (
    LIVE_PAIRING_STATUSES,
    CohortStatus,
    Mentor,
    MentoringCheckIn,
    MentoringCohort,
    MentoringMilestone,
    MentoringPairing,
    MentoringRequest,
    PairingStatus,
    RequestStatus,
)
from .selectors import (
    can_follow_pairing,
    mentee_owners,
    mentor_owners,
    mentors_with_places,
    suitability_matrix,
)

# --- Mentors and requests ------------------------------------------------------------------------------


def _clean(instance: models.Model, *, exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as error:
        raise ValidationError(error.message_dict) from error


class _Identity(TypedDict, total=False):
    """Who a mentor is: exactly one of these."""

    party: Party
    organization: Organization
    expert: ExpertProfile


@transaction.atomic
def mentor_save(
    *,
    user: User,
    data: Mapping[str, Any],
    party: Party | None = None,
    organization: Organization | None = None,
    as_expert: bool = False,
) -> Mentor:
    """Declare (or update) a mentor: a Party by its focal point, an organization by its admin, or an expert
    in their own name."""
    if [party is not None, organization is not None, as_expert].count(True) != 1:
        raise ValidationError({"mentor": [_("Mentor as a Party, an organization or an expert.")]})
    if party is not None and not permissions.is_focal_point_for(user, party):
        raise PermissionDenied(_("Only the Party's focal points can offer its mentoring."))
    if organization is not None and not permissions.is_organization_admin(user, organization):
        raise PermissionDenied(_("Only the organization's admins can offer its mentoring."))
    if organization is not None:
        permissions.require_approved_organization(organization)
    if as_expert and not permissions.is_expert(user):
        raise PermissionDenied(_("Create your expert profile first."))
    permissions.require_public_name(user)
    identity: _Identity = (
        {"party": party} if party else {"organization": organization} if organization else {}
    )
    if as_expert:
        identity = {"expert": user.expert_profile}
    mentor = Mentor.objects.select_for_update().filter(**identity).first() or Mentor(
        created_by=user, **identity
    )
    for field in ("forms", "languages", "capacity", "description", "website", "is_active"):
        if field in data:
            setattr(mentor, field, data[field])
    errors: dict[str, list[str]] = {}
    for field in ("forms", "languages"):
        if not getattr(mentor, field):
            errors[field] = [_("Choose at least one.")]
    try:
        _clean(mentor, exclude=["party", "organization", "expert", "created_by"])
    except ValidationError as error:
        errors = error.message_dict | errors
    if mentor.pk and isinstance(mentor.capacity, int):
        taken = mentor.pairings.filter(status__in=LIVE_PAIRING_STATUSES).count()
        if mentor.capacity < taken:
            errors.setdefault("capacity", []).append(
                _("You already mentor %(count)d: the capacity cannot be lower.") % {"count": taken}
            )
    if errors:
        raise ValidationError(errors)
    mentor.save()
    return mentor


@transaction.atomic
def mentoring_request_create(*, user: User, party: Party, data: Mapping[str, Any]) -> MentoringRequest:
    """A focal point asks for a mentor for the Party's national clearing-house."""
    if not permissions.is_focal_point_for(user, party):
        raise PermissionDenied(_("Only the Party's focal points can ask for mentoring."))
    if MentoringRequest.objects.filter(party=party, status=RequestStatus.OPEN).exists():
        raise ValidationError({"party": [_("This Party already has an open mentoring request.")]})
    request = MentoringRequest(
        party=party,
        created_by=user,
        forms=data.get("forms") or [],
        languages=data.get("languages") or [],
        goals=(data.get("goals") or "").strip(),
    )
    errors = {
        field: [_("Choose at least one.")] for field in ("forms", "languages") if not getattr(request, field)
    }
    try:
        _clean(request, exclude=["party", "created_by"])
    except ValidationError as error:
        errors = error.message_dict | errors
    if errors:
        raise ValidationError(errors)
    request.save()
    return request


# --- Pairing: one at a time, or a cohort by optimal assignment ----------------------------------------------


def _places_left(mentor: Mentor, *, excluding: MentoringPairing | None = None) -> int:
    taken = mentor.pairings.filter(status__in=LIVE_PAIRING_STATUSES)
    if excluding is not None:
        taken = taken.exclude(pk=excluding.pk)
    return mentor.capacity - taken.count()


def _pairing(
    request: MentoringRequest,
    mentor: Mentor,
    *,
    cohort: MentoringCohort | None = None,
    status: str = PairingStatus.PROPOSED,
) -> MentoringPairing:
    scores, reasons = suitability_matrix([request], [mentor])
    if scores[0, 0] <= 0:
        raise ValidationError(
            {"mentor": [_("This mentor offers none of the forms of support sought (or is the mentee).")]}
        )
    return MentoringPairing.objects.create(
        mentor=mentor,
        request=request,
        cohort=cohort,
        status=status,
        forms=sorted(set(request.forms) & set(mentor.forms)),
        goals=request.goals,
        suitability=float(scores[0, 0]),
        reasons=reasons[0][0],
        confirmed_at=timezone.now() if status == PairingStatus.ACTIVE else None,
    )


def _announce(pairing: MentoringPairing) -> None:
    outbox.notify(
        kind=notification_kinds.MENTORING_PAIRED,
        event_key=f"pairing:{pairing.pk}:confirmed",
        recipients=[*mentor_owners(pairing.mentor), *mentee_owners(pairing.request)],
        context={
            "mentor": str(pairing.mentor),
            "mentee": pairing.request.party.name_en,
            "path": reverse("pairing_detail", args=[pairing.pk]),
        },
    )


def _lock_request(request: MentoringRequest) -> MentoringRequest:
    request = MentoringRequest.objects.select_for_update().select_related("party").get(pk=request.pk)
    if request.status != RequestStatus.OPEN:
        raise ValidationError(_("This mentoring request is no longer open."), code="request_closed")
    return request


def _lock_mentor(mentor: Mentor, *, excluding: MentoringPairing | None = None) -> Mentor:
    mentor = Mentor.objects.select_for_update().get(pk=mentor.pk)
    if not mentor.is_active or _places_left(mentor, excluding=excluding) <= 0:
        raise ValidationError({"mentor": [_("This mentor has no place left.")]})
    return mentor


@transaction.atomic
def pairing_create(*, user: User, request: MentoringRequest, mentor: Mentor) -> MentoringPairing:
    """A curator pairs one mentee with one mentor, confirmed at once."""
    permissions.require_secretariat(user, _("Only the secretariat pairs mentors and mentees."))
    mentor = _lock_mentor(mentor)  # mentors before requests: the same lock order everywhere
    request = _lock_request(request)
    if request.pairings.filter(status__in=LIVE_PAIRING_STATUSES).exists():
        raise ValidationError(
            _("This request already has a proposed mentor: edit its cohort."), code="already_proposed"
        )
    pairing = _pairing(request, mentor, status=PairingStatus.ACTIVE)
    request.status = RequestStatus.PAIRED
    request.save(update_fields=["status"])
    audit.record(actor=user, action="pairing_create", target=pairing, after={"mentor": mentor.pk})
    _announce(pairing)
    return pairing


@transaction.atomic
def cohort_propose(*, user: User, name: str, requests: Sequence[MentoringRequest]) -> MentoringCohort:
    """Propose mentors for a cohort of open requests: the assignment that maximises total suitability
    within every mentor's places left. Nothing is confirmed: a curator edits, then confirms."""
    permissions.require_secretariat(user, _("Only the secretariat pairs mentors and mentees."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Name the cohort.")]})
    # Lock the mentors (their places) before reading how many are taken; mentors before requests, always.
    list(Mentor.objects.select_for_update().filter(is_active=True).values_list("pk"))
    mentors = list(mentors_with_places())
    ids = [request.pk for request in requests]
    requests = list(
        MentoringRequest.objects.select_for_update().select_related("party").filter(pk__in=ids).order_by("pk")
    )
    if not requests or any(r.status != RequestStatus.OPEN for r in requests):
        raise ValidationError({"requests": [_("Choose open requests only.")]})
    if MentoringPairing.objects.filter(request__in=requests, status__in=LIVE_PAIRING_STATUSES).exists():
        raise ValidationError({"requests": [_("Some requests already have a proposed mentor in a cohort.")]})
    scores, reasons = suitability_matrix(requests, mentors)
    places = [max(mentor.capacity - mentor.places_taken, 0) for mentor in mentors]
    cohort = MentoringCohort.objects.create(name=name, created_by=user)
    cohort.requests.set(requests)
    pairs = engine.assign(scores, places)
    for row, column in pairs:
        request, mentor = requests[row], mentors[column]
        MentoringPairing.objects.create(
            mentor=mentor,
            request=request,
            cohort=cohort,
            forms=sorted(set(request.forms) & set(mentor.forms)),
            goals=request.goals,
            suitability=float(scores[row, column]),
            reasons=reasons[row][column],
        )
    audit.record(
        actor=user,
        action="cohort_propose",
        target=cohort,
        after={
            "requests": ids,
            "pairs": [[requests[row].pk, mentors[column].pk] for row, column in pairs],
            "total_suitability": round(engine.total(scores, pairs), 4),
        },
    )
    return cohort


def _draft(cohort: MentoringCohort) -> MentoringCohort:
    cohort = MentoringCohort.objects.select_for_update().get(pk=cohort.pk)
    if cohort.status != CohortStatus.DRAFT:
        raise ValidationError(
            _("This cohort is confirmed: it can no longer be edited."), code="cohort_confirmed"
        )
    return cohort


@transaction.atomic
def cohort_assign(
    *, user: User, cohort: MentoringCohort, request: MentoringRequest, mentor: Mentor | None
) -> MentoringPairing | None:
    """A curator changes a request's mentor in a draft cohort (None: leave it unpaired for now), within the
    new mentor's places."""
    permissions.require_secretariat(user, _("Only the secretariat pairs mentors and mentees."))
    if mentor is not None:
        mentor = Mentor.objects.select_for_update().get(pk=mentor.pk)
    cohort = _draft(cohort)
    request = _lock_request(request)
    if not cohort.requests.filter(pk=request.pk).exists():
        raise ValidationError(_("This request is not part of the cohort."))
    current = request.pairings.filter(status=PairingStatus.PROPOSED, cohort=cohort).first()
    if request.pairings.filter(status__in=LIVE_PAIRING_STATUSES).exclude(cohort=cohort).exists():
        raise ValidationError(_("This request is paired outside this cohort."), code="paired_elsewhere")
    before = {"mentor": current.mentor_id if current else None}
    if current is not None and mentor is not None and current.mentor_id == mentor.pk:
        return current
    if mentor is not None and (not mentor.is_active or _places_left(mentor) <= 0):
        raise ValidationError({"mentor": [_("This mentor has no place left.")]})
    if current is not None:
        current.delete()
    pairing = _pairing(request, mentor, cohort=cohort) if mentor is not None else None
    audit.record(
        actor=user,
        action="cohort_assign",
        target=request,
        before=before,
        after={"mentor": mentor and mentor.pk},
    )
    return pairing


@transaction.atomic
def cohort_confirm(*, user: User, cohort: MentoringCohort) -> MentoringCohort:
    """Confirm a cohort: its pairings become active, and both sides of each are told."""
    permissions.require_secretariat(user, _("Only the secretariat pairs mentors and mentees."))
    cohort = _draft(cohort)
    pairings = list(cohort.pairings.select_related("request__party", "mentor").order_by("pk"))
    if not pairings:
        raise ValidationError(_("This cohort has no pairing to confirm."), code="empty_cohort")
    now = timezone.now()
    for pairing in pairings:
        pairing.status, pairing.confirmed_at = PairingStatus.ACTIVE, now
        pairing.save(update_fields=["status", "confirmed_at"])
        MentoringRequest.objects.filter(pk=pairing.request_id).update(status=RequestStatus.PAIRED)
        _announce(pairing)
    cohort.status, cohort.confirmed_at = CohortStatus.CONFIRMED, now
    cohort.save(update_fields=["status", "confirmed_at"])
    audit.record(
        actor=user,
        action="cohort_confirm",
        target=cohort,
        before={"status": CohortStatus.DRAFT},
        after={"status": CohortStatus.CONFIRMED, "pairings": [p.pk for p in pairings]},
    )
    return cohort


# --- Following a pairing ------------------------------------------------------------------------------------


def _follower(user: User, pairing: MentoringPairing) -> MentoringPairing:
    if not can_follow_pairing(user, pairing):
        raise PermissionDenied(_("Only the mentor, the mentee and the secretariat follow this pairing."))
    pairing = MentoringPairing.objects.select_for_update().get(pk=pairing.pk)
    if pairing.status != PairingStatus.ACTIVE:
        raise ValidationError(_("This pairing is not active."), code="pairing_inactive")
    return pairing


@transaction.atomic
def pairing_goals_save(*, user: User, pairing: MentoringPairing, goals: str) -> MentoringPairing:
    pairing = _follower(user, pairing)
    pairing.goals = (goals or "").strip()
    _clean(pairing, exclude=["mentor", "request", "cohort"])
    pairing.save(update_fields=["goals"])
    return pairing


@transaction.atomic
def milestone_add(
    *, user: User, pairing: MentoringPairing, title: str, due_on: datetime.date
) -> MentoringMilestone:
    pairing = _follower(user, pairing)
    milestone = MentoringMilestone(pairing=pairing, title=(title or "").strip(), due_on=due_on)
    _clean(milestone, exclude=["pairing"])
    milestone.save()
    return milestone


@transaction.atomic
def milestone_done(*, user: User, milestone: MentoringMilestone) -> MentoringMilestone:
    _follower(user, milestone.pairing)
    milestone = MentoringMilestone.objects.select_for_update().get(pk=milestone.pk)
    if milestone.done_on is None:
        milestone.done_on = timezone.localdate()
        milestone.save(update_fields=["done_on"])
    return milestone


@transaction.atomic
def check_in_add(*, user: User, pairing: MentoringPairing, note: str) -> MentoringCheckIn:
    pairing = _follower(user, pairing)
    check_in = MentoringCheckIn(pairing=pairing, author=user, note=(note or "").strip())
    _clean(check_in, exclude=["pairing", "author"])
    check_in.save()
    return check_in


@transaction.atomic
def pairing_end(*, user: User, pairing: MentoringPairing, status: str) -> MentoringPairing:
    """The mentor, the mentee or a curator ends an active pairing: completed, or cancelled."""
    if status not in (PairingStatus.COMPLETED, PairingStatus.CANCELLED):
        raise ValidationError({"status": [_("Choose completed or cancelled.")]})
    pairing = _follower(user, pairing)
    before = {"status": pairing.status}
    pairing.status, pairing.ended_at = status, timezone.now()
    pairing.save(update_fields=["status", "ended_at"])
    if permissions.is_secretariat(user):
        audit.record(
            actor=user, action="pairing_end", target=pairing, before=before, after={"status": status}
        )
    return pairing
