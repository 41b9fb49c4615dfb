"""The seed loader: complete reference data, demo content in three languages, idempotent."""

from collections import Counter

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.management import call_command
from django.urls import reverse

from marketplace.models import Need, Offer, Party, PostingStatus, Region, Term, User
from matching.models import CaseStudy, Match
from mentoring.models import MentoringCohort, MentoringPairing
from seed_data import loader

pytestmark = pytest.mark.django_db


def test_reference_data_is_complete():
    assert Party.objects.count() == 196
    assert Party.objects.filter(code="EU").exists() and not Party.objects.filter(code="US").exists()
    assert set(Party.objects.values_list("region", flat=True)) == set(Region.values)
    assert Term.objects.filter(scheme="gbf_target").count() == 23
    assert Term.objects.filter(scheme="gbf_goal").count() == 4
    assert all(t.label_en and t.label_fr and t.label_es for t in Term.objects.all())


def test_demo_data_loads_through_the_services_and_a_second_run_changes_nothing(capsys):
    call_command("load_seed_data", "--demo")
    snapshot = (
        list(Need.objects.order_by("pk").values()),
        list(Offer.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values_list("email", "password")),
        list(Match.objects.order_by("pk").values_list("status", flat=True)),
        MentoringPairing.objects.count(),
    )

    call_command("load_seed_data", "--demo")

    assert "67 unchanged" in capsys.readouterr().out
    assert snapshot == (
        list(Need.objects.order_by("pk").values()),
        list(Offer.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values_list("email", "password")),
        list(Match.objects.order_by("pk").values_list("status", flat=True)),
        MentoringPairing.objects.count(),
    )
    postings = list(Need.objects.all()) + list(Offer.objects.all())
    assert len(postings) >= 60
    languages = Counter(p.language for p in postings)
    assert set(languages) == {"en", "fr", "es"} and min(languages.values()) >= len(postings) // 4
    statuses = Counter(p.status for p in postings)
    assert statuses[PostingStatus.PUBLISHED] >= 45 and statuses[PostingStatus.SUBMITTED] >= 1
    assert User.objects.filter(is_secretariat=True).exists()


def test_demo_activity_shows_every_part_of_the_lifecycle_and_a_mentoring_cohort(client):
    call_command("load_seed_data", "--demo")
    statuses = set(Match.objects.values_list("status", flat=True))
    assert {"suggested", "requested", "introduced", "declined", "in_progress", "completed"} <= statuses
    assert CaseStudy.objects.filter(published_at__isnull=False).count() == 1
    assert MentoringPairing.objects.filter(status="active").count() == 1
    cohort = MentoringCohort.objects.get(status="draft")
    assert cohort.pairings.filter(status="proposed").count() >= 3
    secretariat = User.objects.get(email="secretariat@demo.example.org")
    client.force_login(secretariat)
    # the demo's secretariat sets up its authenticator app at its first visit to the workbench
    assert client.get(reverse("match_queue"))["Location"].startswith(reverse("mfa_activate_totp"))
    TOTP.activate(secretariat, generate_totp_secret())
    queue = client.get(reverse("match_queue"))
    assert queue.status_code == 200 and queue.context["page"].paginator.count >= 10
    assert client.get(reverse("cohort_detail", args=[cohort.pk])).status_code == 200
    assert client.get(reverse("mentoring_admin")).status_code == 200
    assert client.get(reverse("validation_queue")).status_code == 200
    chad = User.objects.get(email="achta.ngarlejy@demo.example.org")
    client.force_login(chad)
    assert client.get(reverse("my_matches")).context["active"]
    assert client.get(reverse("inbox")).status_code == 200


def test_a_new_vocabulary_release_retires_terms_it_no_longer_lists(monkeypatch):
    original = loader._read

    def fake_read(name):
        data = original(name)
        if name == "vocabulary.json":
            data = {"version": "test-next", "terms": [t for t in data["terms"] if t["code"] != "tourism"]}
        return data

    monkeypatch.setattr(loader, "_read", fake_read)
    counts = loader.load_vocabulary()

    assert counts["retired"] == 1
    assert not Term.objects.get(code="tourism").is_active
    assert loader.load_vocabulary() == Counter(unchanged=70)
