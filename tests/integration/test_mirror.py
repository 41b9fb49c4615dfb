"""A mirror that keeps the clearing-house online (issue 21): the site in read-only mode on a PostgreSQL hot
standby fed by streaming replication, then promoted when the primary dies.

The first tests set READ_ONLY in this process (fast). The last one runs the real thing on two private
embedded servers in a temporary folder (the shared one, .pgdata, is never stopped): a primary with this
test database's schema and reference data, a standby made from it with pg_basebackup, and the mirror's web
server (gunicorn) on the standby; the primary is SIGKILLed and the standby promoted under that web server.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth import user_logged_in
from django.contrib.sessions.models import Session
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from config import read_only
from config.embedded_standby import EmbeddedServer, bin_dir
from marketplace import services
from marketplace.models import Need, Offer, PostingStatus, User
from seed_data import loader
from tests.factories import NeedFactory, OfferFactory, OrganizationFactory, focal_point, in_days, member
from tests.integration.real_stack import ROOT, Marketplace, free_port, wait_until

MIRROR_MESSAGE = "This is a mirror; the main site is unavailable, try again later."
PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


@pytest.fixture
def read_only_mode(settings):
    settings.READ_ONLY = True
    read_only.forget()
    yield
    read_only.forget()


def assert_refused(response, *, api: bool = False):
    """503, Retry-After, the mirror's message: as the API's error body or on a page."""
    assert response.status_code == 503, (response.status_code, response.content[:300])
    assert int(response["Retry-After"]) > 0
    if api:
        assert response.json() == {
            "type": "server_error",
            "errors": [{"code": "read_only", "detail": MIRROR_MESSAGE, "attr": None}],
        }
    else:
        assert MIRROR_MESSAGE in response.content.decode()


@pytest.fixture
def market(db):
    """A focal point's published need (and an API token), an organization member's published offer."""
    chad = focal_point("TD", preferred_language="fr")
    need = NeedFactory(created_by=chad)
    organization = OrganizationFactory()
    trainer = member(organization)
    offer = OfferFactory(created_by=trainer, organization=organization)
    _token, key = services.api_token_create(user=chad, name="mirror", expires_in_days=1)
    return {"chad": chad, "need": need, "offer": offer, "trainer": trainer, "token": key}


def database_state() -> dict:
    return {
        "users": User.objects.count(),
        "needs": Need.objects.count(),
        "offers": Offer.objects.count(),
        "sessions": Session.objects.count(),
        "last_logins": sorted(str(login) for login in User.objects.values_list("last_login", flat=True)),
    }


def test_read_only_setting_serves_reads_and_refuses_every_write_with_the_mirror_message(market, settings):
    # Given signed-in people (their sessions saved before the site turned read-only)
    chad, need, offer = market["chad"], market["need"], market["offer"]
    page = Client()
    page.force_login(chad)
    trainer = Client()
    trainer.force_login(market["trainer"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {market['token']}")
    settings.READ_ONLY = True
    before = database_state()

    # Reads work, for everyone
    for client, url in [
        (Client(), "/"),
        (Client(), f"/needs/{need.pk}/"),
        (Client(), "/offers/"),
        (Client(), "/api/v1/needs/"),
        (page, "/my/"),
        (page, "/needs/new/"),
        (api, "/api/v1/me/"),
    ]:
        assert client.get(url).status_code == 200, url
    health = Client().get("/healthz").json()
    assert health["role"] == "mirror"

    # Every write is refused: the posting form, the API, expressing interest, sign-up, sign-in, sign-out
    assert_refused(page.post("/needs/new/", {"poster": "party:TD", "title": "Mirror", "submit": "1"}))
    assert_refused(
        api.post("/api/v1/needs/", {**Marketplace.NEED, "expires_on": in_days(30).isoformat()}), api=True
    )
    assert_refused(api.post(f"/api/v1/needs/{need.pk}/close/", {"reason": "x"}), api=True)
    assert_refused(trainer.post(f"/needs/{need.pk}/interest/", {"own": offer.pk, "message": "We can help."}))
    assert_refused(
        Client().post(
            "/accounts/signup/",
            {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD, "name": "New"},
        )
    )
    assert_refused(Client().post("/accounts/login/", {"login": chad.email, "password": PASSWORD}))
    assert_refused(page.post("/accounts/logout/"))
    french = Client(headers={"accept-language": "fr"}).post("/accounts/login/", {"login": chad.email})
    assert french.status_code == 503 and '<html lang="fr">' in french.content.decode()

    # The language switch writes nothing to the database: it still works
    assert Client().post("/i18n/setlang/", {"language": "fr", "next": "/"}).status_code == 302

    # Then nothing was written
    assert database_state() == before
    need.refresh_from_db()
    assert need.status == PostingStatus.PUBLISHED


def test_read_only_mode_skips_tasks_last_login_and_session_saves(market, read_only_mode):
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpResponse
    from django.test import RequestFactory

    from notifications.tasks import requeue_pending_notifications

    chad = market["chad"]
    sessions = Session.objects.count()

    # A task (beat's sweep of the outbox here) is skipped
    assert requeue_pending_notifications.apply().state == "IGNORED"

    # A sign-in's last-login update is skipped
    user_logged_in.send(sender=User, request=None, user=chad)
    chad.refresh_from_db()
    assert chad.last_login is None

    # A changed session is not saved
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session["visited"] = True
    read_only.SessionMiddleware(lambda request: HttpResponse()).process_response(request, HttpResponse())
    assert Session.objects.count() == sessions


def test_a_write_that_slips_past_the_gate_is_answered_503_not_500(market, read_only_mode, monkeypatch):
    """PostgreSQL's own refusal (a standby, or the read-only transaction) reaching a view or the API."""
    from django.db import InternalError

    class ReadOnlyTransaction(Exception):
        pgcode = read_only.READ_ONLY_SQLSTATE

    def refused(*args, **kwargs):
        raise InternalError("cannot execute INSERT in a read-only transaction") from ReadOnlyTransaction()

    monkeypatch.setattr(read_only, "SAFE_METHODS", frozenset(read_only.SAFE_METHODS | {"POST"}))
    monkeypatch.setattr(services, "need_create", refused)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {market['token']}")
    page = Client()
    page.force_login(market["chad"])

    api_answer = api.post("/api/v1/needs/", {**Marketplace.NEED, "expires_on": in_days(30).isoformat()})
    form = {
        **Marketplace.NEED,
        "poster": "party:TD",
        "subjects": Marketplace.NEED["subjects"],
        "expires_on": in_days(30).isoformat(),
    }
    page_answer = page.post("/needs/new/", form)

    assert_refused(api_answer, api=True)
    assert_refused(page_answer)


def test_the_primary_reports_its_role(db, client):
    answer = client.get("/healthz").json()
    assert answer["role"] == "primary"


# --- Two servers in streaming replication --------------------------------------------------------------


@contextmanager
def django_on(server: EmbeddedServer, database: str):
    """This process's Django connection on another server's database (the services write there)."""
    connection = connections["default"]
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(NAME=database, HOST=str(server.socket_dir), PORT="", USER="postgres")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def copy_test_database(primary: EmbeddedServer, name: str) -> None:
    """The test database's schema and reference data (migrated and loaded once per session) onto the private
    primary: pg_dump | psql, a second where migrating takes fifteen."""
    test_db = connections["default"].settings_dict
    primary.query(f'CREATE DATABASE "{name}"')
    source = f"dbname={test_db['NAME']} user={test_db['USER']} host={test_db['HOST']}"
    if test_db.get("PORT"):
        source += f" port={test_db['PORT']}"
    env = {**os.environ, "PGPASSWORD": test_db.get("PASSWORD") or ""}
    dump = subprocess.Popen(
        [str(bin_dir() / "pg_dump"), "--no-owner", "--no-privileges", f"--dbname={source}"],
        stdout=subprocess.PIPE,
        env=env,
    )
    restore = subprocess.run(
        [str(bin_dir() / "psql"), "-q", "-v", "ON_ERROR_STOP=1", primary.url(name)],
        stdin=dump.stdout,
        capture_output=True,
        text=True,
    )
    dump.stdout.close()
    assert dump.wait() == 0
    assert restore.returncode == 0, restore.stderr


def content_digest(server: EmbeddedServer, database: str) -> dict[str, str]:
    """Each table's whole content, hashed: any row written, changed or deleted shows."""
    tables = server.query(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", database=database
    )
    digest = {}
    for (table,) in tables:
        rows = server.query(f'SELECT t::text FROM "{table}" t ORDER BY 1', database=database)
        digest[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digest


class MirrorServer:
    """gunicorn (one worker, several threads) serving the site from the standby; connections kept between
    requests (DJANGO_CONN_MAX_AGE=60), as in production: the promotion happens under them."""

    def __init__(self, database_url: str, log_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "CELERY_", "PYTEST_", "EMAIL_", "READ_ONLY"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.test_worker",
            DATABASE_URL=database_url,
            DJANGO_CONN_MAX_AGE="60",
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            PYTHONUNBUFFERED="1",
        )
        self.log_path = log_path
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "-b", f"127.0.0.1:{self.port}"]
            + ["-w", "1", "--threads", "4", "--timeout", "120", "--access-logfile", "-"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_up(self) -> None:
        wait_until(self._up, timeout=60, what=f"the mirror's gunicorn (log: {self.log_path})")

    def _up(self) -> bool:
        try:
            return self.browser().get("/healthz", timeout=5).status_code == 200
        except OSError:
            return False

    def browser(self, sessionid: str = "") -> "Browser":
        return Browser(self.base, sessionid)

    def search(self, words: str) -> "Answer":
        """Offers by meaning (the model loads on the first search)."""
        return self.browser().get(f"/offers/?{urlencode({'q': words, 'by_meaning': '1'})}", timeout=120)

    def form_post(self, browser: "Browser", page: str, action: str, data: dict) -> "Answer":
        """GET the form's page (its CSRF token), then POST the form, as a browser does."""
        shown = browser.get(page)
        assert shown.status_code == 200, (page, shown.status_code)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', shown.text).group(1)
        return browser.post(
            action, form={"csrfmiddlewaretoken": token, **data}, headers={"Referer": self.base + page}
        )

    def server_errors(self) -> list[str]:
        self.log.flush()
        return [line for line in self.log_path.read_text().splitlines() if re.search(r'" 5(?!03)\d\d ', line)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


class Answer:
    def __init__(self, status_code: int, headers, body: bytes):
        self.status_code, self.headers, self.text = status_code, headers, body.decode()

    def json(self):
        return json.loads(self.text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at


class Browser:
    """What the test needs of a browser (urllib): its cookies kept, redirects answered, not followed."""

    opener = urllib.request.build_opener(_NoRedirect())

    def __init__(self, base: str, sessionid: str = ""):
        self.base = base
        self.cookies = {"sessionid": sessionid} if sessionid else {}

    def request(self, method, path, *, form=None, body=None, headers=None, timeout=60) -> Answer:
        headers = dict(headers or {})
        data = None
        if form is not None:
            data = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            response = self.opener.open(request, timeout=timeout)  # noqa: S310 - the loopback
        except urllib.error.HTTPError as error:
            response = error
        with response:
            answer = Answer(response.status, response.headers, response.read())
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update({key: morsel.value for key, morsel in SimpleCookie(header).items()})
        return answer

    def get(self, path: str, **options) -> Answer:
        return self.request("GET", path, **options)

    def post(self, path: str, **options) -> Answer:
        return self.request("POST", path, **options)


def assert_mirror_refusal(response: Answer, *, api: bool = False) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert int(response.headers["Retry-After"]) > 0
    if api:
        assert response.json()["errors"][0] == {"code": "read_only", "detail": MIRROR_MESSAGE, "attr": None}
    else:
        assert MIRROR_MESSAGE in response.text


def until_on(standby: EmbeddedServer, sql: str, params, *, database: str, timeout: float = 5.0) -> float:
    """Seconds until the standby shows the row (polled every 2 ms); fails after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if standby.query(sql, params, database=database):
            return time.monotonic() - start
        time.sleep(0.002)
    raise AssertionError(f"not on the standby after {timeout}s: {sql} {params}")


NEED_ROW = "SELECT 1 FROM marketplace_need WHERE id = %s AND status = %s"


def test_mirror_on_a_hot_standby_then_failover(transactional_db, django_db_blocker):
    base = Path(tempfile.mkdtemp(prefix="chm-mirror-"))  # short: the Unix sockets live in it
    primary = EmbeddedServer(base / "primary")
    standby = EmbeddedServer(base / "standby")
    mirror = None
    name = "chm"
    try:
        # Given a primary with the site's schema and a hot standby following it
        with django_db_blocker.unblock():
            primary.initdb(sync=False).start()
            copy_test_database(primary, name)
            with django_on(primary, name):  # a transactional test may have emptied the test database
                loader.load_parties()
                loader.load_vocabulary()
        standby.standby_of(primary, sync=False).start()
        assert standby.in_recovery()
        mirror = MirrorServer(standby.url(name), base / "mirror.log")  # starts meanwhile

        # When people post through the services on the primary (the API, the secretariat publishing)
        lags = []
        with django_db_blocker.unblock(), django_on(primary, name):
            market = Marketplace()
            for kind, posting_id in [("needs", market.need_id), ("offers", market.offer_id)]:
                assert market.publish(kind).status_code == 200
                lags.append(
                    until_on(
                        standby,
                        f"SELECT 1 FROM marketplace_{kind[:-1]} WHERE id = %s AND status = %s",
                        [posting_id, PostingStatus.PUBLISHED],
                        database=name,
                    )
                )
            api = Marketplace.client(market.chad)
            for number in range(10):
                created = api.post(
                    "/api/v1/needs/",
                    {**Marketplace.NEED, "title": f"Besoin {number}", "expires_on": in_days(60).isoformat()},
                )
                assert created.status_code == 201, created.content
                lags.append(
                    until_on(standby, NEED_ROW, [created.json()["id"], PostingStatus.DRAFT], database=name)
                )
            _token, chad_token = services.api_token_create(user=market.chad, name="mirror", expires_in_days=1)
            browser = Client()
            browser.force_login(market.chad)
            chad_session = browser.cookies["sessionid"].value
            trainer = Client()
            trainer.force_login(market.trainer)
            trainer_session = trainer.cookies["sessionid"].value
        # Then every row is on the standby within 5 s (until_on's limit)
        until_on(
            standby, "SELECT 1 FROM marketplace_apitoken WHERE user_id = %s", [market.chad.pk], database=name
        )
        until_on(
            standby, "SELECT 1 FROM django_session WHERE session_key = %s", [trainer_session], database=name
        )

        # And the mirror's web server on the standby serves the pages, search by meaning and the API lists
        mirror.wait_until_up()
        health = mirror.browser().get("/healthz").json()
        assert health["role"] == "mirror" and health["replication_streaming"] is True, health
        assert health["replication_lag_seconds"] is not None
        anonymous = mirror.browser()
        assert anonymous.get("/").status_code == 200
        need_page = anonymous.get(f"/needs/{market.need_id}/")
        assert need_page.status_code == 200 and Marketplace.NEED["title"] in need_page.text
        search = mirror.search("former les douaniers aux espèces envahissantes")
        assert search.status_code == 200 and Marketplace.OFFER["title"] in search.text
        for kind in ("needs", "offers"):
            listed = anonymous.get(f"/api/v1/{kind}/")
            assert listed.status_code == 200 and listed.json()["count"] == 1, listed.text[:300]
        signed_in = mirror.browser(chad_session)
        assert signed_in.get("/my/").status_code == 200

        # When every write path is tried on the mirror
        before = content_digest(standby, name)
        posting_form = {
            **{key: value for key, value in Marketplace.NEED.items() if key != "party"},
            "poster": "party:TD",
            "expires_on": in_days(60).isoformat(),
            "submit": "1",
        }
        answers = {
            "posting form": mirror.form_post(signed_in, "/needs/new/", "/needs/new/", posting_form),
            "express interest": mirror.form_post(
                mirror.browser(trainer_session),
                f"/needs/{market.need_id}/",
                f"/needs/{market.need_id}/interest/",
                {"own": market.offer_id, "message": "We can help."},
            ),
            "sign-up": mirror.form_post(
                mirror.browser(),
                "/accounts/signup/",
                "/accounts/signup/",
                {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD, "name": "New"},
            ),
            "sign-in": mirror.form_post(
                mirror.browser(),
                "/accounts/login/",
                "/accounts/login/",
                {"login": market.chad.email, "password": PASSWORD},
            ),
        }
        api_create = mirror.browser().post(
            "/api/v1/needs/",
            body={**Marketplace.NEED, "expires_on": in_days(60).isoformat()},
            headers={"Authorization": f"Token {chad_token}"},
        )
        # Then each answers with the mirror's message (503), none with a 500, and the standby is unchanged
        for path, answer in answers.items():
            assert answer.status_code == 503, (path, answer.status_code, answer.text[:300])
            assert_mirror_refusal(answer)
        assert_mirror_refusal(api_create, api=True)
        assert mirror.server_errors() == []
        assert content_digest(standby, name) == before

        # When the primary fails (SIGKILL, replication made synchronous first: a commit then waits until the
        # standby has the WAL, which is what "nothing committed is lost" takes) and the standby is promoted
        primary.query("ALTER SYSTEM SET synchronous_standby_names = '*'")
        primary.query("SELECT pg_reload_conf()")
        wait_until(
            lambda: primary.query("SELECT sync_state FROM pg_stat_replication") == [("sync",)],
            timeout=10,
            what="synchronous replication",
        )
        with django_db_blocker.unblock(), django_on(primary, name):
            api = Marketplace.client(market.chad)
            for number in range(20):
                created = api.post(
                    "/api/v1/needs/",
                    {**Marketplace.NEED, "title": f"Dernier {number}", "expires_on": in_days(60).isoformat()},
                )
                assert created.status_code == 201, created.content
            committed = {("need", pk) for pk in Need.objects.values_list("id", flat=True)} | {
                ("offer", pk) for pk in Offer.objects.values_list("id", flat=True)
            }
            primary.kill()
        killed = time.monotonic()
        standby.promote()
        promoted = time.monotonic()

        # Then the same web server takes a new posting, without a restart
        def accepted() -> Answer | None:
            answer = mirror.browser().post(
                "/api/v1/needs/",
                body={**Marketplace.NEED, "title": "Après la bascule", "expires_on": in_days(60).isoformat()},
                headers={"Authorization": f"Token {chad_token}"},
            )
            assert answer.status_code in (201, 503), (answer.status_code, answer.text[:300])
            return answer if answer.status_code == 201 else None

        new_need = wait_until(
            accepted, timeout=30, interval=0.05, what="a write accepted after the promotion"
        )
        writable = time.monotonic()
        assert mirror.process.poll() is None  # the same process
        health = mirror.browser().get("/healthz").json()
        assert health["role"] == "primary", health
        assert mirror.form_post(signed_in, "/needs/new/", "/needs/new/", posting_form).status_code == 302
        last_login = "SELECT last_login FROM marketplace_user WHERE id = %s"
        login_before = standby.query(last_login, [market.chad.pk], database=name)[0][0]
        signed_in_again = mirror.form_post(
            mirror.browser(),
            "/accounts/login/",
            "/accounts/login/",
            {"login": market.chad.email, "password": PASSWORD},
        )
        assert signed_in_again.status_code == 302
        assert standby.query(last_login, [market.chad.pk], database=name)[0][0] > login_before

        # And every posting committed on the primary before it died is there
        present = set(
            standby.query(
                "SELECT 'need', id FROM marketplace_need UNION SELECT 'offer', id FROM marketplace_offer",
                database=name,
            )
        )
        assert committed <= present, sorted(committed - present)
        assert ("need", new_need.json()["id"]) in present
        assert mirror.server_errors() == []
        lag_ms = sorted(1000 * lag for lag in lags)
        print(
            f"\n[mirror figures] replication (asynchronous), committed on the primary -> visible on the "
            f"standby: median {statistics.median(lag_ms):.1f} ms, max {lag_ms[-1]:.1f} ms over {len(lag_ms)} "
            f"postings; promotion (pg_ctl promote -w) {promoted - killed:.2f} s; failover, primary killed -> "
            f"first posting accepted by the same mirror process {writable - killed:.2f} s "
            f"(READ_ONLY_RECHECK_SECONDS 2); {len(committed)} postings committed before the kill, all present"
        )
    finally:
        if mirror is not None:
            mirror.stop()
        for server in (standby, primary):
            try:
                server.kill() if server is primary else server.stop()
            except Exception:  # noqa: BLE001 - tidying up; the first error is the one that matters
                server.kill()
        shutil.rmtree(base, ignore_errors=True)
