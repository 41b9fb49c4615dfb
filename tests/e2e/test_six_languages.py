"""Arabic, Chinese and Russian readers in a real browser: an Arabic reader gets the page right to left,
posts a need in Arabic and sees an English offer among its suggestions; Chinese and Russian readers browse,
read a posting and the dashboard in their language; in Arabic no main page scrolls sideways on a phone;
axe-core finds no serious or critical violation in Arabic and Chinese."""

import pytest
from django.utils import translation

from marketplace import services
from marketplace.models import Need, Offer, PostingStatus, Term
from matching.models import Match
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

NEED_TITLE = "تدريب موظفي الجمارك على كشف الأنواع الغريبة الغازية"
NEED_TEXT = (
    "يريد الأردن تدريب موظفي الجمارك ومفتشي الصحة النباتية "
    "على التعرف على الحشرات والنباتات الغازية في الشحنات، عند المعابر الحدودية وفي المطار."
)
OFFER_TITLE = "Border biosecurity course: detecting invasive alien species at ports"


@pytest.fixture
def people():
    jordan = focal_point("JO", email="rania@jordan.example.org", preferred_language="ar")
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
        delivery_languages=["en", "ar"],
        contact_email="courses@icbbt.example.org",
    )
    services.posting_approve(user=secretariat, posting=offer)  # published and embedded, as in real life
    return {"jordan": jordan, "trainer": trainer, "secretariat": secretariat, "offer": offer}


def in_language(language: str, english: str) -> str:
    with translation.override(language):
        translated = translation.gettext(english)
    assert translated != english, (language, english)
    return translated


def tick(page, name: str, value: str) -> None:
    box = page.locator(f'input[name="{name}"][value="{value}"]')
    if not box.is_visible():
        page.locator(f'details:has(input[name="{name}"][value="{value}"]) > summary').click()
    box.check()


def post_need_in_arabic(page) -> Need:
    page.goto("/needs/new/")
    assert page.locator("html").get_attribute("lang") == "ar"  # the browser asked for Arabic
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("heading", name=in_language("ar", "Post a need")).is_visible()
    page.fill('input[name="title"]', NEED_TITLE)
    page.fill('textarea[name="description"]', NEED_TEXT)
    page.select_option('select[name="language"]', "ar")
    tick(page, "subjects", "invasive-alien-species")
    tick(page, "gbf_targets", "gbf-target-6")
    tick(page, "support_types", "training")
    page.fill('input[name="contact_name"]', "رانيا")
    page.fill('input[name="contact_email"]', "rania@jordan.example.org")
    page.fill('input[name="expires_on"]', in_days(120).isoformat())
    page.locator('button[name="submit"]').click()
    page.wait_for_load_state()
    need = Need.objects.get(title=NEED_TITLE)
    assert need.status == PostingStatus.SUBMITTED and need.language == "ar"
    return need


def approve(staff, need: Need) -> None:
    staff.goto("/secretariat/validation/")
    decision = staff.locator(f'form[action^="/needs/{need.pk}/moderate/"]')
    decision.locator('input[value="approve"]').check()
    decision.locator('button[type="submit"]').click()
    staff.wait_for_load_state()
    need.refresh_from_db()
    assert need.status == PostingStatus.PUBLISHED


def test_an_arabic_reader_posts_a_need_in_arabic_and_meets_an_english_offer(people, open_context, javascript):
    home = open_context(javascript=javascript, locale="ar").new_page()
    home.goto("/")
    assert (home.locator("html").get_attribute("lang"), home.locator("html").get_attribute("dir")) == (
        "ar",
        "rtl",
    )

    reader = sign_in(open_context(javascript=javascript, locale="ar"), people["jordan"])
    need = post_need_in_arabic(reader)
    approve(sign_in(open_context(javascript=javascript), people["secretariat"]), need)

    reader.goto(f"/needs/{need.pk}/")
    assert reader.locator("h1").inner_text() == NEED_TITLE
    suggestions = reader.locator("section.matches")
    assert OFFER_TITLE in suggestions.inner_text()  # the English offer, found from an Arabic text
    assert Match.objects.filter(need=need, offer=people["offer"]).exists()
    # the page's own words are Arabic, the facets too
    subject = Term.objects.get(code="invasive-alien-species").label_ar
    assert subject and subject in reader.locator("main").inner_text()


@pytest.mark.parametrize(
    ("locale", "language", "column"), [("zh-CN", "zh-hans", "zh"), ("ru-RU", "ru", "ru")]
)
def test_chinese_and_russian_readers_browse_read_a_posting_and_the_dashboard(
    people, open_context, locale, language, column
):
    offer = people["offer"]
    page = open_context(locale=locale).new_page()

    page.goto("/offers/")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("html").get_attribute("dir") is None  # left to right
    assert OFFER_TITLE in page.locator("main").inner_text()
    subject = getattr(Term.objects.get(code="invasive-alien-species"), f"label_{column}")
    assert subject and subject in page.content()  # the vocabulary in the reader's language

    page.goto(f"/offers/{offer.pk}/")
    assert page.locator("h1").inner_text() == OFFER_TITLE
    assert in_language(language, "Offers") in page.locator("header").inner_text()
    assert subject in page.locator("main").inner_text()

    page.goto("/dashboard/")
    assert page.get_by_role("heading", name=in_language(language, "Where the gaps are"), level=1).is_visible()
    assert page.locator("svg.bars").count() >= 1


MAIN_PAGES = ["/", "/needs/", "/offers/", "/dashboard/", "/case-studies/"]
SIGNED_IN_PAGES = ["/needs/new/", "/my/postings/", "/my/matches/", "/notifications/", "/mentoring/"]


def test_no_main_page_scrolls_sideways_on_a_phone_in_arabic(people, open_context):
    offer = people["offer"]
    anonymous = open_context(locale="ar", width=390).new_page()
    wide = []
    for path in [*MAIN_PAGES, f"/offers/{offer.pk}/"]:
        anonymous.goto(path)
        assert anonymous.locator("html").get_attribute("dir") == "rtl"
        width = anonymous.evaluate("document.documentElement.scrollWidth")
        wide += [f"{path}: {width} px"] if width > 390 else []
    reader = sign_in(open_context(locale="ar", width=390), people["jordan"])
    for path in SIGNED_IN_PAGES:
        reader.goto(path)
        width = reader.evaluate("document.documentElement.scrollWidth")
        wide += [f"{path}: {width} px"] if width > 390 else []
    assert wide == []


@pytest.mark.parametrize("locale", ["ar", "zh-CN", "ru-RU"])
def test_main_pages_weigh_under_150_kb_in_arabic_chinese_and_russian(people, open_context, locale):
    """Every response of a page (the document, its stylesheets, icons, scripts and images), as served: no web
    font, whichever the script."""
    offer = people["offer"]
    page = open_context(locale=locale).new_page()
    sizes: list[int] = []
    page.on("requestfinished", lambda request: sizes.append(len(request.response().body())))
    heavy = []
    for path in [*MAIN_PAGES, f"/offers/{offer.pk}/"]:
        sizes.clear()
        page.goto(path)
        page.wait_for_load_state("networkidle")
        heavy += [f"{path}: {sum(sizes) // 1024} KB"] if sum(sizes) > 150 * 1024 else []
    assert heavy == []


@pytest.mark.parametrize("locale", ["ar", "zh-CN"])
def test_main_pages_have_no_serious_accessibility_violation_in_arabic_and_chinese(
    people, open_context, locale
):
    offer = people["offer"]
    visitor = open_context(locale=locale).new_page()
    for path in [*MAIN_PAGES, f"/offers/{offer.pk}/"]:
        visitor.goto(path)
        assert_accessible(visitor, f"{path} ({locale})")
    reader = sign_in(open_context(locale=locale), people["jordan"])
    for path in ["/needs/new/", "/my/matches/", "/notifications/"]:
        reader.goto(path)
        assert_accessible(reader, f"{path} ({locale})")


def test_the_bar_charts_mirror_in_arabic_and_their_labels_stay_inside(people, open_context):
    """Right to left, a chart's labels sit on the right and its bars grow leftwards; no label leaves the
    chart (an SVG text anchored at x=0 would run off its left edge in RTL without the mirroring)."""
    page = open_context(locale="ar").new_page()
    page.goto("/dashboard/")
    chart = page.locator("svg.bars").first
    box = chart.bounding_box()
    label = chart.locator("text.label").first.bounding_box()
    bar = chart.locator("rect.offer, rect.need").first.bounding_box()
    assert box["x"] - 1 <= label["x"] and label["x"] + label["width"] <= box["x"] + box["width"] + 1
    assert label["x"] > bar["x"]  # the label to the right of its bar
    assert Offer.objects.filter(status=PostingStatus.PUBLISHED).exists()
