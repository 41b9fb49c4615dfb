"""Writes of the match lifecycle (see lifecycle.py): curators introduce or dismiss suggestions, the sides
answer, work together and report; then the case study of a completed match. The suggestions themselves come
from the embedding pipeline (suggestions.py)."""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.limits import clean_text, field_limits
from core.models import AuditEntry
from marketplace import permissions
from marketplace import selectors as marketplace_selectors
from marketplace.models import Need, Offer, PostingStatus, User
from matching.engine.postings import NEED, OFFER
from notifications import outbox

from . import lifecycle, notification_kinds, selectors, suggestions
from . import permissions as match_permissions
from .models import (
    CaseStudy,
    CloseReason,
    DeclineReason,
    Match,
    MatchNote,
    MatchOrigin,
    MatchOutcome,
    MatchStatus,
    Outcome,
    Response,
)
from .permissions import other, owner_in_common, sides_of

logger = logging.getLogger(__name__)


# --- The match lifecycle (see lifecycle.py) ---------------------------------------------------------------

_AUDITED_FIELDS = ("status", "need_response", "offer_response", "close_reason")


def _locked(match: Match) -> Match:
    return Match.objects.select_for_update(of=("self",)).select_related("need", "offer").get(pk=match.pk)


def _require_side(user: User, match: Match) -> set[str]:
    sides = sides_of(user, match)
    if not sides:
        raise PermissionDenied(_("Only the two sides of a match can do this."))
    return sides


def _limit(model: type[models.Model], field: str) -> int:
    limit: int = field_limits(model, field)["max_length"]
    return limit


def _choice(value: str, choices: type[models.TextChoices], field: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: [_("Choose one of the options.")]})
    return value


def _posting(match: Match, side: str) -> Need | Offer:
    return match.need if side == NEED else match.offer


def _notify(
    match: Match, side: str, kind: str, event: str, *, actor: User | None = None, **extra: object
) -> None:
    """Tell the owners of one side about an event of the match, once per event."""
    own, theirs = _posting(match, side), _posting(match, other(side))
    outbox.notify(
        kind=kind,
        event_key=f"match:{match.pk}:{event}",
        recipients=marketplace_selectors.posting_owners(own),
        exclude=actor,
        context={
            "match": match.pk,
            "side": side,
            "title": own.title,
            "other_title": theirs.title,
            "other_poster": str(theirs.poster),
            "path": reverse("match_detail", args=[match.pk]),
            **extra,
        },
    )


def _notify_both(match: Match, kind: str, event: str, **extra: object) -> None:
    for side in (NEED, OFFER):
        _notify(match, side, kind, event, actor=None, **extra)


def _audit(user: User | None, action: str, match: Match, before: audit.Snapshot) -> None:
    if user is not None and permissions.is_secretariat(user):
        audit.record(
            actor=user,
            action=f"match_{action}",
            target=match,
            before=before,
            after=audit.snapshot(match, _AUDITED_FIELDS),
        )


def _set_status(match: Match, status: str, now: datetime.datetime) -> None:
    match.status = status
    stamps: dict[str, str] = {
        MatchStatus.INTRODUCED: "introduced_at",
        MatchStatus.CONNECTED: "connected_at",
        MatchStatus.COMPLETED: "completed_at",
        MatchStatus.CLOSED: "closed_at",
    }
    stamp = stamps.get(status)
    if stamp:
        setattr(match, stamp, now)


def _refuse_owner_in_common(need: Need, offer: Offer) -> None:
    """Nobody takes both sides of a match: a pair of postings with an owner in common is never made."""
    if owner_in_common(need, offer):
        raise ValidationError(
            _("The need and the offer have an owner in common: they cannot be matched with each other."),
            code="owner_in_common",
        )


def _introduce(match: Match, user: User | None) -> Match:
    lifecycle.check_action(match.status, "introduce")
    _refuse_owner_in_common(match.need, match.offer)
    before = audit.snapshot(match, _AUDITED_FIELDS)
    now = timezone.now()
    _set_status(match, MatchStatus.INTRODUCED, now)
    match.decided_by, match.decided_at = user, now
    match.save()
    _audit(user, "introduce", match, before)
    _notify_both(match, notification_kinds.MATCH_INTRODUCED, "introduced")
    return match


@transaction.atomic
def match_introduce(*, user: User, match: Match) -> Match:
    """A curator introduces a suggestion to both sides, who are told and asked to answer."""
    permissions.require_secretariat(user, _("Only the secretariat curates matches."))
    return _introduce(_locked(match), user)


@transaction.atomic
def match_dismiss(*, user: User, match: Match) -> Match:
    """A curator turns a suggestion (or a pair still waiting for answers) down; the sides are not told."""
    permissions.require_secretariat(user, _("Only the secretariat curates matches."))
    match = _locked(match)
    lifecycle.check_action(match.status, "dismiss")
    before = audit.snapshot(match, _AUDITED_FIELDS)
    match.status, match.decided_by, match.decided_at = MatchStatus.DISMISSED, user, timezone.now()
    match.save()
    _audit(user, "dismiss", match, before)
    return match


def matches_auto_introduce(*, match_ids: list[int]) -> int:
    """Introduce the new suggestions scored at or above the auto-introduction threshold, except pairs with
    an owner in common (they stay suggestions, which a curator cannot introduce either)."""
    threshold = settings.MATCHING_AUTO_INTRODUCE_SCORE
    if threshold is None:
        return 0
    introduced = 0
    for pk in Match.objects.filter(
        pk__in=match_ids, status=MatchStatus.SUGGESTED, score__gte=threshold
    ).values_list("pk", flat=True):
        with transaction.atomic():
            match = _locked(Match(pk=pk))
            if match.status == MatchStatus.SUGGESTED and not owner_in_common(match.need, match.offer):
                _introduce(match, None)
                introduced += 1
    return introduced


def matches_curate_bulk(*, user: User, match_ids: list[int], action: str) -> tuple[int, int]:
    """Introduce or dismiss several matches; returns (done, skipped: no longer in a state that allows it)."""
    permissions.require_secretariat(user, _("Only the secretariat curates matches."))
    service = {"introduce": match_introduce, "dismiss": match_dismiss}.get(action)
    if service is None:
        raise ValidationError({"action": [_("Choose introduce or dismiss.")]})
    done = skipped = 0
    for match in Match.objects.filter(pk__in=match_ids).order_by("pk"):
        try:
            service(user=user, match=match)
            done += 1
        except ValidationError:
            skipped += 1
    return done, skipped


def _new_pair(need: Need, offer: Offer, *, origin: str, status: str) -> Match:
    scored, model_version, weights_version_in_use = suggestions.pair_scored(need, offer)
    return Match(
        need=need,
        offer=offer,
        origin=origin,
        status=status,
        score=scored.score,
        features=scored.features,
        reasons=scored.why,
        model_version=model_version,
        weights_version=weights_version_in_use,
        scored_at=timezone.now(),
    )


def _published(posting: Need | Offer) -> None:
    if posting.status != PostingStatus.PUBLISHED:
        raise ValidationError(_("Only published postings can be matched."))


@transaction.atomic
def match_create(*, user: User, need: Need, offer: Offer) -> Match:
    """A curator pairs a need and an offer by hand and introduces them (a suggestion already stored for
    the pair is introduced instead)."""
    permissions.require_secretariat(user, _("Only the secretariat curates matches."))
    _published(need)
    _published(offer)
    _refuse_owner_in_common(need, offer)
    existing = Match.objects.select_for_update().filter(need=need, offer=offer).first()
    if existing is not None:
        if existing.status != MatchStatus.SUGGESTED:
            raise ValidationError(
                _("These postings are already matched (%(status)s).")
                % {"status": existing.get_status_display()}
            )
        return _introduce(_locked(existing), user)
    match = _new_pair(need, offer, origin=MatchOrigin.CURATOR, status=MatchStatus.SUGGESTED)
    match.save()
    audit.record(
        actor=user, action="match_create", target=match, after=audit.snapshot(match, _AUDITED_FIELDS)
    )
    return _introduce(match, user)


@transaction.atomic
def match_express_interest(
    *, user: User, own: Need | Offer, other_posting: Need | Offer, message: str = ""
) -> Match:
    """A side, from the other side's posting, says it wants to work together: the pair becomes a request
    that the other side answers. The requester has accepted already."""
    if not permissions.is_posting_owner(user, own):
        raise PermissionDenied(_("You can only express interest for your own postings."))
    permissions.require_public_name(user)
    if isinstance(own, Need) and isinstance(other_posting, Offer):
        need, offer = own, other_posting
    elif isinstance(own, Offer) and isinstance(other_posting, Need):
        need, offer = other_posting, own
    else:
        raise ValidationError(_("Express interest in an offer with a need, or in a need with an offer."))
    message = clean_text(message, "message")
    _published(own)
    _published(other_posting)
    if permissions.has_external_origin(other_posting):
        raise PermissionDenied(_("This posting is managed on a partner's site: express interest there."))
    _refuse_owner_in_common(need, offer)
    side = NEED if isinstance(own, Need) else OFFER
    match = Match.objects.select_for_update().filter(need=need, offer=offer).first()
    if match is None:
        match = _new_pair(need, offer, origin=MatchOrigin.INTEREST, status=MatchStatus.SUGGESTED)
    else:
        match = _locked(match)
        if match.status in lifecycle.AWAITING_ANSWER:
            raise ValidationError(
                _("You have already been put in touch about these postings: answer the match."),
                code="already_in_touch",
            )
        lifecycle.check_action(match.status, "express_interest")
    match.status = MatchStatus.REQUESTED
    now = timezone.now()
    setattr(match, f"{side}_response", Response.ACCEPTED)
    setattr(match, f"{side}_message", message)
    setattr(match, f"{side}_responded_at", now)
    match.save()
    _notify(match, other(side), notification_kinds.INTEREST_RECEIVED, "interest", message=message)
    return match


@transaction.atomic
def match_accept(*, user: User, match: Match, message: str = "") -> Match:
    """A side accepts; once both have, the match is connected and each side sees the other's contacts."""
    # The offer first (then the match: the same order everywhere), so that two acceptances of different
    # matches of one offer count its free places one after the other.
    Offer.objects.select_for_update().filter(pk=match.offer_id).exists()
    match = _locked(match)
    sides = _require_side(user, match)
    lifecycle.check_action(match.status, "accept")
    _refuse_owner_in_common(match.need, match.offer)  # a pair made before its sides came to one owner
    message = clean_text(message, "message")
    pending = [side for side in sorted(sides) if getattr(match, f"{side}_response") == Response.PENDING]
    if not pending:
        raise ValidationError(_("You have already answered this match."), code="already_answered")
    now = timezone.now()
    for side in pending:
        setattr(match, f"{side}_response", Response.ACCEPTED)
        setattr(match, f"{side}_message", message)
        setattr(match, f"{side}_responded_at", now)
    if match.need_response == match.offer_response == Response.ACCEPTED:
        if selectors.offer_is_full(match.offer, excluding=match):
            raise ValidationError(_("This offer has no place left: it is serving as many needs as it can."))
        _set_status(match, MatchStatus.CONNECTED, now)
        match.save()
        _notify_both(match, notification_kinds.MATCH_CONNECTED, "connected")
        return match
    match.save()
    for side in pending:
        _notify(match, other(side), notification_kinds.MATCH_ACCEPTED, f"accepted:{side}", message=message)
    return match


@transaction.atomic
def match_decline(*, user: User, match: Match, reason: str, message: str = "") -> Match:
    """A side declines, saying why; the other side is told."""
    match = _locked(match)
    sides = _require_side(user, match)
    lifecycle.check_action(match.status, "decline")
    reason = _choice(reason, DeclineReason, "reason")
    message = clean_text(message, "message")
    now = timezone.now()
    for side in sides:
        setattr(match, f"{side}_response", Response.DECLINED)
        setattr(match, f"{side}_message", message)
        setattr(match, f"{side}_responded_at", now)
    match.status, match.decline_reason = MatchStatus.DECLINED, reason
    match.save()
    for side in {other(side) for side in sides} - sides:
        _notify(match, side, notification_kinds.MATCH_DECLINED, "declined", message=message)
    return match


@transaction.atomic
def match_start(*, user: User, match: Match) -> Match:
    """A connected pair says the work has begun."""
    match = _locked(match)
    _require_side(user, match)
    lifecycle.check_action(match.status, "start")
    match.status = MatchStatus.IN_PROGRESS
    match.save()
    return match


@transaction.atomic
def match_report_outcome(
    *, user: User, match: Match, outcome: str, rating: int | str, feedback: str = ""
) -> MatchOutcome:
    """A side reports how the cooperation went; the first report completes the match, and the other side
    is asked for its own."""
    match = _locked(match)
    sides = _require_side(user, match)
    lifecycle.check_action(match.status, "report_outcome")
    outcome = _choice(outcome, Outcome, "outcome")
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    ratings = field_limits(MatchOutcome, "rating")
    if not ratings["min_value"] <= rating <= ratings["max_value"]:
        raise ValidationError({"rating": [_("Give a rating from 1 to 5.")]})
    feedback = clean_text(feedback, "feedback", limit=_limit(MatchOutcome, "feedback"))
    reported = set(match.outcomes.values_list("side", flat=True))
    side = next((side for side in sorted(sides) if side not in reported), None)
    if side is None:
        raise ValidationError(_("You have already reported on this match."), code="already_reported")
    report = MatchOutcome.objects.create(
        match=match, side=side, outcome=outcome, rating=rating, feedback=feedback, reported_by=user
    )
    if match.status != MatchStatus.COMPLETED:
        _set_status(match, MatchStatus.COMPLETED, timezone.now())
        match.save()
    if other(side) not in reported | sides:
        _notify(match, other(side), notification_kinds.OUTCOME_REPORTED, f"outcome:{side}")
    return report


@transaction.atomic
def match_close(*, user: User, match: Match, reason: str, note: str = "") -> Match:
    """A side or a curator ends a match that is not finished, saying why; the sides are told."""
    match = _locked(match)
    is_curator = permissions.is_secretariat(user)
    sides = sides_of(user, match)
    if not (is_curator or sides):
        raise PermissionDenied(_("Only the two sides of a match or the secretariat can close it."))
    lifecycle.check_action(match.status, "close")
    reason = _choice(reason, CloseReason, "reason")
    note = clean_text(note, "note")
    before = audit.snapshot(match, _AUDITED_FIELDS)
    _set_status(match, MatchStatus.CLOSED, timezone.now())
    match.close_reason, match.close_note = reason, note
    match.save()
    if is_curator and not sides:
        _audit(user, "close", match, before)
    for side in {NEED, OFFER} - sides:
        _notify(match, side, notification_kinds.MATCH_CLOSED, "closed")
    return match


@transaction.atomic
def match_note_add(*, user: User, match: Match, text: str) -> MatchNote:
    """A curator's internal note; the sides never see it."""
    permissions.require_secretariat(user, _("Only the secretariat curates matches."))
    text = clean_text(text, "text", required=True, limit=_limit(MatchNote, "text"))
    note = MatchNote.objects.create(match=match, author=user, text=text)
    audit.record(actor=user, action="match_note", target=match, after={"note": text})
    return note


# --- Outcome stories ---------------------------------------------------------------------------------------


_AUDITED_STORY_FIELDS = (
    "title",
    "need_consent_at",
    "offer_consent_at",
    "published_at",
    "approved_by_id",
    "review_note",
)


def _story_version(study: CaseStudy) -> str:
    """A digest of the text the sides consent to: one notification per version, however often it is saved."""
    text = "\x1f".join((study.language or "", study.title or "", study.story or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@transaction.atomic
def case_study_save(*, user: User, match: Match, title: str, story: str, language: str) -> CaseStudy:
    """Write (or rewrite) the story of a completed match. Any change needs both sides' consent and the
    secretariat's approval again; the author's side consents by writing it. Saving the same text again
    changes nothing but the author's consent, and tells nobody again."""
    match = _locked(match)
    sides = sides_of(user, match)
    if not match_permissions.can_write_story(user, sides=sides):
        raise PermissionDenied(_("Only the two sides of a match or the secretariat can write its story."))
    if match.status != MatchStatus.COMPLETED:
        raise ValidationError(_("Only a completed match can become a case study."), code="not_completed")
    study = CaseStudy.objects.select_for_update().filter(match=match).first() or CaseStudy(match=match)
    previous = _story_version(study) if study.pk else None
    study.title = clean_text(title, "title", required=True, limit=_limit(CaseStudy, "title"))
    study.story = clean_text(story, "story", required=True, limit=_limit(CaseStudy, "story"))
    study.language = language
    version = _story_version(study)
    now = timezone.now()
    if version != previous:
        study.written_by = user
        study.need_consent_at = study.offer_consent_at = study.published_at = study.approved_by = None
        study.review_note = ""
    for side in sides:
        setattr(study, f"{side}_consent_at", getattr(study, f"{side}_consent_at") or now)
    try:
        study.full_clean(exclude=["match", "written_by"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from error
    study.save()
    for side in {NEED, OFFER} - sides:
        _notify(match, side, notification_kinds.STORY_PROPOSED, f"story:{version}", story_title=study.title)
    return study


@transaction.atomic
def case_study_consent(*, user: User, match: Match) -> CaseStudy:
    """A side consents to the story as written; with both consents it waits for the secretariat's approval
    (see `case_study_approve`)."""
    match = _locked(match)
    sides = _require_side(user, match)
    study = CaseStudy.objects.select_for_update().filter(match=match).first()
    if study is None:
        raise ValidationError(_("There is no case study to consent to."), code="no_case_study")
    now = timezone.now()
    for side in sides:
        setattr(study, f"{side}_consent_at", getattr(study, f"{side}_consent_at") or now)
    study.save()
    return study


@transaction.atomic
def case_study_withdraw_consent(*, user: User, match: Match) -> CaseStudy:
    """A side takes its consent back: the story is no longer public (if it was) and waits for that side's
    consent and the secretariat's approval again. Recorded in the audit log."""
    match = _locked(match)
    sides = _require_side(user, match)
    study = CaseStudy.objects.select_for_update().filter(match=match).first()
    if study is None or not any(getattr(study, f"{side}_consent_at") for side in sides):
        raise ValidationError(_("You have not consented to this case study."), code="no_consent")
    withdrawn: dict[str, object] = {f"{side}_consent_at": None for side in sides}
    _change_story(
        user,
        match,
        study,
        action="case_study_withdraw_consent",
        published_at=None,
        approved_by=None,
        **withdrawn,
    )
    return study


def _story_to_review(user: User, match: Match) -> tuple[Match, CaseStudy]:
    """The match and its story, locked, for a member of the secretariat who answers for neither side; the
    story must have both sides' consent."""
    permissions.require_secretariat(user, _("Only the secretariat approves case studies."))
    match = _locked(match)
    if not match_permissions.can_review_story(user, sides=sides_of(user, match)):
        raise PermissionDenied(
            _("You answer for a side of this match: another member of the secretariat reviews its story.")
        )
    study = CaseStudy.objects.select_for_update().filter(match=match).first()
    if study is None or not (study.need_consent_at and study.offer_consent_at):
        raise ValidationError(
            _("Only a case study both sides have consented to can be reviewed."), code="not_consented"
        )
    return match, study


def _change_story(
    user: User, match: Match, study: CaseStudy, *, action: str, **changes: object
) -> AuditEntry:
    """Apply a decision on the story (the secretariat's, or a side's withdrawn consent), save it and record
    it in the audit log."""
    before = audit.snapshot(study, _AUDITED_STORY_FIELDS)
    for name, value in changes.items():
        setattr(study, name, value)
    study.save()
    return audit.record(
        actor=user,
        action=action,
        target=match,
        before=before,
        after=audit.snapshot(study, _AUDITED_STORY_FIELDS),
    )


@transaction.atomic
def case_study_approve(*, user: User, match: Match) -> CaseStudy:
    """The secretariat approves a story both sides consented to: it becomes public and the sides are told
    (once per version of the text)."""
    match, study = _story_to_review(user, match)
    if study.published_at is not None:
        raise ValidationError(_("This case study is already public."), code="already_public")
    _change_story(
        user,
        match,
        study,
        action="case_study_approve",
        published_at=timezone.now(),
        approved_by=user,
        review_note="",
    )
    _notify_both(
        match,
        notification_kinds.STORY_PUBLISHED,
        f"story-published:{_story_version(study)}",
        story_title=study.title,
    )
    return study


@transaction.atomic
def case_study_send_back(*, user: User, match: Match, note: str) -> CaseStudy:
    """The secretariat sends a story back to both sides, saying why (a public one is withdrawn): it waits
    for both consents again, to this text or a rewritten one, and then for approval."""
    match, study = _story_to_review(user, match)
    note = clean_text(note, "note", required=True)
    entry = _change_story(
        user,
        match,
        study,
        action="case_study_send_back",
        need_consent_at=None,
        offer_consent_at=None,
        published_at=None,
        approved_by=None,
        review_note=note,
    )
    _notify_both(
        match,
        notification_kinds.STORY_PROPOSED,
        f"story-sent-back:{entry.pk}",
        story_title=study.title,
        message=note,
    )
    return study
