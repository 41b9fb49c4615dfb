"""Two instances: A (a `manage.py runserver` on its own database of the embedded PostgreSQL) publishes a
French need; B (this test process, on the test database) harvests it over OAI-PMH, matches it with its own
English offer, shows it with A's provenance, closes it when A closes it, and harvests idempotently (twice,
or interrupted and resumed)."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core import mail

from marketplace.models import Need, PostingStatus
from matching.models import Match
from network import services
from network.models import HarvestedPosting, HarvestLogEntry, Partner
from tests.factories import OfferFactory, SecretariatFactory, expert
from tests.integration.real_stack import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # a second server, its migrations and the model: about 20 s

SETUP_A = """
from django.utils import timezone
from marketplace.models import Need, Party, PostingStatus, Term, User
from seed_data import loader
loader.load_parties(); loader.load_vocabulary()
Need.objects.all().delete()
user, _ = User.objects.get_or_create(email="fp@a.example.org", defaults={"name": "Focal point A"})
texts = [
    ("fr", "Former les douaniers à identifier les espèces exotiques envahissantes",
     "Nous cherchons une formation pour les agents des douanes : reconnaître les espèces exotiques "
     "envahissantes aux frontières, dans les ports et les aéroports."),
    ("en", "Mapping mangroves along the coast", "Remote sensing support to map mangrove loss."),
    ("es", "Inventario de polinizadores", "Apoyo para un inventario nacional de polinizadores."),
]
for language, title, description in texts:
    need = Need.objects.create(
        title=title, description=description, language=language, status=PostingStatus.PUBLISHED,
        published_at=timezone.now(), party=Party.objects.get(code="TD"), contact_name="Secret Person",
        contact_email="secret@a.example.org", expires_on=timezone.localdate() + timezone.timedelta(days=90),
        created_by=user)
    need.subjects.set(Term.objects.filter(scheme="subject", code="invasive-alien-species"))
    need.support_types.set(Term.objects.filter(scheme="support_type", code="training"))
print("READY")
"""

CLOSE_FIRST_ON_A = """
from django.utils import timezone
from marketplace.models import Need
need = Need.objects.get(language="fr")
need.status, need.closed_reason, need.closed_at = "closed", "fulfilled", timezone.now()
need.save()
"""


class InstanceA:
    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))},
            "DJANGO_SETTINGS_MODULE": "tests.network_instance_settings",
            "EMBEDDED_DATABASE_NAME": os.environ.get("EMBEDDED_DATABASE_NAME", "chm") + "_instance_a",
            "SITE_URL": self.url,
            "DATABASE_URL": "",
        }
        self.log = open(tmp_path / "instance_a.log", "w")  # noqa: SIM115
        self.process = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start(self) -> None:
        self.manage("migrate", "--noinput")
        assert "READY" in self.manage("shell", "-c", SETUP_A)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

        def answers():
            try:
                with urllib.request.urlopen(f"{self.url}/oai/?verb=Identify", timeout=2) as response:  # noqa: S310
                    return response.status == 200
            except OSError:
                return False

        wait_until(answers, timeout=60, what="instance A")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def instance_a(tmp_path):
    instance = InstanceA(tmp_path)
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()


def test_a_need_published_on_a_is_harvested_matched_and_closed_on_b(
    reference_data, instance_a, settings, client
):
    settings.NETWORK_ALLOW_HTTP = True  # the two instances talk over local HTTP
    secretariat = SecretariatFactory()
    settings.MATCHING_AUTO_INTRODUCE_SCORE = 0.0  # every suggestion is introduced: both sides are told
    expert_user = expert(email="expert@b.example.org", name="Expert B")
    offer = OfferFactory(
        organization=None,
        expert=expert_user.expert_profile,
        language="en",
        title="Training customs officers to recognise invasive alien species",
        description="Workshops for border and customs staff on identifying invasive alien species at ports.",
        subjects=["invasive-alien-species"],
        support_types=["training"],
    )
    partner = services.partner_save(
        user=secretariat,
        data={
            "name": "Instance A",
            "base_url": f"{instance_a.url}/oai/",
            "contact_email": "chm@a.example.org",
        },
    )

    # cut after the first page (two records a page), then run again: each record once
    started = time.monotonic()
    first = services.harvest_partner(partner.pk, max_pages=1)
    assert (first.stored, first.complete) == (2, False)
    assert Partner.objects.get(pk=partner.pk).resumption_token
    rest = services.harvest_partner(partner.pk)
    first_harvest_seconds = time.monotonic() - started
    assert (rest.stored, rest.complete) == (1, True)
    assert HarvestedPosting.objects.filter(partner=partner).count() == 3
    assert Need.objects.count() == 3

    need = Need.objects.get(language="fr")
    origin = HarvestedPosting.objects.get(need=need)
    assert origin.original_url.startswith(instance_a.url + "/needs/") or origin.original_url.startswith(
        instance_a.url
    )
    assert need.contact_email == "chm@a.example.org"  # A's contact person never crosses
    assert Match.objects.filter(need=need, offer=offer).exists()  # B suggests the pair, across languages
    # the local side is told; nobody is written to for the harvested side (it has no owner here)
    recipients = {address for message in mail.outbox for address in message.to}
    assert "expert@b.example.org" in recipients
    assert not recipients & {services.HARVESTER_EMAIL, "chm@a.example.org", "secret@a.example.org"}

    page = client.get(f"/needs/{need.pk}/").content.decode()
    assert "From Instance A" in page and origin.original_url in page
    assert "Secret Person" not in page and "secret@a.example.org" not in page

    # nothing new: nothing changes
    before = list(Need.objects.order_by("pk").values_list("pk", "updated_at"))
    started = time.monotonic()
    again = services.harvest_partner(partner.pk)
    second_harvest_seconds = time.monotonic() - started
    assert (again.stored, again.closed, again.skipped, again.complete) == (0, 0, 0, True)
    assert list(Need.objects.order_by("pk").values_list("pk", "updated_at")) == before

    # closed on A: closed on B at the next harvest
    instance_a.manage("shell", "-c", CLOSE_FIRST_ON_A)
    closing = services.harvest_partner(partner.pk)
    assert closing.closed == 1
    need.refresh_from_db()
    assert need.status == PostingStatus.CLOSED
    assert not HarvestLogEntry.objects.filter(partner=partner, level="error").exists()
    print(
        f"\nnetwork figures: 3 records in 2 runs (cut after page 1) in {first_harvest_seconds:.2f}s "
        f"(with embedding and matching); a harvest with nothing new {second_harvest_seconds:.2f}s"
    )
