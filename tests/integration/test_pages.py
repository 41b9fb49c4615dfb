"""The plain pages, through Django's test client against the real database."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from marketplace.models import Need, PostingStatus
from tests.factories import (
    NeedFactory,
    OfferFactory,
    SecretariatFactory,
    UserFactory,
    expert,
    focal_point,
    in_days,
)

pytestmark = pytest.mark.django_db


def need_form(**overrides):
    data = {
        "poster": "party:TD",
        "title": "Formation en taxonomie des graminées",
        "description": "Nous avons besoin de former cinq techniciens de l'herbier national.",
        "language": "fr",
        "subjects": ["taxonomy"],
        "support_types": ["training"],
        "countries": ["TD"],
        "timeframe_start": in_days(30).isoformat(),
        "timeframe_end": in_days(120).isoformat(),
        "contact_name": "Achta",
        "contact_email": "achta@example.org",
        "expires_on": in_days(180).isoformat(),
    }
    data.update(overrides)
    return data


def test_home_lists_published_postings_in_every_language(client):
    for language, title in [
        ("en", "Herbarium training"),
        ("fr", "Formation douaniers"),
        ("es", "Sitio web CHM"),
    ]:
        NeedFactory(language=language, title=title)
    NeedFactory(status=PostingStatus.DRAFT, title="Secret draft")

    response = client.get(reverse("home"))

    assert response.status_code == 200
    body = response.content.decode()
    for title in ("Herbarium training", "Formation douaniers", "Sitio web CHM"):
        assert title in body
    assert "Secret draft" not in body


def test_every_page_names_the_sites_icon_and_favicon_ico_leads_to_it(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon["Location"].endswith(".svg")
    assert f'rel="icon" href="{icon["Location"]}"' in client.get(reverse("home")).content.decode()


def test_browse_filters_and_paginates(client):
    NeedFactory(title="Camera traps for Peru", subjects=["biodiversity-data"])
    NeedFactory(title="Taxonomy course", subjects=["taxonomy"])
    response = client.get(
        reverse("posting_list", args=["need"]), {"subject": "biodiversity-data", "page": "x"}
    )
    assert response.status_code == 200
    assert "Camera traps for Peru" in response.content.decode()
    assert "Taxonomy course" not in response.content.decode()
    assert client.get("/wizards/").status_code == 404


def test_detail_hides_contact_details_from_the_public_and_shows_them_to_the_owner(client):
    owner = focal_point("TD")
    need = NeedFactory(contact_email="private.contact@example.org", created_by=owner)
    url = reverse("posting_detail", args=["need", need.pk])

    assert "private.contact@example.org" not in client.get(url).content.decode()
    client.force_login(UserFactory())
    assert "private.contact@example.org" not in client.get(url).content.decode()
    client.force_login(owner)
    assert "private.contact@example.org" in client.get(url).content.decode()


def test_drafts_are_404_for_anyone_but_their_owner(client):
    owner = focal_point("TD")
    draft = NeedFactory(status=PostingStatus.DRAFT, created_by=owner)
    url = reverse("posting_detail", args=["need", draft.pk])
    assert client.get(url).status_code == 404
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.get(reverse("posting_edit", args=["need", draft.pk])).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200


def test_html_in_text_is_escaped_on_output(client):
    need = NeedFactory(
        title="<script>alert('x')</script>", description="<b>bold</b> & <img src=x onerror=alert(1)>"
    )
    body = client.get(reverse("posting_detail", args=["need", need.pk])).content.decode()
    assert "<script>alert(" not in body and "&lt;script&gt;" in body
    assert "<img src=x" not in body and "&lt;img src=x" in body


def test_posting_a_need_with_bad_input_shows_form_errors_and_writes_nothing(client):
    client.force_login(focal_point("TD"))
    url = reverse("posting_create", args=["need"])
    cases = {
        "title": need_form(title=""),
        "timeframe_end": need_form(timeframe_end=in_days(10).isoformat()),
        "description": need_form(description="x" * 1_000_000),
        "subjects": need_form(subjects=["not-a-code"]),
    }
    for field, data in cases.items():
        response = client.post(url, data)
        assert response.status_code == 200, field
        assert response.context["form"].errors.get(field), field
    assert Need.objects.count() == 0


def test_a_focal_point_posts_and_submits_a_need_then_the_secretariat_publishes_it(client, secretariat):
    client.force_login(focal_point("TD"))
    response = client.post(reverse("posting_create", args=["need"]), {**need_form(), "submit": "1"})
    need = Need.objects.get()
    assert response.status_code == 302
    assert need.status == PostingStatus.SUBMITTED

    client.force_login(secretariat)
    queue = client.get(reverse("validation_queue"))
    assert need.title in queue.content.decode()
    client.post(reverse("posting_moderate", args=["need", need.pk]), {"decision": "approve"})
    need.refresh_from_db()
    assert need.status == PostingStatus.PUBLISHED


def test_requesting_changes_without_a_message_is_refused(client, secretariat):
    need = NeedFactory(status=PostingStatus.SUBMITTED, published_at=None)
    client.force_login(secretariat)
    response = client.post(
        reverse("posting_moderate", args=["need", need.pk]),
        {"decision": "changes", "message": ""},
        follow=True,
    )
    assert "Tell the poster why." in response.content.decode()
    need.refresh_from_db()
    assert need.status == PostingStatus.SUBMITTED


@pytest.mark.parametrize("who", ["anonymous", "other user", "owner"])
def test_only_the_secretariat_reaches_the_validation_queue_or_moderates(client, who):
    owner = focal_point("TD")
    need = NeedFactory(status=PostingStatus.SUBMITTED, published_at=None, created_by=owner)
    if who != "anonymous":
        client.force_login(owner if who == "owner" else UserFactory())

    queue = client.get(reverse("validation_queue"))
    moderate = client.post(reverse("posting_moderate", args=["need", need.pk]), {"decision": "approve"})

    expected = 302 if who == "anonymous" else 403
    assert queue.status_code == expected and moderate.status_code == expected
    need.refresh_from_db()
    assert need.status == PostingStatus.SUBMITTED


def test_users_without_a_role_are_told_how_to_get_one(client):
    client.force_login(UserFactory())
    response = client.get(reverse("posting_create", args=["need"]))
    assert response.status_code == 403
    assert reverse("focal_point_request") in response.content.decode()


def test_an_expert_posts_a_training_offer(client):
    client.force_login(expert())
    response = client.post(
        reverse("posting_create", args=["offer"]),
        {
            "poster": "expert",
            "kind": "training",
            "title": "Grass taxonomy course",
            "description": "Ten days in the herbarium.",
            "language": "en",
            "capacity": "2",
            "starts_on": in_days(50).isoformat(),
            "ends_on": in_days(60).isoformat(),
            "delivery_format": "hybrid",
            "subjects": ["taxonomy"],
            "support_types": ["training"],
            "regions": ["african"],
            "delivery_languages": ["en", "fr"],
            "contact_name": "X",
            "contact_email": "x@example.org",
            "expires_on": in_days(100).isoformat(),
        },
    )
    assert response.status_code == 302
    offer = OfferFactory._meta.model.objects.get(title="Grass taxonomy course")
    assert offer.status == PostingStatus.DRAFT and offer.delivery_languages == ["en", "fr"]


def test_posts_without_a_csrf_token_are_refused():
    client = Client(enforce_csrf_checks=True)
    client.force_login(focal_point("TD"))
    response = client.post(reverse("posting_create", args=["need"]), need_form())
    assert response.status_code == 403
    assert Need.objects.count() == 0


def test_the_edit_page_of_a_submitted_posting_sends_the_owner_back_with_a_message(client):
    owner = focal_point("TD")
    need = NeedFactory(status=PostingStatus.SUBMITTED, created_by=owner)
    client.force_login(owner)
    response = client.get(reverse("posting_edit", args=["need", need.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("posting_detail", args=["need", need.pk])
    assert "cannot be edited now" in response.content.decode()


def test_editing_a_published_need_through_the_page_sends_it_back_for_validation(client):
    owner = focal_point("TD")
    need = NeedFactory(created_by=owner, language="fr", countries=["TD"])
    client.force_login(owner)
    form = {k: v for k, v in need_form(title="Titre corrigé").items() if k != "poster"}
    response = client.post(reverse("posting_edit", args=["need", need.pk]), form, follow=True)
    need.refresh_from_db()
    assert need.title == "Titre corrigé" and need.status == PostingStatus.SUBMITTED
    assert "sent to the secretariat for validation" in response.content.decode()


def test_inline_check_reports_the_filled_fields_errors_and_saves_nothing(client):
    client.force_login(focal_point("TD"))
    url = reverse("posting_check", args=["need"])
    response = client.post(url, {"title": "Former les douaniers", "contact_email": "not-an-address"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="errors-contact_email" role="alert" hx-swap-oob="true"><ul class="errorlist"' in html
    assert "valid email address" in html
    # the title is fine, and empty required fields wait for the real submit
    assert 'id="errors-title" role="alert" hx-swap-oob="true"></div>' in html
    assert 'id="errors-description" role="alert" hx-swap-oob="true"></div>' in html
    assert Need.objects.count() == 0
    assert client.get(url).status_code == 405
    client.logout()
    assert client.post(url, {"title": "x"}).status_code == 302  # to sign in


def test_a_published_posting_says_matching_until_the_matcher_has_read_it(client):
    from matching import suggestions

    need = NeedFactory(status=PostingStatus.PUBLISHED)  # saved directly: no task has matched it
    notice = "Matching… the matcher is reading this posting"
    assert notice in client.get(f"/needs/{need.pk}/").content.decode()

    suggestions.posting_match(side="need", posting_id=need.pk)
    assert notice not in client.get(f"/needs/{need.pk}/").content.decode()


def test_the_validation_queue_chooses_no_decision_beforehand_and_an_unchosen_one_changes_nothing(client):
    need = NeedFactory(
        created_by=focal_point("TD"), status=PostingStatus.SUBMITTED, submitted_at=timezone.now()
    )
    client.force_login(SecretariatFactory())
    queue = client.get(reverse("validation_queue")).content.decode()
    assert f'id="need-{need.pk}"' in queue and " checked" not in queue
    answer = client.post(
        reverse("posting_moderate", args=["need", need.pk]), {"next": reverse("validation_queue")}
    )
    assert answer.status_code == 400  # the queue again, the refusal on its item
    need.refresh_from_db()
    assert need.status == PostingStatus.SUBMITTED
    assert "Choose a decision." in answer.content.decode()
