"""Real-browser tests: Playwright drives Debian's Chromium (`make test` installs it as root) against
pytest-django's live server. In CI a missing browser fails the run instead of skipping it."""

import os

import pytest

from tests.factories import totp_code
from tests.system_tools import require_tool

# Playwright's synchronous API runs an event loop in the test's thread; the ORM calls the tests make between
# browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM_PATH") or require_tool(
        "chromium", "chromium-browser", package="chromium", suite="the real-browser suite (tests/e2e)"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def javascript(request) -> bool:
    return request.param


@pytest.fixture
def open_context(browser, live_server):
    """A new browser profile (cookies, language) per person; closed after the test."""
    contexts = []

    def open_(*, javascript: bool = True, locale: str = "en-GB", width: int = 1280):
        context = browser.new_context(
            base_url=live_server.url,
            java_script_enabled=javascript,
            locale=locale,
            viewport={"width": width, "height": 900},
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context

    yield open_
    for context in contexts:
        context.close()


def sign_in(context, user):
    """Sign in through the page, with the authenticator app's code when the account has one (staff)."""
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill('input[name="login"]', user.email)
    page.fill('input[name="password"]', PASSWORD)
    page.locator('form:has(input[name="login"]) [type="submit"]').click()
    page.wait_for_load_state()
    if "/2fa/authenticate/" in page.url:
        page.fill('input[name="code"]', totp_code(user.totp_secret))
        page.press('input[name="code"]', "Enter")
        page.wait_for_load_state()
    assert "/accounts/" not in page.url, page.content()[:2000]
    return page


def assert_accessible(page, name: str):
    """axe-core (vendored by axe-playwright-python, no network): no serious or critical violation. Only in a
    context with JavaScript on: without it axe waits for timers that never fire, and the test hangs."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]][:3])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """The live server needs committed data: these tests run in transactions that end with a flush."""
