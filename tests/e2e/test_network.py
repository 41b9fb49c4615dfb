"""A harvested posting in a real browser: its card and its page say where it comes from and link to the
original, in English and French, on a phone's width without sideways scrolling; axe-core finds no serious
or critical violation. Screenshots go to $NETWORK_SHOTS when it is set."""

import os
from pathlib import Path

import pytest

from network import services
from tests.factories import SecretariatFactory

from .conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def harvested():
    from tests.integration.test_network_registry import harvested_need

    partner = services.partner_save(
        user=SecretariatFactory(),
        data={
            "name": "Belgian CHM",
            "base_url": "https://chm.partner.example.org/oai/",
            "contact_email": "chm@partner.example.org",
        },
    )
    return harvested_need(partner)


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_a_harvested_posting_shows_its_origin(open_context, harvested, width, locale):
    shots = os.environ.get("NETWORK_SHOTS")
    page = open_context(locale=locale, width=width).new_page()
    for name, path in (("list", "/needs/"), ("detail", f"/needs/{harvested.pk}/")):
        page.goto(path)
        origin = page.locator("text=Belgian CHM").first
        assert origin.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/{name}-{locale}-{width}.png", full_page=True)
        assert_accessible(page, f"{name} {locale} {width}")
    link = page.get_by_role("link", name="Belgian CHM").last
    assert link.get_attribute("href") == "http://chm.partner.example.org/needs/7/"
