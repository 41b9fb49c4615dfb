"""Every role check lives here, so that pages, the API and services ask the same questions."""

from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import FocalPointAssignment, Need, Offer, Organization, OrganizationMembership, Party, User

# Who asks: a signed-in person, or anyone (pages and the API are read without signing in).
Reader = User | AnonymousUser


def is_secretariat(user: Reader) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_secretariat)


def is_staff_account(user: Reader) -> bool:
    """The secretariat, and whoever may open the admin: accounts that publish to the world and see every
    contact, which sign in with a second factor."""
    if not (user.is_authenticated and user.is_active):
        return False
    return bool(user.is_secretariat or user.is_staff or user.is_superuser)


SECOND_FACTOR_FIRST = gettext_lazy(
    "Staff accounts use a second factor: set up an authenticator app first (on the site: Account, "
    "Two-factor authentication)."
)


def lacks_second_factor(user: Reader) -> bool:
    """A staff account that has not set up its second factor yet: it may sign in, but reaches no staff power
    (workbench, admin, API) until it has."""
    return is_staff_account(user) and not get_mfa_adapter().is_mfa_enabled(user)


def require_secretariat(user: Reader, message: str) -> None:
    if not is_secretariat(user):
        raise PermissionDenied(message)


def is_focal_point_for(user: Reader, party: Party) -> bool:
    return user.is_authenticated and FocalPointAssignment.objects.filter(user=user, party=party).exists()


def is_member_of(user: Reader, organization: Organization) -> bool:
    return (
        user.is_authenticated
        and OrganizationMembership.objects.filter(user=user, organization=organization).exists()
    )


def is_organization_admin(user: Reader, organization: Organization) -> bool:
    return (
        user.is_authenticated
        and OrganizationMembership.objects.filter(
            user=user, organization=organization, is_admin=True
        ).exists()
    )


def approved_organization_filter() -> Q:
    """The one rule for new organizations: until the secretariat approves one, nobody invites members, posts
    or mentors for it, and it is not listed publicly."""
    return Q(approved_at__isnull=False)


def is_approved_organization(organization: Organization) -> bool:
    """Read from the database, so that a decision taken meanwhile counts."""
    return Organization.objects.filter(approved_organization_filter(), pk=organization.pk).exists()


def require_approved_organization(organization: Organization) -> None:
    if not is_approved_organization(organization):
        raise PermissionDenied(
            _("The secretariat has not approved this organization yet: it cannot invite members or post.")
        )


def has_public_name(user: Reader) -> bool:
    return bool(user.is_authenticated and user.name.strip())


def require_public_name(user: Reader) -> None:
    """People give their name before they post, express interest or mentor: others see it there."""
    if not has_public_name(user):
        raise PermissionDenied(
            _("Give your name first: it is shown with what you do here, instead of your e-mail address.")
        )


def is_expert(user: Reader) -> bool:
    return user.is_authenticated and hasattr(user, "expert_profile")


def can_post_need(
    user: Reader, *, party: Party | None = None, organization: Organization | None = None
) -> bool:
    """Focal points for their Parties, members for their organizations; the secretariat for anyone (it loads
    postings in bulk on their behalf). Never for an organization the secretariat has not approved."""
    if organization is not None and not is_approved_organization(organization):
        return False
    if (party or organization) is not None and is_secretariat(user):
        return True
    if party is not None:
        return is_focal_point_for(user, party)
    if organization is not None:
        return is_member_of(user, organization)
    return False


def can_post_offer(
    user: Reader, *, as_expert: bool = False, organization: Organization | None = None
) -> bool:
    if as_expert:
        return is_expert(user)
    if organization is not None and not is_approved_organization(organization):
        return False
    if organization is not None and is_secretariat(user):
        return True
    if organization is not None:
        return is_member_of(user, organization)
    return False


# The account that creates the postings harvested from partner instances (the network app): they are
# managed on their own instance, so nobody here answers for them, whatever the roles.
EXTERNAL_ORIGIN_EMAIL = "harvester@network.invalid"


def external_origin_filter() -> Q:
    """Postings with an external origin: harvested from a partner instance, read-only here."""
    return Q(created_by__email=EXTERNAL_ORIGIN_EMAIL)


def has_external_origin(posting: Need | Offer) -> bool:
    """The rule of ``external_origin_filter`` for one posting."""
    return bool(posting.created_by.email == EXTERNAL_ORIGIN_EMAIL)


def owner_filter(user: Reader, model: type[Need] | type[Offer]) -> Q:
    """Postings a user answers for through the roles they hold now: their Parties', their organizations',
    their expert profile's. Who created a posting does not count: a former focal point or member loses it.
    Nobody answers for a posting with an external origin."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    owned = Q(organization__memberships__user=user)
    if model is Need:
        owned |= Q(party__focal_points__user=user)
    else:
        owned |= Q(expert__user=user)
    return Q(pk__in=model.objects.filter(owned).exclude(external_origin_filter()).values("pk"))


def is_posting_owner(user: Reader, posting: Need | Offer) -> bool:
    return (
        user.is_authenticated
        and type(posting).objects.filter(owner_filter(user, type(posting)), pk=posting.pk).exists()
    )
