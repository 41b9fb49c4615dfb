"""Roles and credentials in the Django admin: only superusers grant roles or change passwords and log-in
addresses; every role granted or removed through the admin leaves an audit row."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core.models import AuditEntry
from marketplace.models import FocalPointAssignment, OrganizationMembership, User
from tests.factories import OrganizationFactory, SecretariatFactory, UserFactory, member, party

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def secretariat_staff():
    return SecretariatFactory(is_staff=True)


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def _posted(response, **changes) -> dict:
    """The admin form of `response` as a browser posts it, with `changes` applied (False unticks a box)."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            if field.field.disabled:
                continue
            value = field.value()
            data[field.html_name] = "on" if value is True else ("" if value is None else value)
    data.update(changes)
    return {name: value for name, value in data.items() if value is not False}


def _user_change(client, user: User, **changes):
    url = reverse("admin:marketplace_user_change", args=[user.pk])
    return client.post(url, _posted(client.get(url), **changes))


def _role_entries(target) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(target_type=target._meta.model_name, target_id=target.pk))


# --- Secretariat staff (not superusers) ---------------------------------------------------------------


@pytest.mark.parametrize("whose", ["another user", "their own"])
def test_secretariat_staff_cannot_grant_roles(client, secretariat_staff, whose):
    # Given a secretariat member with admin access, and a user
    target = UserFactory() if whose == "another user" else secretariat_staff
    group = Group.objects.create(name="Curators")
    client.force_login(secretariat_staff)

    # When they post the user's change form with every role ticked
    response = _user_change(
        client, target, is_superuser="on", is_staff="on", is_secretariat="on", groups=[group.pk]
    )

    # Then the form is saved but no role is granted
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.is_superuser
    assert target.is_staff == (whose == "their own")
    assert target.is_secretariat == (whose == "their own")
    assert not target.groups.exists()


def test_secretariat_staff_cannot_remove_roles(client, secretariat_staff):
    target = SecretariatFactory(is_staff=True)
    client.force_login(secretariat_staff)

    _user_change(client, target, is_staff=False, is_secretariat=False)

    target.refresh_from_db()
    assert target.is_staff and target.is_secretariat


def test_secretariat_staff_cannot_change_a_users_email(client, secretariat_staff):
    target = UserFactory(email="owner@example.org")
    client.force_login(secretariat_staff)

    _user_change(client, target, email="attacker@example.org", name="Renamed")

    target.refresh_from_db()
    assert target.email == "owner@example.org"
    assert target.name == "Renamed"  # the rest of the form still works


def test_secretariat_staff_cannot_change_a_password(client, secretariat_staff):
    target = UserFactory()
    client.force_login(secretariat_staff)
    url = reverse("admin:auth_user_password_change", args=[target.pk])

    assert client.get(url).status_code == 403
    response = client.post(url, {"password1": "a new long passphrase", "password2": "a new long passphrase"})

    assert response.status_code == 403
    target.refresh_from_db()
    assert target.check_password(PASSWORD)


def test_the_change_form_offers_secretariat_staff_no_role_or_password_field(client, secretariat_staff):
    target = UserFactory()
    client.force_login(secretariat_staff)

    response = client.get(reverse("admin:marketplace_user_change", args=[target.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'href="../password/"' not in content
    assert reverse("admin:auth_user_password_change", args=[target.pk]) not in content
    for field in ("email", "is_superuser", "is_staff", "is_secretariat", "groups"):
        assert f'name="{field}"' not in content, field
    assert 'name="name"' in content


def test_secretariat_staff_cannot_change_or_delete_a_superuser(client, secretariat_staff, superuser):
    client.force_login(secretariat_staff)
    page = client.get(reverse("admin:marketplace_user_change", args=[superuser.pk]))
    assert page.status_code == 200 and 'href="../password/"' not in page.content.decode()  # view only

    _user_change(client, superuser, is_active=False)
    response = client.post(reverse("admin:marketplace_user_delete", args=[superuser.pk]), {"post": "yes"})

    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_active


def test_secretariat_staff_still_create_accounts_without_roles(client, secretariat_staff):
    client.force_login(secretariat_staff)

    client.post(
        reverse("admin:marketplace_user_add"),
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD, "is_superuser": "on"},
    )

    created = User.objects.get(email="new@example.org")
    assert not (created.is_superuser or created.is_staff or created.is_secretariat)
    assert AuditEntry.objects.count() == 0


# --- Superusers ---------------------------------------------------------------------------------------


def test_superuser_grants_the_secretariat_role_and_it_is_audited(client, superuser):
    # Given a superuser and a user without roles
    target = UserFactory()
    group = Group.objects.create(name="Curators")
    client.force_login(superuser)

    # When the superuser grants the secretariat role and a group
    response = _user_change(client, target, is_secretariat="on", groups=[group.pk])

    # Then the role is granted and one audit row records it, before and after
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_secretariat
    [entry] = _role_entries(target)
    assert entry.actor == superuser
    assert entry.action == "user_roles_change"
    assert entry.before["is_secretariat"] is False and entry.after["is_secretariat"] is True
    assert entry.before["groups"] == [] and entry.after["groups"] == ["Curators"]


def test_superuser_removes_a_role_and_it_is_audited(client, superuser):
    target = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)

    _user_change(client, target, is_superuser=False)

    target.refresh_from_db()
    assert not target.is_superuser
    [entry] = _role_entries(target)
    assert entry.before["is_superuser"] is True and entry.after["is_superuser"] is False


def test_a_change_without_role_change_is_not_audited(client, superuser):
    target = UserFactory()
    client.force_login(superuser)

    _user_change(client, target, name="Renamed", email="new@example.org")

    target.refresh_from_db()
    assert (target.name, target.email) == ("Renamed", "new@example.org")
    assert _role_entries(target) == []


def test_superuser_changes_a_password(client, superuser):
    target = UserFactory()
    client.force_login(superuser)
    url = reverse("admin:auth_user_password_change", args=[target.pk])

    assert client.get(url).status_code == 200
    client.post(url, {"password1": "a new long passphrase", "password2": "a new long passphrase"})

    target.refresh_from_db()
    assert target.check_password("a new long passphrase")


# --- Focal points and organization admins --------------------------------------------------------------


def test_focal_points_granted_and_revoked_in_the_admin_are_audited(client, secretariat_staff):
    # Given a secretariat member with admin access
    user = UserFactory()
    client.force_login(secretariat_staff)

    # When they grant the focal-point role for a Party
    client.post(
        reverse("admin:marketplace_focalpointassignment_add"),
        {"user": user.pk, "party": party("TD").pk},
    )

    # Then the assignment names who granted it and an audit row records it
    assignment = FocalPointAssignment.objects.get(user=user)
    assert assignment.granted_by == secretariat_staff
    [granted] = _role_entries(assignment)
    assert (granted.actor, granted.action) == (secretariat_staff, "focal_point_grant")
    assert granted.before == {} and granted.after == {"user": user.pk, "party": party("TD").pk}

    # When they revoke it
    client.post(
        reverse("admin:marketplace_focalpointassignment_delete", args=[assignment.pk]),
        {"post": "yes"},
    )

    # Then it is gone and an audit row records that too
    assert not FocalPointAssignment.objects.filter(user=user).exists()
    revoked = AuditEntry.objects.get(action="focal_point_revoke", target_id=assignment.pk)
    assert revoked.before == {"user": user.pk, "party": party("TD").pk} and revoked.after == {}


def test_focal_points_deleted_in_bulk_are_audited(client, secretariat_staff):
    assignments = [
        FocalPointAssignment.objects.create(user=UserFactory(), party=party(code)) for code in ("TD", "FR")
    ]
    client.force_login(secretariat_staff)

    client.post(
        reverse("admin:marketplace_focalpointassignment_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [a.pk for a in assignments],
            "post": "yes",
        },
    )

    assert not FocalPointAssignment.objects.exists()
    assert AuditEntry.objects.filter(action="focal_point_revoke").count() == 2


def test_organization_admin_role_changed_in_the_admin_is_audited(client, secretariat_staff):
    # Given an organization with a member who is not its admin
    organization = OrganizationFactory()
    user = member(organization)
    client.force_login(secretariat_staff)
    url = reverse("admin:marketplace_organization_change", args=[organization.pk])
    response = client.get(url)
    prefix = response.context["inline_admin_formsets"][0].formset.forms[0].prefix

    # When the secretariat makes the member an admin of the organization
    client.post(url, _posted(response, **{f"{prefix}-is_admin": "on"}))

    # Then the membership says so and an audit row records it
    assert OrganizationMembership.objects.get(user=user).is_admin
    [entry] = _role_entries(organization)
    assert (entry.actor, entry.action) == (secretariat_staff, "organization_admins_change")
    assert entry.before == {"admins": []} and entry.after == {"admins": [user.pk]}

    # When the membership is deleted through the inline
    response = client.get(url)
    client.post(url, _posted(response, **{f"{prefix}-DELETE": "on"}))

    # Then the removal of the role is audited too
    assert not OrganizationMembership.objects.filter(user=user).exists()
    assert [e.after for e in _role_entries(organization)] == [{"admins": []}, {"admins": [user.pk]}]
