"""The pipeline on PostgreSQL with the real model: publish → embedded and matched on commit; reruns
neither duplicate nor overwrite decisions; the page shows ranked matches with reasons."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from marketplace import services as marketplace_services
from marketplace.models import PostingStatus
from matching import encoder, selectors, services, suggestions
from matching.models import Match, MatchStatus, MatchWeights, NeedEmbedding, OfferEmbedding
from tests.factories import (
    NeedFactory,
    OfferFactory,
    OrganizationFactory,
    UserFactory,
    focal_point,
    in_days,
    member,
)

pytestmark = pytest.mark.django_db


def french_need(**fields):
    fields.setdefault("created_by", focal_point("TD"))  # one who answers for Chad's needs
    return NeedFactory(
        title="Former les douaniers à détecter les espèces exotiques envahissantes",
        description="Le Tchad veut former ses douaniers à reconnaître insectes et plantes envahissants.",
        language="fr",
        subjects=["invasive-alien-species"],
        gbf_targets=["gbf-target-6"],
        support_types=["training"],
        **fields,
    )


def english_offer(**fields):
    values = {
        "title": "Border biosecurity course: detecting invasive alien species at ports",
        "description": "A two-week course for customs and plant-health inspectors on invasive pests.",
        "kind": "training",
        "subjects": ["invasive-alien-species"],
        "gbf_targets": ["gbf-target-6"],
        "support_types": ["training"],
        "delivery_languages": ["en", "fr"],
    }
    if "organization" not in fields:  # posted by a member, who answers for it
        values["organization"] = OrganizationFactory()
        values["created_by"] = member(values["organization"])
    return OfferFactory(**(values | fields))


def publish(posting, secretariat, capture):
    """Take a draft through submit and approval, running the commit hooks (the eager Celery task)."""
    type(posting).objects.filter(pk=posting.pk).update(status=PostingStatus.SUBMITTED)
    posting.refresh_from_db()
    with capture(execute=True):
        return marketplace_services.posting_approve(user=secretariat, posting=posting)


@pytest.fixture
def pair(secretariat, django_capture_on_commit_callbacks):
    offer = english_offer(status=PostingStatus.DRAFT)
    distractor = OfferFactory(
        title="Grants for community seed banks",
        kind="funding",
        support_types=["funding"],
        subjects=["agricultural-biodiversity"],
        status=PostingStatus.DRAFT,
    )
    need = french_need(status=PostingStatus.DRAFT)
    publish(offer, secretariat, django_capture_on_commit_callbacks)
    publish(distractor, secretariat, django_capture_on_commit_callbacks)
    publish(need, secretariat, django_capture_on_commit_callbacks)
    return need, offer, distractor


def test_publishing_embeds_and_matches_on_commit(pair):
    need, offer, distractor = pair
    embedding = NeedEmbedding.objects.get(need=need)
    assert embedding.model == "multilingual-e5-small" and embedding.dimensions == 384
    assert embedding.model_version == encoder.encoder().version
    assert OfferEmbedding.objects.filter(offer__in=[offer, distractor]).count() == 2
    best = selectors.suggestions_for(need)[0]
    assert best.offer == offer and best.status == MatchStatus.SUGGESTED
    assert best.reasons["shared_subjects"] == ["invasive-alien-species"]
    assert best.reasons["language"] == "fr"
    # The seed-bank grant shares nothing with the need: below the minimum score, it is not stored.
    assert not Match.objects.filter(need=need, offer=distractor).exists()


def test_a_rerun_never_duplicates_and_never_overwrites_a_decision(pair, secretariat):
    need, offer, _distractor = pair
    before = {m.pk: (m.score, m.status) for m in Match.objects.all()}
    match = Match.objects.get(need=need, offer=offer)
    services.match_dismiss(user=secretariat, match=match)

    for _ in range(2):
        suggestions.posting_match(side="need", posting_id=need.pk)
        suggestions.posting_match(side="offer", posting_id=offer.pk)

    assert set(Match.objects.values_list("pk", flat=True)) == set(before)
    match.refresh_from_db()
    assert match.status == MatchStatus.DISMISSED and match.decided_by == secretariat
    assert offer not in [m.offer for m in selectors.suggestions_for(need)]  # dismissed: not shown


def test_only_the_secretariat_curates_and_only_once(pair, secretariat):
    need, offer, _distractor = pair
    match = Match.objects.get(need=need, offer=offer)
    with pytest.raises(PermissionDenied):
        services.match_introduce(user=need.created_by, match=match)
    match.refresh_from_db()
    assert match.status == MatchStatus.SUGGESTED and match.decided_by is None
    services.match_introduce(user=secretariat, match=match)
    with pytest.raises(ValidationError, match="cannot be introduced"):
        services.match_introduce(user=secretariat, match=match)


def test_vectors_are_recomputed_only_when_the_text_changes(pair, django_capture_on_commit_callbacks):
    need, _offer, _distractor = pair
    first = NeedEmbedding.objects.get(need=need)
    suggestions.posting_match(side="need", posting_id=need.pk)
    assert NeedEmbedding.objects.get(need=need).updated_at == first.updated_at

    with django_capture_on_commit_callbacks(execute=True):
        marketplace_services.posting_update(
            user=need.created_by,
            posting=need,
            data={"description": "Former aussi les inspecteurs des ports."},
        )
    changed = NeedEmbedding.objects.get(need=need)
    assert changed.content_hash != first.content_hash and changed.updated_at > first.updated_at


def test_closed_expired_and_full_offers_leave_the_suggestions(pair, secretariat):
    need, offer, distractor = pair
    assert offer in [m.offer for m in selectors.suggestions_for(need)]

    other_need = french_need()
    Match.objects.create(
        need=other_need,
        offer=offer,
        status=MatchStatus.CONNECTED,
        need_response="accepted",
        offer_response="accepted",
        score=0.9,
        model_version="v",
        weights_version="w",
        scored_at=offer.published_at,
    )
    assert offer.capacity == 1
    assert offer not in [m.offer for m in selectors.suggestions_for(need)]  # full

    type(distractor).objects.filter(pk=distractor.pk).update(expires_on=in_days(-1))
    assert distractor not in [m.offer for m in selectors.suggestions_for(need)]

    marketplace_services.posting_close(user=offer.created_by, posting=offer, reason="withdrawn")
    suggestions.posting_match(side="need", posting_id=need.pk)
    assert not Match.objects.filter(need=need, offer=offer, status=MatchStatus.SUGGESTED).exists()


def test_the_hnsw_index_finds_what_the_exact_scan_finds(pair, settings):
    need, offer, _distractor = pair
    vector = NeedEmbedding.objects.get(need=need).vector
    version = encoder.encoder().version
    settings.MATCHING_EXACT_SCAN_BELOW = float("inf")
    exact = selectors.nearest("offer", vector, model_version=version, limit=10)
    settings.MATCHING_EXACT_SCAN_BELOW = 0
    indexed = selectors.nearest("offer", vector, model_version=version, limit=10)
    assert indexed == exact and exact[0] == offer.pk


def test_weights_are_fitted_on_curators_decisions(pair, secretariat):
    need, offer, _distractor = pair
    assert suggestions.match_weights_fit() is None  # no decisions yet: the defaults stay
    assert selectors.current_weights()[1].startswith("default-")
    offers = [english_offer() for _ in range(40)]
    for index, other in enumerate(offers):
        good = index % 2 == 0
        features = dict.fromkeys(("semantic", "subjects", "targets", "language", "geography", "timing"), 0.5)
        features |= {"support": 1.0 if good else 0.0, "capacity": 1.0, "history": 0.0}
        Match.objects.create(
            need=need,
            offer=other,
            score=0.5,
            features=features,
            model_version="v",
            weights_version="w",
            scored_at=other.published_at,
            status=MatchStatus.INTRODUCED if good else MatchStatus.DISMISSED,
        )
    fitted = suggestions.match_weights_fit()
    assert isinstance(fitted, MatchWeights) and fitted.decisions == 40
    weights, version = selectors.current_weights()
    assert version == fitted.version and max(weights, key=weights.get) == "support"


def test_the_need_page_shows_ranked_offers_with_reasons(pair, client):
    need, offer, _distractor = pair
    page = client.get(f"/needs/{need.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Suggested offers" in page
    assert offer.title in page
    assert "Shared: Invasive alien species, Target 6" in page
    assert "Both work in French" in page


def test_the_command_reembeds_on_demand(pair):
    from io import StringIO

    out = StringIO()
    call_command("embed_postings", stdout=out, stderr=StringIO())
    assert "0 computed, 3 unchanged" in out.getvalue()
    call_command("embed_postings", "--force", "--no-match", stdout=out, stderr=StringIO())
    assert "3 computed, 0 unchanged" in out.getvalue()


def test_unverified_users_cannot_curate(pair):
    need, offer, _distractor = pair
    with pytest.raises(PermissionDenied):
        services.match_introduce(user=UserFactory(), match=Match.objects.get(need=need, offer=offer))


def test_an_offer_limited_to_other_regions_is_never_suggested_but_a_curator_can_pair_it(
    secretariat, django_capture_on_commit_callbacks
):
    """The demo's case: an offer "limited to Latin American and Caribbean States" came first for Chad."""
    latin_america = english_offer(
        status=PostingStatus.DRAFT, global_coverage=False, regions=["latin-american-caribbean"]
    )
    need = french_need(status=PostingStatus.DRAFT)
    latin_america = publish(latin_america, secretariat, django_capture_on_commit_callbacks)
    need = publish(need, secretariat, django_capture_on_commit_callbacks)

    assert not Match.objects.filter(need=need, offer=latin_america).exists()
    by_hand = services.match_create(user=secretariat, need=need, offer=latin_america)
    assert by_hand.reasons["outside_coverage"] == ["latin-american-caribbean"]
