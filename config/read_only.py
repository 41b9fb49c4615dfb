"""Read-only mode: the site served from a PostgreSQL hot standby (a mirror), or frozen on purpose.

It is on when the setting READ_ONLY is, or when the database is in recovery (a standby). The second is
checked as the site runs, so that a promoted standby takes writes again without a restart of the web
processes: PostgreSQL reports `in_hot_standby` to every session (at connection and after the query during
which it changes), so a primary is recognised without a query; a standby is asked `pg_is_in_recovery()`
again after READ_ONLY_RECHECK_SECONDS.

In read-only mode every page and API read works and every write is refused before it starts, with one
message ("This is a mirror; the main site is unavailable, try again later"):
- requests with an unsafe method (forms, API writes, sign-in, sign-up, sign-out): 503 with Retry-After, a
  page or the API's error body (`ReadOnlyMiddleware`, the last middleware);
- a write that slips through anyway (PostgreSQL refuses it: SQLSTATE 25006) answers the same instead of a
  500: here for views, in `api.errors` for the API and for errors raised outside views;
- sessions are read, never saved (`SessionMiddleware`), so signed-in people stay signed in on a mirror;
- Celery tasks (the outbox, beat's sweeps, matching) are skipped (`config.celery_app.Task.before_start`);
- the last-login update of a sign-in is skipped (`connect_signals`).
With the setting on, each database session is also made read-only (default_transaction_read_only), so the
database itself refuses what the site does not.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import Error as DatabaseError
from django.db import connections
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

MESSAGE = _("This is a mirror; the main site is unavailable, try again later.")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Unsafe requests that write nothing to the database: the language switch (a cookie).
ALLOWED_UNSAFE_PATHS = ("/i18n/setlang/",)
READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction: "cannot execute INSERT in a read-only transaction"

# alias -> (in recovery, monotonic time of the check)
_recovery_checks: dict[str, tuple[bool, float]] = {}


def active(using: str = "default") -> bool:
    """Is the site read-only now? The setting, or a database in recovery."""
    return bool(settings.READ_ONLY) or database_in_recovery(using)


def database_in_recovery(using: str = "default") -> bool:
    """Is the database a standby? False when it cannot be reached (the request then fails on its own)."""
    connection = connections[using]
    checked = _recovery_checks.get(using)
    try:
        connection.ensure_connection()
    except DatabaseError:
        return checked[0] if checked else False
    if _reported_hot_standby(connection) == "off":
        _recovery_checks[using] = (False, time.monotonic())
        return False
    now = time.monotonic()
    if checked and now - checked[1] < settings.READ_ONLY_RECHECK_SECONDS:
        return checked[0]
    if connection.in_atomic_block and connection.needs_rollback:  # no query possible until the rollback
        return checked[0] if checked else True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            in_recovery = bool(cursor.fetchone()[0])
    except DatabaseError:
        return checked[0] if checked else False
    if checked is None or checked[0] != in_recovery:
        logger.warning("The database is %s", "a standby: read-only mode" if in_recovery else "writable")
    _recovery_checks[using] = (in_recovery, now)
    return in_recovery


def _reported_hot_standby(connection) -> str | None:
    """The server's `in_hot_standby` as last reported to this session ("on", "off"), None if unknown (a server
    before PostgreSQL 14, a pooler in between)."""
    try:
        return connection.connection.info.parameter_status("in_hot_standby")
    except Exception:  # noqa: BLE001 - any driver, any state; then we ask the server
        return None


def forget() -> None:
    """Drop what is known of the databases' roles (tests)."""
    _recovery_checks.clear()


def is_read_only_error(exception: BaseException | None) -> bool:
    """Did PostgreSQL refuse a write because the transaction is read-only (a standby, or the setting)?"""
    for _depth in range(5):  # Django's error, then the driver's under it
        if exception is None:
            break
        code = getattr(exception, "pgcode", None) or getattr(
            getattr(exception, "diag", None), "sqlstate", None
        )
        if code == READ_ONLY_SQLSTATE:
            return True
        exception = exception.__cause__
    return False


def refusable(exception: BaseException | None) -> bool:
    """Should this error be answered with the mirror's message? A write PostgreSQL refused as read-only, or
    any database error while read-only (on a standby, a read can also be cancelled by the replay)."""
    if is_read_only_error(exception):
        return True
    if not isinstance(exception, DatabaseError):
        return False
    try:
        return active()
    except Exception:  # noqa: BLE001 - we are answering an error already
        return bool(settings.READ_ONLY)


def refusal(request):
    """The answer to a write in read-only mode: 503 and Retry-After; the API's error body under /api/, a page
    elsewhere."""
    from django.http import JsonResponse
    from django.shortcuts import render

    message = str(MESSAGE)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"type": "server_error", "errors": [{"code": "read_only", "detail": message, "attr": None}]},
            status=503,
        )
    else:
        response = render(request, "frontend/read_only.html", {"message": message}, status=503)
    response["Retry-After"] = str(settings.READ_ONLY_RETRY_AFTER)
    add_never_cache_headers(response)
    return response


class ReadOnlyMiddleware:
    """Refuses every unsafe request in read-only mode, before the view runs (the last middleware, so that the
    page is rendered for the signed-in reader in their language); answers a refused write the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method not in SAFE_METHODS
            and not request.path.startswith(ALLOWED_UNSAFE_PATHS)
            and active()
        ):
            logger.info("Read-only mode: %s %s refused", request.method, request.path)
            return refusal(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if refusable(exception):
            logger.warning(
                "Read-only mode: %s %s failed on the database: %s", request.method, request.path, exception
            )
            return refusal(request)
        return None


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that in read-only mode sessions are read but never saved: people signed in on the
    main site stay signed in on its mirror (the sessions table is replicated), and nothing is written."""

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if (
            session is not None
            and response.status_code < 500  # Django saves nothing then either
            and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)
            and not session.is_empty()
            and active()
        ):
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)


def connect_signals() -> None:
    """Called once the apps are ready (marketplace.apps): the last-login update skipped in read-only mode, and
    the setting enforced by the database."""
    from django.contrib.auth import user_logged_in
    from django.db.backends.signals import connection_created

    if user_logged_in.disconnect(dispatch_uid="update_last_login"):
        user_logged_in.connect(update_last_login, dispatch_uid="update_last_login")
    connection_created.connect(_read_only_session, dispatch_uid="config.read_only")


def update_last_login(sender, user, **kwargs) -> None:
    from django.contrib.auth.models import update_last_login as django_update_last_login

    if active():
        logger.info("Read-only mode: last login of user %s not recorded", user.pk)
        return
    django_update_last_login(sender, user, **kwargs)


def _read_only_session(sender, connection, **kwargs) -> None:
    if settings.READ_ONLY and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = on")
