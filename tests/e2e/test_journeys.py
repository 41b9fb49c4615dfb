"""The main journeys in a real browser, with JavaScript on and off: a need posted in French finds an English
offer, both sides accept and see each other's contact; the dashboard draws its charts; axe-core finds no
serious or critical violation on the main pages."""

import re

import pytest

from marketplace import services
from marketplace.models import Need, Offer, PostingStatus
from matching.models import Match, MatchStatus
from tests.factories import (
    OfferFactory,
    OrganizationFactory,
    SecretariatFactory,
    focal_point,
    in_days,
    member,
)

from .conftest import assert_accessible, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

NEED_TITLE = "Former les douaniers à détecter les espèces exotiques envahissantes"
OFFER_TITLE = "Border biosecurity course: detecting invasive alien species at ports"


@pytest.fixture
def people():
    chad = focal_point("TD", email="achta@chad.example.org", preferred_language="fr")
    centre = OrganizationFactory(name="Border Biosecurity Training Centre")
    trainer = member(centre, email="margaret@icbbt.example.org", preferred_language="en")
    secretariat = SecretariatFactory(email="staff@cbd.example.org")
    offer = OfferFactory(
        status=PostingStatus.SUBMITTED,
        created_by=trainer,
        organization=centre,
        title=OFFER_TITLE,
        description="A two-week course for customs and plant-health inspectors on recognising invasive pests "
        "and weeds in cargo, with practical sessions at a port.",
        kind="training",
        subjects=["invasive-alien-species"],
        support_types=["training"],
        delivery_languages=["en", "fr"],
        contact_email="courses@icbbt.example.org",
    )
    services.posting_approve(user=secretariat, posting=offer)  # published and embedded, as in real life
    return {"chad": chad, "trainer": trainer, "secretariat": secretariat}


def tick(page, name: str, value: str) -> None:
    """Tick a box of the posting form, opening its folded list first (as a person would)."""
    box = page.locator(f'input[name="{name}"][value="{value}"]')
    if not box.is_visible():
        page.locator(f'details:has(input[name="{name}"][value="{value}"]) > summary').click()
    box.check()


def post_need_in_french(page):
    page.goto("/needs/new/")
    assert page.locator("html").get_attribute("lang") == "fr"  # the browser asked for French
    assert page.get_by_role("heading", name="Publier un besoin").is_visible()
    page.fill('input[name="title"]', NEED_TITLE)
    page.fill(
        'textarea[name="description"]',
        "Le Tchad veut former ses douaniers et inspecteurs phytosanitaires à reconnaître les insectes et les "
        "plantes envahissants dans les cargaisons, aux postes frontières et à l'aéroport de N'Djamena.",
    )
    page.select_option('select[name="language"]', "fr")
    tick(page, "subjects", "invasive-alien-species")
    tick(page, "gbf_targets", "gbf-target-6")
    tick(page, "support_types", "training")
    page.fill('input[name="contact_name"]', "Achta Ngarlejy")
    page.fill('input[name="contact_email"]', "achta@chad.example.org")
    page.fill('input[name="expires_on"]', in_days(120).isoformat())
    page.locator('button[name="submit"]').click()
    page.wait_for_load_state()
    need = Need.objects.get(title=NEED_TITLE)
    assert need.status == PostingStatus.SUBMITTED
    return need


def test_french_need_meets_english_offer_and_both_accept(people, open_context, javascript):
    chad = sign_in(open_context(javascript=javascript, locale="fr-FR"), people["chad"])
    need = post_need_in_french(chad)

    staff = sign_in(open_context(javascript=javascript), people["secretariat"])
    staff.goto("/secretariat/validation/")
    decision = staff.locator(f'form[action^="/needs/{need.pk}/moderate/"]')
    decision.locator('input[value="approve"]').check()  # nothing is chosen beforehand
    decision.locator('button[type="submit"]').click()
    staff.wait_for_load_state()
    need.refresh_from_db()
    assert need.status == PostingStatus.PUBLISHED

    chad.goto(f"/needs/{need.pk}/")
    suggestions = chad.locator("section.matches")
    assert suggestions.get_by_role("heading", name="Offres suggérées").is_visible()
    assert OFFER_TITLE in suggestions.inner_text()  # the English offer, found from a French text

    match = Match.objects.get(need=need, offer__title=OFFER_TITLE)
    staff.goto(f"/matches/{match.pk}/")
    staff.locator(f'form[action="/matches/{match.pk}/introduce/"] button').click()
    staff.wait_for_load_state()

    chad.goto("/my/matches/")
    chad.get_by_role("link", name=OFFER_TITLE).first.click()
    chad.wait_for_load_state()
    assert "courses@icbbt.example.org" not in chad.content()  # no contact before both accept
    chad.locator(f'form[action="/matches/{match.pk}/accept/"] button').click()
    chad.wait_for_load_state()

    trainer = sign_in(open_context(javascript=javascript), people["trainer"])
    trainer.goto(f"/matches/{match.pk}/")
    trainer.locator(f'form[action="/matches/{match.pk}/accept/"] button').click()
    trainer.wait_for_load_state()
    assert trainer.get_by_role("link", name="achta@chad.example.org").is_visible()

    chad.goto(f"/matches/{match.pk}/")
    assert chad.get_by_role("link", name="courses@icbbt.example.org").is_visible()
    match.refresh_from_db()
    assert match.status == MatchStatus.CONNECTED

    staff.goto("/dashboard/")
    assert staff.locator("svg.bars").count() == 4
    assert staff.locator("svg.bars rect.need").count() >= 1 and staff.locator("svg.map circle").count() >= 1
    assert re.search(r"1 of 1 published needs connected", staff.content())


def test_search_by_meaning_in_any_language(people, open_context, javascript):
    page = open_context(javascript=javascript).new_page()
    page.goto("/offers/")
    page.fill('input[name="q"]', "formation des agents des douanes aux espèces envahissantes")
    page.check('input[name="by_meaning"]')
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#results .card h3").first.inner_text() == OFFER_TITLE
    assert "by_meaning=1" in page.url  # with JavaScript the URL follows the results too


def test_main_pages_have_no_serious_accessibility_violation(people, open_context):
    chad = sign_in(open_context(locale="fr-FR"), people["chad"])
    need = post_need_in_french(chad)
    staff = sign_in(open_context(), people["secretariat"])
    staff.goto(f"/needs/{need.pk}/")
    decision = staff.locator(f'form[action^="/needs/{need.pk}/moderate/"]')
    decision.locator('input[value="approve"]').check()  # nothing is chosen beforehand
    decision.locator('button[type="submit"]').click()
    match = Match.objects.get(need=need)
    staff.goto(f"/matches/{match.pk}/")
    staff.locator(f'form[action="/matches/{match.pk}/introduce/"] button').click()
    staff.wait_for_load_state()

    visitor = open_context().new_page()
    for name, url in [("home", "/"), ("browse", "/needs/"), ("dashboard", "/dashboard/")]:
        visitor.goto(url)
        assert_accessible(visitor, name)
    for name, url in [
        ("posting", f"/needs/{need.pk}/"),
        ("my matches", "/my/matches/"),
        ("post a need", "/needs/new/"),
        ("notifications", "/notifications/"),
        ("mentoring", "/mentoring/"),
        ("match", f"/matches/{match.pk}/"),
    ]:
        chad.goto(url)
        assert_accessible(chad, name)
    for name, url in [("workbench", "/secretariat/matches/"), ("validation", "/secretariat/validation/")]:
        staff.goto(url)
        assert_accessible(staff, name)


def test_the_posting_form_checks_a_field_as_soon_as_it_is_filled(people, open_context):
    page = sign_in(open_context(), people["chad"])
    page.goto("/needs/new/")
    page.fill('input[name="contact_email"]', "")
    page.fill('input[name="contact_email"]', "pas-une-adresse")
    page.locator('input[name="contact_email"]').blur()  # a change event: HTMX asks the server
    page.locator("#errors-contact_email .errorlist").wait_for()
    assert "/needs/new/" in page.url and not Need.objects.exists()  # no submit, nothing saved
    assert page.locator("#errors-title").inner_text() == ""  # untouched fields wait for the submit
    page.fill('input[name="contact_email"]', "achta@chad.example.org")
    page.locator('input[name="contact_email"]').blur()
    page.locator("#errors-contact_email .errorlist").wait_for(state="detached")


def test_no_main_page_scrolls_sideways_on_a_phone(people, open_context):
    offer = Offer.objects.get(title=OFFER_TITLE)
    anonymous = open_context(locale="fr-FR", width=390).new_page()
    pages = ["/", "/needs/", "/offers/", f"/offers/{offer.pk}/", "/dashboard/", "/case-studies/"]
    wide = []
    for path in pages:
        anonymous.goto(path)
        width = anonymous.evaluate("document.documentElement.scrollWidth")
        wide += [f"{path}: {width} px"] if width > 390 else []
    chad = sign_in(open_context(locale="fr-FR", width=390), people["chad"])
    for path in ["/my/matches/", "/needs/new/", "/notifications/", "/mentoring/"]:
        chad.goto(path)
        width = chad.evaluate("document.documentElement.scrollWidth")
        wide += [f"{path}: {width} px"] if width > 390 else []
    assert wide == []
