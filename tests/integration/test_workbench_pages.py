"""The secretariat's workbench pages, read as a curator reads them: a refused decision on its own item, the
warnings on focal point requests, the audit log in words, the match queue's summary and waiting times."""

import datetime
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from frontend import audit_display
from marketplace import services
from marketplace.models import FocalPointAssignment, FocalPointRequest, PostingStatus
from matching.models import Match
from tests.factories import (
    MatchFactory,
    NeedFactory,
    OfferFactory,
    SecretariatFactory,
    UserFactory,
    focal_point,
    party,
)

pytestmark = pytest.mark.django_db

QUEUE = "/secretariat/validation/"


def submitted_need(**kwargs):
    return NeedFactory(
        created_by=focal_point("TD"), status=PostingStatus.SUBMITTED, submitted_at=timezone.now(), **kwargs
    )


def item(page: str, anchor: str) -> str:
    """The HTML of one item of the queue (its <article>)."""
    found = re.search(rf'<article[^>]* id="{anchor}">(.*?)</article>', page, re.S)
    assert found, anchor
    return found.group(1)


# --- A refused decision stays on its item ----------------------------------------------------------------


def test_a_refused_decision_comes_back_on_its_item_with_the_choice_kept(client):
    need, other = submitted_need(), submitted_need()
    client.force_login(SecretariatFactory())
    answer = client.post(
        reverse("posting_moderate", args=["need", need.pk]),
        {"decision": "changes", "message": "  ", "next": QUEUE},
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    refused = item(page, f"need-{need.pk}")
    assert "This decision was not recorded." in refused and "Tell the poster why." in refused
    assert re.search(r'value="changes"[^>]* checked', refused)
    assert f'action="/needs/{need.pk}/moderate/#need-{need.pk}"' in refused  # back to the item, no JS
    assert "Tell the poster why." not in item(page, f"need-{other.pk}")
    assert 'class="messages"' not in page  # not in the banner at the top
    need.refresh_from_db()
    assert need.status == PostingStatus.SUBMITTED


def test_the_message_typed_is_kept_when_it_is_refused(client):
    need = submitted_need()
    client.force_login(SecretariatFactory())
    too_long = "Merci de préciser le calendrier. " * 70  # over the 2,000 characters
    answer = client.post(
        reverse("posting_moderate", args=["need", need.pk]),
        {"decision": "reject", "message": too_long, "next": QUEUE},
    )
    refused = item(answer.content.decode(), f"need-{need.pk}")
    assert answer.status_code == 400
    assert re.search(r'value="reject"[^>]* checked', refused)
    assert "Merci de préciser le calendrier." in refused and 'aria-invalid="true"' in refused


def test_a_decision_recorded_from_the_queue_goes_back_to_the_queue(client):
    need = submitted_need()
    client.force_login(SecretariatFactory())
    answer = client.post(
        reverse("posting_moderate", args=["need", need.pk]),
        {"decision": "changes", "message": "Précisez le budget.", "next": QUEUE},
    )
    assert answer.status_code == 302 and answer["Location"] == QUEUE
    need.refresh_from_db()
    assert need.status == PostingStatus.DRAFT and need.status_message == "Précisez le budget."


def test_a_posting_decided_meanwhile_says_so_in_the_banner(client):
    need = submitted_need()
    secretariat = SecretariatFactory()
    services.posting_approve(user=secretariat, posting=need)
    client.force_login(secretariat)
    answer = client.post(
        reverse("posting_moderate", args=["need", need.pk]),
        {"decision": "reject", "message": "Non.", "next": QUEUE},
        follow=True,
    )
    assert answer.redirect_chain == [(QUEUE, 302)]  # no item left to show it on
    assert "This decision was not recorded." not in answer.content.decode()


def test_a_refused_role_decision_keeps_its_note_on_its_item(client):
    asker = UserFactory()
    role_request = FocalPointRequest.objects.create(user=asker, party=party("TD"), justification="Nommé")
    client.force_login(SecretariatFactory())
    url = reverse("focal_point_decide", args=[role_request.pk])
    answer = client.post(url, {"note": "Vérifié par courriel"})
    assert answer.status_code == 400
    refused = item(answer.content.decode(), f"role-request-{role_request.pk}")
    assert "Choose a decision." in refused and 'value="Vérifié par courriel"' in refused
    assert f"#role-request-{role_request.pk}" in refused
    assert not FocalPointAssignment.objects.exists()


# --- Focal point requests: what to know before deciding -------------------------------------------------


def test_two_requests_for_one_party_and_a_focal_point_in_office_are_pointed_out(client):
    holder = focal_point("TD", name="Achta Mahamat")
    first = FocalPointRequest.objects.create(
        user=UserFactory(name="Idriss Deby"), party=party("TD"), justification="Nommé en 2025."
    )
    second = FocalPointRequest.objects.create(
        user=UserFactory(name="Fatimé Zara"), party=party("TD"), justification="Nommée en 2026."
    )
    alone = FocalPointRequest.objects.create(user=UserFactory(), party=party("FJ"), justification="Appointed")
    client.force_login(SecretariatFactory())
    page = client.get(QUEUE).content.decode()

    first_item = item(page, f"role-request-{first.pk}")
    assert "Another request for this Party is waiting:" in first_item
    assert f'href="#role-request-{second.pk}">Fatimé Zara</a>' in first_item
    assert "This Party already has a focal point:" in first_item and holder.public_name in first_item
    assert "Idriss Deby</a>" in item(page, f"role-request-{second.pk}")
    assert "notice" not in item(page, f"role-request-{alone.pk}")


def test_the_warnings_read_in_french(client):
    focal_point("TD")
    for _ in range(2):
        FocalPointRequest.objects.create(user=UserFactory(), party=party("TD"), justification="Nommé.")
    client.force_login(SecretariatFactory())
    page = client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Une autre demande pour cette Partie est en attente" in page
    assert "Cette Partie a déjà un correspondant national" in page


# --- The audit log in words -----------------------------------------------------------------------------


def test_the_audit_log_reads_actions_and_changes_in_words(client):
    secretariat = SecretariatFactory()
    need = submitted_need(title="Formation en taxonomie")
    services.posting_approve(user=secretariat, posting=need)
    other = submitted_need()
    services.posting_request_changes(user=secretariat, posting=other, message="Précisez le budget.")
    client.force_login(secretariat)
    page = client.get(reverse("audit_log")).content.decode()

    assert "Posting approved and published" in page and "Changes requested on a posting" in page
    assert re.search(r'Status</span>: <span class="before">Submitted for validation</span>.*?Published', page)
    assert "Message to the poster</span>:" in page and "Précisez le budget." in page
    assert f'<a href="/needs/{need.pk}/">Formation en taxonomie</a>' in page
    assert "{'status'" not in page and "{&#x27;status" not in page
    assert ">posting_approve<" not in page  # the code only as the filter's value
    assert '<option value="posting_approve">Posting approved and published</option>' in page


def test_the_audit_log_reads_in_french_and_keeps_its_filter_across_pages(client):
    secretariat = SecretariatFactory()
    for _ in range(51):
        entry = AuditEntry(actor=secretariat, action="match_dismiss", target_type="match", target_id=1)
        entry.before, entry.after, entry.target_label = {"status": "suggested"}, {"status": "dismissed"}, "x"
        entry.save()
    client.force_login(secretariat)
    page = client.get(reverse("audit_log"), {"action": "match_dismiss"}, HTTP_ACCEPT_LANGUAGE="fr")
    text = page.content.decode()
    assert "Mise en relation écartée" in text and "Écartée par le Secrétariat" in text
    assert 'href="?action=match_dismiss&amp;page=2"' in text
    assert "51 entrées" in text


def test_every_action_the_apps_record_has_words():
    root = Path(__file__).resolve().parents[2]
    codes: set[str] = set()
    for path in [*root.glob("*/services.py"), *root.glob("*/admin.py")]:
        source = path.read_text()
        codes |= set(re.findall(r'action="([a-z_]+)"', source))
        codes |= set(re.findall(r'_audited_move\(\s*[^)]*?"(posting_[a-z_]+)"', source, re.S))
        codes |= {f"match_{code}" for code in re.findall(r'_audit\(user, "([a-z_]+)"', source)}
        codes |= set(re.findall(r'"(organization_(?:approve|reject))"', source))
        codes |= set(re.findall(r'removal_action, no_roles = "([a-z_]+)"', source))
    codes |= {f"focal_point_request_{status}" for status in ("approved", "rejected")}
    assert len(codes) >= 20
    assert codes <= set(audit_display.ACTION_LABELS), codes - set(audit_display.ACTION_LABELS)


# --- The match queue: a summary, pages, real waiting times ------------------------------------------------


def test_the_match_queue_says_how_many_wait_since_when_and_which_are_shown(client):
    now = timezone.now()
    matches = [MatchFactory(score=0.9 - i / 100) for i in range(23)]
    Match.objects.filter(pk=matches[-1].pk).update(created_at=now - datetime.timedelta(days=12, hours=1))
    Match.objects.filter(pk=matches[0].pk).update(created_at=now - datetime.timedelta(days=3, hours=2))
    client.force_login(SecretariatFactory())

    first = client.get(reverse("match_queue"))
    text = first.content.decode()
    assert "23 matches waiting · oldest 12 days · showing 1–20" in text
    assert len(first.context["rows"]) == 20
    assert first.context["rows"][0]["days"] == 3 and first.context["rows"][1]["days"] == 0
    assert ">3 days<" in text and ">today<" in text

    second = client.get(reverse("match_queue"), {"page": 2})
    assert "showing 21–23" in second.content.decode()
    assert second.context["rows"][-1]["days"] == 12


def test_a_rescored_suggestion_keeps_its_waiting_time(client):
    match = MatchFactory()
    Match.objects.filter(pk=match.pk).update(created_at=timezone.now() - datetime.timedelta(days=5))
    Match.objects.filter(pk=match.pk).update(scored_at=timezone.now(), score=0.8)  # the matcher again
    client.force_login(SecretariatFactory())
    page = client.get(reverse("match_queue"))
    assert page.context["rows"][0]["days"] == 5
    assert "1 match waiting · oldest 5 days" in page.content.decode()


def test_an_empty_match_queue_says_so(client):
    OfferFactory()
    client.force_login(SecretariatFactory())
    text = client.get(reverse("match_queue")).content.decode()
    assert "0 matches waiting" in text and "Nothing waiting." in text and "showing" not in text


def test_the_manual_match_form_sums_up_its_errors(client):
    client.force_login(SecretariatFactory())
    page = client.post(reverse("match_create"), {"need": "", "offer": ""}).content.decode()
    assert 'class="error-summary"' in page and 'href="#id_need"' in page
