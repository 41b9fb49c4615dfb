"""The match lifecycle: every legal and illegal transition, the permission matrix for every action (a refused
action changes nothing and tells nobody), contact details only once connected, outcome stories."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import AuditEntry
from marketplace.selectors import posting_owners
from matching import lifecycle, services
from matching import notification_kinds as match_kinds
from matching.models import CaseStudy, Match, MatchNote, MatchOutcome, MatchStatus
from matching.permissions import can_view_contact
from notifications.models import Notification
from tests.factories import (
    MatchFactory,
    NeedFactory,
    OfferFactory,
    OrganizationFactory,
    SecretariatFactory,
    UserFactory,
    focal_point,
    member,
)

pytestmark = pytest.mark.django_db
S = MatchStatus
BOTH_ACCEPTED = {"need_response": "accepted", "offer_response": "accepted"}
# Each status as a person would find it: who has answered so far.
STATE = {
    S.SUGGESTED: {},
    S.REQUESTED: {"need_response": "accepted"},
    S.INTRODUCED: {},
    S.DISMISSED: {},
    S.DECLINED: {"offer_response": "declined"},
    S.CONNECTED: BOTH_ACCEPTED,
    S.IN_PROGRESS: BOTH_ACCEPTED,
    S.COMPLETED: BOTH_ACCEPTED,
    S.CLOSED: {},
}


def match_in(status: str, **fields) -> Match:
    return MatchFactory(status=status, **STATE[status], **fields)


def need_side(match):
    return match.need.created_by


def offer_side(match):
    return match.offer.created_by


def act(action: str, match: Match, user):
    """Take an action as ``user`` with valid input, through the services."""
    calls = {
        "introduce": lambda: services.match_introduce(user=user, match=match),
        "dismiss": lambda: services.match_dismiss(user=user, match=match),
        "express_interest": lambda: services.match_express_interest(
            user=user, own=match.offer, other_posting=match.need, message="We can help."
        ),
        "accept": lambda: services.match_accept(user=user, match=match, message="Gladly."),
        "decline": lambda: services.match_decline(
            user=user, match=match, reason="timing", message="Too late."
        ),
        "start": lambda: services.match_start(user=user, match=match),
        "report_outcome": lambda: services.match_report_outcome(
            user=user, match=match, outcome="achieved", rating=5, feedback="Thirty officers trained."
        ),
        "close": lambda: services.match_close(user=user, match=match, reason="no_longer_needed"),
        "note": lambda: services.match_note_add(user=user, match=match, text="Called both sides."),
        "story": lambda: services.case_study_save(
            user=user, match=match, title="Customs officers trained", story="Thirty officers.", language="en"
        ),
        "consent": lambda: services.case_study_consent(user=user, match=match),
    }
    return calls[action]()


def acting_side(action: str, match: Match):
    """The person who may take a side action: express interest is done here by the offer's side, the
    others by the need's side, who has not answered yet in a requested match… except when it has."""
    if action == "express_interest" or (action in ("accept", "decline") and match.status == S.REQUESTED):
        return offer_side(match)
    return need_side(match)


def frozen(match: Match) -> tuple:
    match.refresh_from_db()
    return (
        match.status,
        match.need_response,
        match.offer_response,
        match.outcomes.count(),
        match.notes.count(),
        CaseStudy.objects.filter(match=match, published_at__isnull=False).count(),
        list(
            CaseStudy.objects.filter(match=match).values_list("title", "need_consent_at", "offer_consent_at")
        ),
        Notification.objects.count(),
        AuditEntry.objects.count(),
        len(mail.outbox),
    )


# --- Every transition ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(lifecycle.ACTIONS))
def test_every_transition_is_legal_exactly_where_the_table_says(status, action, secretariat):
    match = match_in(status)
    user = (
        secretariat if lifecycle.SECRETARIAT in lifecycle.ACTIONS[action][1] else acting_side(action, match)
    )
    legal = status in lifecycle.ACTIONS[action][0]
    if legal:
        act(action, match, user)
        match.refresh_from_db()
        assert match.status in lifecycle.TARGETS[action]
    else:
        before = frozen(match)
        with pytest.raises(ValidationError):
            act(action, match, user)
        assert frozen(match) == before


def test_both_sides_accepting_connects_and_each_side_hears_once(django_capture_on_commit_callbacks):
    match = match_in(S.INTRODUCED)
    type(match.need).objects.filter(pk=match.need.pk).update(contact_email="focal.point@chad.example.org")
    type(match.offer).objects.filter(pk=match.offer.pk).update(contact_email="trainer@icbbt.example.org")
    match.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.match_accept(user=need_side(match), match=match, message="Nous sommes prêts.")
    match.refresh_from_db()
    assert match.status == S.INTRODUCED and match.need_response == "accepted"
    assert [m.to for m in mail.outbox] == [[offer_side(match).email]]
    assert "Nous sommes prêts." in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        services.match_accept(user=offer_side(match), match=match)
    match.refresh_from_db()
    assert match.status == S.CONNECTED and match.connected_at is not None
    connected = [m for m in mail.outbox if "connected" in m.subject]
    assert sorted(m.to[0] for m in connected) == sorted([need_side(match).email, offer_side(match).email])
    # each side's e-mail carries the other side's contact details
    to_need = next(m for m in connected if m.to == [need_side(match).email])
    assert "trainer@icbbt.example.org" in to_need.body and "focal.point@chad.example.org" not in to_need.body


def test_answering_twice_or_accepting_into_a_full_offer_is_refused():
    match = match_in(S.INTRODUCED)
    services.match_accept(user=need_side(match), match=match)
    with pytest.raises(ValidationError, match="already answered"):
        services.match_accept(user=need_side(match), match=match)

    full = match_in(S.INTRODUCED, need_response="accepted")
    MatchFactory(offer=full.offer, status=S.CONNECTED, **BOTH_ACCEPTED)  # capacity 1, taken
    before = frozen(full)
    with pytest.raises(ValidationError, match="no place left"):
        services.match_accept(user=offer_side(full), match=full)
    assert frozen(full) == before


def test_declining_records_the_reason_and_tells_the_other_side():
    match = match_in(S.INTRODUCED)
    with pytest.raises(ValidationError):
        services.match_decline(user=offer_side(match), match=match, reason="because")
    services.match_decline(
        user=offer_side(match), match=match, reason="no_capacity", message="Full this year."
    )
    match.refresh_from_db()
    assert (match.status, match.offer_response, match.decline_reason) == (
        S.DECLINED,
        "declined",
        "no_capacity",
    )
    assert list(Notification.objects.values_list("recipient", "kind")) == [
        (need_side(match).pk, match_kinds.MATCH_DECLINED)
    ]


def test_expressing_interest_creates_a_request_for_the_other_side(django_capture_on_commit_callbacks):
    need = NeedFactory(created_by=focal_point("TD"), title="Train customs officers on invasive species")
    offer_owner = member(organization := OrganizationFactory())
    offer = OfferFactory(
        organization=organization,
        created_by=offer_owner,
        title="Border biosecurity course on invasive species",
    )
    with django_capture_on_commit_callbacks(execute=True):
        match = services.match_express_interest(
            user=offer_owner, own=offer, other_posting=need, message="Hello"
        )
    assert (match.status, match.origin, match.offer_response, match.need_response) == (
        S.REQUESTED,
        "interest",
        "accepted",
        "",
    )
    assert 0 <= match.score <= 1 and match.reasons  # scored by the engine like any suggestion
    assert [m.to for m in mail.outbox] == [[need.created_by.email]]
    with pytest.raises(ValidationError):
        services.match_express_interest(user=offer_owner, own=offer, other_posting=need)
    services.match_accept(user=need.created_by, match=match)
    match.refresh_from_db()
    assert match.status == S.CONNECTED


def test_outcome_reports_complete_the_match_once_per_side():
    match = match_in(S.IN_PROGRESS)
    services.match_report_outcome(user=need_side(match), match=match, outcome="partly", rating="4")
    match.refresh_from_db()
    assert match.status == S.COMPLETED and match.completed_at is not None
    with pytest.raises(ValidationError, match="already reported"):
        services.match_report_outcome(user=need_side(match), match=match, outcome="achieved", rating=5)
    with pytest.raises(ValidationError):
        services.match_report_outcome(user=offer_side(match), match=match, outcome="achieved", rating=9)
    services.match_report_outcome(user=offer_side(match), match=match, outcome="achieved", rating=5)
    assert sorted(MatchOutcome.objects.filter(match=match).values_list("side", flat=True)) == [
        "need",
        "offer",
    ]
    # the offer's side was asked for its report; the need's side was not asked back
    assert list(Notification.objects.values_list("recipient", "kind")) == [
        (offer_side(match).pk, match_kinds.OUTCOME_REPORTED)
    ]


# --- The permission matrix -------------------------------------------------------------------------------

ACTORS = ("anonymous", "other user", "need side", "offer side", "secretariat")
ALLOWED = {
    "introduce": {"secretariat"},
    "dismiss": {"secretariat"},
    "express_interest": {"offer side"},
    "accept": {"need side", "offer side"},
    "decline": {"need side", "offer side"},
    "start": {"need side", "offer side"},
    "report_outcome": {"need side", "offer side"},
    "close": {"need side", "offer side", "secretariat"},
    "note": {"secretariat"},
    "story": {"need side", "offer side", "secretariat"},
    "consent": {"need side", "offer side"},
}
LEGAL_FROM = {
    "introduce": S.SUGGESTED,
    "dismiss": S.SUGGESTED,
    "express_interest": S.SUGGESTED,
    "accept": S.INTRODUCED,
    "decline": S.INTRODUCED,
    "start": S.CONNECTED,
    "report_outcome": S.IN_PROGRESS,
    "close": S.INTRODUCED,
    "note": S.SUGGESTED,
    "story": S.COMPLETED,
    "consent": S.COMPLETED,
}


def actor(name: str, match: Match):
    return {
        "anonymous": AnonymousUser,
        "other user": UserFactory,
        "need side": lambda: need_side(match),
        "offer side": lambda: offer_side(match),
        "secretariat": SecretariatFactory,
    }[name]()


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_permission_matrix(action, who, django_capture_on_commit_callbacks):
    match = match_in(LEGAL_FROM[action])
    if action == "consent":  # a story written by a curator, waiting for both sides
        services.case_study_save(user=SecretariatFactory(), match=match, title="T", story="S", language="en")
    user = actor(who, match)
    if who in ALLOWED[action]:
        act(action, match, user)
        return
    before = frozen(match)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        act(action, match, user)
    assert frozen(match) == before  # nothing changed, nobody told, nothing logged


@pytest.mark.parametrize("who", ACTORS)
def test_only_sides_and_secretariat_see_a_match_page(client, who):
    match = match_in(S.INTRODUCED)
    user = actor(who, match)
    if who != "anonymous":
        client.force_login(user)
    response = client.get(reverse("match_detail", args=[match.pk]))
    expected = 200 if who in ("need side", "offer side", "secretariat") else 404
    if who == "anonymous":
        expected = 302  # to the sign-in page
    assert response.status_code == expected
    if expected != 200:
        assert match.offer.title.encode() not in response.content


# --- Contact details -------------------------------------------------------------------------------------


def test_contact_details_appear_only_once_connected(client):
    match = match_in(S.INTRODUCED)
    need_owner, offer_owner = need_side(match), offer_side(match)
    match.offer.contact_email = "trainer@icbbt.example.org"
    match.offer.save()
    client.force_login(need_owner)
    pages = [
        reverse("match_detail", args=[match.pk]),
        reverse("posting_detail", args=["offer", match.offer.pk]),
    ]

    assert not can_view_contact(need_owner, match.offer)
    for page in pages:
        assert b"trainer@icbbt.example.org" not in client.get(page).content

    services.match_accept(user=need_owner, match=match)
    assert not can_view_contact(need_owner, match.offer)  # one side is not enough
    services.match_accept(user=offer_owner, match=match)

    assert can_view_contact(need_owner, match.offer) and can_view_contact(offer_owner, match.need)
    assert not can_view_contact(UserFactory(), match.offer)
    for page in pages:
        assert b"trainer@icbbt.example.org" in client.get(page).content


# --- Curators ---------------------------------------------------------------------------------------------


def test_curator_actions_are_audited_with_before_and_after(secretariat):
    match = match_in(S.SUGGESTED)
    services.match_introduce(user=secretariat, match=match)
    services.match_note_add(user=secretariat, match=match, text="Both sides know each other already.")
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [(e.actor, e.action, e.target_id) for e in entries] == [
        (secretariat, "match_introduce", match.pk),
        (secretariat, "match_note", match.pk),
    ]
    assert entries[0].before["status"] == "suggested" and entries[0].after["status"] == "introduced"
    assert MatchNote.objects.get().text == "Both sides know each other already."


def test_bulk_curation_skips_what_moved_meanwhile(secretariat):
    waiting, dismissed = match_in(S.SUGGESTED), match_in(S.DISMISSED)
    assert services.matches_curate_bulk(
        user=secretariat, match_ids=[waiting.pk, dismissed.pk], action="introduce"
    ) == (1, 1)
    with pytest.raises(PermissionDenied):
        services.matches_curate_bulk(user=UserFactory(), match_ids=[dismissed.pk], action="introduce")


def test_manual_match_creation_scores_and_introduces(secretariat):
    organization = OrganizationFactory()
    need = NeedFactory(created_by=focal_point("TD"))
    offer = OfferFactory(organization=organization, created_by=member(organization))
    match = services.match_create(user=secretariat, need=need, offer=offer)
    assert (match.status, match.origin) == (S.INTRODUCED, "curator")
    assert Notification.objects.filter(kind=match_kinds.MATCH_INTRODUCED).count() == 2
    with pytest.raises(ValidationError, match="already matched"):
        services.match_create(user=secretariat, need=need, offer=offer)


def test_auto_introduction_above_the_threshold_runs_once(settings):
    settings.MATCHING_AUTO_INTRODUCE_SCORE = 0.6
    high, low = match_in(S.SUGGESTED, score=0.65), match_in(S.SUGGESTED, score=0.55)
    assert services.matches_auto_introduce(match_ids=[high.pk, low.pk]) == 1
    assert services.matches_auto_introduce(match_ids=[high.pk, low.pk]) == 0
    assert Match.objects.get(pk=high.pk).status == S.INTRODUCED
    assert Match.objects.get(pk=low.pk).status == S.SUGGESTED
    # everyone answering for either side of the one introduction, once (Chad has two focal points here)
    owners = [*posting_owners(high.need), *posting_owners(high.offer)]
    assert sorted(Notification.objects.values_list("recipient", flat=True)) == sorted(u.pk for u in owners)
    assert len(owners) == 3


# --- Outcome stories --------------------------------------------------------------------------------------


def test_a_case_study_is_public_only_with_both_consents_and_the_secretariats_approval(client, secretariat):
    match = match_in(S.COMPLETED)
    other = UserFactory()
    with pytest.raises(PermissionDenied):
        services.case_study_save(user=other, match=match, title="T", story="S", language="en")
    study = services.case_study_save(
        user=need_side(match), match=match, title="Customs officers trained", story="Thirty.", language="en"
    )
    assert study.need_consent_at and not study.offer_consent_at and not study.published_at
    assert b"Customs officers trained" not in client.get(reverse("case_studies")).content
    with pytest.raises(PermissionDenied):
        services.case_study_consent(user=other, match=match)

    study = services.case_study_consent(user=offer_side(match), match=match)
    assert study.published_at is None  # both consents: now the secretariat's turn
    study = services.case_study_approve(user=secretariat, match=match)
    assert study.published_at is not None
    assert b"Customs officers trained" in client.get(reverse("case_studies")).content

    # Rewriting withdraws it until the other side consents to the new text (and it is approved again).
    services.case_study_save(user=offer_side(match), match=match, title="Edited", story="New.", language="en")
    assert CaseStudy.objects.get().published_at is None


def test_only_a_completed_match_becomes_a_story():
    match = match_in(S.CONNECTED)
    with pytest.raises(ValidationError):
        services.case_study_save(user=need_side(match), match=match, title="T", story="S", language="en")
    assert not CaseStudy.objects.exists()
