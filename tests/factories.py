"""factory_boy factories for the marketplace. Parties and the vocabulary come from the seed files (loaded
once per test session), so factories pick existing codes."""

import datetime
import time

import factory
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.utils import timezone

from marketplace import permissions
from marketplace.models import (
    ExpertProfile,
    FocalPointAssignment,
    Need,
    Offer,
    OfferKind,
    Organization,
    OrganizationMembership,
    Party,
    PostingStatus,
    Term,
)


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for this secret; near the end of a period, the next period's
    (after waiting for it), so that the code is still valid when the server checks it."""
    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < 3:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "marketplace.User"
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
        if create:
            self.save()

    @factory.post_generation
    def second_factor(self, create, extracted, **kwargs):
        """Staff accounts get an authenticator app (TOTP), as the workbench requires; its secret stays on
        the object (`totp_secret`) for tests that sign in. `second_factor=False`: none."""
        if create and extracted is not False and permissions.is_staff_account(self):
            self.totp_secret = generate_totp_secret()
            TOTP.activate(self, self.totp_secret)


class SecretariatFactory(UserFactory):
    is_secretariat = True


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    type = "ngo"
    approved_at = factory.LazyFunction(timezone.now)  # pending ones: approved_at=None


def party(code: str) -> Party:
    return Party.objects.get(code=code)


def focal_point(code: str = "TD", **kwargs):
    user = UserFactory(**kwargs)
    FocalPointAssignment.objects.create(user=user, party=party(code))
    return user


def member(organization: Organization, *, admin: bool = False, **kwargs):
    user = UserFactory(**kwargs)
    OrganizationMembership.objects.create(user=user, organization=organization, is_admin=admin)
    return user


def expert(**kwargs):
    user = UserFactory(**kwargs)
    ExpertProfile.objects.create(
        user=user, bio="Taxonomist.", expertise="Herbarium management", languages=["en"]
    )
    return user


class _PostingFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Posting {n}")
    description = "A realistic description of what is needed or offered."
    language = "en"
    status = PostingStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)
    contact_name = "Contact Person"
    contact_email = "contact@example.org"
    expires_on = factory.LazyFunction(lambda: in_days(90))
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def subjects(self, create, extracted, **kwargs):
        codes = extracted or ["taxonomy"]
        self.subjects.set(Term.objects.filter(scheme="subject", code__in=codes))

    @factory.post_generation
    def support_types(self, create, extracted, **kwargs):
        codes = extracted or ["training"]
        self.support_types.set(Term.objects.filter(scheme="support_type", code__in=codes))

    @factory.post_generation
    def gbf_targets(self, create, extracted, **kwargs):
        if extracted:
            self.gbf_targets.set(Term.objects.filter(scheme="gbf_target", code__in=extracted))

    @factory.post_generation
    def countries(self, create, extracted, **kwargs):
        if extracted:
            self.countries.set(Party.objects.filter(code__in=extracted))


class NeedFactory(_PostingFactory):
    class Meta:
        model = Need

    party = factory.LazyFunction(lambda: party("TD"))


class OfferFactory(_PostingFactory):
    class Meta:
        model = Offer

    organization = factory.SubFactory(OrganizationFactory)
    kind = OfferKind.EXPERTISE
    delivery_languages = ["en"]
    global_coverage = True


class MatchFactory(factory.django.DjangoModelFactory):
    """A pair of published postings, each with its own owner (a Chad focal point, an organization member)."""

    class Meta:
        model = "matching.Match"

    need = factory.LazyFunction(lambda: NeedFactory(created_by=focal_point("TD")))
    offer = factory.LazyFunction(
        lambda: OfferFactory(
            created_by=member(organization := OrganizationFactory()), organization=organization
        )
    )
    score = 0.7
    scored_at = factory.LazyFunction(timezone.now)
    model_version = "test"
    weights_version = "test"
