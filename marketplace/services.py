"""Every write of the marketplace. Each service checks permission, validates everything before writing
anything, and runs in one transaction: bad input raises ValidationError (field → messages) and leaves no row.
"""

import copy
import datetime
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast, overload

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from core import audit
from core.limits import clean_text, field_limits
from notifications import outbox

from . import lifecycle, notification_kinds, permissions, posting_events, ratelimits, selectors
from .catalogue_cache import catalogue_changed
from .models import (
    ApiToken,
    ClosedReason,
    ExpertProfile,
    FocalPointAssignment,
    FocalPointRequest,
    Need,
    Offer,
    OfferKind,
    Organization,
    OrganizationInvitation,
    OrganizationMembership,
    Party,
    PostingStatus,
    RoleRequestStatus,
    Scheme,
    Term,
    User,
    content_language,
)

# --- Field specifications -----------------------------------------------------------------------------


_COMMON_FIELDS = (
    "title",
    "description",
    "language",
    "regions",
    "contact_name",
    "contact_email",
    "contact_phone",
    "expires_on",
)
NEED_FIELDS = (*_COMMON_FIELDS, "beneficiaries", "timeframe_start", "timeframe_end", "budget_note")
OFFER_FIELDS = (
    *_COMMON_FIELDS,
    "kind",
    "global_coverage",
    "delivery_languages",
    "capacity",
    "starts_on",
    "ends_on",
    "delivery_format",
    "seats",
    "readiness_level",
    "licensing_terms",
    "eligibility",
    "deadline",
)
# Facets given as codes: field → vocabulary scheme, or None for Parties.
RELATION_FIELDS = {
    "subjects": Scheme.SUBJECT,
    "gbf_targets": Scheme.GBF_TARGET,
    "support_types": Scheme.SUPPORT_TYPE,
    "countries": None,
}
REQUIRED_RELATIONS = ("subjects", "support_types")
# Fields that only mean something for one kind of offer; cleared for the other kinds.
OFFER_KIND_FIELDS = {
    OfferKind.TRAINING: {"starts_on": None, "ends_on": None, "delivery_format": "", "seats": None},
    OfferKind.TECHNOLOGY: {"readiness_level": None, "licensing_terms": ""},
    OfferKind.FUNDING: {"eligibility": "", "deadline": None},
}


MAX_POSTING_LIFETIME = datetime.timedelta(days=3 * 366)

# Errors by field, as ValidationError takes them; a posting's facets by field (Terms; Parties for countries).
Errors = dict[str, list[str]]
Relations = dict[str, Sequence[Party | Term]]
# A posting of either kind: the services below give back the kind they are given.
PostingT = TypeVar("PostingT", bound=Need | Offer)
_Coded = TypeVar("_Coded", Party, Term)


@overload
def _resolve_codes(field: str, scheme: None, codes: Any, errors: Errors) -> list[Party]: ...
@overload
def _resolve_codes(field: str, scheme: str, codes: Any, errors: Errors) -> list[Term]: ...
def _resolve_codes(field: str, scheme: str | None, codes: Any, errors: Errors) -> list[Party] | list[Term]:
    """The Parties (no scheme) or the scheme's active terms of the codes, in their order."""
    if codes is None:
        codes = []
    if isinstance(codes, str) or not all(isinstance(code, str) for code in codes):
        errors[field] = [_("Give a list of codes.")]
        return []
    codes = list(dict.fromkeys(codes))
    if scheme is None:
        return _found_in_order(
            field, codes, {party.code: party for party in Party.objects.filter(code__in=codes)}, errors
        )
    return _found_in_order(
        field,
        codes,
        {term.code: term for term in Term.objects.filter(scheme=scheme, code__in=codes, is_active=True)},
        errors,
    )


def _found_in_order(field: str, codes: list[str], found: dict[str, _Coded], errors: Errors) -> list[_Coded]:
    unknown = [code for code in codes if code not in found]
    if unknown:
        errors[field] = [_("Unknown code: %(codes)s.") % {"codes": ", ".join(unknown)}]
    return [found[code] for code in codes if code in found]


def _posting_errors(posting: Need | Offer, relations: Relations) -> Errors:
    """Rules that span fields; single fields are checked by the model's own validators."""
    errors: dict[str, list[str]] = {}
    for field in REQUIRED_RELATIONS:
        if not relations.get(field):
            errors[field] = [_("Choose at least one.")]
    today = timezone.localdate()
    if isinstance(posting.expires_on, datetime.date):
        if posting.expires_on <= today:
            errors["expires_on"] = [_("The expiry date must be in the future.")]
        elif posting.expires_on > today + MAX_POSTING_LIFETIME:
            errors["expires_on"] = [_("A posting can stay open for at most three years.")]
    if isinstance(posting, Need):
        start, end, end_field = posting.timeframe_start, posting.timeframe_end, "timeframe_end"
    else:
        start, end, end_field = posting.starts_on, posting.ends_on, "ends_on"
        if posting.kind == OfferKind.TRAINING:
            for field in ("starts_on", "ends_on", "delivery_format"):
                if not getattr(posting, field):
                    errors[field] = [_("Required for a training course or workshop.")]
            if isinstance(end, datetime.date) and end < today:
                errors.setdefault("ends_on", [_("This course is already over.")])
        if posting.kind == OfferKind.FUNDING and not posting.eligibility:
            errors["eligibility"] = [_("Required for a funding opportunity.")]
        if not posting.delivery_languages:
            errors["delivery_languages"] = [_("Choose at least one.")]
        if not (posting.global_coverage or posting.regions or relations.get("countries")):
            errors["countries"] = [_("Say where the offer is available: worldwide, regions or countries.")]
    if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
        errors[end_field] = [_("The end cannot be before the start.")]
    return errors


def null_character_errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Fields whose text (or list of texts) holds a NUL character, which PostgreSQL refuses in text."""
    errors = {}
    for field, value in data.items():
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and "\x00" in item for item in items):
            errors[str(field)] = [_("Null characters are not allowed.")]
    return errors


def _apply_and_validate(posting: Need | Offer, data: Mapping[str, Any]) -> Relations:
    """Copy `data` onto the (unsaved) posting and resolve its codes; raise every error at once."""
    if null_errors := null_character_errors(data):  # before any query: the database would refuse them
        raise ValidationError(null_errors)
    for field in NEED_FIELDS if isinstance(posting, Need) else OFFER_FIELDS:
        if field in data:
            setattr(posting, field, data[field])
    if isinstance(posting, Offer):
        for kind, fields in OFFER_KIND_FIELDS.items():
            if posting.kind != kind:
                for field, empty in fields.items():
                    setattr(posting, field, empty)

    errors: dict[str, list[str]] = {}
    relations: Relations = {}
    for field, scheme in RELATION_FIELDS.items():
        if field in data:
            relations[field] = _resolve_codes(field, scheme, data[field], errors)
        elif posting.pk:
            relations[field] = list(getattr(posting, field).all())
        else:
            relations[field] = []
    try:
        posting.full_clean(exclude=list(RELATION_FIELDS), validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    for field, messages in _posting_errors(posting, relations).items():
        errors.setdefault(field, messages)
    if errors:
        raise ValidationError(errors)
    return relations


def posting_errors(kind: str, data: Mapping[str, Any], posting: Need | Offer | None = None) -> Errors:
    """Every error the posting services would raise for `data` (a new posting of `kind`, or changes to
    `posting`), without saving anything: lets a form show the rules that span fields (dates, expiry, where
    an offer is available) in the same round as its own checks."""
    draft = copy.copy(posting) if posting is not None else (Need() if kind == "need" else Offer())
    try:
        _apply_and_validate(draft, data)
    except ValidationError as error:
        return {field: list(messages) for field, messages in error.message_dict.items()}
    return {}


def _save_with_relations(posting: Need | Offer, relations: Relations) -> None:
    posting.save()
    for field, values in relations.items():
        getattr(posting, field).set(values)
    catalogue_changed()


def _locked(posting: PostingT) -> PostingT:
    # Its own model reads it back; the stubs type `type(posting).objects` by the bound (Need | Offer).
    return cast(PostingT, type(posting).objects.select_for_update().get(pk=posting.pk))


def posting_kind(posting: Need | Offer) -> str:
    return "need" if isinstance(posting, Need) else "offer"


def _notify_owners(posting: Need | Offer, kind: str, event: str, **context: object) -> None:
    outbox.notify(
        kind=kind,
        event_key=f"{posting_kind(posting)}:{posting.pk}:{event}",
        recipients=selectors.posting_owners(posting),
        context={
            "title": posting.title,
            "path": reverse("posting_detail", args=[posting_kind(posting), posting.pk]),
            **context,
        },
    )


_AUDITED_FIELDS = ("status", "closed_reason", "status_message")


# --- Postings -----------------------------------------------------------------------------------------


@transaction.atomic
def need_create(
    *,
    user: User,
    data: Mapping[str, Any],
    party: Party | None = None,
    organization: Organization | None = None,
    source_ref: str | None = None,
    submit: bool = False,
) -> Need:
    """A draft need, posted for a Party (by its focal point) or an organization (by a member); with `submit`,
    sent to the secretariat in the same transaction."""
    if (party is None) == (organization is None):
        raise ValidationError({"party": [_("Post the need for a Party or for an organization.")]})
    if organization is not None:
        permissions.require_approved_organization(organization)
    if not permissions.can_post_need(user, party=party, organization=organization):
        raise PermissionDenied(_("You cannot post needs for this Party or organization."))
    permissions.require_public_name(user)
    ratelimits.posting_rate_check(user=user)
    need = Need(created_by=user, party=party, organization=organization, source_ref=source_ref)
    relations = _apply_and_validate(need, data)
    _save_with_relations(need, relations)
    return posting_submit(user=user, posting=need) if submit else need


@transaction.atomic
def offer_create(
    *,
    user: User,
    data: Mapping[str, Any],
    as_expert: bool = False,
    organization: Organization | None = None,
    source_ref: str | None = None,
    submit: bool = False,
) -> Offer:
    """A draft offer, posted by an expert in their own name or by a member for an organization; with
    `submit`, sent to the secretariat in the same transaction."""
    if as_expert == (organization is not None):
        raise ValidationError({"organization": [_("Post the offer as an expert or for an organization.")]})
    if organization is not None:
        permissions.require_approved_organization(organization)
    if not permissions.can_post_offer(user, as_expert=as_expert, organization=organization):
        raise PermissionDenied(_("You cannot post offers as this expert or organization."))
    permissions.require_public_name(user)
    ratelimits.posting_rate_check(user=user)
    expert = user.expert_profile if as_expert else None
    offer = Offer(created_by=user, expert=expert, organization=organization, source_ref=source_ref)
    relations = _apply_and_validate(offer, data)
    _save_with_relations(offer, relations)
    return posting_submit(user=user, posting=offer) if submit else offer


@transaction.atomic
def posting_update(*, user: User, posting: Need | Offer, data: Mapping[str, Any]) -> Need | Offer:
    """Edit the text and facets of a draft or published posting; the poster itself does not change.
    A published posting goes back to the secretariat for validation."""
    if not permissions.is_posting_owner(user, posting):
        raise PermissionDenied(_("Only the posting's owner can edit it."))
    posting = _locked(posting)
    lifecycle.check_editable(posting.status)
    relations = _apply_and_validate(posting, data)
    _save_with_relations(posting, relations)
    if posting.status == PostingStatus.PUBLISHED:
        posting = _move(posting, PostingStatus.SUBMITTED)
    posting_events.posting_saved(posting)
    return posting


def _move(posting: PostingT, target: str, *, reason: str = "", message: str | None = None) -> PostingT:
    lifecycle.check_transition(posting.status, target, reason=reason)
    now = timezone.now()
    posting.status = target
    posting.closed_reason = reason if target == PostingStatus.CLOSED else ""
    if message is not None:
        posting.status_message = message
    timestamp_fields: dict[str, str] = {
        PostingStatus.SUBMITTED: "submitted_at",
        PostingStatus.PUBLISHED: "published_at",
        PostingStatus.CLOSED: "closed_at",
    }
    timestamp_field = timestamp_fields.get(target)
    if timestamp_field:
        setattr(posting, timestamp_field, now)
    posting.save()
    catalogue_changed()
    return posting


@transaction.atomic
def posting_submit(*, user: User, posting: PostingT) -> PostingT:
    """The owner sends a draft to the secretariat for validation (and the secretariat what it loaded itself on
    someone's behalf, as the bulk import does)."""
    loaded_by_secretariat = permissions.is_secretariat(user) and posting.created_by_id == user.pk
    if not (permissions.is_posting_owner(user, posting) or loaded_by_secretariat):
        raise PermissionDenied(_("Only the posting's owner can submit it."))
    posting = _locked(posting)
    return _move(posting, PostingStatus.SUBMITTED, message="")


def _audited_move(
    user: User, posting: PostingT, action: str, target: str, *, reason: str = "", message: str | None = None
) -> PostingT:
    """A secretariat's move of a (locked) posting, in the audit log with its fields before and after."""
    before = audit.snapshot(posting, _AUDITED_FIELDS)
    posting = _move(posting, target, reason=reason, message=message)
    audit.record(
        actor=user,
        action=action,
        target=posting,
        before=before,
        after=audit.snapshot(posting, _AUDITED_FIELDS),
    )
    return posting


def _required_message(message: str) -> str:
    return clean_text(message, "message", required=True, required_message=_("Tell the poster why."))


@transaction.atomic
def posting_approve(*, user: User, posting: Need | Offer) -> Need | Offer:
    """The secretariat publishes a submitted posting."""
    permissions.require_secretariat(user, _("Only the secretariat validates postings."))
    posting = _locked(posting)
    if posting.expires_on <= timezone.localdate():
        raise ValidationError({"expires_on": [_("This posting has expired: ask the owner for a new date.")]})
    posting = _audited_move(user, posting, "posting_approve", PostingStatus.PUBLISHED, message="")
    assert posting.published_at is not None  # just set by the move to published
    _notify_owners(
        posting, notification_kinds.POSTING_PUBLISHED, f"published:{posting.published_at.isoformat()}"
    )
    posting_events.posting_saved(posting)
    return posting


@transaction.atomic
def posting_request_changes(*, user: User, posting: Need | Offer, message: str) -> Need | Offer:
    """The secretariat sends a submitted posting back to its owner as a draft, saying what to change."""
    permissions.require_secretariat(user, _("Only the secretariat validates postings."))
    message = _required_message(message)
    posting = _audited_move(
        user, _locked(posting), "posting_request_changes", PostingStatus.DRAFT, message=message
    )
    _notify_owners(
        posting,
        notification_kinds.CHANGES_REQUESTED,
        f"changes:{timezone.now().isoformat()}",
        message=message,
    )
    return posting


@transaction.atomic
def posting_reject(*, user: User, posting: Need | Offer, message: str) -> Need | Offer:
    """The secretariat refuses a submitted posting for good."""
    permissions.require_secretariat(user, _("Only the secretariat validates postings."))
    message = _required_message(message)
    return _audited_move(
        user,
        _locked(posting),
        "posting_reject",
        PostingStatus.CLOSED,
        reason=ClosedReason.REJECTED,
        message=message,
    )


@transaction.atomic
def posting_close(*, user: User, posting: Need | Offer, reason: str) -> Need | Offer:
    """The owner closes a posting: fulfilled (published only) or withdrawn (any open state)."""
    if not permissions.is_posting_owner(user, posting):
        raise PermissionDenied(_("Only the posting's owner can close it."))
    if reason not in (ClosedReason.FULFILLED, ClosedReason.WITHDRAWN):
        raise ValidationError({"reason": [_("Choose fulfilled or withdrawn.")]})
    posting = _locked(posting)
    return _move(posting, PostingStatus.CLOSED, reason=reason)


def postings_close_expired(*, today: datetime.date | None = None) -> int:
    """Close every published posting whose expiry date has passed. Safe to run any number of times."""
    today = today or timezone.localdate()
    closed = 0
    for model in (Need, Offer):
        with transaction.atomic():
            for posting in model.objects.select_for_update(skip_locked=True).filter(
                status=PostingStatus.PUBLISHED, expires_on__lt=today
            ):
                _move(posting, PostingStatus.CLOSED, reason=ClosedReason.EXPIRED)
                closed += 1
    return closed


def postings_notify_expiring(*, today: datetime.date | None = None) -> int:
    """Warn the owners of published postings that expire within the warning period; once per posting and
    expiry date (a posting given a later date is warned again before that one)."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.POSTING_EXPIRY_WARNING_DAYS)
    warned = 0
    for model in (Need, Offer):
        for posting in selectors.postings_expiring(model=model, on_or_before=horizon):
            with transaction.atomic():
                _notify_owners(
                    posting,
                    notification_kinds.POSTING_EXPIRING,
                    f"expiring:{posting.expires_on.isoformat()}",
                    expires_on=posting.expires_on.isoformat(),
                )
            warned += 1
    return warned


# --- Roles --------------------------------------------------------------------------------------------


@transaction.atomic
def focal_point_request_create(*, user: User, party: Party, justification: str) -> FocalPointRequest:
    """A user asks to act as national focal point for a Party; the secretariat decides."""
    if permissions.is_focal_point_for(user, party):
        raise ValidationError({"party": [_("You are already a focal point for this Party.")]})
    if FocalPointRequest.objects.filter(user=user, party=party, status=RoleRequestStatus.PENDING).exists():
        raise ValidationError(
            {"party": [_("Your request for this Party is already waiting for a decision.")]}
        )
    request = FocalPointRequest(user=user, party=party, justification=(justification or "").strip())
    request.full_clean()
    request.save()
    return request


def _decide(request: FocalPointRequest, *, user: User, status: str, note: str) -> FocalPointRequest:
    permissions.require_secretariat(user, _("Only the secretariat validates postings."))
    request = FocalPointRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RoleRequestStatus.PENDING:
        raise ValidationError(_("This request has already been decided."), code="already_decided")
    before = audit.snapshot(request, ("status", "decision_note"))
    request.status = status
    request.decided_by = user
    request.decided_at = timezone.now()
    request.decision_note = note
    request.save()
    audit.record(
        actor=user,
        action=f"focal_point_request_{status}",
        target=request,
        before=before,
        after=audit.snapshot(request, ("status", "decision_note")),
    )
    return request


@transaction.atomic
def focal_point_request_approve(
    *, user: User, request: FocalPointRequest, note: str = ""
) -> FocalPointRequest:
    request = _decide(request, user=user, status=RoleRequestStatus.APPROVED, note=note)
    FocalPointAssignment.objects.get_or_create(
        user=request.user, party=request.party, defaults={"granted_by": user}
    )
    return request


@transaction.atomic
def focal_point_request_reject(
    *, user: User, request: FocalPointRequest, note: str = ""
) -> FocalPointRequest:
    return _decide(request, user=user, status=RoleRequestStatus.REJECTED, note=note)


def _public_name_errors(user: User, name: Any) -> dict[str, list[str]]:
    """Set the person's public name on `user` (unsaved); the errors, by field, if it is not one."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        return {"name": [_("Give the name others will see: yours, or how you want to be known.")]}
    try:
        user.name = User._meta.get_field("name").clean(name, user)  # its length and the no-e-mail rule
    except ValidationError as error:
        return {"name": error.messages}
    return {}


@transaction.atomic
def user_public_name_set(*, user: User, name: str) -> User:
    """The name others see wherever this person appears (postings, matches, mentoring, e-mails)."""
    if errors := _public_name_errors(user, name):
        raise ValidationError(errors)
    user.save(update_fields=["name"])
    return user


def email_languages() -> list[tuple[str, str]]:
    """The languages e-mails can be written in: the interface's (settings.LANGUAGES), as the account
    stores them ("zh-hans" is "zh"), each named in its own language."""
    return [
        (content_language(code), get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES
    ]


def user_preferred_language_set(*, user: User, language: str) -> User:
    """The language of this person's e-mails and digests."""
    if language not in dict(email_languages()):
        raise ValidationError({"preferred_language": _("Choose one of the languages of the site.")})
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    return user


@transaction.atomic
def expert_profile_save(*, user: User, data: Mapping[str, Any]) -> ExpertProfile:
    """Create or update the user's expert profile (and their public name, when given); having one makes the
    user an expert."""
    profile = ExpertProfile.objects.filter(user=user).first() or ExpertProfile(user=user)
    for field in ("bio", "expertise", "languages", "availability"):
        if field in data:
            setattr(profile, field, data[field])
    errors: dict[str, list[str]] = _public_name_errors(user, data["name"]) if "name" in data else {}
    subjects = _resolve_codes("subjects", Scheme.SUBJECT, data.get("subjects", []), errors)
    countries = _resolve_codes("countries", None, data.get("countries", []), errors)
    try:
        profile.full_clean(exclude=["user"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if "name" in data:
        user.save(update_fields=["name"])
    profile.save()
    profile.subjects.set(subjects)
    profile.countries.set(countries)
    return profile


@transaction.atomic
def organization_create(*, user: User, data: Mapping[str, Any]) -> Organization:
    """A verified user registers an organization and becomes its admin. It waits for the secretariat's
    approval before it can invite members or post (`organization_approve`)."""
    organization = Organization(
        **{k: data[k] for k in ("name", "acronym", "type", "country", "website", "description") if k in data}
    )
    organization.full_clean()
    organization.save()
    OrganizationMembership.objects.create(organization=organization, user=user, is_admin=True)
    return organization


_ORGANIZATION_DECISION_FIELDS = ("approved_at", "approved_by", "rejected_at", "rejected_by", "decision_note")


def _organization_decide(organization: Organization, *, user: User, approve: bool, note: str) -> Organization:
    permissions.require_secretariat(user, _("Only the secretariat approves organizations."))
    note = clean_text(note, "note")
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.approved_at is not None or organization.rejected_at is not None:
        raise ValidationError(
            _("The secretariat has already decided on this organization."), code="already_decided"
        )
    before = audit.snapshot(organization, _ORGANIZATION_DECISION_FIELDS)
    if approve:
        organization.approved_at, organization.approved_by = timezone.now(), user
    else:
        organization.rejected_at, organization.rejected_by = timezone.now(), user
    organization.decision_note = note
    organization.save(update_fields=list(_ORGANIZATION_DECISION_FIELDS))
    audit.record(
        actor=user,
        action="organization_approve" if approve else "organization_reject",
        target=organization,
        before=before,
        after=audit.snapshot(organization, _ORGANIZATION_DECISION_FIELDS),
    )
    return organization


@transaction.atomic
def organization_approve(*, user: User, organization: Organization, note: str = "") -> Organization:
    """The secretariat approves a registered organization: it may now invite members and post."""
    return _organization_decide(organization, user=user, approve=True, note=note)


@transaction.atomic
def organization_reject(*, user: User, organization: Organization, note: str = "") -> Organization:
    """The secretariat refuses a registered organization: it stays unable to invite or post, and unlisted."""
    return _organization_decide(organization, user=user, approve=False, note=note)


@transaction.atomic
def organization_invite(*, user: User, organization: Organization, email: str) -> OrganizationInvitation:
    """An organization's admin invites someone by e-mail; the e-mail leaves once the invitation is saved.
    Only for an approved organization, at most `ORGANIZATION_INVITATIONS_PER_DAY` a day per admin, and never
    twice to an address whose invitation is still open: the platform's address must not relay spam."""
    if not permissions.is_organization_admin(user, organization):
        raise PermissionDenied(_("Only the organization's admins can invite members."))
    permissions.require_approved_organization(organization)
    email = User.objects.normalize_email((email or "").strip())
    # Locks in a fixed order, the admin (in the rate check) then the organization: one admin's invitations are
    # counted one at a time, and two admins cannot both invite the same address.
    ratelimits.invitation_rate_check(user=user)
    Organization.objects.select_for_update().filter(pk=organization.pk).exists()
    if OrganizationMembership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": [_("This person is already a member.")]})
    if OrganizationInvitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True
    ).exists():
        raise ValidationError(
            {"email": [_("This address is already invited: the invitation is waiting to be accepted.")]}
        )
    invitation = OrganizationInvitation(organization=organization, email=email, invited_by=user)
    invitation.full_clean()
    invitation.save()
    transaction.on_commit(
        lambda: send_mail(
            subject=_("You are invited to join %(org)s on CHM Matchmaker") % {"org": organization.name},
            message=_(
                "%(user)s invites you to post on behalf of %(org)s. Sign in with this address to accept."
            )
            % {"user": user, "org": organization.name},
            from_email=None,
            recipient_list=[email],
        )
    )
    return invitation


@transaction.atomic
def organization_invitation_accept(
    *, user: User, invitation: OrganizationInvitation
) -> OrganizationMembership:
    """The invitee, signed in with the invited address, joins the organization."""
    invitation = OrganizationInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied(_("This invitation was sent to another address."))
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation has already been accepted."), code="already_accepted")
    invitation.accepted_at = timezone.now()
    invitation.save()
    membership, _created = OrganizationMembership.objects.get_or_create(
        organization=invitation.organization, user=user
    )
    return membership


@transaction.atomic
def organization_invitation_decline(*, user: User, invitation: OrganizationInvitation) -> None:
    """The invitee, signed in with the invited address, turns the invitation down: it is deleted, so the
    organization's admins may invite the address again later."""
    invitation = OrganizationInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied(_("This invitation was sent to another address."))
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation has already been accepted."), code="already_accepted")
    invitation.delete()


@transaction.atomic
def organization_leave(*, user: User, organization: Organization) -> None:
    """A member leaves an organization; its last admin cannot, or nobody would answer for it."""
    Organization.objects.select_for_update().filter(pk=organization.pk).exists()  # one departure at a time
    membership = OrganizationMembership.objects.filter(organization=organization, user=user).first()
    if membership is None:
        raise PermissionDenied(_("You are not a member of this organization."))
    if (
        membership.is_admin
        and not OrganizationMembership.objects.filter(organization=organization, is_admin=True)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError(
            _("You are this organization's only admin: it cannot be left without one."), code="last_admin"
        )
    membership.delete()


# --- API tokens -------------------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *, user: User, name: str, expires_in_days: int = ApiToken.DEFAULT_DAYS
) -> tuple[ApiToken, str]:
    """A new personal token; returns it with its secret, which is shown this once and stored only hashed.
    A staff account sets up its second factor first: a token must not be a way around it."""
    if permissions.lacks_second_factor(user):
        raise PermissionDenied(permissions.SECOND_FACTOR_FIRST)
    User.objects.select_for_update().filter(pk=user.pk).first()  # one creation at a time per user
    errors = {}
    name = (name or "").strip()
    name_limit = field_limits(ApiToken, "name")["max_length"]
    if not name or len(name) > name_limit:
        errors["name"] = [_("Give the token a name of at most %(limit)d characters.") % {"limit": name_limit}]
    if not 1 <= expires_in_days <= ApiToken.MAX_DAYS:
        errors["expires_in_days"] = [_("Between 1 and %(days)s days.") % {"days": ApiToken.MAX_DAYS}]
    if selectors.api_tokens_of(user=user).count() >= ApiToken.PER_USER:
        errors["name"] = [
            _("You already have %(count)s tokens: revoke one first.") % {"count": ApiToken.PER_USER}
        ]
    if errors:
        raise ValidationError(errors)
    # knox's manager is untyped (Any); its create() answers the token and its secret.
    created: tuple[ApiToken, str] = ApiToken.objects.create(
        user=user, name=name, expiry=datetime.timedelta(days=expires_in_days)
    )
    return created


@transaction.atomic
def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every token of the user (a new password ends what the old one let anyone create)."""
    deleted: int  # knox's manager is untyped (Any)
    deleted, _by_model = ApiToken.objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def api_token_revoke(*, user: User, token: ApiToken) -> None:
    if token.user_id != user.pk:
        raise PermissionDenied(_("This is not your token."))
    token.delete()
