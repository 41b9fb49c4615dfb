"""The pages of the lifecycle and of the workbench: who may open them, and forms that reach the services
(bad input gives a message, never a 500, and changes nothing)."""

import html

import pytest
from django.urls import reverse

from core.models import AuditEntry
from matching.models import Match, MatchOutcome, MatchStatus
from matching.selectors import YOUR_MOVE, match_standing
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

WORKBENCH = ["match_queue", "match_create", "audit_log", "mentoring_admin", "validation_queue"]


@pytest.mark.parametrize("page", WORKBENCH)
def test_workbench_pages_are_for_the_secretariat_only(client, page):
    url = reverse(page)
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(SecretariatFactory())
    assert client.get(url).status_code == 200


def test_queue_filters_and_bulk_introduction(client, secretariat):
    chad = MatchFactory(score=0.9)  # a need from Chad (African States)
    fiji = MatchFactory(score=0.8, need=NeedFactory(party=party("FJ")))
    client.force_login(secretariat)
    page = client.get(reverse("match_queue"), {"region": "african"})
    assert [row["match"] for row in page.context["rows"]] == [chad]
    everything = client.get(reverse("match_queue"))
    assert [row["match"] for row in everything.context["rows"]] == [chad, fiji]  # best first
    assert client.get(reverse("match_queue"), {"min_days": "abc"}).status_code == 200  # bad filter: ignored

    response = client.post(
        reverse("match_queue_bulk"), {"action": "introduce", "match": [chad.pk, fiji.pk]}, follow=True
    )
    assert b"2 done, 0 skipped" in response.content
    assert set(Match.objects.values_list("status", flat=True)) == {MatchStatus.INTRODUCED}
    assert AuditEntry.objects.filter(action="match_introduce").count() == 2


def test_bad_bulk_or_action_input_changes_nothing(client, secretariat):
    match = MatchFactory(status=MatchStatus.INTRODUCED)
    client.force_login(secretariat)
    response = client.post(
        reverse("match_queue_bulk"), {"action": "explode", "match": [match.pk]}, follow=True
    )
    assert response.status_code == 200 and b"Tick at least one match" in response.content
    client.force_login(match.offer.created_by)
    response = client.post(
        reverse("match_act", args=[match.pk, "decline"]), {"reason": "nonsense", "message": "x"}, follow=True
    )
    assert response.status_code == 200 and b"Reason" in response.content
    assert client.post(reverse("match_act", args=[match.pk, "explode"])).status_code == 404
    match.refresh_from_db()
    assert match.status == MatchStatus.INTRODUCED and not Notification.objects.exists()


def test_both_sides_accept_through_the_pages_and_see_contacts(client):
    match = MatchFactory(status=MatchStatus.INTRODUCED)
    client.force_login(match.need.created_by)
    assert (
        match.offer.contact_email.encode() not in client.get(reverse("match_detail", args=[match.pk])).content
    )
    client.post(reverse("match_act", args=[match.pk, "accept"]), {"message": "Prêts !"})
    client.force_login(match.offer.created_by)
    page = client.get(reverse("match_detail", args=[match.pk])).content.decode()
    assert "Prêts !" in page
    client.post(reverse("match_act", args=[match.pk, "accept"]), {"message": ""})
    match.refresh_from_db()
    assert match.status == MatchStatus.CONNECTED
    client.force_login(match.need.created_by)
    assert match.offer.contact_email.encode() in client.get(reverse("match_detail", args=[match.pk])).content
    mine = client.get(reverse("my_matches")).context
    assert [row.match for row in mine["active"]] == [match]


def test_expressing_interest_from_a_posting_page(client):
    need = NeedFactory(created_by=focal_point("TD"))
    expert_user = member(organization := OrganizationFactory())
    offer = OfferFactory(organization=organization, created_by=expert_user)
    client.force_login(expert_user)
    page = client.get(reverse("posting_detail", args=["need", need.pk]))
    assert page.context["interest_form"] is not None
    response = client.post(
        reverse("express_interest", args=["need", need.pk]), {"own": offer.pk, "message": "We can help."}
    )
    match = Match.objects.get(need=need, offer=offer)
    assert response.url == reverse("match_detail", args=[match.pk]) and match.status == MatchStatus.REQUESTED
    # someone else's posting cannot be used to express interest
    other_offer = OfferFactory()
    need2 = NeedFactory(created_by=focal_point("TD"))
    client.post(reverse("express_interest", args=["need", need2.pk]), {"own": other_offer.pk})
    assert not Match.objects.filter(need=need2).exists()


def test_manual_match_page_introduces_the_pair(client, secretariat):
    need, offer = NeedFactory(created_by=focal_point("TD")), OfferFactory()
    client.force_login(secretariat)
    response = client.post(reverse("match_create"), {"need": need.pk, "offer": offer.pk})
    match = Match.objects.get(need=need, offer=offer)
    assert response.url == reverse("match_detail", args=[match.pk]) and match.status == MatchStatus.INTRODUCED
    again = client.post(reverse("match_create"), {"need": need.pk, "offer": offer.pk})
    assert again.status_code == 200 and b"already matched" in again.content


@pytest.mark.parametrize(("language", "confirmation"), [("es", "Se ha registrado su respuesta."), ("en", "")])
def test_the_confirmation_of_an_answer_is_in_the_readers_language(client, language, confirmation):
    match = MatchFactory(status=MatchStatus.INTRODUCED)
    client.force_login(match.need.created_by)
    page = client.post(
        reverse("match_act", args=[match.pk, "accept"]),
        {"message": ""},
        HTTP_ACCEPT_LANGUAGE=language,
        follow=True,
    ).content.decode()
    assert (confirmation or "Your answer is recorded.") in page


@pytest.mark.parametrize(("score", "words"), [(0.9, "Strong fit"), (0.6, "Good fit"), (0.35, "Possible fit")])
def test_a_match_reads_as_a_fit_in_words_and_only_the_secretariat_sees_the_number(client, score, words):
    match = MatchFactory(status=MatchStatus.INTRODUCED, score=score)
    number = f"{score:.2f}"
    client.force_login(match.need.created_by)
    page = client.get(reverse("match_detail", args=[match.pk])).content.decode()
    assert words in page and number not in page
    client.force_login(SecretariatFactory())
    page = client.get(reverse("match_detail", args=[match.pk])).content.decode()
    assert words in page and number in page


@pytest.mark.parametrize(
    ("action", "form"), [("decline", {"reason": "not_relevant"}), ("close", {"reason": "other"})]
)
def test_a_decline_or_a_close_asks_for_confirmation_and_nothing_changes_without_it(client, action, form):
    match = MatchFactory(status=MatchStatus.INTRODUCED)
    client.force_login(match.need.created_by if action == "decline" else SecretariatFactory())
    url = reverse("match_act", args=[match.pk, action])
    page = client.post(url, form, follow=True).content.decode()
    assert "cannot be undone" in page  # the unticked box, named in the error
    match.refresh_from_db()
    assert match.status == MatchStatus.INTRODUCED and not Notification.objects.exists()
    client.post(url, {**form, "confirm": "on"})
    match.refresh_from_db()
    assert match.status != MatchStatus.INTRODUCED


def test_my_matches_puts_what_waits_for_the_reader_first_and_the_strongest_first(client):
    reader = focal_point("TD")
    need = NeedFactory(created_by=reader)

    def match(score, status=MatchStatus.INTRODUCED, **answers):
        return MatchFactory(need=need, score=score, status=status, **answers)

    weak, strong = match(0.4), match(0.9)
    answered = match(0.95, need_response="accepted")  # the reader accepted: the other side's move
    connected = match(0.5, status=MatchStatus.CONNECTED, need_response="accepted", offer_response="accepted")
    declined = match(0.99, status=MatchStatus.DECLINED, offer_response="declined")
    client.force_login(reader)
    response = client.get(reverse("my_matches"))
    context = response.context

    def ids(key):
        return [row.match for row in context[key]]

    assert ids("for_you") == [strong, weak]
    assert ids("for_them") == [answered]
    assert ids("active") == [connected]
    assert ids("ended") == [declined]
    page = html.unescape(response.content.decode())
    for words in (
        "Waiting for your answer",
        "Waiting for the other side's answer",
        "Both accepted: in touch",
    ):
        assert words in page
    assert "The other side declined" in page
    # in Spanish too
    page = client.get(reverse("my_matches"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Esperando su respuesta" in page


@pytest.mark.parametrize(
    ("status", "answers", "sides", "key"),
    [
        (MatchStatus.INTRODUCED, {}, {"need"}, "your_answer"),
        (MatchStatus.REQUESTED, {"offer_response": "accepted"}, {"need"}, "your_answer"),
        (MatchStatus.REQUESTED, {"offer_response": "accepted"}, {"offer"}, "their_answer"),
        (MatchStatus.INTRODUCED, {}, set(), "both_answers"),
        (MatchStatus.INTRODUCED, {"need_response": "accepted"}, set(), "one_answer"),
        (MatchStatus.SUGGESTED, {}, set(), "secretariat"),
        (
            MatchStatus.CONNECTED,
            {"need_response": "accepted", "offer_response": "accepted"},
            {"offer"},
            "connected",
        ),
        (MatchStatus.DECLINED, {"need_response": "declined"}, {"need"}, "you_declined"),
        (MatchStatus.DECLINED, {"need_response": "declined"}, {"offer"}, "they_declined"),
        (MatchStatus.DECLINED, {"need_response": "declined"}, set(), "declined"),
        (MatchStatus.CLOSED, {}, {"need"}, "closed"),
    ],
)
def test_where_a_match_stands_depends_on_its_state_and_the_readers_side(status, answers, sides, key):
    match = MatchFactory(status=status, **answers)
    assert match_standing(match, sides).key == key


def test_a_completed_match_waits_for_the_report_of_the_side_that_has_not_reported(client):
    match = MatchFactory(status=MatchStatus.COMPLETED, need_response="accepted", offer_response="accepted")
    MatchOutcome.objects.create(match=match, side="need", outcome="achieved", rating=5)
    assert match_standing(match, {"need"}).key == "completed"
    standing = match_standing(match, {"offer"})
    assert standing.key == "your_report" and standing.group == YOUR_MOVE


def test_the_match_page_sums_up_both_postings_and_each_sides_answer(client):
    match = MatchFactory(
        status=MatchStatus.REQUESTED,
        offer_response="accepted",
        offer_message="We can start in June.",
        need=NeedFactory(
            created_by=focal_point("TD"),
            title="Inventaire des poissons du lac Tchad",
            description="Nous cherchons un appui pour inventorier les poissons du lac. " * 20,
            language="fr",
            regions=["african"],
        ),
    )
    client.force_login(match.need.created_by)
    page = html.unescape(client.get(reverse("match_detail", args=[match.pk])).content.decode())
    for text in (
        "Inventaire des poissons du lac Tchad",
        match.offer.title,
        "Chad",  # the need's Party
        match.offer.organization.name,  # who offers
        "Expertise or advice",  # the offer's kind
        "Nous cherchons un appui pour inventorier",  # the summary…
        "African States",
        "Waiting for your answer",
        "Your answer:",
        "Their answer:",
        "We can start in June.",
    ):
        assert text in page, text
    assert page.count("Nous cherchons un appui") < 20  # …its first lines, not the whole description
    assert match.offer.contact_email not in page and match.need.contact_email not in page
