"""Roles: focal points are granted by the secretariat; organization admins invite members."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from marketplace import permissions, services
from marketplace.models import (
    FocalPointAssignment,
    FocalPointRequest,
    OrganizationMembership,
    RoleRequestStatus,
)
from tests.factories import OrganizationFactory, UserFactory, member, party

pytestmark = pytest.mark.django_db


def test_a_focal_point_role_is_requested_then_granted_by_the_secretariat(secretariat):
    user = UserFactory()
    request = services.focal_point_request_create(
        user=user, party=party("SN"), justification="Nominated by decree."
    )
    assert not permissions.can_post_need(user, party=party("SN"))  # not self-declared

    services.focal_point_request_approve(user=secretariat, request=request)

    request.refresh_from_db()
    assert request.status == RoleRequestStatus.APPROVED and request.decided_by == secretariat
    assert permissions.can_post_need(user, party=party("SN"))


def test_only_the_secretariat_grants_roles_and_a_refusal_grants_nothing(secretariat):
    user = UserFactory()
    request = services.focal_point_request_create(user=user, party=party("SN"), justification="Please.")

    with pytest.raises(PermissionDenied):
        services.focal_point_request_approve(user=user, request=request)
    assert not FocalPointAssignment.objects.filter(user=user).exists()

    services.focal_point_request_reject(user=secretariat, request=request, note="Unknown to the ministry.")
    with pytest.raises(ValidationError):
        services.focal_point_request_approve(user=secretariat, request=request)
    assert not FocalPointAssignment.objects.filter(user=user).exists()


def test_a_request_needs_a_justification_and_is_not_duplicated():
    user = UserFactory()
    with pytest.raises(ValidationError) as error:
        services.focal_point_request_create(user=user, party=party("SN"), justification="   ")
    assert "justification" in error.value.message_dict
    services.focal_point_request_create(user=user, party=party("SN"), justification="Decree 12.")
    with pytest.raises(ValidationError):
        services.focal_point_request_create(user=user, party=party("SN"), justification="Again.")


def test_an_organization_admin_invites_and_the_invitee_joins():
    organization = OrganizationFactory()
    admin = member(organization, admin=True)
    invitee = UserFactory(email="new.member@example.org")

    with pytest.raises(PermissionDenied):
        services.organization_invite(
            user=member(organization), organization=organization, email="x@example.org"
        )

    with pytest.raises(ValidationError):
        services.organization_invite(user=admin, organization=organization, email="not-an-address")

    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        invitation = services.organization_invite(user=admin, organization=organization, email=invitee.email)
    assert mail.outbox[-1].to == [invitee.email]

    with pytest.raises(PermissionDenied):
        services.organization_invitation_accept(user=UserFactory(), invitation=invitation)
    services.organization_invitation_accept(user=invitee, invitation=invitation)

    assert permissions.is_member_of(invitee, organization)
    assert not permissions.is_organization_admin(invitee, organization)


def test_whoever_registers_an_organization_becomes_its_admin():
    user = UserFactory()
    organization = services.organization_create(
        user=user, data={"name": "Herbier du Sahel", "type": "academia"}
    )
    assert OrganizationMembership.objects.get(organization=organization).user == user
    assert permissions.is_organization_admin(user, organization)


def test_an_organization_with_an_unknown_type_is_refused_and_nothing_is_written():
    with pytest.raises(ValidationError) as error:
        services.organization_create(user=UserFactory(), data={"name": "X", "type": "cartel"})
    assert "type" in error.value.message_dict
    assert not OrganizationMembership.objects.exists()


def test_the_secretariat_decides_a_role_request_from_the_validation_queue(client, secretariat):
    asker = UserFactory()
    role_request = FocalPointRequest.objects.create(user=asker, party=party("TD"), justification="Appointed.")
    url = reverse("focal_point_decide", args=[role_request.pk])

    client.force_login(asker)
    assert client.post(url, {"decision": "approve"}).status_code == 403
    client.force_login(secretariat)
    response = client.post(url, {"decision": "approve", "note": "Welcome."})

    assert response.status_code == 302 and response["Location"] == reverse("validation_queue")
    assert FocalPointAssignment.objects.filter(user=asker, party__code="TD").exists()
    assert FocalPointRequest.objects.get(pk=role_request.pk).decision_note == "Welcome."
