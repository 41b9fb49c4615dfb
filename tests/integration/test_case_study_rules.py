"""Rules against self-dealing and notification floods (OWASP review, findings 7 and 14).

7. Nobody pairs two postings that answer to the same person (interest, a curator's introduction or
   hand-made match, the engine's automatic introduction), and a case study becomes public only once the
   secretariat approves it, after both sides consented.
14. Saving a case study tells the other side once per version of the text, however often it is saved."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEntry
from marketplace.models import FocalPointAssignment, OrganizationMembership
from marketplace.selectors import posting_owners
from matching import notification_kinds as match_kinds
from matching import services
from matching.models import CaseStudy, Match, MatchStatus
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
    party,
)

pytestmark = pytest.mark.django_db
S = MatchStatus
TITLE = "Customs officers trained"
SAME_OWNER = "owner in common"


def chad_need():
    return NeedFactory(created_by=focal_point("TD"))


def organization_offer(organization=None):
    organization = organization or OrganizationFactory()
    return OfferFactory(created_by=member(organization), organization=organization)


def person_on_both_sides():
    """A Chad focal point who is also a member of the offer's organization; neither posting is theirs."""
    need, offer = chad_need(), organization_offer()
    person = UserFactory()
    FocalPointAssignment.objects.create(user=person, party=party("TD"))
    OrganizationMembership.objects.create(user=person, organization=offer.organization)
    return person, need, offer


def one_organization_pair():
    """A need and an offer of the same organization, each posted by a different member."""
    organization = OrganizationFactory()
    need = NeedFactory(party=None, organization=organization, created_by=member(organization))
    return need, organization_offer(organization)


def completed(**postings) -> Match:
    return MatchFactory(status=S.COMPLETED, need_response="accepted", offer_response="accepted", **postings)


def consented(match: Match, title: str = TITLE) -> CaseStudy:
    """The need's side writes the story, the offer's side consents to it."""
    services.case_study_save(
        user=match.need.created_by, match=match, title=title, story="Thirty officers.", language="en"
    )
    return services.case_study_consent(user=match.offer.created_by, match=match)


def untouched() -> tuple:
    return (
        list(Match.objects.order_by("pk").values_list("status", "need_response", "offer_response")),
        Notification.objects.count(),
        AuditEntry.objects.count(),
    )


def public(client) -> bytes:
    return client.get(reverse("case_studies")).content


# --- 7. Postings of the same owner are never paired ------------------------------------------------------


def test_interest_between_two_postings_one_person_answers_for_is_refused():
    person, need, offer = person_on_both_sides()
    before = untouched()
    with pytest.raises(ValidationError, match=SAME_OWNER):
        services.match_express_interest(user=person, own=offer, other_posting=need, message="Us again.")
    assert untouched() == before and not Match.objects.exists()


def test_interest_between_a_need_and_an_offer_of_one_organization_is_refused_on_the_page_and_the_api(
    client,
):
    need, offer = one_organization_pair()
    colleague = offer.created_by
    client.force_login(colleague)
    page = client.post(
        reverse("express_interest", args=["need", need.pk]), {"own": offer.pk, "message": ""}, follow=True
    )
    assert SAME_OWNER in page.content.decode()
    api = APIClient()
    api.force_authenticate(colleague)
    response = api.post(f"/api/v1/needs/{need.pk}/interest/", {"posting": offer.pk})
    assert response.status_code == 400 and SAME_OWNER in str(response.json())
    assert not Match.objects.exists() and not Notification.objects.exists()


def test_the_secretariat_cannot_introduce_or_pair_postings_with_an_owner_in_common(secretariat):
    need, offer = one_organization_pair()
    with pytest.raises(ValidationError, match=SAME_OWNER):
        services.match_create(user=secretariat, need=need, offer=offer)
    assert not Match.objects.exists() and not AuditEntry.objects.exists()

    _person, need, offer = person_on_both_sides()
    suggestion = MatchFactory(need=need, offer=offer)  # the engine may still suggest it
    before = untouched()
    with pytest.raises(ValidationError, match=SAME_OWNER):
        services.match_introduce(user=secretariat, match=suggestion)
    with pytest.raises(ValidationError, match=SAME_OWNER):
        services.match_create(user=secretariat, need=need, offer=offer)
    done = services.matches_curate_bulk(user=secretariat, match_ids=[suggestion.pk], action="introduce")
    assert done == (0, 1)
    assert untouched() == before


def test_automatic_introduction_skips_postings_with_an_owner_in_common(settings):
    settings.MATCHING_AUTO_INTRODUCE_SCORE = 0.6
    _person, need, offer = person_on_both_sides()
    same, fine = MatchFactory(need=need, offer=offer, score=0.9), MatchFactory(score=0.9)
    assert services.matches_auto_introduce(match_ids=[same.pk, fine.pk]) == 1
    assert Match.objects.get(pk=same.pk).status == S.SUGGESTED  # the suggestion stays
    assert Match.objects.get(pk=fine.pk).status == S.INTRODUCED
    assert not Notification.objects.filter(context__match=same.pk).exists()


# --- 7. A case study is public only once the secretariat approves it -------------------------------------


def test_a_story_both_sides_consented_to_waits_for_the_secretariats_approval(client, secretariat):
    match = completed()
    study = consented(match)
    assert study.need_consent_at and study.offer_consent_at and study.published_at is None
    assert TITLE.encode() not in public(client)
    assert not Notification.objects.filter(kind=match_kinds.STORY_PUBLISHED).exists()

    study = services.case_study_approve(user=secretariat, match=match)

    assert study.published_at is not None and study.approved_by == secretariat
    assert TITLE.encode() in public(client)
    told = Notification.objects.filter(kind=match_kinds.STORY_PUBLISHED)
    owners = {*posting_owners(match.need), *posting_owners(match.offer)}
    assert sorted(told.values_list("recipient", flat=True)) == sorted(u.pk for u in owners)
    entry = AuditEntry.objects.get(action="case_study_approve")
    assert (entry.actor, entry.target_id) == (secretariat, match.pk)
    assert entry.before["published_at"] is None and entry.after["published_at"]


def test_one_person_on_both_sides_cannot_publish_a_story_alone(client):
    person, need, offer = person_on_both_sides()
    match = completed(need=need, offer=offer)  # paired before the rule, or by a curator who missed it
    study = services.case_study_save(user=person, match=match, title=TITLE, story="All mine.", language="en")
    assert study.need_consent_at and study.offer_consent_at  # they answer for both sides
    services.case_study_consent(user=person, match=match)
    assert CaseStudy.objects.get().published_at is None
    assert TITLE.encode() not in public(client)


@pytest.mark.parametrize("who", ["anonymous", "other user", "need side", "offer side", "secretariat side"])
@pytest.mark.parametrize("action", ["approve", "send_back"])
def test_only_the_secretariat_approves_or_sends_back_and_never_its_own_story(action, who):
    staff_on_a_side = SecretariatFactory()
    FocalPointAssignment.objects.create(user=staff_on_a_side, party=party("TD"))
    match = completed()
    consented(match)
    user = {
        "anonymous": AnonymousUser(),
        "other user": UserFactory(),
        "need side": match.need.created_by,
        "offer side": match.offer.created_by,
        "secretariat side": staff_on_a_side,
    }[who]
    before = (list(CaseStudy.objects.values()), untouched())
    with pytest.raises(PermissionDenied):
        if action == "approve":
            services.case_study_approve(user=user, match=match)
        else:
            services.case_study_send_back(user=user, match=match, note="Too personal.")
    assert (list(CaseStudy.objects.values()), untouched()) == before


def test_only_a_story_with_both_consents_can_be_approved(secretariat):
    match = completed()
    with pytest.raises(ValidationError):
        services.case_study_approve(user=secretariat, match=match)  # no story yet
    services.case_study_save(
        user=match.need.created_by, match=match, title=TITLE, story="Thirty.", language="en"
    )
    with pytest.raises(ValidationError):
        services.case_study_approve(user=secretariat, match=match)
    assert CaseStudy.objects.get().published_at is None


def test_the_secretariat_sends_a_story_back_with_a_reason(client, secretariat):
    match = completed()
    consented(match)
    with pytest.raises(ValidationError):
        services.case_study_send_back(user=secretariat, match=match, note="  ")
    services.case_study_approve(user=secretariat, match=match)

    study = services.case_study_send_back(
        user=secretariat, match=match, note="Please leave out the officers' names."
    )  # withdrawn, even once public

    assert (study.need_consent_at, study.offer_consent_at, study.published_at) == (None, None, None)
    assert TITLE.encode() not in public(client)
    assert AuditEntry.objects.filter(action="case_study_send_back", target_id=match.pk).exists()
    told = Notification.objects.filter(
        kind=match_kinds.STORY_PROPOSED, context__message="Please leave out the officers' names."
    )
    sides = {match.need.created_by.pk, match.offer.created_by.pk}
    assert set(told.values_list("recipient", flat=True)) == sides
    client.force_login(match.need.created_by)
    page = client.get(reverse("match_detail", args=[match.pk])).content.decode()
    assert "leave out the officers" in page  # the sides read why
    # Both consent again: back in the queue, not public until approved again.
    services.case_study_consent(user=match.need.created_by, match=match)
    study = services.case_study_consent(user=match.offer.created_by, match=match)
    assert study.published_at is None and TITLE.encode() not in public(client)


def test_the_secretariat_approves_from_its_queue_and_the_match_page(client, secretariat):
    match = completed()
    consented(match)
    client.force_login(match.need.created_by)
    side_page = client.get(reverse("match_detail", args=[match.pk])).content.decode()
    assert reverse("match_act", args=[match.pk, "approve_story"]) not in side_page
    assert client.post(reverse("match_act", args=[match.pk, "approve_story"])).status_code == 403

    client.force_login(secretariat)
    queue = client.get(reverse("match_queue")).content.decode()
    assert TITLE in queue and reverse("match_detail", args=[match.pk]) in queue
    page = client.get(reverse("match_detail", args=[match.pk])).content.decode()
    assert reverse("match_act", args=[match.pk, "approve_story"]) in page
    assert reverse("match_act", args=[match.pk, "send_back_story"]) in page
    response = client.post(reverse("match_act", args=[match.pk, "approve_story"]), follow=True)
    assert response.status_code == 200
    assert CaseStudy.objects.get().published_at is not None
    assert TITLE.encode() in public(client)
    assert TITLE not in client.get(reverse("match_queue")).content.decode()


def test_a_side_withdraws_its_consent_from_the_match_page_and_the_story_leaves_the_public_list(
    client, secretariat
):
    match = completed()
    consented(match)
    services.case_study_approve(user=secretariat, match=match)
    assert TITLE.encode() in public(client)
    withdraw = reverse("match_act", args=[match.pk, "withdraw_consent"])

    client.force_login(UserFactory())  # a stranger cannot even see the match
    assert client.post(withdraw).status_code == 404
    client.force_login(match.offer.created_by)
    assert withdraw in client.get(reverse("match_detail", args=[match.pk])).content.decode()
    response = client.post(withdraw, follow=True)
    assert response.status_code == 200
    study = CaseStudy.objects.get()
    assert study.offer_consent_at is None and study.published_at is None and study.need_consent_at
    assert TITLE.encode() not in public(client)
    assert withdraw not in response.content.decode()  # nothing left to withdraw
    with pytest.raises(ValidationError):
        services.case_study_withdraw_consent(user=match.offer.created_by, match=match)


# --- 14. One notification per version of the story -------------------------------------------------------


def test_saving_a_story_again_tells_the_other_side_once_per_version():
    match = completed()
    writer = match.need.created_by

    def save(text: str):
        services.case_study_save(user=writer, match=match, title=TITLE, story=text, language="en")

    def proposed() -> int:
        return Notification.objects.filter(kind=match_kinds.STORY_PROPOSED).count()

    for _ in range(3):
        save("Thirty officers.")
    assert proposed() == 1
    assert set(Notification.objects.values_list("recipient", flat=True)) == {match.offer.created_by.pk}
    save("Thirty-two officers.")  # a new text: told once
    save("Thirty-two officers.")
    assert proposed() == 2


def test_saving_the_same_text_again_keeps_the_other_sides_consent(secretariat):
    match = completed()
    consented(match)
    study = services.case_study_save(
        user=match.need.created_by, match=match, title=TITLE, story="Thirty officers.", language="en"
    )
    assert study.need_consent_at and study.offer_consent_at
    services.case_study_approve(user=secretariat, match=match)
    study = services.case_study_save(
        user=match.offer.created_by, match=match, title=TITLE, story="Thirty officers.", language="en"
    )
    assert study.published_at is not None  # nothing changed: still public
    study = services.case_study_save(
        user=match.offer.created_by, match=match, title=TITLE, story="Edited.", language="en"
    )
    assert study.published_at is None and study.need_consent_at is None  # a change needs consent again
