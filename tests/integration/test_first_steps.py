"""A new person's first steps: confirming the e-mail address after sign-up lands on the welcome page, which
explains the roles and says where each one stands; the account pages speak the site's language."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from marketplace.models import FocalPointRequest, RoleRequestStatus
from tests.factories import OrganizationFactory, UserFactory, expert, focal_point, member, party

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def test_confirming_the_e_mail_address_after_sign_up_lands_on_the_welcome_page(client):
    client.post(
        reverse("account_signup"),
        {
            "name": "Achta Mahamat",
            "email": "achta@example.org",
            "password1": "A-long pass phrase 42",
            "password2": "A-long pass phrase 42",
        },
    )
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == reverse("welcome")
    page = client.get(response["Location"]).content.decode()
    assert "Welcome, Achta Mahamat" in page
    for path in ("/my/focal-point/", "/my/expert-profile/", "/organizations/new/", "/needs/", "/offers/"):
        assert f'href="{path}"' in page


def test_signing_in_later_goes_where_it_always_went(client):
    person = UserFactory()
    response = client.post(reverse("account_login"), {"login": person.email, "password": PASSWORD})
    assert response["Location"] == reverse("home")


def test_the_welcome_page_says_where_each_role_stands(client):
    chad = focal_point("TD", email="achta@chad.example.org")
    client.force_login(chad)
    page = client.get(reverse("welcome")).content.decode()
    assert "You are a national focal point for Chad." in page
    assert 'href="/my/focal-point/"' not in page  # nothing more to ask for
    assert 'href="/needs/new/"' in page

    newcomer = UserFactory()
    FocalPointRequest.objects.create(
        user=newcomer, party=party("NE"), justification="Ministry letter", status=RoleRequestStatus.PENDING
    )
    client.force_login(newcomer)
    page = client.get(reverse("welcome")).content.decode()
    assert "Your request for Niger is waiting for the secretariat." in page

    botanist = expert()
    client.force_login(botanist)
    page = client.get(reverse("welcome")).content.decode()
    assert "Your expert profile is ready." in page and 'href="/offers/new/"' in page


def test_an_organization_waiting_for_approval_is_named_on_the_welcome_page(client):
    founder = member(OrganizationFactory(name="Lake Chad Wetlands Trust", approved_at=None), admin=True)
    member(OrganizationFactory(name="Sahel Seed Centre"), email="other@example.org")
    client.force_login(founder)
    page = client.get(reverse("welcome")).content.decode()
    assert "Lake Chad Wetlands Trust is waiting for the secretariat's approval." in page
    assert "Sahel Seed Centre" not in page  # another person's


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Getting started"), ("fr", "Pour commencer"), ("es", "Primeros pasos")]
)
def test_a_visitor_reads_the_welcome_page_in_their_language(client, language, title):
    page = client.get(reverse("welcome"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{title}</h1>" in page
    assert 'href="/accounts/signup/"' in page


def test_the_sign_in_page_has_labels_above_the_fields_and_links_onwards(client):
    page = client.get(reverse("account_login")).content.decode()
    assert '<label for="id_login">E-mail address</label>' in page
    assert "placeholder" not in page  # the labels say it
    assert 'href="/accounts/password/reset/"' in page and 'href="/accounts/signup/"' in page

    failed = client.post(reverse("account_login"), {"login": "nobody@example.org", "password": "wrong"})
    text = failed.content.decode()
    assert text.index('class="error-summary"') < text.index('name="login"')  # at the top of the form


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("account_signup", "Create an account"),
        ("account_reset_password", "Reset your password"),
        ("account_reset_password_done", "Check your e-mail"),
        ("account_email_verification_sent", "Check your e-mail"),
    ],
)
def test_the_account_pages_have_the_sites_headings(client, url, heading):
    page = client.get(reverse(url)).content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert 'href="/static/frontend/account.css"' in page


def test_a_used_password_reset_link_says_how_to_get_a_new_one(client):
    page = client.get("/accounts/password/reset/key/1-set-password/", follow=True).content.decode()
    assert "This link no longer works" in page and 'href="/accounts/password/reset/"' in page


def test_signed_in_pages_for_the_account_render(client):
    person = UserFactory()
    client.force_login(person)
    for name, heading in [
        ("account_change_password", "Change your password"),
        ("account_email", "E-mail addresses"),
        ("mfa_index", "Two-factor sign-in"),
    ]:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert f"<h1>{heading}</h1>" in response.content.decode(), name
