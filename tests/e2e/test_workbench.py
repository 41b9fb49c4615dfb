"""The secretariat's workbench in a real browser, without JavaScript: a refused decision comes back on its own
item, scrolled to, with the option and the message kept; the validation queue, the match queue and the audit
log pass axe-core and never scroll sideways on a phone. `WORKBENCH_SCREENSHOTS=/some/folder` saves what the
browser showed."""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone

from core import audit
from marketplace.models import FocalPointRequest, PostingStatus
from matching import services as match_services
from matching.models import Match
from tests.factories import (
    MatchFactory,
    NeedFactory,
    OfferFactory,
    OrganizationFactory,
    SecretariatFactory,
    UserFactory,
    focal_point,
    member,
    party,
)

from .conftest import assert_accessible, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = {
    "validation": "/secretariat/validation/",
    "matches": "/secretariat/matches/",
    "audit": "/secretariat/audit/",
}


def shot(page, name: str) -> None:
    folder = os.environ.get("WORKBENCH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)
        page.screenshot(path=f"{folder}/{name}-screen.png")  # what the reader sees first


@pytest.fixture
def workbench():
    """A secretariat with something in every queue and a few decisions in the log."""
    secretariat = SecretariatFactory(email="staff@cbd.example.org", name="Julia Campos")
    chad = focal_point("TD", name="Achta Mahamat")
    needs = [
        NeedFactory(
            created_by=chad,
            status=PostingStatus.SUBMITTED,
            submitted_at=timezone.now() - datetime.timedelta(days=days),
            title=title,
            language="fr",
        )
        for days, title in [
            (4, "Former les douaniers à détecter les espèces exotiques envahissantes"),
            (2, "Inventaire des zones humides du lac Tchad"),
            (1, "Renforcer le centre d'échange national"),
        ]
    ]
    centre = OrganizationFactory(name="Border Biosecurity Training Centre")
    OfferFactory(
        created_by=member(centre),
        organization=centre,
        status=PostingStatus.SUBMITTED,
        submitted_at=timezone.now(),
        title="Border biosecurity course: detecting invasive alien species at ports",
    )
    for name in ("Idriss Abakar", "Fatimé Zara"):
        FocalPointRequest.objects.create(
            user=UserFactory(name=name), party=party("TD"), justification="Nommé par le ministère en 2026."
        )
    member(OrganizationFactory(name="Réseau sahélien pour la biodiversité", approved_at=None), admin=True)
    reasons = {"shared_subjects": ["taxonomy"], "support": ["training"], "language": "fr", "covers": "TD"}
    matches = [MatchFactory(score=0.92 - i / 50, reasons=reasons) for i in range(24)]
    for days, match in enumerate(matches):
        Match.objects.filter(pk=match.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))
    match_services.matches_curate_bulk(user=secretariat, match_ids=[matches[-1].pk], action="dismiss")
    # as `posting_approve` records it (the service itself would start the matcher on every posting here)
    approved = NeedFactory(created_by=chad, title="Cartographier les mangroves")
    audit.record(
        actor=secretariat,
        action="posting_approve",
        target=approved,
        before={"status": "submitted", "closed_reason": "", "status_message": ""},
        after={"status": "published", "closed_reason": "", "status_message": ""},
    )
    return secretariat, needs


def refuse(page, posting) -> None:
    """Ask for changes to a posting from the queue, with no message: the queue refuses it."""
    item = page.locator(f"#need-{posting.pk}")
    item.get_by_role("radio", name="Request changes").check()
    item.locator("button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_refused_decision_comes_back_on_its_item_without_javascript(open_context, workbench, width):
    secretariat, needs = workbench
    page = sign_in(open_context(javascript=False, width=width), secretariat)
    page.goto(PAGES["validation"])
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"validation-{width}")

    target = needs[2]
    refuse(page, target)
    assert page.url.endswith(f"#need-{target.pk}")
    item = page.locator(f"#need-{target.pk}")
    assert "This decision was not recorded." in item.inner_text()
    assert "Tell the poster why." in item.inner_text()
    assert item.get_by_role("radio", name="Request changes").is_checked()
    assert page.locator(".messages").count() == 0
    assert 0 <= item.evaluate("element => element.getBoundingClientRect().top") < 900  # scrolled to it
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"validation-refused-{width}")

    item.get_by_label("Message to the poster (required to request changes or reject)").fill(
        "Précisez le nombre de participants."
    )
    item.locator("button[type=submit]").click()
    page.wait_for_load_state()
    target.refresh_from_db()
    assert target.status == PostingStatus.DRAFT
    assert "Decision recorded" in page.locator(".messages").inner_text()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_workbench_pages_are_accessible_and_fit_a_phone(open_context, workbench, width):
    """axe-core needs JavaScript in the page (its checks wait on timers): these pages run it."""
    secretariat, needs = workbench
    page = sign_in(open_context(width=width), secretariat)
    page.goto(PAGES["validation"])
    assert_accessible(page, "validation queue")
    refuse(page, needs[0])
    assert "This decision was not recorded." in page.locator(f"#need-{needs[0].pk}").inner_text()
    assert_accessible(page, "validation queue, a decision refused")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.goto(PAGES["matches"])
    summary = page.locator(".queue-summary").inner_text()
    assert "23 matches waiting · oldest 22 days · showing 1–20" in summary
    assert page.locator("table.match-queue tbody tr").count() == 20
    assert_accessible(page, "match queue")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"matches-{width}")

    page.goto(PAGES["audit"])
    text = page.locator("main").inner_text()
    assert "Match dismissed" in text and "Posting approved and published" in text
    assert "{'status'" not in text and "posting_approve" not in text
    assert_accessible(page, "audit log")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"audit-{width}")
