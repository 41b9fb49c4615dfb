import pytest
from django.urls import reverse

from tests.factories import NeedFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_secretariat_staff_manage_the_data_in_the_admin(client, secretariat):
    secretariat.is_staff = True
    secretariat.save()
    need, organization = NeedFactory(), OrganizationFactory()
    client.force_login(secretariat)
    for url in (
        reverse("admin:index"),
        reverse("admin:marketplace_need_change", args=[need.pk]),
        reverse("admin:marketplace_organization_change", args=[organization.pk]),
        reverse("admin:marketplace_term_changelist"),
    ):
        assert client.get(url).status_code == 200, url


def test_other_users_do_not_reach_the_admin(client):
    client.force_login(UserFactory())
    assert client.get(reverse("admin:marketplace_need_changelist")).status_code == 302
