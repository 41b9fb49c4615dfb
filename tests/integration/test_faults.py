"""Faults with real parts (Redis, Celery worker processes, the test PostgreSQL, an SMTP server): a worker
killed with SIGKILL in the middle of a matching task and of a sending task, the broker down when a posting
is published, PostgreSQL restarted under a web process and a worker. Nothing is lost, nobody steps in, and
every e-mail arrives exactly once.

Each test prints its counts (`-s`) and puts them in its assertion messages."""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pgserver._commands import POSTGRES_BIN_PATH

from marketplace.models import Need, PostingStatus
from matching.models import MatchStatus, NeedEmbedding, OfferEmbedding
from matching.tasks import match_pending_postings
from notifications.models import EmailStatus, Notification
from notifications.tasks import requeue_pending_notifications
from tests.integration import real_stack
from tests.integration.real_stack import Marketplace, assert_each_email_once, wait_until

stack = real_stack.stack  # the fixture


def matched(model, **posting) -> bool:
    return model.objects.filter(matched_at__isnull=False, **posting).exists()


def all_delivered(stack, market) -> bool:
    """The match is introduced, no e-mail is waiting, and the broker holds no task: nothing left to run."""
    match = market.match()
    return (
        match is not None
        and match.status == MatchStatus.INTRODUCED
        and not Notification.objects.filter(email_status=EmailStatus.PENDING).exists()
        and stack.redis.idle()
    )


def test_worker_killed_in_the_middle_of_a_matching_task_the_task_runs_again(stack):
    first = stack.worker()
    market = Marketplace()
    assert market.publish("needs").status_code == 200

    # A cold worker's first matching task loads the model (seconds): the kill lands inside it.
    first.wait_for(rf"Matching need {market.need_id}\b", timeout=60)
    first.kill()
    assert not NeedEmbedding.objects.filter(need_id=market.need_id).exists(), "the task had finished"

    killed_task = first.received("matching.tasks.match_pending")[-1]

    second = stack.worker()  # the unacknowledged task comes back after the visibility timeout
    wait_until(lambda: matched(NeedEmbedding, need_id=market.need_id), timeout=120, what="the need matched")
    assert killed_task in second.received("matching.tasks.match_pending")  # the same task, delivered again
    assert market.publish("offers").status_code == 200
    wait_until(lambda: all_delivered(stack, market), timeout=120, what="the match and its e-mails")

    assert_each_email_once(stack.sink, Marketplace.EXPECTED_RECIPIENTS, tasks_killed=1)


def test_worker_killed_while_sending_an_email_it_is_sent_again_exactly_once(stack):
    first = stack.worker()
    market = Marketplace()
    stack.sink.hold()  # the first message waits before the server's "250 accepted"
    assert market.publish("needs").status_code == 200

    wait_until(stack.sink.holding.is_set, timeout=60, what="the e-mail in the SMTP server's hands")
    first.kill()
    wait_until(lambda: stack.sink.abandoned == 1, timeout=10, what="the SMTP server to see the client die")
    assert stack.sink.received == []
    killed_task = first.received("notifications.outbox.send_notification_email")[-1]

    second = stack.worker()
    assert market.publish("offers").status_code == 200
    wait_until(lambda: all_delivered(stack, market), timeout=180, what="the match and its e-mails")
    assert killed_task in second.received("notifications.outbox.send_notification_email")

    line = assert_each_email_once(stack.sink, Marketplace.EXPECTED_RECIPIENTS, tasks_killed=1)
    assert stack.sink.attempts == len(Marketplace.EXPECTED_RECIPIENTS) + 1, line


def test_broker_down_when_a_posting_is_published_it_is_saved_and_matched_once_the_broker_is_back(stack):
    stack.worker()
    market = Marketplace()
    assert market.publish("offers").status_code == 200
    wait_until(lambda: matched(OfferEmbedding, offer_id=market.offer_id), timeout=120, what="the offer")

    stack.redis.stop()
    started = time.monotonic()
    response = market.publish("needs")
    answered_in = time.monotonic() - started
    assert response.status_code == 200, response.content
    assert response.json()["status"] == PostingStatus.PUBLISHED
    assert answered_in < 10, answered_in

    stack.redis.start()  # the same port, empty: the need's tasks were never queued
    assert not NeedEmbedding.objects.filter(need_id=market.need_id).exists()
    # Celery beat's next ticks (every five minutes in production) find what was never queued.
    match_pending_postings.delay(0)
    requeue_pending_notifications.delay(0)
    wait_until(lambda: all_delivered(stack, market), timeout=120, what="the match and its e-mails")

    assert_each_email_once(
        stack.sink,
        Marketplace.EXPECTED_RECIPIENTS,
        tasks_lost_with_the_broker=2,
        publish_answered_in_s=round(answered_in, 2),
    )


# --- PostgreSQL restarted during a run ---------------------------------------------------------------------


class OwnPostgres:
    """A PostgreSQL server of this test's own (pgserver, in a temporary folder), holding a copy of the test
    database: restarting it disturbs nobody else's connections."""

    def __init__(self, source_url: str):
        import pgserver

        # Not under pytest's folder: another pytest session resets its permissions, locking PostgreSQL's
        # own user out of the data folder.
        self.data = directory = Path(tempfile.mkdtemp(prefix="chm-pg-"))
        self.user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs PostgreSQL as its own user
        server = pgserver.get_server(directory, cleanup_mode=None)
        self.socket_dir = str(server.get_postmaster_info().socket_dir)
        self.url = f"postgresql://postgres@/copy?host={self.socket_dir}"
        server.psql("CREATE DATABASE copy;")
        dump = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_dump"), "--no-owner", "--dbname", source_url],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "--dbname", self.url],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )

    def pg_ctl(self, *args: str) -> None:
        from pgserver import pg_ctl

        pg_ctl(["-w", "-l", str(self.data / "log"), *args], pgdata=self.data, user=self.user, timeout=60)

    def query(self, sql: str, params=()) -> list:
        import psycopg2

        with psycopg2.connect(self.url) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        connection.close()
        return rows


class Gunicorn:
    """gunicorn serving the site from the copy (one sync worker: the same process, and the same kept database
    connection, answers every request)."""

    def __init__(self, env: dict, log_path: Path):
        self.port = real_stack.free_port()
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "-b", f"127.0.0.1:{self.port}"]
            + ["-w", "1", "--access-logfile", "-"],
            cwd=real_stack.ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: self.get("/api/v1/parties/")[0] == 200, timeout=60, what="gunicorn")

    def request(self, method: str, path: str, token: str = "") -> tuple[int, dict]:
        headers = {"Authorization": f"Token {token}"} if token else {}
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, {}
        except OSError:
            return 0, {}

    def get(self, path: str) -> tuple[int, dict]:
        return self.request("GET", path)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)
        self.log.close()


def test_postgresql_restarted_during_a_run_the_web_and_the_worker_recover_on_their_own(stack):
    from marketplace import services

    market = Marketplace()
    _token, secretariat = services.api_token_create(
        user=market.secretariat, name="restart", expires_in_days=1
    )
    database = OwnPostgres(real_stack.database_url())
    # Connections kept between requests and tasks, as in production (DJANGO_CONN_MAX_AGE=60).
    env = stack.worker_env(DATABASE_URL=database.url, DJANGO_CONN_MAX_AGE="60")
    worker = real_stack.Worker(env, stack.tmp_path / "worker.log")
    stack.workers.append(worker)
    worker.start()
    web = Gunicorn(env, stack.tmp_path / "gunicorn.log")
    try:
        assert web.get("/api/v1/needs/")[0] == 200  # the web process now holds a connection
        assert web.request("POST", f"/api/v1/needs/{market.need_id}/approve/", secretariat)[0] == 200
        # The worker sends the "published" e-mail, reads the need (its connection kept and checked), then
        # loads the model (seconds, cold): the database restarts meanwhile, under both processes' connections.
        worker.wait_for(rf"Matching need {market.need_id}\b", timeout=60)
        time.sleep(1)
        database.pg_ctl("restart", "-m", "fast")
        restarts = 1

        after_restart = [web.get("/api/v1/needs/")[0] for _ in range(3)]
        published = web.request("POST", f"/api/v1/offers/{market.offer_id}/approve/", secretariat)[0]

        def done() -> bool:
            introduced = database.query(
                "SELECT count(*) FROM matching_match WHERE need_id = %s AND offer_id = %s AND status = %s",
                [market.need_id, market.offer_id, MatchStatus.INTRODUCED],
            )[0][0]
            pending = database.query(
                "SELECT count(*) FROM notifications_notification WHERE email_status = %s",
                [EmailStatus.PENDING],
            )[0][0]
            return introduced == 1 and pending == 0 and stack.redis.idle()

        wait_until(done, timeout=180, what="the match and its e-mails after the restart")
    finally:
        web.stop()
        worker.stop()
        database.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(database.data, ignore_errors=True)

    retries = worker.count(r"retry: Retry in")
    line = assert_each_email_once(
        stack.sink,
        Marketplace.EXPECTED_RECIPIENTS,
        database_restarts=restarts,
        web_answers_after_restart=after_restart,
        task_retries=retries,
    )
    assert after_restart == [200, 200, 200] and published == 200, line
    assert retries >= 1, line  # the matching task met the dead connection and was retried


# --- The sweep that finds postings whose matching task was lost ---------------------------------------


@pytest.mark.django_db
def test_the_sweep_finds_published_postings_the_matcher_has_not_read_since_their_last_save():
    from django.utils import timezone

    from matching.selectors import pending_match_ids
    from tests.factories import NeedFactory, in_days

    never_matched = NeedFactory()
    matched_then_edited, up_to_date, draft, expired = (
        NeedFactory(),
        NeedFactory(),
        NeedFactory(),
        NeedFactory(),
    )
    Need.objects.filter(pk=draft.pk).update(status=PostingStatus.DRAFT)
    Need.objects.filter(pk=expired.pk).update(expires_on=in_days(-1))
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    for need in (matched_then_edited, up_to_date):
        NeedEmbedding.objects.create(
            need=need, model="m", model_version="v", content_hash="h", dimensions=3, vector=[1, 0, 0]
        )
    NeedEmbedding.objects.filter(need=matched_then_edited).update(matched_at=an_hour_ago)
    NeedEmbedding.objects.filter(need=up_to_date).update(
        matched_at=timezone.now() + datetime.timedelta(minutes=1)
    )
    Need.objects.update(updated_at=timezone.now() - datetime.timedelta(minutes=10))

    # Given postings saved ten minutes ago, when the sweep looks for those idle for five minutes or more:
    assert pending_match_ids("need", older_than_seconds=300) == sorted(
        [never_matched.pk, matched_then_edited.pk]
    )
    # and a posting saved a moment ago may still have its task on the way: it waits for the next sweep.
    assert pending_match_ids("need", older_than_seconds=3600) == []
