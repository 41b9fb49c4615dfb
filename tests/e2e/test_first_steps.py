"""A new person's first steps in a real browser: sign-up, the e-mail link, the welcome page that explains the
roles (English and French); the sign-in, password and two-factor pages in the site's own style; the header
on one line at 1,280 px for the secretariat and, on a phone, a menu that opens without JavaScript."""

import re

import pytest

from tests.factories import SecretariatFactory, UserFactory

from .conftest import PASSWORD, assert_accessible, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WELCOME = {
    "en-GB": {
        "check": "Check your e-mail",
        "confirm": "Confirm",
        "roles": ["National focal point of a Party", "Expert", "Organization", "The secretariat"],
        "next": [
            "Ask to be confirmed as a national focal point",
            "Create your expert profile",
            "Register your organization",
            "Browse needs",
            "Browse offers",
        ],
    },
    "fr-FR": {
        "check": "Consultez votre messagerie",
        "confirm": "Confirmer",
        "roles": ["Correspondant national d'une Partie", "Expert", "Organisation", "Le Secrétariat"],
        "next": [
            "Demander à être confirmé comme correspondant national",
            "Enregistrer votre organisation",
            "Parcourir les besoins",
            "Parcourir les offres",
        ],
    },
}
ROLE_PAGES = {
    "Ask to be confirmed as a national focal point": "/my/focal-point/",
    "Create your expert profile": "/my/expert-profile/",
    "Register your organization": "/organizations/new/",
    "Browse needs": "/needs/",
    "Browse offers": "/offers/",
}


def header_height(page) -> float:
    return page.locator("header.site").bounding_box()["height"]


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_sign_up_then_the_e_mail_link_lead_to_a_welcome_page_that_explains_the_roles(
    open_context, mailoutbox, locale
):
    words = WELCOME[locale]
    page = open_context(locale=locale).new_page()
    page.goto("/accounts/signup/")
    assert_accessible(page, "sign-up")
    page.fill('input[name="name"]', "Achta Mahamat")
    page.fill('input[name="email"]', "achta@example.org")
    page.fill('input[name="password1"]', "A-long pass phrase 42")
    page.fill('input[name="password2"]', "A-long pass phrase 42")
    page.locator('form:has(input[name="email"]) button[type="submit"]').click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1, name=words["check"]).is_visible()

    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mailoutbox[-1].body).group(1)
    page.goto(link)
    page.get_by_role("button", name=words["confirm"]).click()
    page.wait_for_load_state()
    assert page.url.endswith("/welcome/")
    assert "Achta Mahamat" in page.get_by_role("heading", level=1).inner_text()
    for role in words["roles"]:
        assert page.get_by_role("heading", level=2, name=role, exact=True).is_visible(), role
    for step in words["next"]:
        assert page.get_by_role("link", name=step).is_visible(), step
    if locale == "en-GB":
        for step, path in ROLE_PAGES.items():
            assert page.get_by_role("link", name=step).get_attribute("href") == path
    assert_accessible(page, "welcome")


def test_a_failed_sign_in_says_what_is_wrong_at_the_top_of_the_form(open_context):
    person = UserFactory(email="someone@example.org")
    page = open_context().new_page()  # axe-core needs JavaScript; the summary is the server's
    page.goto("/accounts/login/")
    page.fill('input[name="login"]', person.email)
    page.fill('input[name="password"]', "not the password")
    page.locator('form:has(input[name="login"]) [type="submit"]').click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.get_by_role("heading", name="There is a problem").is_visible()
    assert "not correct" in summary.inner_text()
    assert page.locator('input[name="login"]').input_value() == person.email  # not typed again
    assert_accessible(page, "failed sign-in")


def test_account_pages_have_no_serious_accessibility_violation(open_context):
    visitor = open_context().new_page()
    for name, url in [
        ("sign-in", "/accounts/login/"),
        ("sign-up", "/accounts/signup/"),
        ("password reset", "/accounts/password/reset/"),
        ("welcome", "/welcome/"),
    ]:
        visitor.goto(url)
        assert visitor.locator("main h1").count() == 1, name
        assert_accessible(visitor, name)
    assert visitor.get_by_role("link", name="Create an account").first.is_visible()

    staff = SecretariatFactory(email="staff@cbd.example.org")
    page = open_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(staff.email)  # the labels name the fields
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/2fa/authenticate/" in page.url
    assert page.get_by_role("heading", level=1, name="Enter your sign-in code").is_visible()
    assert_accessible(page, "sign-in code")

    newcomer = SecretariatFactory(email="new.staff@cbd.example.org", second_factor=False)
    page = sign_in(open_context(), newcomer)
    page.goto("/secretariat/validation/")  # staff without a second factor are sent to set one up
    assert "/reauthenticate/" in page.url  # after typing their password again
    assert_accessible(page, "confirm it is you")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert "/2fa/totp/activate/" in page.url
    assert page.get_by_role("heading", level=1, name="Set up your authenticator app").is_visible()
    assert page.locator("img.qr").is_visible()
    assert_accessible(page, "set up the authenticator app")


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR", "es-ES"])
def test_the_header_is_one_line_at_1280_px_for_the_secretariat(open_context, locale):
    staff = SecretariatFactory(email="staff@cbd.example.org")
    page = sign_in(open_context(locale=locale), staff)
    page.goto("/needs/")
    items = page.locator("header.site :is(.brand, nav > a, nav > details > summary, .lang)").all()
    assert len(items) == 9  # the brand, four public links, notifications, two menus, the language
    middles = {round(box["y"] + box["height"] / 2) for box in (item.bounding_box() for item in items)}
    assert max(middles) - min(middles) <= 4, f"the header wraps: {middles}"
    assert header_height(page) < 60
    assert not page.locator("header.site .menu > summary").is_visible()  # no phone menu on a wide screen

    secretariat, account = page.locator("header.site .submenu > summary").all()
    staff_links = page.locator("header.site .submenu").first.locator("a")
    assert not staff_links.first.is_visible()
    secretariat.focus()
    page.keyboard.press("Enter")  # keyboard opens it
    assert staff_links.first.is_visible() and staff_links.count() == 4
    page.keyboard.press("Enter")
    account.click()
    assert page.locator("header.site form[action='/accounts/logout/'] button").is_visible()


def test_on_a_phone_the_menu_opens_without_javascript(open_context):
    staff = SecretariatFactory(email="staff@cbd.example.org")
    page = sign_in(open_context(javascript=False, width=390, locale="fr-FR"), staff)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    assert header_height(page) <= 844 / 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    needs = page.locator("header.site nav").get_by_role("link", name="Besoins", exact=True)
    assert not needs.is_visible()
    page.locator("header.site summary", has_text="Menu").click()
    assert needs.is_visible()
    page.locator("header.site .submenu > summary", has_text="Mon espace").click()
    assert page.get_by_role("link", name="Mes annonces").is_visible()
    sign_out = page.get_by_role("button", name="Se déconnecter")
    assert sign_out.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sign_out.click()  # a POST form: works without JavaScript
    page.wait_for_load_state()
    assert page.locator("header.site a[href='/accounts/login/']").count() == 1  # signed out


def test_signed_out_header_offers_sign_in_and_sign_up_and_keeps_skip_link(open_context):
    page = open_context(javascript=False).new_page()
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.get_by_role("link", name="Sign in").is_visible()
    assert page.get_by_role("link", name="Sign up").is_visible()
    assert page.get_by_label("Language").is_visible()
