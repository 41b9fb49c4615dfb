"""A partner's own site: an instance run for one Party with its name, languages and colour
(config/site.py)."""

import re

import pytest
from django.core.cache import cache
from django.test import override_settings

from config.site import check_site, contrast_with_white, site_languages

pytestmark = pytest.mark.django_db

BELGIUM = {
    "SITE_NAME": "Centre d'échange de Belgique",
    "SITE_PARTY": "BE",
    "SITE_ACCENT_COLOUR": "#1d4f91",
}


@pytest.fixture(autouse=True)
def fresh_pages():
    cache.clear()  # anonymous pages are cached: each test renders its own
    yield
    cache.clear()


@override_settings(**BELGIUM)
def test_the_site_shows_its_name_its_party_in_the_readers_language_and_its_colour(client):
    page = client.get("/", headers={"accept-language": "fr"}).content.decode()
    brand = re.search(r'<a class="brand"[^>]*>(.*?)</a>', page, re.S).group(1)
    assert "Centre d&#x27;échange de Belgique" in brand and '<span class="party">Belgique</span>' in brand
    assert "<title>Centre d&#x27;échange de Belgique</title>" in page
    assert '<link rel="stylesheet" href="/site-colours.css">' in page
    css = client.get("/site-colours.css")
    assert css["Content-Type"] == "text/css"
    assert css.content.decode().strip() == ":root { --accent: #1d4f91; }"
    spanish = client.get("/", headers={"accept-language": "es"}).content.decode()
    assert '<span class="party">Bélgica</span>' in spanish


def test_by_default_the_product_keeps_its_own_name_and_colours(client):
    page = client.get("/", headers={"accept-language": "fr"}).content.decode()
    assert "<title>CHM Matchmaker</title>" in page and 'class="party"' not in page
    assert "site-colours.css" not in page
    assert client.get("/site-colours.css").status_code == 404


@override_settings(SITE_ACCENT_COLOUR="#fff;} body{display:none")
def test_a_colour_that_is_not_one_never_reaches_the_stylesheet(client):
    assert client.get("/site-colours.css").status_code == 404
    assert [error.id for error in check_site()] == ["site.E002"]


def test_the_start_up_check_refuses_unknown_languages_and_unreadable_colours(settings):
    settings.SITE_LANGUAGE_CODES = ["fr", "nl"]
    settings.SITE_ACCENT_COLOUR = "#9fd3ff"  # white on light blue: 1.6:1
    assert [error.id for error in check_site()] == ["site.E001", "site.E003"]
    assert contrast_with_white("#9fd3ff") < 4.5 <= contrast_with_white("#1d4f91")
    settings.SITE_LANGUAGE_CODES, settings.SITE_ACCENT_COLOUR = ["fr", "en"], "#1d4f91"
    assert check_site() == []


def test_the_site_s_languages_are_the_ones_chosen_default_first():
    every = [("ar", "Arabic"), ("zh-hans", "Chinese"), ("en", "English"), ("fr", "French")]
    assert site_languages(every, ["fr", "en"]) == [("fr", "French"), ("en", "English")]
    assert site_languages(every, []) == every


@override_settings(SITE_NAME="Centre d'échange de Belgique")
def test_partners_harvest_it_under_its_name(client):
    from lxml import etree

    answer = etree.fromstring(client.get("/oai/", {"verb": "Identify"}).content)
    name = answer.find(".//{http://www.openarchives.org/OAI/2.0/}repositoryName")
    assert name.text == "Centre d'échange de Belgique"
