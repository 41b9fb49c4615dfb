"""What a person does on the account pages, a program does through the API with the same services: public
name and expert profile, the focal-point request and the secretariat's decision, organizations and their
invitations. Each refusal changes nothing and notifies nobody."""

import pytest
from django.core import mail
from django.test import TestCase
from rest_framework.test import APIClient

from marketplace import permissions, services
from marketplace.models import (
    ExpertProfile,
    FocalPointAssignment,
    FocalPointRequest,
    OrganizationInvitation,
    OrganizationMembership,
    RoleRequestStatus,
)
from tests.api.conftest import client_for
from tests.factories import OrganizationFactory, UserFactory, member, party

from .conftest import state

pytestmark = pytest.mark.django_db

ROLE_MODELS = (
    FocalPointRequest,
    FocalPointAssignment,
    OrganizationMembership,
    OrganizationInvitation,
    ExpertProfile,
)


def everything(*records) -> list:
    """`state` widened to the rows these endpoints write, and the e-mails sent."""
    return [*state(*records), [model.objects.count() for model in ROLE_MODELS], len(mail.outbox)]


def error_of(response) -> tuple[str, str | None]:
    error = response.json()["errors"][0]
    return error["code"], error["attr"]


# --- The focal-point request, end to end -----------------------------------------------------------------


def test_a_focal_point_request_is_asked_and_granted_through_the_api(world):
    asker, secretariat = client_for(world.users["other"]), world.client("secretariat")

    created = asker.post(
        "/api/v1/role-requests/",
        {"party": "SN", "justification": "Appointed by decree 2024-12."},
        format="json",
    )
    assert created.status_code == 201, created.json()
    request_id = created.json()["id"]
    assert created.json()["status"] == "pending" and created.json()["party"] == "SN"
    assert [row["id"] for row in asker.get("/api/v1/role-requests/").json()["results"]] == [request_id]

    queue = secretariat.get("/api/v1/queue/role-requests/").json()["results"]
    assert [(row["id"], row["user_email"]) for row in queue] == [(request_id, world.users["other"].email)]

    approved = secretariat.post(
        f"/api/v1/role-requests/{request_id}/approve/", {"note": "Welcome."}, format="json"
    )
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved" and approved.json()["decision_note"] == "Welcome."
    assert asker.get("/api/v1/me/").json()["focal_point_for"] == ["SN"]
    assert permissions.can_post_need(world.users["other"], party=party("SN"))
    assert secretariat.get("/api/v1/queue/role-requests/").json()["results"] == []

    before = everything(FocalPointRequest.objects.get(pk=request_id))
    for verb in ("approve", "reject"):
        again = secretariat.post(f"/api/v1/role-requests/{request_id}/{verb}/", {}, format="json")
        assert again.status_code == 409 and error_of(again) == ("already_decided", None)
    assert everything(FocalPointRequest.objects.get(pk=request_id)) == before


def test_a_rejected_request_grants_nothing(world):
    role_request = services.focal_point_request_create(
        user=world.users["other"], party=party("TD"), justification="Please."
    )
    response = world.client("secretariat").post(
        f"/api/v1/role-requests/{role_request.pk}/reject/",
        {"note": "Unknown to the ministry."},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert not FocalPointAssignment.objects.exists()


def test_a_focal_point_request_is_checked(world):
    asker = world.client("other")
    services.focal_point_request_create(user=world.users["other"], party=party("SN"), justification="Decree.")
    before = everything()
    for body, attr in (
        ({"party": "XX", "justification": "Decree."}, "party"),
        ({"party": "TD", "justification": "   "}, "justification"),
        ({"party": "SN", "justification": "Again."}, "party"),  # already waiting
        ({"justification": "Decree."}, "party"),
    ):
        response = asker.post("/api/v1/role-requests/", body, format="json")
        assert response.status_code == 400 and error_of(response)[1] == attr, (body, response.json())
    assert everything() == before


@pytest.mark.parametrize(
    ("actor", "decide", "read", "queue"),
    [
        ("anonymous", 401, 401, 401),
        ("other", 403, 404, 403),
        ("owner", 403, 200, 403),  # the one who asked
        ("member", 403, 404, 403),
    ],
)
def test_role_request_permission_matrix(world, actor, decide, read, queue):
    role_request = services.focal_point_request_create(
        user=world.users["owner"], party=party("SN"), justification="Decree."
    )
    client = world.client(actor)
    assert client.get(f"/api/v1/role-requests/{role_request.pk}/").status_code == read
    assert client.get("/api/v1/queue/role-requests/").status_code == queue
    before = everything(role_request)
    for verb in ("approve", "reject"):
        assert (
            client.post(f"/api/v1/role-requests/{role_request.pk}/{verb}/", {}, format="json").status_code
            == decide
        )
    assert everything(role_request) == before
    assert role_request.status == RoleRequestStatus.PENDING
    assert not FocalPointAssignment.objects.exists()
    if actor != "anonymous":  # one's own list never shows others' requests
        listed = client.get("/api/v1/role-requests/").json()["results"]
        assert [row["id"] for row in listed] == ([role_request.pk] if actor == "owner" else [])


def test_the_secretariat_opens_any_request_and_an_unknown_one_is_404(world):
    role_request = services.focal_point_request_create(
        user=world.users["owner"], party=party("SN"), justification="Decree."
    )
    secretariat = world.client("secretariat")
    assert secretariat.get(f"/api/v1/role-requests/{role_request.pk}/").status_code == 200
    assert secretariat.post("/api/v1/role-requests/999999/approve/", {}, format="json").status_code == 404


# --- Organizations and invitations, end to end ------------------------------------------------------------


def test_an_organization_is_registered_and_a_colleague_invited_joins_declines_and_leaves(world, secretariat):
    founder_user = UserFactory()
    invitee_user = UserFactory(email="colleague@example.org")
    founder, invitee = client_for(founder_user), client_for(invitee_user)

    created = founder.post(
        "/api/v1/me/organizations/",
        {"name": "Herbier du Sahel", "acronym": "HDS", "type": "academia", "country": "SN"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["is_admin"] is True and body["is_approved"] is False and body["country"] == "SN"
    org_id = body["id"]

    # not approved yet: no invitation, no e-mail
    refused = founder.post(
        f"/api/v1/me/organizations/{org_id}/invitations/", {"email": invitee_user.email}, format="json"
    )
    assert refused.status_code == 403
    assert not OrganizationInvitation.objects.exists() and mail.outbox == []

    # the secretariat finds it in its queue, with who registered it, and approves it
    organization = OrganizationMembership.objects.get(user=founder_user).organization
    staff = client_for(secretariat)
    queued = staff.get("/api/v1/queue/organizations/").json()["results"]
    assert [(row["id"], row["admins"]) for row in queued] == [
        (org_id, [{"name": founder_user.public_name, "email": founder_user.email}])
    ]
    approved = staff.post(
        f"/api/v1/queue/organizations/{org_id}/approve/", {"note": "Welcome."}, format="json"
    )
    assert approved.status_code == 200, approved.json()
    assert approved.json()["approved_at"] and approved.json()["decision_note"] == "Welcome."
    assert founder.get(f"/api/v1/me/organizations/{org_id}/").json()["is_approved"] is True
    assert staff.get("/api/v1/queue/organizations/").json()["results"] == []
    before = everything(organization)
    twice = staff.post(f"/api/v1/queue/organizations/{org_id}/reject/")
    assert twice.status_code == 409 and error_of(twice) == ("already_decided", None)
    assert everything(organization) == before

    with TestCase.captureOnCommitCallbacks(execute=True):
        invited = founder.post(
            f"/api/v1/me/organizations/{org_id}/invitations/", {"email": invitee_user.email}, format="json"
        )
    assert invited.status_code == 201, invited.json()
    assert [message.to for message in mail.outbox] == [[invitee_user.email]]
    invitation_id = invited.json()["id"]

    listed = invitee.get("/api/v1/me/invitations/").json()["results"]
    assert [(row["id"], row["organization"]["name"]) for row in listed] == [
        (invitation_id, "Herbier du Sahel")
    ]

    accepted = invitee.post(f"/api/v1/me/invitations/{invitation_id}/accept/")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["is_admin"] is False
    assert sorted(m["name"] for m in accepted.json()["members"]) == sorted(
        [founder_user.public_name, invitee_user.public_name]
    )
    assert permissions.is_member_of(invitee_user, organization)
    assert invitee.get("/api/v1/me/invitations/").json()["results"] == []
    assert (
        invitee.post(f"/api/v1/me/invitations/{invitation_id}/accept/").status_code == 404
    )  # no longer open
    assert [o["id"] for o in invitee.get("/api/v1/me/organizations/").json()["results"]] == [org_id]

    # leave, then an invitation again, declined this time
    assert invitee.post(f"/api/v1/me/organizations/{org_id}/leave/").status_code == 204
    assert not permissions.is_member_of(invitee_user, organization)
    assert invitee.get(f"/api/v1/me/organizations/{org_id}/").status_code == 404

    again = founder.post(
        f"/api/v1/me/organizations/{org_id}/invitations/", {"email": invitee_user.email}, format="json"
    )
    assert again.status_code == 201
    assert invitee.post(f"/api/v1/me/invitations/{again.json()['id']}/decline/").status_code == 204
    assert not OrganizationInvitation.objects.filter(accepted_at__isnull=True).exists()
    assert not permissions.is_member_of(invitee_user, organization)

    # the last admin cannot leave
    before = everything()
    last = founder.post(f"/api/v1/me/organizations/{org_id}/leave/")
    assert last.status_code == 409 and error_of(last) == ("last_admin", None)
    assert everything() == before and permissions.is_organization_admin(founder_user, organization)


def test_an_organization_and_an_invitation_are_checked(world):
    admin = member(world.organization, admin=True)
    client = client_for(admin)
    before = everything()
    for body, attr in (
        ({"name": "X", "type": "cartel"}, "type"),
        ({"name": world.organization.name, "type": "ngo"}, "name"),
        ({"name": "Y", "type": "ngo", "country": "XX"}, "country"),
        ({"name": "Z", "type": "ngo", "website": "not a url"}, "website"),
    ):
        response = client.post("/api/v1/me/organizations/", body, format="json")
        assert response.status_code == 400 and error_of(response)[1] == attr, (body, response.json())
    url = f"/api/v1/me/organizations/{world.organization.pk}/invitations/"
    for email in ("not-an-address", world.users["member"].email):  # malformed; already a member
        response = client.post(url, {"email": email}, format="json")
        assert response.status_code == 400 and error_of(response)[1] == "email", response.json()
    assert everything() == before


# --- Organizations: permission matrices ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "read", "invite", "leave"),
    [
        ("anonymous", 401, 401, 401),
        ("other", 404, 404, 404),
        ("member", 200, 403, None),  # a member who is not an admin
        ("secretariat", 404, 404, 404),  # not a member: the pages do not open it either
    ],
)
def test_organization_permission_matrix(world, actor, read, invite, leave):
    organization = world.organization
    member(organization, admin=True)
    client = world.client(actor)
    base = f"/api/v1/me/organizations/{organization.pk}/"
    assert client.get(base).status_code == read
    before = everything(organization)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"{base}invitations/", {"email": "someone@example.org"}, format="json")
    assert response.status_code == invite
    if leave is not None:
        assert client.post(f"{base}leave/").status_code == leave
    assert everything(organization) == before
    assert mail.outbox == []
    if actor != "anonymous":
        listed = [o["id"] for o in client.get("/api/v1/me/organizations/").json()["results"]]
        assert listed == ([organization.pk] if actor == "member" else [])


@pytest.mark.parametrize(
    ("actor", "status"),
    [("anonymous", 401), ("other", 403), ("member", 403), ("secretariat", 200)],
)
def test_organization_queue_permission_matrix(world, actor, status):
    pending = OrganizationFactory(name="Pending herbarium", approved_at=None)
    member(pending, admin=True)
    client = world.client(actor)
    base = "/api/v1/queue/organizations/"
    listed = client.get(base)
    assert listed.status_code == status
    if status == 200:
        assert [row["name"] for row in listed.json()["results"]] == ["Pending herbarium"]
        assert client.get(f"{base}{pending.pk}/").json()["admins"][0]["email"]
        return
    before = everything(pending)
    assert client.get(f"{base}{pending.pk}/").status_code == status
    for decision in ("approve", "reject"):
        assert client.post(f"{base}{pending.pk}/{decision}/").status_code == status
    assert everything(pending) == before


@pytest.mark.parametrize(
    ("actor", "status"), [("anonymous", 401), ("other", 404), ("member", 404), ("secretariat", 404)]
)
def test_invitation_permission_matrix(world, actor, status):
    """Only the invited address opens an invitation; everyone else gets 404 and changes nothing."""
    admin = member(world.organization, admin=True)
    invitation = services.organization_invite(
        user=admin, organization=world.organization, email="invitee@example.org"
    )
    mail.outbox.clear()
    client = world.client(actor)
    before = everything(invitation)
    for verb in ("accept", "decline"):
        assert client.post(f"/api/v1/me/invitations/{invitation.pk}/{verb}/").status_code == status
    assert everything(invitation) == before
    if actor != "anonymous":
        assert client.get("/api/v1/me/invitations/").json()["results"] == []


def test_an_invitation_already_accepted_cannot_be_declined(world):
    """The state refusal of the service (a race between two tabs) answers 409."""
    admin = member(world.organization, admin=True)
    invitee = UserFactory(email="invitee@example.org")
    invitation = services.organization_invite(
        user=admin, organization=world.organization, email=invitee.email
    )
    services.organization_invitation_accept(user=invitee, invitation=invitation)
    from django.core.exceptions import ValidationError

    from api.errors import Conflict, ExceptionHandler

    with pytest.raises(ValidationError) as refused:
        services.organization_invitation_decline(user=invitee, invitation=invitation)
    answer = ExceptionHandler(refused.value, {}).convert_known_exceptions(refused.value)
    assert isinstance(answer, Conflict)
    assert answer.get_codes() == "already_accepted"
    assert OrganizationInvitation.objects.filter(pk=invitation.pk).exists()


# --- Public name and expert profile ----------------------------------------------------------------------

PROFILE = {
    "name": "Aïssatou Diallo",
    "bio": "Botanist.",
    "expertise": "Herbarium digitisation.",
    "languages": ["fr", "en"],
    "availability": "limited",
    "subjects": ["forest-biodiversity"],
    "countries": ["SN", "ML"],
}


def test_an_expert_profile_is_filled_in_and_changed_through_the_api(world):
    client = world.client("other")
    assert client.get("/api/v1/me/expert-profile/").status_code == 404
    assert client.get("/api/v1/me/").json()["is_expert"] is False

    saved = client.put("/api/v1/me/expert-profile/", PROFILE, format="json")
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["name"] == "Aïssatou Diallo" and body["availability"] == "limited"
    assert body["subjects"] == ["forest-biodiversity"] and sorted(body["countries"]) == ["ML", "SN"]
    assert client.get("/api/v1/me/").json()["is_expert"] is True
    assert client.get("/api/v1/me/expert-profile/").json() == body

    changed = client.put(
        "/api/v1/me/expert-profile/",
        {**PROFILE, "bio": "Botanist and teacher.", "countries": []},
        format="json",
    )
    assert changed.json()["bio"] == "Botanist and teacher." and changed.json()["countries"] == []
    assert ExpertProfile.objects.count() == 1


def test_an_expert_profile_is_checked_and_a_refusal_writes_nothing(world):
    client = world.client("other")
    before = everything(world.users["other"])
    for body, attr in (
        ({**PROFILE, "subjects": ["no-such-subject"]}, "subjects"),
        ({**PROFILE, "countries": ["XX"]}, "countries"),
        ({**PROFILE, "name": "me@example.org"}, "name"),
        ({**PROFILE, "bio": ""}, "bio"),
        ({**PROFILE, "languages": []}, "languages"),
    ):
        response = client.put("/api/v1/me/expert-profile/", body, format="json")
        assert response.status_code == 400 and error_of(response)[1] == attr, (body, response.json())
    assert everything(world.users["other"]) == before


def test_a_public_name_is_set_through_the_api(world):
    client = world.client("other")
    before = everything(world.users["other"])
    for name in ("", "   ", "someone@example.org"):
        response = client.put("/api/v1/me/name/", {"name": name}, format="json")
        assert response.status_code == 400 and error_of(response)[1] == "name", response.json()
    assert everything(world.users["other"]) == before

    assert client.put("/api/v1/me/name/", {"name": "Awa Ndiaye"}, format="json").json() == {
        "name": "Awa Ndiaye"
    }
    assert client.get("/api/v1/me/").json()["name"] == "Awa Ndiaye"


@pytest.mark.parametrize("path", ["/api/v1/me/name/", "/api/v1/me/expert-profile/"])
def test_anonymous_callers_cannot_read_or_write_a_profile(path):
    client = APIClient()
    before = everything()
    assert client.get(path).status_code == 401
    assert client.put(path, PROFILE, format="json").status_code == 401
    assert everything() == before


def test_one_person_writing_their_profile_never_touches_another(world):
    owner = world.users["owner"]
    world.client("owner").put("/api/v1/me/expert-profile/", PROFILE, format="json")
    before = everything(owner, owner.expert_profile)
    world.client("other").put(
        "/api/v1/me/expert-profile/", {**PROFILE, "name": "Someone Else"}, format="json"
    )
    world.client("secretariat").put("/api/v1/me/name/", {"name": "Secretariat"}, format="json")
    owner_row = everything(owner, owner.expert_profile)
    assert owner_row[0] == before[0]  # the owner's user and profile rows are unchanged
