"""The partner registry in the admin (register, "Harvest now", the log) and harvested postings' read-only
rule: nobody here answers for them, whatever their roles."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from marketplace import permissions
from marketplace import services as marketplace_services
from marketplace.models import Need, OrganizationMembership, PostingStatus
from network import harvest, services
from network.models import HarvestedPosting, HarvestLogEntry, Partner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

JSONLD_NS = "https://chm-matchmaker.org/ns/oai/schema-org/"


def belgian_partner(secretariat) -> Partner:
    return services.partner_save(
        user=secretariat,
        data={
            "name": "Belgian CHM",
            "base_url": "https://chm.partner.example.org/oai/",
            "contact_email": "chm@partner.example.org",
        },
    )


def harvested_need(partner: Partner) -> Need:
    """Store one record as a harvest would (the record read from an answer, no server needed)."""
    from lxml import etree

    from tests.integration.test_network_hostile import document

    host = "chm.partner.example.org"
    element = etree.Element(f"{{{JSONLD_NS}}}jsonld")
    element.text = json.dumps(document(host, 7))
    record = harvest.Record(
        identifier=f"oai:{host}:need:7",
        datestamp=harvest._datetime("2026-11-30T10:00:00Z"),
        deleted=False,
        metadata=element,
        size=100,
    )
    outcome = services.store_record(partner, record)
    assert outcome.level == "stored", outcome.message
    return HarvestedPosting.objects.get(partner=partner).need


def test_the_secretariat_registers_a_partner_and_harvests_it_from_the_admin(
    client, secretariat, django_capture_on_commit_callbacks
):
    secretariat.is_staff = True
    secretariat.save()
    client.force_login(secretariat)
    response = client.post(
        reverse("admin:network_partner_add"),
        {
            "name": "Belgian CHM",
            "base_url": "https://chm.partner.example.org/oai/",
            "serves": "Belgium",
            "contact_email": "chm@partner.example.org",
            "harvest_needs": "on",
            "harvest_offers": "on",
            "is_active": "on",
            "log-TOTAL_FORMS": "0",
            "log-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    partner = Partner.objects.get(name="Belgian CHM")
    assert partner.organization.website == "https://chm.partner.example.org/oai/"
    assert not partner.organization.memberships.exists()
    HarvestLogEntry.objects.create(
        partner=partner,
        run="00000000-0000-0000-0000-000000000001",
        level="error",
        message="Malformed XML: line 1",
    )
    page = client.get(reverse("admin:network_partner_change", args=[partner.pk])).content.decode()
    assert "Malformed XML: line 1" in page
    # "Harvest now" runs the task (eagerly in the tests): the partner is unreachable, the log says so
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:network_partner_changelist"),
            {"action": "harvest_now", "_selected_action": [partner.pk]},
        )
    assert response.status_code == 302
    assert HarvestLogEntry.objects.filter(partner=partner, level="error").count() == 2


def test_only_the_secretariat_registers_partners_and_https_is_required(secretariat):
    data = {"name": "P", "base_url": "https://p.example.org/oai/", "contact_email": "p@example.org"}
    with pytest.raises(PermissionDenied):
        services.partner_save(user=UserFactory(), data=data)
    with pytest.raises(Exception, match="https"):
        services.partner_save(user=secretariat, data={**data, "base_url": "http://p.example.org/oai/"})


def test_a_harvested_posting_is_read_only_here(client, secretariat):
    partner = belgian_partner(secretariat)
    need = harvested_need(partner)
    assert need.status == PostingStatus.PUBLISHED
    # even someone made a member of the partner's organization (in the admin) does not answer for it
    member = UserFactory()
    OrganizationMembership.objects.create(organization=partner.organization, user=member, is_admin=True)
    assert not permissions.is_posting_owner(member, need)
    with pytest.raises(PermissionDenied):
        marketplace_services.posting_update(user=member, posting=need, data={"title": "Mine now"})
    client.force_login(member)
    assert client.get(reverse("posting_edit", args=["need", need.pk])).status_code == 404
    page = client.get(reverse("posting_detail", args=["need", need.pk])).content.decode()
    assert "From Belgian CHM" in page and "http://chm.partner.example.org/needs/7/" in page
    assert reverse("posting_edit", args=["need", need.pk]) not in page
    assert "Express interest on Belgian CHM" in page
    listing = client.get(reverse("posting_list", args=["need"])).content.decode()
    assert "From Belgian CHM" in listing


def test_interest_in_a_harvested_posting_is_expressed_on_the_partner_s_site(secretariat):
    """The page links to the original; the service refuses a hand-made request nobody here could answer."""
    from matching import services as matching_services
    from matching.models import Match
    from tests.factories import OfferFactory, OrganizationFactory, member

    partner = belgian_partner(secretariat)
    need = harvested_need(partner)
    organization = OrganizationFactory()
    person = member(organization, admin=True)
    offer = OfferFactory(organization=organization)
    with pytest.raises(PermissionDenied, match="partner's site"):
        matching_services.match_express_interest(user=person, own=offer, other_posting=need)
    assert not Match.objects.filter(need=need).exists()


def test_the_secretariat_forwards_a_local_harvested_suggestion_to_the_partner_once(
    client, secretariat, django_capture_on_commit_callbacks
):
    from django.core import mail

    from tests.factories import MatchFactory, OfferFactory, OrganizationFactory, member

    partner = belgian_partner(secretariat)
    need = harvested_need(partner)
    organization = OrganizationFactory()
    offer = OfferFactory(
        organization=organization, created_by=member(organization), contact_email="local-secret@example.org"
    )
    match = MatchFactory(need=need, offer=offer)
    with pytest.raises(PermissionDenied):
        services.match_forward(user=UserFactory(), match=match)

    secretariat.is_staff = True
    secretariat.save()
    client.force_login(secretariat)
    origin = HarvestedPosting.objects.get(need=need)
    for _time in range(2):  # twice: forwarded once
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("admin:network_harvestedposting_changelist"),
                {"action": "forward_matches", "_selected_action": [origin.pk]},
            )
    sent = [message for message in mail.outbox if "chm@partner.example.org" in message.to]
    assert len(sent) == 1
    assert offer.title in sent[0].body and "http://chm.partner.example.org/needs/7/" in sent[0].body
    assert "local-secret@example.org" not in sent[0].body


def test_the_beat_task_queues_a_harvest_of_each_active_partner(secretariat):
    from network import tasks

    for n, active in ((1, True), (2, True), (3, False)):
        services.partner_save(
            user=secretariat,
            data={
                "name": f"P{n}",
                "base_url": f"https://p{n}.invalid/oai/",
                "contact_email": f"p{n}@example.org",
                "is_active": active,
            },
        )
    assert tasks.harvest_partners() == 2  # run eagerly here: each unreachable partner logs one error
    assert sorted(HarvestLogEntry.objects.values_list("partner__name", "level")) == [
        ("P1", "error"),
        ("P2", "error"),
    ]
