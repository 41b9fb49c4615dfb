"""The demo site the page benchmarks read: the demo data loaded afresh into an embedded database of its own,
the development server (it serves the static files), and Chromium signed in as demo people, the secretariat
with its authenticator app (the workbench asks staff for a second factor)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOCAL_POINT = "achta.ngarlejy@demo.example.org"  # Chad's national focal point
SECRETARIAT = "secretariat@demo.example.org"
PASSWORD = "demo-chm-2026"
# Run in `manage.py shell`: the demo secretariat's new authenticator app; prints its secret.
ACTIVATE_TOTP = (
    "from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret; "
    "from marketplace.models import User; "
    f"u = User.objects.get(email='{SECRETARIAT}'); s = generate_totp_secret(); "
    "u.authenticator_set.all().delete(); TOTP.activate(u, s); print(s)"
)
FIRST_NEED = "from marketplace.models import Need; print(Need.objects.filter(status='published').first().pk)"
FOCAL_POINT_MATCH = (  # a match on one of the focal point's needs that waits for an answer
    "from matching.models import Match; "
    f"print(Match.objects.filter(need__created_by__email='{FOCAL_POINT}').exclude(status='suggested')"
    ".order_by('status', 'pk').first().pk)"
)


@dataclass(frozen=True)
class DemoSite:
    base: str
    need: str  # the id of a published need
    match: str  # the id of a match of the focal point's
    totp_secret: str  # the demo secretariat's


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now (RFC 6238: HMAC-SHA1, 30 s, 6 digits); near the end of a
    period, the next period's (after waiting for it), so that it is still valid when the server checks it."""
    if 30 - time.time() % 30 < 3:
        time.sleep(30 - time.time() % 30 + 0.1)
    counter = struct.pack(">Q", int(time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


@contextmanager
def demo_site(*, port: int, database: str, full_stack: bool = False) -> Iterator[DemoSite]:
    """The demo loaded afresh, served by the development server; with ``full_stack``, by `make run`'s
    supervisor (config.run: the web server, a Celery worker and beat on the embedded valkey), so that
    publications are matched by the worker, not in the request."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "true",  # the development server serves the static files
        "EMBEDDED_DATABASE_NAME": database,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "CELERY_TASK_ALWAYS_EAGER": "true",  # the demo's postings are matched as they are loaded
    }
    manage = [sys.executable, str(ROOT / "manage.py")]

    def run(*command: str) -> str:  # a manage.py command's output
        done = subprocess.run(
            [*manage, *command], env=environment, check=True, capture_output=True, text=True
        )
        return done.stdout

    run("migrate", "--no-input")
    run("flush", "--no-input")
    run("load_seed_data", "--demo")
    secret = run("shell", "-c", ACTIVATE_TOTP).split()[-1]
    need = run("shell", "-c", FIRST_NEED).split()[-1]
    match = run("shell", "-c", FOCAL_POINT_MATCH).split()[-1]
    serve = (
        [sys.executable, "-m", "config.run", "--port", str(port)]
        if full_stack
        else [
            *manage,
            "runserver",
            "--noreload",
            f"127.0.0.1:{port}",
        ]
    )
    if full_stack:
        del environment["CELERY_TASK_ALWAYS_EAGER"]
    server = subprocess.Popen(
        serve,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/", timeout=5)
                break
            except OSError:
                time.sleep(1)
        yield DemoSite(base=base, need=need, match=match, totp_secret=secret)
    finally:
        server.terminate()
        server.wait(timeout=30)


def chromium(playwright):
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    return playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])


def sign_in(context, email: str, site: DemoSite) -> None:
    """Sign in through the page, with the authenticator app's code when asked."""
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.press('input[name="password"]', "Enter")
    page.wait_for_load_state()
    if "/2fa/authenticate/" in page.url:
        page.fill('input[name="code"]', totp_code(site.totp_secret))
        page.press('input[name="code"]', "Enter")
        page.wait_for_load_state()
        if "/2fa/authenticate/" in page.url:
            raise RuntimeError(f"{email}: the authenticator code was refused")
    page.close()
