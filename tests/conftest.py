from collections import Counter

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
