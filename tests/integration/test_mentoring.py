"""The mentoring programme on PostgreSQL with the real model: who may declare and ask, the engine's
candidates, a cohort assigned within capacities, edited, confirmed and announced once, a pairing
followed."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from core.models import AuditEntry
from mentoring import notification_kinds as mentoring_kinds
from mentoring import selectors as mentoring_selectors
from mentoring import services as mentoring_services
from mentoring.models import (
    Mentor,
    MentoringForm,
    MentoringPairing,
    MentoringRequest,
    PairingStatus,
    RequestStatus,
)
from notifications.models import Notification
from tests.factories import OrganizationFactory, UserFactory, focal_point, in_days, member, party

pytestmark = pytest.mark.django_db

HOSTING_TEXT = (
    "We have hosted the national clearing-house websites of eleven partner countries for twenty years, built "
    "standardised sites, mirror sites for slow connections and trained their webmasters."
)


def mentor_for(code: str, *, forms, capacity=1, languages=("fr", "en"), text=HOSTING_TEXT) -> Mentor:
    return mentoring_services.mentor_save(
        user=focal_point(code),
        party=party(code),
        data={"forms": list(forms), "languages": list(languages), "capacity": capacity, "description": text},
    )


def request_for(
    code: str,
    *,
    forms,
    goals="Our clearing-house site is down; we need hosting and training.",
    languages=("fr",),
) -> MentoringRequest:
    return mentoring_services.mentoring_request_create(
        user=focal_point(code),
        party=party(code),
        data={"forms": list(forms), "languages": list(languages), "goals": goals},
    )


def test_only_those_who_answer_for_a_mentor_can_declare_it():
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        mentoring_services.mentor_save(user=stranger, party=party("BE"), data={"forms": ["hosting"]})
    organization = OrganizationFactory()
    plain_member = member(organization)
    with pytest.raises(PermissionDenied):
        mentoring_services.mentor_save(
            user=plain_member, organization=organization, data={"forms": ["hosting"]}
        )
    with pytest.raises(ValidationError) as error:
        mentoring_services.mentor_save(
            user=focal_point("BE"), party=party("BE"), data={"forms": [], "capacity": 0}
        )
    assert {"forms", "languages", "capacity", "description"} <= set(error.value.message_dict)
    assert not Mentor.objects.exists()
    admin = member(organization, admin=True)
    mentor = mentoring_services.mentor_save(
        user=admin,
        organization=organization,
        data={"forms": ["advice"], "languages": ["en"], "capacity": 2, "description": "Advice on data."},
    )
    assert mentor.organization == organization and mentor.capacity == 2


def test_a_party_asks_once_and_only_through_its_focal_point():
    with pytest.raises(PermissionDenied):
        mentoring_services.mentoring_request_create(
            user=UserFactory(), party=party("TD"), data={"forms": ["hosting"]}
        )
    request_for("TD", forms=["hosting"])
    with pytest.raises(ValidationError, match="already has an open"):
        request_for("TD", forms=["training"])
    assert MentoringRequest.objects.count() == 1


def test_candidates_share_forms_and_have_places_left():
    belgium = mentor_for("BE", forms=["hosting", "training"])
    mentor_for("FR", forms=["mirror_site"])  # offers nothing Chad asks for
    full = mentor_for("CA", forms=["hosting"], capacity=1)
    MentoringPairing.objects.create(
        mentor=full, request=request_for("HT", forms=["hosting"]), status="active"
    )
    candidates = mentoring_selectors.mentor_candidates(request_for("TD", forms=["hosting", "training"]))
    assert [c.mentor for c in candidates] == [belgium]
    assert candidates[0].reasons["forms"] == ["hosting", "training"] and candidates[0].places_left == 1


def test_a_cohort_is_assigned_within_capacities_edited_and_confirmed_once(
    secretariat, django_capture_on_commit_callbacks
):
    belgium = mentor_for("BE", forms=["hosting", "site_development", "training"], capacity=1)
    canada = mentor_for("CA", forms=["hosting", "advice"], capacity=1, languages=("en", "fr"))
    chad = request_for("TD", forms=["hosting", "training"])
    haiti = request_for("HT", forms=["hosting", "advice"])
    niger = request_for("NE", forms=["hosting"])

    with pytest.raises(PermissionDenied):
        mentoring_services.cohort_propose(user=focal_point("TD"), name="2027", requests=[chad])
    cohort = mentoring_services.cohort_propose(
        user=secretariat, name="Francophone cohort 2027", requests=[chad, haiti, niger]
    )
    pairs = {p.request: p.mentor for p in cohort.pairings.all()}
    # Two places for three mentees: the best total gives Belgium to Chad and Canada to Haiti.
    assert pairs == {chad: belgium, haiti: canada}
    assert all(p.status == PairingStatus.PROPOSED for p in cohort.pairings.all())
    assert not Notification.objects.exists()  # nothing announced before confirmation

    with pytest.raises(ValidationError, match="no place left"):
        mentoring_services.cohort_assign(user=secretariat, cohort=cohort, request=niger, mentor=belgium)
    mentoring_services.cohort_assign(user=secretariat, cohort=cohort, request=chad, mentor=None)
    mentoring_services.cohort_assign(user=secretariat, cohort=cohort, request=niger, mentor=belgium)
    assert {p.request: p.mentor for p in cohort.pairings.all()} == {niger: belgium, haiti: canada}

    with django_capture_on_commit_callbacks(execute=True):
        mentoring_services.cohort_confirm(user=secretariat, cohort=cohort)
    assert set(cohort.pairings.values_list("status", flat=True)) == {PairingStatus.ACTIVE}
    assert MentoringRequest.objects.get(pk=niger.pk).status == RequestStatus.PAIRED
    assert MentoringRequest.objects.get(pk=chad.pk).status == RequestStatus.OPEN
    announced = Notification.objects.filter(kind=mentoring_kinds.MENTORING_PAIRED)
    # each pairing: the mentor's focal point and the mentee's focal point, once
    assert announced.count() == 4 and announced.values("recipient", "event_key").distinct().count() == 4
    with pytest.raises(ValidationError):
        mentoring_services.cohort_confirm(user=secretariat, cohort=cohort)
    assert announced.count() == 4
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "cohort_propose",
        "cohort_assign",
        "cohort_assign",
        "cohort_confirm",
    ]


def test_a_pairing_is_followed_by_its_two_sides_only(client, secretariat):
    mentor = mentor_for("BE", forms=["hosting"])
    request = request_for("TD", forms=["hosting"])
    pairing = mentoring_services.pairing_create(user=secretariat, request=request, mentor=mentor)
    mentor_person = mentoring_selectors.mentor_owners(mentor).get()
    mentee_person = mentoring_selectors.mentee_owners(request).get()
    mentoring_services.milestone_add(
        user=mentor_person, pairing=pairing, title="Site migrated", due_on=in_days(60)
    )
    mentoring_services.check_in_add(user=mentee_person, pairing=pairing, note="First call held.")
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        mentoring_services.check_in_add(user=stranger, pairing=pairing, note="Hello")
    with pytest.raises(ValidationError):
        mentoring_services.pairing_create(user=secretariat, request=request, mentor=mentor)  # no longer open
    client.force_login(stranger)
    assert client.get(reverse("pairing_detail", args=[pairing.pk])).status_code == 404
    client.force_login(mentee_person)
    page = client.get(reverse("pairing_detail", args=[pairing.pk]))
    assert b"Site migrated" in page.content and b"First call held." in page.content
    assert "Hosting of the national clearing-house" in page.content.decode()  # a label, not the code
    mentoring_services.pairing_end(user=mentee_person, pairing=pairing, status="completed")
    with pytest.raises(ValidationError):
        mentoring_services.check_in_add(user=mentee_person, pairing=pairing, note="After the end")


def test_forms_of_support_and_languages_read_as_words_in_the_readers_language():
    mentor = Mentor(forms=["mirror_site", "retired_form"], languages=["fr", "es"])
    with translation.override("fr"):
        assert mentor.form_labels == [str(MentoringForm.MIRROR_SITE.label)] == ["Site miroir"]
        assert mentor.language_labels == ["Français", "Espagnol"]


ACTORS = ("anonymous", "other user", "mentor", "mentee", "secretariat")


@pytest.mark.parametrize("who", ACTORS)
def test_mentoring_permission_matrix(who, secretariat, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import AnonymousUser

    mentor = mentor_for("BE", forms=["hosting"], capacity=2)
    request = request_for("TD", forms=["hosting"])
    waiting = request_for("HT", forms=["hosting"])
    pairing = mentoring_services.pairing_create(user=secretariat, request=request, mentor=mentor)
    user = {
        "anonymous": AnonymousUser,
        "other user": UserFactory,
        "mentor": lambda: mentoring_selectors.mentor_owners(mentor).get(),
        "mentee": lambda: mentoring_selectors.mentee_owners(request).get(),
        "secretariat": lambda: secretariat,
    }[who]()
    actions = {
        "check_in": (
            lambda: mentoring_services.check_in_add(user=user, pairing=pairing, note="Call held."),
            ALL_SIDES,
        ),
        "milestone": (
            lambda: mentoring_services.milestone_add(
                user=user, pairing=pairing, title="Site up", due_on=in_days(9)
            ),
            ALL_SIDES,
        ),
        "propose": (
            lambda: mentoring_services.cohort_propose(user=user, name="C", requests=[waiting]),
            {"secretariat"},
        ),
        "pair": (
            lambda: mentoring_services.pairing_create(user=user, request=waiting, mentor=mentor),
            {"secretariat"},
        ),
    }

    def state():
        return (
            pairing.check_ins.count(),
            pairing.milestones.count(),
            MentoringPairing.objects.count(),
            AuditEntry.objects.count(),
            Notification.objects.count(),
        )

    for name, (call, allowed) in actions.items():
        if who in allowed:
            continue
        before = state()
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
            call()
        assert state() == before, name
    for name, (call, allowed) in actions.items():
        if who in allowed and name != "propose":
            call()


ALL_SIDES = {"mentor", "mentee", "secretariat"}
