import warnings
from collections import Counter
from pathlib import Path

import pytest

from seed_data import loader
from tests.system_tools import SKIP_PREFIX


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Parties and the vocabulary are reference data every test relies on: load them once."""
    with django_db_blocker.unblock():
        loader.load_parties()
        loader.load_vocabulary()


@pytest.fixture
def reference_data(transactional_db):
    """For tests whose data must be committed (a live server, a worker process): their flush at the end
    empties every table, reference data included, so each such test loads it again (the loader is
    idempotent)."""
    loader.load_parties()
    loader.load_vocabulary()


@pytest.fixture
def secretariat(db):
    from tests.factories import SecretariatFactory

    return SecretariatFactory()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server (aiosmtpd) on a free local port, with Django's SMTP backend pointed at it.
    Yields the list of received messages (email.message.Message)."""
    import socket
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    received = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            message = message_from_bytes(envelope.original_content)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            received.append(message)
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield received
    controller.stop()


# Each test is marked with its kind, from its folder: tests/unit → unit, tests/integration → integration, ...
KINDS = ("unit", "integration", "api", "e2e")

# The slow set, in this one table: `pytest -m "not slow"` leaves these out; CI (plain `pytest`) runs them all.
# Decided by measurement (`pytest --durations=0` over the whole suite on a 2-core machine, and which tests
# load the model): the tests that drive a browser, start servers, workers, subprocesses or the embedded
# standby, or need the sentence-transformer model, from a second to minutes each. Without them the rest runs
# in under a minute, start-up included. An entry is a module (all its tests) or module::name (one test with
# all its parameters, or one class).
# Besides these, every real-browser test (tests/e2e: Chromium through Playwright) is slow.
SLOW = {
    # `make run`'s supervisor: web server, Celery worker and beat, started and stopped again and again
    "tests/integration/test_run.py",
    # Celery workers, Redis, SMTP and PostgreSQL killed and restarted
    "tests/integration/test_faults.py::test_worker_killed_in_the_middle_of_a_matching_task_the_task_runs_again",
    "tests/integration/test_faults.py::test_worker_killed_while_sending_an_email_it_is_sent_again_exactly_once",
    "tests/integration/test_faults.py::test_broker_down_when_a_posting_is_published_it_is_saved_and_matched_once_the_broker_is_back",
    "tests/integration/test_faults.py::test_postgresql_restarted_during_a_run_the_web_and_the_worker_recover_on_their_own",
    "tests/integration/test_worker.py",
    # two private PostgreSQL servers, a hot standby, gunicorn
    "tests/integration/test_mirror.py::test_mirror_on_a_hot_standby_then_failover",
    # subprocesses: manage.py, make, the batch command (which loads the model)
    "tests/integration/test_database_url.py",
    "tests/integration/test_deploy.py::test_check_deploy_on_production_settings_is_clean",
    "tests/integration/test_deploy.py::test_check_deploy_flags_a_weak_secret_key",
    "tests/integration/test_deploy.py::test_health_endpoint_reports_503_when_the_database_does_not_answer",
    "tests/integration/test_backup.py::test_the_make_targets_command_round_trip",
    "tests/unit/test_batch_cli.py::test_the_command_ranks_every_need_across_languages",
    # a catalogue of 18 postings and 24 matches built for each of 36 budgets (5 s together), and gunicorn's
    # hook with an encoder that takes 2.5 s to load
    "tests/integration/test_query_budgets.py",
    # the sentence-transformer model: loading it costs the first test that needs it several seconds, and
    # each use runs it again (mentoring computed per case of a matrix, postings embedded and matched on
    # commit, other models and precisions); with all of them here, the fast set never loads it
    "tests/unit/test_encoder.py",
    "tests/api/test_account_api.py::test_mentoring_pairings_permission_matrix",
    "tests/api/test_matches_api.py::test_secretariat_queues_and_manual_matches",
    "tests/api/test_mentoring_api.py::test_mentoring_permission_matrix",
    "tests/api/test_mentoring_api.py::test_the_mentoring_programme_end_to_end_through_the_api",
    "tests/api/test_mentoring_api.py::test_the_audit_log_filters_and_pages_by_cursor",
    "tests/api/test_postings_api.py::test_express_interest_in_an_offer",
    "tests/api/test_postings_api.py::test_search_by_meaning_finds_an_english_offer_for_a_french_query",
    "tests/integration/test_batched_matching.py",
    "tests/integration/test_matching_pipeline.py",
    "tests/integration/test_privacy.py",
    "tests/integration/test_mentoring.py::test_candidates_share_forms_and_have_places_left",
    "tests/integration/test_mentoring.py::test_a_cohort_is_assigned_within_capacities_edited_and_confirmed_once",
    "tests/integration/test_mentoring.py::test_a_pairing_is_followed_by_its_two_sides_only",
    "tests/integration/test_mentoring.py::test_mentoring_permission_matrix",
    "tests/integration/test_match_lifecycle.py::test_expressing_interest_creates_a_request_for_the_other_side",
    "tests/integration/test_match_lifecycle.py::test_manual_match_creation_scores_and_introduces",
    "tests/integration/test_match_pages.py::test_expressing_interest_from_a_posting_page",
    "tests/integration/test_match_pages.py::test_manual_match_page_introduces_the_pair",
    "tests/integration/test_notifications.py::test_a_postings_life_tells_its_owners",
    "tests/integration/test_pages.py::test_a_published_posting_says_matching_until_the_matcher_has_read_it",
    "tests/integration/test_security_findings.py::test_mentor_and_mentee_cannot_open_a_proposed_pairing",
    "tests/integration/test_security_findings.py::test_searches_by_meaning_are_throttled_per_address_and_reuse_the_query_vector",
    "tests/integration/test_smtp_journey.py",
    "tests/integration/test_search_by_meaning.py",
    # threads racing on committed data: a transactional test, which flushes and reloads the reference data
    "tests/integration/test_security_findings.py::test_two_concurrent_acceptances_never_exceed_the_offers_capacity",
    # the whole demo data set, loaded through the services and the model
    "tests/integration/test_seed_data.py::test_demo_data_loads_through_the_services_and_a_second_run_changes_nothing",
    "tests/integration/test_seed_data.py::test_demo_activity_shows_every_part_of_the_lifecycle_and_a_mentoring_cohort",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The kind and slow markers, set before `-m` selects on them."""
    root = Path(__file__).resolve().parent.parent
    modules = {}
    for item in items:
        try:
            module = Path(item.path).resolve().relative_to(root).as_posix()
        except ValueError:
            continue
        folders = module.split("/")
        if len(folders) > 2 and folders[0] == "tests" and folders[1] in KINDS:
            item.add_marker(folders[1])
        name = item.nodeid.split("[", 1)[0].split("::")[1:2]
        if module in SLOW or (name and f"{module}::{name[0]}" in SLOW) or module.startswith("tests/e2e/"):
            item.add_marker("slow")
        modules.setdefault(module, getattr(item, "module", None))
    for entry in SLOW:  # an entry left behind by a rename or a move would quietly make a slow test fast
        module, _, name = entry.partition("::")
        gone = not (root / module).exists() or (
            name and modules.get(module) is not None and not hasattr(modules[module], name)
        )
        if gone:
            warnings.warn(f"tests/conftest.py: SLOW names {entry}, which does not exist", stacklevel=1)


def pytest_unconfigure(config):
    """The run's last lines (after pytest's own summary): the suites skipped for want of a system package,
    and the command that enables each."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    reasons = Counter(
        report.longrepr[2].split(SKIP_PREFIX, 1)[1].strip()
        for report in reporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and SKIP_PREFIX in report.longrepr[2]
    )
    for reason, count in reasons.items():
        reporter.write_line(f"SKIPPED {count} test(s): {reason}", yellow=True, bold=True)
