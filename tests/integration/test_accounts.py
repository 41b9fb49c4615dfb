"""Sign-up with mandatory e-mail verification, e-mail as login, rate-limited login (django-allauth)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from marketplace.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sign_up_requires_verifying_the_email_before_signing_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "focal@example.org",
            "password1": "A-long pass phrase 42",
            "password2": "A-long pass phrase 42",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="focal@example.org").exists()
    assert not _logged_in(client)
    assert mail.outbox and mail.outbox[0].to == ["focal@example.org"]

    client.post(reverse("account_login"), {"login": "focal@example.org", "password": "A-long pass phrase 42"})
    assert not _logged_in(client)

    confirm_url = re.search(r"http://testserver(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    client.post(confirm_url)
    assert _logged_in(client)


def test_a_verified_user_signs_in_with_email_and_password(client):
    UserFactory(email="expert@example.org")
    response = client.post(reverse("account_login"), {"login": "expert@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert _logged_in(client)


def test_repeated_failed_logins_are_rate_limited_even_with_the_right_password_afterwards(client):
    UserFactory(email="target@example.org")
    for _attempt in range(5):
        client.post(reverse("account_login"), {"login": "target@example.org", "password": "wrong"})

    response = client.post(reverse("account_login"), {"login": "target@example.org", "password": PASSWORD})

    assert not _logged_in(client)
    assert response.status_code in (200, 429)
    assert b"Too many failed login attempts" in response.content or response.status_code == 429
