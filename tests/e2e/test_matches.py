"""The match pages in a real browser: a Spanish focal point finds the match that waits for them first, reads
both postings side by side, accepts and reads the confirmation in Spanish; axe-core finds no serious
violation; a phone never scrolls sideways."""

import pytest

from matching.models import MatchStatus
from tests.factories import MatchFactory, NeedFactory, OfferFactory, focal_point, party

from .conftest import assert_accessible, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

NEED_TITLE = "Inventario de los peces de agua dulce de la cuenca del río Magdalena"


@pytest.fixture
def colombia():
    """A Colombian focal point whose need was introduced to three offers, one of which it already accepted."""
    reader = focal_point("CO", email="lucia@colombia.example.org", preferred_language="es")
    need = NeedFactory(
        party=party("CO"),
        created_by=reader,
        title=NEED_TITLE,
        language="es",
        description="Colombia busca apoyo para inventariar los peces de agua dulce del río Magdalena, "
        "formar a los técnicos de las autoridades ambientales y publicar los datos en el GBIF. " * 3,
        regions=["latin-american-caribbean"],
    )

    def introduced(title: str, score: float, **answers: str):
        offer = OfferFactory(title=title, description="Taxonomic support for freshwater fish inventories.")
        return MatchFactory(need=need, offer=offer, score=score, status=MatchStatus.INTRODUCED, **answers)

    matches = {
        "good": introduced("Freshwater fish identification workshop", 0.6),
        "strong": introduced("DNA barcoding of freshwater fishes: training and laboratory support", 0.9),
        "answered": introduced("Citizen science for river monitoring", 0.95, need_response="accepted"),
    }
    return {"reader": reader, "need": need, **matches}


def test_a_spanish_focal_point_answers_the_strongest_match_first_and_reads_the_confirmation_in_spanish(
    colombia, open_context
):
    page = sign_in(open_context(locale="es-ES"), colombia["reader"])
    page.goto("/my/matches/")
    assert page.locator("html").get_attribute("lang") == "es"
    waiting = page.locator("section:has(#for-you) li.match-row")
    # waiting for her: the strongest first; the one she already accepted waits for the other side
    assert waiting.count() == 2
    assert "DNA barcoding" in waiting.nth(0).inner_text() and "Freshwater fish" in waiting.nth(1).inner_text()
    assert "Esperando su respuesta" in waiting.nth(0).inner_text()
    other_side = page.locator("section:has(#for-them) li.match-row")
    assert "Citizen science" in other_side.inner_text()
    assert "A la espera de la respuesta de la contraparte" in other_side.inner_text()
    assert_accessible(page, "my matches")

    waiting.nth(0).get_by_role("link").click()
    page.wait_for_load_state()
    match = colombia["strong"]
    assert page.url.endswith(f"/matches/{match.pk}/")
    assert "Esperando su respuesta" in page.locator(".standing").inner_text()
    # both postings, side by side: who posts each, its summary, and each side's answer
    need_side, offer_side = page.locator(".match-side").nth(0), page.locator(".match-side").nth(1)
    assert NEED_TITLE in need_side.inner_text() and "Colombia" in need_side.inner_text()
    assert "Su respuesta:" in need_side.inner_text()
    assert match.offer.organization.name in offer_side.inner_text()
    assert "Taxonomic support" in offer_side.inner_text()
    assert "Respuesta de la contraparte:" in offer_side.inner_text()
    need_box, offer_box = need_side.bounding_box(), offer_side.bounding_box()
    assert need_box and offer_box and offer_box["x"] > need_box["x"] + need_box["width"]  # side by side
    assert match.offer.contact_email not in page.content()
    assert_accessible(page, "match page")

    page.locator(f'form[action="/matches/{match.pk}/accept/"] button').click()
    page.wait_for_load_state()
    assert "Se ha registrado su respuesta." in page.locator(".messages").inner_text()
    assert "A la espera de la respuesta de la contraparte" in page.locator(".standing").inner_text()
    match.refresh_from_db()
    assert match.need_response == "accepted"


@pytest.mark.parametrize("locale", ["fr-FR", "es-ES"])
def test_the_match_pages_do_not_scroll_sideways_on_a_phone(colombia, open_context, locale):
    page = sign_in(open_context(locale=locale, width=390), colombia["reader"])
    for url in ("/my/matches/", f"/matches/{colombia['strong'].pk}/"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
    # on a phone the two postings are stacked, the need first
    need_box = page.locator(".match-side").nth(0).bounding_box()
    offer_box = page.locator(".match-side").nth(1).bounding_box()
    assert need_box and offer_box and offer_box["y"] > need_box["y"] + need_box["height"]
