"""Who sees which postings and contact details: anonymous, other user, owner, secretariat."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from marketplace import selectors
from marketplace.models import Need, Offer, PostingStatus
from matching import permissions as match_permissions
from tests.factories import NeedFactory, OfferFactory, OrganizationFactory, UserFactory, focal_point, member

pytestmark = pytest.mark.django_db

PRIVATE_STATES = [PostingStatus.DRAFT, PostingStatus.SUBMITTED, PostingStatus.CLOSED]


def _need(status):
    return NeedFactory(status=status, closed_reason="withdrawn" if status == PostingStatus.CLOSED else "")


@pytest.mark.parametrize("status", PRIVATE_STATES)
def test_unpublished_needs_are_seen_by_owner_and_secretariat_only(status, secretariat):
    owner = focal_point("TD")
    need = _need(status)  # party TD: its focal points answer for it
    anonymous, stranger = AnonymousUser(), UserFactory()

    def visible(user):
        return selectors.needs_visible_to(user=user).filter(pk=need.pk).exists()

    assert visible(owner) and visible(secretariat)
    assert not visible(anonymous) and not visible(stranger)
    assert not visible(focal_point("CM"))


def test_published_postings_are_public():
    need, offer = NeedFactory(), OfferFactory()
    assert selectors.needs_visible_to(user=AnonymousUser()).filter(pk=need.pk).exists()
    assert selectors.offers_visible_to(user=AnonymousUser()).filter(pk=offer.pk).exists()


def test_organization_members_see_their_organizations_drafts():
    organization = OrganizationFactory()
    offer = OfferFactory(organization=organization, status=PostingStatus.DRAFT)
    assert selectors.offers_visible_to(user=member(organization)).filter(pk=offer.pk).exists()
    assert not selectors.offers_visible_to(user=member(OrganizationFactory())).filter(pk=offer.pk).exists()


def test_access_posting_is_a_404_for_what_the_user_may_not_see_or_edit():
    draft = NeedFactory(status=PostingStatus.DRAFT)
    published = NeedFactory()
    with pytest.raises(Http404):
        selectors.access_posting(user=AnonymousUser(), kind="need", pk=draft.pk)
    with pytest.raises(Http404):
        selectors.access_posting(user=UserFactory(), kind="need", pk=published.pk, for_edit=True)
    with pytest.raises(Http404):
        selectors.access_posting(user=UserFactory(), kind="nonsense", pk=published.pk)
    assert selectors.access_posting(user=AnonymousUser(), kind="need", pk=published.pk) == published


def test_contact_details_only_for_owner_and_secretariat(secretariat):
    owner = focal_point("TD")
    need = NeedFactory()
    assert match_permissions.can_view_contact(owner, need)
    assert match_permissions.can_view_contact(secretariat, need)
    assert not match_permissions.can_view_contact(AnonymousUser(), need)
    assert not match_permissions.can_view_contact(UserFactory(), need)


def test_catalogue_filters_by_facets_language_and_region():
    invasive_fr = NeedFactory(
        language="fr", subjects=["invasive-alien-species"], support_types=["training"], countries=["TD"]
    )
    data_es = NeedFactory(
        language="es", subjects=["biodiversity-data"], support_types=["equipment"], countries=["PE"]
    )
    NeedFactory(status=PostingStatus.DRAFT, subjects=["invasive-alien-species"])

    def found(**filters):
        return set(selectors.published_postings(model=Need, filters=selectors.PostingFilters(**filters)))

    assert found(subject="invasive-alien-species") == {invasive_fr}
    assert found(support_type="equipment") == {data_es}
    assert found(language="es") == {data_es}
    assert found(region="african") == {invasive_fr}
    assert found(region="latin-american-caribbean", country="PE") == {data_es}


def test_full_text_search_finds_words_in_any_language_and_ranks_nothing_private():
    douane = NeedFactory(title="Formation des douaniers", description="Espèces envahissantes aux frontières.")
    NeedFactory(title="Herbarium digitisation", description="Scanning 20 000 specimens.")
    NeedFactory(status=PostingStatus.DRAFT, title="Formation secrète des douaniers")

    results = list(selectors.published_postings(model=Need, filters=selectors.PostingFilters(q="douaniers")))

    assert results == [douane]


def test_search_ignores_accents_both_ways():
    especes = NeedFactory(title="Espèces exotiques envahissantes", description="Contrôle aux frontières.")
    assert list(selectors.published_postings(model=Need, filters=selectors.PostingFilters(q="especes"))) == [
        especes
    ]
    assert list(selectors.published_postings(model=Need, filters=selectors.PostingFilters(q="contrôle"))) == [
        especes
    ]
    assert list(
        selectors.published_postings(model=Need, filters=selectors.PostingFilters(q="Frontieres"))
    ) == [especes]


def test_offers_for_a_country_include_regional_and_worldwide_ones():
    chad = OfferFactory(global_coverage=False, countries=["TD"])
    africa = OfferFactory(global_coverage=False, regions=["african"])
    world = OfferFactory(global_coverage=True)
    OfferFactory(global_coverage=False, regions=["weog"])
    OfferFactory(global_coverage=False, countries=["PE"])

    found = set(selectors.published_postings(model=Offer, filters=selectors.PostingFilters(country="TD")))

    assert found == {chad, africa, world}
    assert not selectors.published_postings(
        model=Offer, filters=selectors.PostingFilters(country="ZZ")
    ).exists()


def test_owned_postings_and_validation_queue():
    owner = focal_point("TD")
    mine = NeedFactory(status=PostingStatus.SUBMITTED, published_at=None)
    other = OfferFactory(status=PostingStatus.SUBMITTED, published_at=None)
    assert list(selectors.postings_owned_by(user=owner, model=Need)) == [mine]
    assert list(selectors.validation_queue(model=Need)) == [mine]
    assert list(selectors.validation_queue(model=Offer)) == [other]
