"""A full journey with e-mail going through a real SMTP server (aiosmtpd): a French need and an English
offer are published, the matcher introduces them, both sides accept and receive each other's contacts.
Every e-mail arrives once, in its recipient's language."""

from email.header import decode_header, make_header

import pytest
from django.utils import translation

from marketplace import services as marketplace_services
from marketplace.models import PostingStatus
from matching import notification_kinds as match_kinds
from matching import services
from matching.models import Match, MatchStatus
from notifications import kinds
from tests.factories import NeedFactory, OfferFactory, OrganizationFactory, focal_point, member

pytestmark = pytest.mark.django_db(transaction=False)


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body(message) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def test_full_journey_reaches_both_sides_once_in_their_language(
    smtp_sink, secretariat, settings, django_capture_on_commit_callbacks
):
    settings.MATCHING_AUTO_INTRODUCE_SCORE = settings.MATCHING_MIN_SCORE  # introduce what the engine keeps
    chad = focal_point("TD", email="achta@chad.example.org", preferred_language="fr")
    icbbt = OrganizationFactory(name="Border Biosecurity Training Centre")
    trainer = member(icbbt, email="margaret@icbbt.example.org", preferred_language="en")
    need = NeedFactory(
        created_by=chad,
        status=PostingStatus.SUBMITTED,
        language="fr",
        title="Former les douaniers à détecter les espèces exotiques envahissantes",
        description="Le Tchad veut former ses douaniers à reconnaître insectes et plantes envahissants.",
        subjects=["invasive-alien-species"],
        support_types=["training"],
        contact_email="achta@chad.example.org",
    )
    offer = OfferFactory(
        created_by=trainer,
        organization=icbbt,
        status=PostingStatus.SUBMITTED,
        title="Border biosecurity course: detecting invasive alien species at ports",
        description="A two-week course for customs and plant-health inspectors on invasive pests.",
        kind="training",
        subjects=["invasive-alien-species"],
        support_types=["training"],
        delivery_languages=["en", "fr"],
        contact_email="courses@icbbt.example.org",
    )
    for posting in (need, offer):
        with django_capture_on_commit_callbacks(execute=True):
            marketplace_services.posting_approve(user=secretariat, posting=posting)
    match = Match.objects.get(need=need, offer=offer)
    assert match.status == MatchStatus.INTRODUCED
    with django_capture_on_commit_callbacks(execute=True):
        services.match_accept(user=chad, match=match, message="Avec plaisir.")
    with django_capture_on_commit_callbacks(execute=True):
        services.match_accept(user=trainer, match=match)

    by_recipient: dict[str, list] = {}
    for message in smtp_sink:
        by_recipient.setdefault(message["X-Envelope-To"], []).append(message)
    # published, introduced, connected for each side, and the trainer hears of Chad's acceptance
    assert sorted((to, len(messages)) for to, messages in by_recipient.items()) == [
        ("achta@chad.example.org", 3),
        ("margaret@icbbt.example.org", 4),
    ]
    assert len({message["Message-ID"] for message in smtp_sink}) == 7

    context = {"title": need.title, "other_title": offer.title, "other_poster": str(icbbt)}
    with translation.override("fr"):
        french_subject = str(kinds.get(match_kinds.MATCH_INTRODUCED).subject) % context
    assert (
        french_subject != str(kinds.get(match_kinds.MATCH_INTRODUCED).subject) % context
    )  # really translated
    assert french_subject in [subject(m) for m in by_recipient["achta@chad.example.org"]]

    connected_to_chad = by_recipient["achta@chad.example.org"][-1]
    connected_to_trainer = by_recipient["margaret@icbbt.example.org"][-1]
    assert "courses@icbbt.example.org" in body(connected_to_chad)
    assert "achta@chad.example.org" in body(connected_to_trainer)
    assert "courses@icbbt.example.org" not in body(by_recipient["achta@chad.example.org"][1])  # not before
    assert "Avec plaisir." in body(by_recipient["margaret@icbbt.example.org"][2])
    assert all(m["List-Unsubscribe"] for m in smtp_sink)
