"""The posting form in a real browser: a French focal point makes one mistake of each kind, reads them all in
the error summary at the top, follows a link to a field and fixes everything in one round, with JavaScript on
and off; the keyboard reaches the country picker and the submit button quickly."""

import pytest

from marketplace.models import Need, PostingStatus
from tests.factories import expert, focal_point, in_days

from .conftest import assert_accessible, sign_in
from .test_journeys import tick

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Former les agents de l'herbier national à la taxonomie des graminées"


@pytest.fixture
def chad():
    return focal_point("TD", email="achta@chad.example.org", preferred_language="fr")


def summary_links(page) -> dict[str, str]:
    """The error summary's links: the text of each, by the id it points to."""
    links = page.locator(".error-summary a")
    return {links.nth(i).get_attribute("href"): links.nth(i).inner_text() for i in range(links.count())}


def test_every_mistake_shows_in_one_summary_and_is_fixed_in_one_round(chad, open_context, javascript):
    page = sign_in(open_context(javascript=javascript, locale="fr-FR"), chad)
    page.goto("/needs/new/")
    # One mistake of each kind: a required text left empty, a required list with nothing ticked, an address
    # that is not one, dates in the wrong order, an expiry in the past.
    page.fill('textarea[name="description"]', "Cinq techniciens de l'herbier national doivent être formés.")
    page.select_option('select[name="language"]', "fr")
    tick(page, "subjects", "taxonomy")
    page.fill('input[name="timeframe_start"]', in_days(90).isoformat())
    page.fill('input[name="timeframe_end"]', in_days(30).isoformat())
    page.fill('input[name="contact_name"]', "Achta Ngarlejy")
    page.fill('input[name="contact_email"]', "achta-chad.example.org")
    page.fill('input[name="expires_on"]', in_days(-3).isoformat())
    page.locator('button[name="submit"]').click()
    page.wait_for_load_state()

    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.get_by_role("heading").inner_text() == "Il y a un problème"
    assert summary.evaluate("element => element === document.activeElement")  # focus moved to it
    links = summary_links(page)
    assert set(links) == {
        "#id_title",
        "#fold-support_types-0",
        "#id_contact_email",
        "#id_timeframe_end",
        "#id_expires_on",
    }, links
    assert links["#id_timeframe_end"] == "Fin de la période : La fin ne peut pas précéder le début."
    assert not Need.objects.exists()

    page.locator('.error-summary a[href="#id_title"]').click()
    if javascript:  # the field itself takes the focus
        assert page.evaluate("document.activeElement.id") == "id_title"
    else:  # the browser follows the link to it
        assert page.evaluate("location.hash") == "#id_title"
    assert page.locator("#id_title").is_visible()

    page.fill('input[name="title"]', TITLE)
    tick(page, "support_types", "training")
    page.fill('input[name="timeframe_end"]', in_days(200).isoformat())
    page.fill('input[name="contact_email"]', "achta@chad.example.org")
    page.fill('input[name="expires_on"]', in_days(240).isoformat())
    page.locator('button[name="submit"]').click()
    page.wait_for_load_state()

    need = Need.objects.get(title=TITLE)
    assert need.status == PostingStatus.SUBMITTED
    assert [term.code for term in need.support_types.all()] == ["training"]
    assert page.locator(".error-summary").count() == 0


def test_the_keyboard_reaches_the_country_picker_and_the_submit_in_under_40_tabs(chad, open_context):
    """Every folded list is one stop until opened; a date field is four (day, month, year, calendar)."""
    page = sign_in(open_context(locale="fr-FR"), chad)
    page.goto("/needs/new/")
    # As keyboard users do: Tab to the "skip to content" link and follow it, past the site's menus.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    reached: dict[str, int] = {}
    for presses in range(2, 80):
        page.keyboard.press("Tab")
        where = page.evaluate(
            """() => {
                const element = document.activeElement;
                if (element.closest('#section-where fieldset.picker')) return 'countries';
                if (element.matches('button[name="submit"]')) return 'submit';
                return '';
            }"""
        )
        if where:
            reached.setdefault(where, presses)
        if "submit" in reached:
            break
    assert reached.get("countries", 99) < 40 and reached.get("submit", 99) < 40, reached

    # The picker works from the keyboard: open a region, tick a country, the region's line says so.
    page.keyboard.press("Shift+Tab")
    page.focus("#fold-countries-0")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.locator("#fold-countries-0 .chosen").inner_text().strip() == "· 1 choisi"


def test_the_country_picker_finds_a_country_by_name_without_accents(chad, open_context):
    page = sign_in(open_context(locale="fr-FR"), chad)
    page.goto("/needs/new/")
    page.fill("#country-filter", "cote d")
    visible = page.locator("#section-where li:visible label").all_inner_texts()
    assert [text.strip() for text in visible] == ["Côte d'Ivoire"], visible


def test_an_offer_shows_the_section_of_its_kind_only_with_javascript(open_context, javascript):
    page = sign_in(open_context(javascript=javascript), expert())
    page.goto("/offers/new/")
    page.select_option('select[name="kind"]', "training")
    shown = {
        kind: page.locator(f'[data-offer-kind="{kind}"]').is_visible()
        for kind in ("training", "technology", "funding")
    }
    if javascript:
        assert shown == {"training": True, "technology": False, "funding": False}
    else:  # every section stays, each saying which kind it is for
        assert shown == {"training": True, "technology": True, "funding": True}
        assert page.locator('[data-offer-kind="technology"] .only-for').is_visible()


def test_the_posting_forms_have_no_serious_accessibility_violation(chad, open_context):
    page = sign_in(open_context(locale="fr-FR"), chad)
    page.goto("/needs/new/")
    assert_accessible(page, "need form")
    page.locator('button[name="submit"]').click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    assert_accessible(page, "need form with errors")


def test_dates_are_checked_as_they_are_typed(chad, open_context):
    page = sign_in(open_context(locale="fr-FR"), chad)
    page.goto("/needs/new/")
    page.fill('input[name="timeframe_start"]', in_days(90).isoformat())
    page.fill('input[name="timeframe_end"]', in_days(30).isoformat())
    page.locator("#errors-timeframe_end .errorlist").wait_for()
    assert "précéder le début" in page.locator("#errors-timeframe_end").inner_text()
    page.fill('input[name="expires_on"]', in_days(-1).isoformat())
    page.locator("#errors-expires_on .errorlist").wait_for()
    page.fill('input[name="timeframe_end"]', in_days(120).isoformat())
    page.locator("#errors-timeframe_end .errorlist").wait_for(state="detached")
    assert not Need.objects.exists()
