"""Needs and offers written through the services: permissions, validation, the lifecycle."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketplace import services
from marketplace.lifecycle import IllegalTransition
from marketplace.models import ClosedReason, Need, Offer, PostingStatus
from tests.factories import (
    NeedFactory,
    OfferFactory,
    OrganizationFactory,
    UserFactory,
    expert,
    focal_point,
    in_days,
    member,
    party,
)

pytestmark = pytest.mark.django_db


def need_data(**overrides):
    data = {
        "title": "Formation des douaniers aux espèces exotiques envahissantes",
        "description": "Nous cherchons une formation pour 30 agents des douanes.",
        "language": "fr",
        "subjects": ["invasive-alien-species"],
        "gbf_targets": ["gbf-target-6"],
        "support_types": ["training"],
        "countries": ["TD", "CM"],
        "regions": ["african"],
        "timeframe_start": in_days(30),
        "timeframe_end": in_days(200),
        "contact_name": "Amina Mahamat",
        "contact_email": "amina@example.org",
        "expires_on": in_days(180),
    }
    data.update(overrides)
    return data


def offer_data(**overrides):
    data = {
        "kind": "training",
        "title": "Customs training on invasive alien species",
        "description": "A five-day course for customs and border officers.",
        "language": "en",
        "subjects": ["invasive-alien-species"],
        "support_types": ["training"],
        "regions": ["african"],
        "delivery_languages": ["en", "fr"],
        "capacity": 3,
        "starts_on": in_days(40),
        "ends_on": in_days(45),
        "delivery_format": "hybrid",
        "seats": 25,
        "contact_name": "Jo Trainer",
        "contact_email": "jo@example.org",
        "expires_on": in_days(200),
    }
    data.update(overrides)
    return data


def counts():
    return (Need.objects.count(), Offer.objects.count(), Need.subjects.through.objects.count())


# --- Creating ------------------------------------------------------------------------------------------


def test_a_focal_point_posts_a_draft_need_for_their_party_with_its_facets():
    user = focal_point("TD")

    need = services.need_create(user=user, party=party("TD"), data=need_data())

    need.refresh_from_db()
    assert need.status == PostingStatus.DRAFT
    assert need.created_by == user
    assert [t.code for t in need.subjects.all()] == ["invasive-alien-species"]
    assert sorted(p.code for p in need.countries.all()) == ["CM", "TD"]
    assert need.regions == ["african"]


def test_a_focal_point_cannot_post_for_another_party_and_nothing_is_written():
    user = focal_point("TD")
    before = counts()

    with pytest.raises(PermissionDenied):
        services.need_create(user=user, party=party("CM"), data=need_data())

    assert counts() == before


def test_a_user_without_a_role_cannot_post_a_need_or_an_offer():
    user = UserFactory()
    organization = OrganizationFactory()
    with pytest.raises(PermissionDenied):
        services.need_create(user=user, organization=organization, data=need_data())
    with pytest.raises(PermissionDenied):
        services.offer_create(user=user, as_expert=True, data=offer_data())
    assert counts() == (0, 0, 0)


def test_an_organization_member_posts_needs_and_offers_for_it():
    organization = OrganizationFactory()
    user = member(organization)

    need = services.need_create(user=user, organization=organization, data=need_data())
    offer = services.offer_create(user=user, organization=organization, data=offer_data())

    assert need.organization == organization and need.party is None
    assert offer.organization == organization and offer.expert is None


def test_an_expert_posts_an_offer_in_their_own_name():
    user = expert()

    offer = services.offer_create(user=user, as_expert=True, data=offer_data(kind="expertise"))

    assert offer.expert == user.expert_profile
    # fields of other kinds of offer are cleared rather than left meaningless
    assert offer.starts_on is None and offer.seats is None and offer.delivery_format == ""


# --- Bad input: a clear error, nothing written -----------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"subjects": ["not-a-subject"]}, "subjects"),
        ({"gbf_targets": ["gbf-target-99"]}, "gbf_targets"),
        ({"support_types": ["taxonomy"]}, "support_types"),  # a subject code is not a support type
        ({"countries": ["XX"]}, "countries"),
        ({"timeframe_end": in_days(10), "timeframe_start": in_days(20)}, "timeframe_end"),
        ({"description": "x" * 1_000_000}, "description"),
        ({"language": "xx"}, "language"),
        ({"regions": ["atlantis"]}, "regions"),
        ({"contact_email": "not an address"}, "contact_email"),
        ({"expires_on": datetime.date(2001, 1, 1)}, "expires_on"),
        ({"subjects": []}, "subjects"),
    ],
)
def test_bad_need_input_names_the_field_and_writes_nothing(overrides, field):
    user = focal_point("TD")
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.need_create(user=user, party=party("TD"), data=need_data(**overrides))

    assert field in error.value.message_dict
    assert error.value.message_dict[field][0]
    assert counts() == before


def test_unknown_codes_are_listed_in_the_message():
    with pytest.raises(ValidationError) as error:
        services.need_create(
            user=focal_point("TD"), party=party("TD"), data=need_data(subjects=["taxonomy", "bogus", "nope"])
        )
    assert error.value.message_dict["subjects"] == ["Unknown code: bogus, nope."]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_on": in_days(30), "starts_on": in_days(40)}, "ends_on"),
        ({"starts_on": None}, "starts_on"),
        ({"delivery_format": ""}, "delivery_format"),
        ({"capacity": 0}, "capacity"),
        ({"delivery_languages": []}, "delivery_languages"),
        ({"regions": [], "countries": [], "global_coverage": False}, "countries"),
        ({"kind": "funding", "eligibility": ""}, "eligibility"),
        ({"kind": "technology", "readiness_level": 12}, "readiness_level"),
        ({"kind": "wizardry"}, "kind"),
    ],
)
def test_bad_offer_input_names_the_field_and_writes_nothing(overrides, field):
    user = expert()
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.offer_create(user=user, as_expert=True, data=offer_data(**overrides))

    assert field in error.value.message_dict
    assert counts() == before


def test_every_error_is_reported_at_once():
    with pytest.raises(ValidationError) as error:
        services.need_create(
            user=focal_point("TD"),
            party=party("TD"),
            data=need_data(title="", subjects=["bogus"], contact_email="x"),
        )
    assert {"title", "subjects", "contact_email"} <= set(error.value.message_dict)


def test_html_is_stored_as_typed_and_never_interpreted():
    need = services.need_create(
        user=focal_point("TD"), party=party("TD"), data=need_data(title="<script>alert(1)</script> Herbaria")
    )
    assert need.title == "<script>alert(1)</script> Herbaria"


def test_a_failed_update_leaves_the_posting_as_it_was():
    user = focal_point("TD")
    need = services.need_create(user=user, party=party("TD"), data=need_data())

    with pytest.raises(ValidationError):
        services.posting_update(user=user, posting=need, data={"title": "New title", "subjects": ["bogus"]})

    need.refresh_from_db()
    assert need.title == need_data()["title"]
    assert [t.code for t in need.subjects.all()] == ["invasive-alien-species"]


def test_an_update_changes_only_the_fields_given():
    user = focal_point("TD")
    need = services.need_create(user=user, party=party("TD"), data=need_data())

    services.posting_update(
        user=user, posting=need, data={"title": "Taxonomy training", "subjects": ["taxonomy"]}
    )

    need.refresh_from_db()
    assert need.title == "Taxonomy training"
    assert [t.code for t in need.subjects.all()] == ["taxonomy"]
    assert [t.code for t in need.support_types.all()] == ["training"]


def test_only_owners_can_edit():
    need = NeedFactory(status=PostingStatus.DRAFT)
    with pytest.raises(PermissionDenied):
        services.posting_update(user=focal_point("CM"), posting=need, data={"title": "Hijacked"})
    need.refresh_from_db()
    assert need.title != "Hijacked"


# --- Lifecycle -------------------------------------------------------------------------------------


def test_draft_to_submitted_to_published_to_fulfilled(secretariat):
    user = focal_point("TD")
    need = services.need_create(user=user, party=party("TD"), data=need_data())

    need = services.posting_submit(user=user, posting=need)
    assert need.status == PostingStatus.SUBMITTED and need.submitted_at
    need = services.posting_approve(user=secretariat, posting=need)
    assert need.status == PostingStatus.PUBLISHED and need.published_at
    need = services.posting_close(user=user, posting=need, reason=ClosedReason.FULFILLED)

    need.refresh_from_db()
    assert (need.status, need.closed_reason) == (PostingStatus.CLOSED, ClosedReason.FULFILLED)
    assert need.closed_at


def test_changes_requested_send_the_posting_back_to_draft_with_the_message(secretariat):
    user = focal_point("TD")
    need = services.posting_submit(
        user=user, posting=services.need_create(user=user, party=party("TD"), data=need_data())
    )

    services.posting_request_changes(user=secretariat, posting=need, message="Please add a budget.")

    need.refresh_from_db()
    assert need.status == PostingStatus.DRAFT
    assert need.status_message == "Please add a budget."


def test_rejection_closes_with_the_reason_and_needs_a_message(secretariat):
    need = NeedFactory(status=PostingStatus.SUBMITTED, published_at=None)
    with pytest.raises(ValidationError) as error:
        services.posting_reject(user=secretariat, posting=need, message="  ")
    assert "message" in error.value.message_dict
    need.refresh_from_db()
    assert need.status == PostingStatus.SUBMITTED

    services.posting_reject(user=secretariat, posting=need, message="Out of scope.")
    need.refresh_from_db()
    assert (need.status, need.closed_reason) == (PostingStatus.CLOSED, ClosedReason.REJECTED)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (PostingStatus.DRAFT, "approve"),
        (PostingStatus.PUBLISHED, "approve"),
        (PostingStatus.CLOSED, "submit"),
        (PostingStatus.DRAFT, "fulfil"),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(secretariat, status, action):
    user = focal_point("TD")
    need = NeedFactory(
        status=status, created_by=user, closed_reason="withdrawn" if status == "closed" else ""
    )
    move = {
        "approve": lambda: services.posting_approve(user=secretariat, posting=need),
        "submit": lambda: services.posting_submit(user=user, posting=need),
        "fulfil": lambda: services.posting_close(user=user, posting=need, reason=ClosedReason.FULFILLED),
    }[action]

    with pytest.raises(IllegalTransition):
        move()

    need.refresh_from_db()
    assert need.status == status


def test_editing_a_published_posting_sends_it_back_for_validation(secretariat):
    user = focal_point("TD")
    need = NeedFactory(created_by=user)

    need = services.posting_update(user=user, posting=need, data={"title": "Now about something else"})

    need.refresh_from_db()
    assert need.title == "Now about something else"
    assert need.status == PostingStatus.SUBMITTED
    services.posting_approve(user=secretariat, posting=need)
    need.refresh_from_db()
    assert need.status == PostingStatus.PUBLISHED


def test_field_and_cross_field_errors_come_together():
    with pytest.raises(ValidationError) as error:
        services.need_create(
            user=focal_point("TD"),
            party=party("TD"),
            data=need_data(title="", timeframe_start=in_days(20), timeframe_end=in_days(10)),
        )
    assert {"title", "timeframe_end"} <= set(error.value.message_dict)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expires_on": in_days(3 * 366 + 30)}, "expires_on"),
        ({"seats": 0}, "seats"),
        ({"starts_on": in_days(-30), "ends_on": in_days(-25)}, "ends_on"),
    ],
)
def test_offer_bounds(overrides, field):
    with pytest.raises(ValidationError) as error:
        services.offer_create(user=expert(), as_expert=True, data=offer_data(**overrides))
    assert field in error.value.message_dict


def test_a_submitted_posting_cannot_be_edited():
    user = focal_point("TD")
    need = NeedFactory(status=PostingStatus.SUBMITTED, created_by=user)
    with pytest.raises(IllegalTransition):
        services.posting_update(user=user, posting=need, data={"title": "Changed under review"})


def test_only_the_secretariat_validates():
    owner = focal_point("TD")
    need = NeedFactory(status=PostingStatus.SUBMITTED, created_by=owner)
    for user in (owner, UserFactory()):
        with pytest.raises(PermissionDenied):
            services.posting_approve(user=user, posting=need)
        with pytest.raises(PermissionDenied):
            services.posting_reject(user=user, posting=need, message="no")
    need.refresh_from_db()
    assert need.status == PostingStatus.SUBMITTED


def test_other_users_cannot_submit_or_close_a_posting():
    need = NeedFactory(status=PostingStatus.DRAFT)
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        services.posting_submit(user=stranger, posting=need)
    with pytest.raises(PermissionDenied):
        services.posting_close(user=stranger, posting=need, reason=ClosedReason.WITHDRAWN)
    need.refresh_from_db()
    assert need.status == PostingStatus.DRAFT


def test_every_focal_point_of_the_party_answers_for_its_needs():
    need = NeedFactory(status=PostingStatus.DRAFT)  # party TD, created by someone else
    colleague = focal_point("TD")
    services.posting_submit(user=colleague, posting=need)
    need.refresh_from_db()
    assert need.status == PostingStatus.SUBMITTED


def test_expiry_closes_published_postings_past_their_date_and_is_idempotent():
    expired = NeedFactory(expires_on=in_days(-1))
    current = NeedFactory(expires_on=in_days(10))
    expired_offer = OfferFactory(expires_on=in_days(-3))
    draft = NeedFactory(status=PostingStatus.DRAFT, expires_on=in_days(-1))

    assert services.postings_close_expired() == 2
    assert services.postings_close_expired() == 0

    for posting, status in [
        (expired, "closed"),
        (current, "published"),
        (expired_offer, "closed"),
        (draft, "draft"),
    ]:
        posting.refresh_from_db()
        assert posting.status == status
    assert expired.closed_reason == ClosedReason.EXPIRED
