"""`make run` as it runs: the supervisor (config/run.py) with its web server, Celery worker and beat, on the
embedded broker (a private valkey folder) — publishing answers at once and the worker stores the suggestions;
Ctrl-C and SIGTERM, at any moment, leave no process behind and nothing that breaks the next start."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from config import embedded_postgres, embedded_valkey
from tests.integration.real_stack import Marketplace, database_url, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, str(ROOT / "manage.py")]


def product_env(valkey_dir: Path, **extra: str) -> dict:
    """The environment of `make run` on a developer's machine (local settings, embedded broker), with the
    broker's folder of its own so that a developer's running `make run` is not disturbed."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "PYTEST_", "EMAIL_", "DATABASE_URL", "REDIS_URL"))
    }
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.local", "EMBEDDED_VALKEY_DIR": str(valkey_dir)}
    return env | extra


class Product:
    """`python -m config.run` in its own session (Ctrl-C reaches its process group, as in a terminal)."""

    def __init__(self, env: dict, port: int):
        self.port, self.lines = port, []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "config.run", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def log(self) -> str:
        return "".join(self.lines)

    def serves_home(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self, signum: int, *, group: bool = False) -> list[int]:
        """Send ``signum`` (to the whole process group with ``group``, as Ctrl-C does); wait for the end;
        return the pids of the processes that were running under it and still are."""
        watched = [self.process, *self.descendants()]
        (os.killpg if group else os.kill)(self.process.pid, signum)
        self.process.wait(30)
        _gone, alive = psutil.wait_procs(
            [p for p in watched if not isinstance(p, subprocess.Popen)], timeout=15
        )
        return [p.pid for p in alive]


@pytest.fixture
def valkey_dir(tmp_path):
    folder = tmp_path / "valkey"
    yield folder
    embedded_valkey.stop(folder)


def test_publishing_answers_at_once_and_the_worker_of_make_run_stores_the_suggestions(
    reference_data, valkey_dir
):
    from marketplace import services
    from matching.models import Match, NeedEmbedding

    market = Marketplace()  # a need and an offer, submitted, waiting for the secretariat
    _token, key = services.api_token_create(user=market.secretariat, name="make run", expires_in_days=1)
    product = Product(product_env(valkey_dir, DATABASE_URL=database_url()), free_port())
    try:
        wait_until(product.serves_home, timeout=90, what=f"the home page\n{product.log()}")
        for kind, posting_id in (("offers", market.offer_id), ("needs", market.need_id)):
            request = urllib.request.Request(  # noqa: S310 (loopback)
                f"http://127.0.0.1:{product.port}/api/v1/{kind}/{posting_id}/approve/",
                method="POST",
                headers={"Authorization": f"Token {key}", "Accept": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                assert response.status == 200
                assert json.loads(response.read())["status"] == "published"

        wait_until(
            lambda: Match.objects.filter(need_id=market.need_id, offer_id=market.offer_id).exists(),
            timeout=120,
            what=f"the suggestion\n{product.log()}",
        )
        assert NeedEmbedding.objects.get(need_id=market.need_id).matched_at is not None
        # Matched by the worker process, through the embedded broker, not in the web request.
        worker_done = r"^worker\s*\| .*Task matching\.tasks\.\S+\[[0-9a-f-]+\] succeeded"
        wait_until(lambda: re.search(worker_done, product.log(), re.MULTILINE), timeout=30, what="its log")
        assert f"broker: redis+socket://{valkey_dir}/valkey.sock" in product.log()
    finally:
        if product.process.poll() is None:
            left = product.stop(signal.SIGINT, group=True)  # Ctrl-C in the terminal
            assert left == [], f"processes left behind: {left}"
    assert product.process.returncode == 0


@pytest.fixture
def embedded_database():
    """A database of the embedded PostgreSQL of its own (no DATABASE_URL: the very path `make run` takes,
    with pgserver's bookkeeping in .pgdata/), migrated once."""
    name = f"chm_run_{os.getpid()}"
    embedded_postgres.database_settings(name=name)
    env = {"EMBEDDED_DATABASE_NAME": name, "CELERY_TASK_ALWAYS_EAGER": "true"}
    yield env
    import psycopg2

    settings = embedded_postgres.database_settings(name="postgres")
    connection = psycopg2.connect(dbname="postgres", user="postgres", host=settings["HOST"])
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def test_stopping_make_run_with_sigterm_at_any_moment_never_breaks_the_next_start(
    embedded_database, valkey_dir
):
    env = product_env(valkey_dir, **embedded_database)
    subprocess.run([*MANAGE, "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    rng = random.Random(os.getpid())
    for stop in range(20):
        product = Product(env, free_port())
        if stop % 2 == 0:
            time.sleep(rng.uniform(0.0, 6.0))  # somewhere in its start-up
        else:  # the start after a stop in start-up must serve; then stopped while serving
            what = f"the home page after stop {stop}\n{product.log()}"
            wait_until(product.serves_home, timeout=90, what=what)
            time.sleep(rng.uniform(0.0, 2.0))
        left = product.stop(signal.SIGTERM)  # as a process manager or a script stops it
        assert left == [], f"stop {stop}: processes left behind: {left}"
    product = Product(env, free_port())
    wait_until(product.serves_home, timeout=90, what=f"the home page after 20 stops\n{product.log()}")
    assert product.stop(signal.SIGTERM) == []


def test_bookkeeping_cut_by_a_killed_process_is_repaired_at_the_next_start():
    """pgserver rewrites .pgdata/.handle_pids.json in place when a process exits: killed mid-write, it is
    left empty; the next start must not fail on it."""
    handles = embedded_postgres.DEFAULT_DATA_DIR / ".handle_pids.json"
    start = "from config.embedded_postgres import database_settings; database_settings(name='postgres')"
    for damaged in ("", "[12, 3"):
        handles.write_text(damaged)
        started = subprocess.run([sys.executable, "-c", start], cwd=ROOT, capture_output=True, text=True)
        assert started.returncode == 0, started.stderr
        assert isinstance(json.loads(handles.read_text()), list)
