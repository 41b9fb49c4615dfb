"""Weight of the main pages, loaded by Chromium with an empty cache, beside the 150 KB target.

For each page: the number of requests, the bytes of every response body as served (the development server
sends them uncompressed: an upper bound) and the same bodies gzip-compressed (what a server with compression,
such as whitenoise's pre-compressed files behind gunicorn, transfers). Pages are read signed out, as a focal
point or as the secretariat, on the demo data.

Run: .venv/bin/python benchmarks/page_weight.py [--port 8766]
The demo data lives in database ``chm_page_weight`` of the embedded PostgreSQL, loaded afresh each run.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import hmac
import os
import shutil
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TARGET_KB = 150
ROOT = Path(__file__).resolve().parent.parent
FOCAL_POINT = "achta.ngarlejy@demo.example.org"
SECRETARIAT = "secretariat@demo.example.org"
PAGES = [  # (page, path, who)
    ("home", "/", None),
    ("browse needs", "/needs/", None),
    ("browse offers, by meaning", "/offers/?q=formation+biosécurité&by_meaning=1", None),
    ("a need", "/needs/{need}/", None),
    ("dashboard", "/dashboard/", None),
    ("post a need", "/needs/new/", FOCAL_POINT),
    ("my matches", "/my/matches/", FOCAL_POINT),
    ("notifications", "/notifications/", FOCAL_POINT),
    ("workbench: match queue", "/secretariat/matches/", SECRETARIAT),
    ("workbench: validation", "/secretariat/validation/", SECRETARIAT),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "true",  # the development server serves the static files
        "EMBEDDED_DATABASE_NAME": "chm_page_weight",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input"], env=environment, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*manage, "flush", "--no-input"], env=environment, check=True)
    subprocess.run(
        [*manage, "load_seed_data", "--demo"], env=environment, check=True, stdout=subprocess.DEVNULL
    )
    # The workbench asks staff for a second factor: the demo secretariat gets an authenticator app here.
    totp = (
        "from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret; "
        "from marketplace.models import User; "
        f"u = User.objects.get(email='{SECRETARIAT}'); s = generate_totp_secret(); "
        "u.authenticator_set.all().delete(); TOTP.activate(u, s); print(s)"
    )
    secret = subprocess.run(
        [*manage, "shell", "-c", totp], env=environment, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    need = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from marketplace.models import Need; print(Need.objects.filter(status='published').first().pk)",
        ],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{args.port}"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/", timeout=5)
                break
            except OSError:
                time.sleep(1)
        rows = measure(base, need, secret)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"{'page':28} {'requests':>8} {'as served KB':>13} {'gzip KB':>8}  target")
    for name, requests, raw, compressed in rows:
        verdict = "ok" if raw / 1024 < TARGET_KB else "OVER"  # even uncompressed
        print(
            f"{name:28} {requests:8d} {raw / 1024:13.1f} {compressed / 1024:8.1f}  < {TARGET_KB} KB {verdict}"
        )


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now (RFC 6238: HMAC-SHA1, 30 s, 6 digits)."""
    counter = struct.pack(">Q", int(time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def measure(base: str, need: str, secret: str) -> list[tuple[str, int, int, int]]:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        sessions = {}
        for who in (None, FOCAL_POINT, SECRETARIAT):
            context = browser.new_context(base_url=base)
            if who:
                page = context.new_page()
                page.goto("/accounts/login/")
                page.fill('input[name="login"]', who)
                page.fill('input[name="password"]', "demo-chm-2026")
                page.locator('form:has(input[name="login"]) [type="submit"]').click()
                page.wait_for_load_state()
                if "/2fa/authenticate/" in page.url:
                    page.fill('input[name="code"]', totp_code(secret))
                    page.press('input[name="code"]', "Enter")
                    page.wait_for_load_state()
                page.close()
            sessions[who] = context
        for name, path, who in PAGES:
            page = sessions[who].new_page()
            # a fresh page per measure with the cache off: every byte counts as on a first visit
            page.context.route("**/*", lambda route: route.continue_())  # routing disables the HTTP cache
            finished = []
            page.on("requestfinished", lambda request, finished=finished: finished.append(request))
            page.goto(path.format(need=need), wait_until="networkidle")
            bodies = [request.response().body() for request in finished]
            rows.append(
                (name, len(bodies), sum(map(len, bodies)), sum(len(gzip.compress(b, 9)) for b in bodies))
            )
            page.close()
        browser.close()
    return rows


if __name__ == "__main__":
    main()
