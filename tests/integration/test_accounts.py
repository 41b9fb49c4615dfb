"""Sign-up with mandatory e-mail verification, e-mail as login, rate-limited login (django-allauth)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from marketplace.models import User
from tests.factories import NeedFactory, UserFactory, expert

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sign_up_requires_verifying_the_email_before_signing_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "name": "Achta Mahamat",
            "email": "focal@example.org",
            "password1": "A-long pass phrase 42",
            "password2": "A-long pass phrase 42",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="focal@example.org").name == "Achta Mahamat"
    assert not _logged_in(client)
    assert mail.outbox and mail.outbox[0].to == ["focal@example.org"]

    client.post(reverse("account_login"), {"login": "focal@example.org", "password": "A-long pass phrase 42"})
    assert not _logged_in(client)

    confirm_url = re.search(r"http://testserver(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    client.post(confirm_url)
    assert _logged_in(client)


@pytest.mark.parametrize(("browser", "stored"), [("zh-CN,zh;q=0.9", "zh"), ("ar", "ar"), ("ru", "ru")])
def test_e_mails_are_in_the_language_the_person_signed_up_in(client, browser, stored):
    response = client.post(
        reverse("account_signup"),
        {
            "name": "Achta Mahamat",
            "email": "focal@example.org",
            "password1": "A-long pass phrase 42",
            "password2": "A-long pass phrase 42",
        },
        HTTP_ACCEPT_LANGUAGE=browser,
    )
    assert response.status_code == 302
    assert User.objects.get(email="focal@example.org").preferred_language == stored


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


SIGN_UP_NAME_LABELS = {"en": "Your name", "fr": "Votre nom", "es": "Su nombre"}
NAME_REQUIRED = {
    "en": "Give the name others will see",
    "fr": "Indiquez le nom que les autres verront",
    "es": "Indique el nombre que verán los demás",
}


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_sign_up_asks_for_the_name_in_the_readers_language_and_refuses_none(client, language):
    page = client.get(reverse("account_signup"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert re.search(rf'<label for="id_name">{SIGN_UP_NAME_LABELS[language]}', page)
    assert page.index('name="name"') < page.index('name="email"')  # asked first

    for name in ("", "   "):
        response = client.post(
            reverse("account_signup"),
            {
                "name": name,
                "email": "nameless@example.org",
                "password1": "A-long pass phrase 42",
                "password2": "A-long pass phrase 42",
            },
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 200
        assert NAME_REQUIRED[language] in response.content.decode()

    assert not User.objects.filter(email="nameless@example.org").exists()
    assert not mail.outbox


def test_a_name_that_is_an_email_address_is_refused_at_sign_up(client):
    response = client.post(
        reverse("account_signup"),
        {
            "name": "me@example.org",
            "email": "me@example.org",
            "password1": "A-long pass phrase 42",
            "password2": "A-long pass phrase 42",
        },
    )
    assert "do not put an e-mail address in it" in response.content.decode()
    assert not User.objects.filter(email="me@example.org").exists()


def test_an_account_without_a_name_is_asked_for_it_at_sign_in_then_goes_on(client):
    UserFactory(email="old.account@example.org", name="")

    response = client.post(
        reverse("account_login") + "?next=/my/matches/",
        {"login": "old.account@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/my/name/?next=%2Fmy%2Fmatches%2F"

    page = client.get(response["Location"]).content.decode()
    assert 'name="name"' in page and 'value="/my/matches/"' in page
    refused = client.post("/my/name/", {"name": "x@y.org", "next": "/my/matches/"})
    assert refused.status_code == 200 and User.objects.get(email="old.account@example.org").name == ""
    saved = client.post("/my/name/", {"name": " Moussa Walker ", "next": "/my/matches/"})
    assert saved["Location"] == "/my/matches/"
    assert User.objects.get(email="old.account@example.org").name == "Moussa Walker"


def test_the_name_page_never_sends_people_to_another_site(client):
    client.force_login(UserFactory(name=""))
    response = client.post("/my/name/", {"name": "Awa Diallo", "next": "https://evil.example/"})
    assert response["Location"] == reverse("my_postings")


def test_a_person_without_a_name_gives_it_before_posting(client):
    person = expert(name="")
    client.force_login(person)

    response = client.get("/offers/new/")

    assert response.status_code == 302 and response["Location"] == "/my/name/?next=%2Foffers%2Fnew%2F"


def test_the_services_refuse_posting_interest_and_mentoring_without_a_name():
    from django.core.exceptions import PermissionDenied

    from marketplace import services
    from matching import services as matching
    from mentoring import services as mentoring_services

    person = expert(name="")
    need = NeedFactory()
    data = {"title": "Herbarium advice", "description": "Advice on herbarium digitisation.", "language": "en"}
    for attempt in (
        lambda: services.offer_create(user=person, data=data, as_expert=True),
        lambda: mentoring_services.mentor_save(user=person, as_expert=True, data={"forms": ["training"]}),
    ):
        with pytest.raises(PermissionDenied, match="Give your name first"):
            attempt()
    person.name = "Zanele Quispe"
    offer = services.offer_create(
        user=person,
        data=data
        | {
            "kind": "expertise",
            "global_coverage": True,
            "delivery_languages": ["en"],
            "subjects": ["taxonomy"],
            "support_types": ["training"],
            "contact_name": "Z. Quispe",
            "contact_email": "z@example.org",
            "expires_on": need.expires_on,
        },
        as_expert=True,
    )
    person.name = ""
    offer.status = "published"
    offer.save()
    with pytest.raises(PermissionDenied, match="Give your name first"):
        matching.match_express_interest(user=person, own=offer, other_posting=need)


def test_the_expert_profile_asks_for_the_name_too(client):
    person = UserFactory(name="")
    client.force_login(person)
    form = {"bio": "Botanist.", "expertise": "Herbaria", "languages": ["en"], "availability": "available"}

    refused = client.post(reverse("expert_profile"), form)
    saved = client.post(reverse("expert_profile"), form | {"name": "Zanele Quispe"})

    assert refused.status_code == 200 and "Give the name others will see" in refused.content.decode()
    assert saved.status_code == 302
    person.refresh_from_db()
    assert person.name == "Zanele Quispe" and person.expert_profile.bio == "Botanist."
