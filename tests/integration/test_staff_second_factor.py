"""Two-factor sign-in for staff (allauth's MFA, an authenticator app): a staff account without a second
factor is sent to set one up and reaches neither the workbench nor the admin until it has; with one, every
sign-in asks for the code, and a wrong code signs nobody in. Other accounts may add one, and need not."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests.factories import SecretariatFactory, UserFactory, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
STAFF_PAGES = ["/secretariat/validation/", "/secretariat/matches/", "/admin/"]


def sign_in(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}, follow=True)


@pytest.mark.parametrize("page", STAFF_PAGES)
@pytest.mark.parametrize(
    "staff",
    [
        lambda: SecretariatFactory(second_factor=False),
        lambda: UserFactory(is_staff=True, is_superuser=True, second_factor=False),
    ],
    ids=["secretariat", "superuser"],
)
def test_a_staff_account_without_a_second_factor_is_sent_to_set_one_up(client, page, staff):
    client.force_login(staff())
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    assert "next=" in response["Location"]


def test_the_set_up_page_shows_the_secret_and_a_valid_code_turns_the_second_factor_on(client):
    staff = SecretariatFactory(second_factor=False)
    sign_in(client, staff)
    asked = client.get("/secretariat/validation/", follow=True)  # to the set-up, past the password again
    assert asked.redirect_chain[0][0].startswith(reverse("mfa_activate_totp"))
    assert asked.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    page = client.post(asked.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    assert page.redirect_chain[-1][0].startswith(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    assert client.post(reverse("mfa_activate_totp"), {"code": "000000"}).status_code == 200  # refused
    assert not Authenticator.objects.filter(user=staff).exists()
    client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    assert client.get("/secretariat/validation/").status_code == 200


def test_staff_sign_in_asks_for_the_code_and_a_wrong_code_signs_nobody_in(client):
    staff = SecretariatFactory()
    asked = sign_in(client, staff)
    assert asked.redirect_chain[-1][0] == reverse("mfa_authenticate")
    assert client.get("/secretariat/validation/").status_code == 302  # not signed in yet

    wrong = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    assert "_auth_user_id" not in client.session

    client.post(reverse("mfa_authenticate"), {"code": totp_code(staff.totp_secret)})
    assert client.session["_auth_user_id"] == str(staff.pk)
    assert client.get("/secretariat/validation/").status_code == 200


def test_other_accounts_sign_in_with_their_password_and_may_add_a_second_factor(client):
    person = UserFactory()
    signed_in = sign_in(client, person)
    assert client.session["_auth_user_id"] == str(person.pk)
    assert reverse("mfa_authenticate") not in [url for url, _status in signed_in.redirect_chain]
    assert client.get(reverse("mfa_index")).status_code == 200  # optional, offered


def test_a_staff_account_without_a_second_factor_reaches_no_api_call_and_gets_no_token(client):
    from django.core.exceptions import PermissionDenied

    from marketplace import services

    staff = SecretariatFactory(second_factor=False)
    client.force_login(staff)
    for path in ["/api/v1/queue/postings/", "/api/v1/needs/", "/api/v1/tokens/"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["errors"][0]["code"] == "second_factor_required"
    with pytest.raises(PermissionDenied):
        services.api_token_create(user=staff, name="script")
    assert client.get(reverse("api_tokens")).status_code == 200  # the page explains; creating is refused
    refused = client.post(reverse("api_tokens"), {"name": "script", "expires_in_days": 30})
    assert "chm_" not in refused.content.decode()

    # A token made before the rule (or before the factor was removed) opens nothing either.
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"})
    _token, secret = services.api_token_create(user=staff, name="script")
    Authenticator.objects.filter(user=staff).delete()
    client.logout()
    by_token = client.get("/api/v1/queue/postings/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert by_token.status_code == 403
    assert by_token.json()["errors"][0]["code"] == "second_factor_required"


def test_with_its_second_factor_a_staff_account_uses_the_api(client):
    from marketplace import services

    staff = SecretariatFactory()
    _token, secret = services.api_token_create(user=staff, name="script")
    assert client.get("/api/v1/queue/postings/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 200
