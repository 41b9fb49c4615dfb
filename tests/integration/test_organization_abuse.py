"""Organizations cannot be used to relay e-mail: new ones wait for the secretariat's approval before they
invite or post, each admin sends a limited number of invitations a day, and an open invitation is never
sent again."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEntry
from marketplace import permissions, services
from marketplace.models import Need, Offer, Organization, OrganizationInvitation
from mentoring import services as mentoring_services
from tests.factories import OrganizationFactory, UserFactory, member
from tests.integration.test_posting_services import need_data, offer_data

pytestmark = pytest.mark.django_db


def invite(admin, organization, email):
    """Invite as the pages do: the e-mail leaves once the transaction commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.organization_invite(user=admin, organization=organization, email=email)


def register(user, name="Herbier du Sahel"):
    return services.organization_create(user=user, data={"name": name, "type": "academia"})


def test_a_new_organization_can_neither_invite_nor_post_until_the_secretariat_approves_it():
    # Given an organization just registered by a verified user
    admin = UserFactory()
    organization = register(admin)

    # Then it waits for approval, and nothing its admin tries leaves a row or an e-mail
    with pytest.raises(PermissionDenied):
        invite(admin, organization, "target@example.org")
    with pytest.raises(PermissionDenied):
        services.need_create(user=admin, organization=organization, data=need_data())
    with pytest.raises(PermissionDenied):
        services.offer_create(user=admin, organization=organization, data=offer_data())
    with pytest.raises(PermissionDenied):
        mentoring_services.mentor_save(
            user=admin,
            organization=organization,
            data={"forms": ["advice"], "languages": ["en"], "capacity": 1, "description": "Advice."},
        )
    assert mail.outbox == []
    assert not OrganizationInvitation.objects.exists()
    assert not Need.objects.exists() and not Offer.objects.exists()
    assert not permissions.can_post_need(admin, organization=organization)
    assert not permissions.can_post_offer(admin, organization=organization)
    assert not permissions.is_approved_organization(organization)


def test_the_secretariat_approves_an_organization_the_decision_is_audited_and_it_may_then_invite_and_post(
    secretariat,
):
    admin = UserFactory()
    organization = register(admin)

    # A member cannot approve their own organization
    with pytest.raises(PermissionDenied):
        services.organization_approve(user=admin, organization=organization)
    assert not permissions.is_approved_organization(organization)

    services.organization_approve(user=secretariat, organization=organization, note="Known partner.")

    organization.refresh_from_db()
    assert organization.approved_by == secretariat and organization.approved_at is not None
    entry = AuditEntry.objects.get(action="organization_approve")
    assert entry.actor == secretariat and entry.target_id == organization.pk
    assert entry.before["approved_at"] is None and entry.after["approved_at"] is not None
    assert permissions.is_approved_organization(organization)
    invite(admin, organization, "colleague@example.org")
    assert [message.to for message in mail.outbox] == [["colleague@example.org"]]
    assert services.need_create(user=admin, organization=organization, data=need_data()).pk
    with pytest.raises(ValidationError):  # decided once
        services.organization_reject(user=secretariat, organization=organization)


def test_a_rejected_organization_stays_closed_and_the_rejection_is_audited(secretariat):
    admin = UserFactory()
    organization = register(admin)

    services.organization_reject(user=secretariat, organization=organization, note="Unknown organization.")

    organization.refresh_from_db()
    assert organization.rejected_at is not None and organization.approved_at is None
    assert AuditEntry.objects.filter(action="organization_reject", target_id=organization.pk).exists()
    with pytest.raises(PermissionDenied):
        invite(admin, organization, "target@example.org")
    with pytest.raises(ValidationError):
        services.organization_approve(user=secretariat, organization=organization)
    assert mail.outbox == []


def test_an_admin_sends_at_most_the_daily_number_of_invitations(settings):
    settings.ORGANIZATION_INVITATIONS_PER_DAY = 3
    first, second = OrganizationFactory(), OrganizationFactory()
    admin = member(first, admin=True)
    second.memberships.create(user=admin, is_admin=True)

    for number in range(3):
        invite(admin, first, f"person{number}@example.org")
    # The limit is the admin's, whatever the organization
    with pytest.raises(ValidationError) as error:
        invite(admin, second, "person3@example.org")
    assert "email" in error.value.message_dict
    assert len(mail.outbox) == 3
    assert OrganizationInvitation.objects.count() == 3

    # A day later, the admin may invite again
    OrganizationInvitation.objects.update(
        created_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=25)
    )
    invite(admin, second, "person3@example.org")
    assert len(mail.outbox) == 4


def test_an_open_invitation_is_never_sent_again():
    organization = OrganizationFactory()
    admin, other_admin = member(organization, admin=True), member(organization, admin=True)
    invite(admin, organization, "invitee@example.org")

    for who, address in ((admin, "invitee@example.org"), (other_admin, "INVITEE@example.org")):
        with pytest.raises(ValidationError) as error:
            invite(who, organization, address)
        assert "email" in error.value.message_dict
        assert "already invited" in " ".join(error.value.message_dict["email"])

    assert len(mail.outbox) == 1
    assert OrganizationInvitation.objects.count() == 1


def test_the_public_api_lists_approved_organizations_only():
    approved = OrganizationFactory(name="Approved Herbarium")
    pending = register(UserFactory(), name="Pending Herbarium")
    client = APIClient()

    names = [row["name"] for row in client.get("/api/v1/organizations/").json()["results"]]

    assert "Approved Herbarium" in names and "Pending Herbarium" not in names
    assert client.get(f"/api/v1/organizations/{approved.pk}/").status_code == 200
    assert client.get(f"/api/v1/organizations/{pending.pk}/").status_code == 404


def test_the_admin_sees_the_pending_state_and_the_secretariat_approves_from_the_validation_queue(
    client, secretariat
):
    admin = UserFactory()
    organization = register(admin)

    client.force_login(admin)
    page = client.get(reverse("organization_detail", args=[organization.pk])).content.decode()
    assert "waiting for the secretariat" in page and "Send invitation" not in page
    response = client.post(reverse("organization_detail", args=[organization.pk]), {"email": "x@example.org"})
    assert response.status_code == 403 and mail.outbox == []
    form = client.get(reverse("posting_create", args=["need"])).content.decode()
    assert f"org:{organization.pk}" not in form

    client.force_login(secretariat)
    queue = client.get(reverse("validation_queue")).content.decode()
    assert organization.name in queue and admin.email in queue
    client.post(reverse("organization_decide", args=[organization.pk]), {"decision": "approve"})

    assert Organization.objects.get(pk=organization.pk).approved_by == secretariat
    assert organization.name not in client.get(reverse("validation_queue")).content.decode()
    client.force_login(admin)
    page = client.get(reverse("organization_detail", args=[organization.pk])).content.decode()
    assert "Send invitation" in page
