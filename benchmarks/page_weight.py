"""Weight of the main pages, loaded by Chromium with an empty cache, beside the 150 KB target.

For each page: the number of requests, the bytes of every response body as served (the development server
sends them uncompressed: an upper bound) and the same bodies gzip-compressed (what a server with compression,
such as whitenoise's pre-compressed files behind gunicorn, transfers). Pages are read signed out, as a focal
point or as the secretariat, on the demo data.

Run: .venv/bin/python benchmarks/page_weight.py [--port 8766] [--languages en,ar,zh-hans,ru,fr,es]
Each page is read in each language (the browser's language): Arabic, Chinese and Russian texts take two or
three bytes a character where English takes one.
The demo data lives in database ``chm_page_weight`` of the embedded PostgreSQL, loaded afresh each run.
"""

from __future__ import annotations

import argparse
import gzip

from demo_site import FOCAL_POINT, SECRETARIAT, DemoSite, chromium, demo_site, sign_in

TARGET_KB = 150
PAGES = [  # (page, path, who)
    ("home", "/", None),
    ("browse needs", "/needs/", None),
    ("browse offers, by meaning", "/offers/?q=formation+biosécurité&by_meaning=1", None),
    ("a need", "/needs/{need}/", None),
    ("dashboard", "/dashboard/", None),
    ("post a need", "/needs/new/", FOCAL_POINT),
    ("my matches", "/my/matches/", FOCAL_POINT),
    ("a match", "/matches/{match}/", FOCAL_POINT),
    ("welcome", "/welcome/", None),
    ("sign up", "/accounts/signup/", None),
    ("notifications", "/notifications/", FOCAL_POINT),
    ("workbench: match queue", "/secretariat/matches/", SECRETARIAT),
    ("workbench: validation", "/secretariat/validation/", SECRETARIAT),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--languages", default="en,ar,zh-hans,ru,fr,es", help="comma-separated")
    args = parser.parse_args()
    with demo_site(port=args.port, database="chm_page_weight") as site:
        weights = measure(site, args.languages.split(","))
    for language, rows in weights.items():
        heading = f"page ({language})"
        print(f"\n{heading:28} {'requests':>8} {'as served KB':>13} {'gzip KB':>8}  target")
        for name, requests, raw, compressed in rows:
            verdict = "ok" if raw / 1024 < TARGET_KB else "OVER"  # even uncompressed
            kilobytes = f"{raw / 1024:13.1f} {compressed / 1024:8.1f}"
            print(f"{name:28} {requests:8d} {kilobytes}  < {TARGET_KB} KB {verdict}")


def measure(site: DemoSite, languages: list[str]) -> dict[str, list[tuple[str, int, int, int]]]:
    from playwright.sync_api import sync_playwright

    weights: dict[str, list[tuple[str, int, int, int]]] = {}
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        sessions = {}
        for who in (None, FOCAL_POINT, SECRETARIAT):
            context = browser.new_context(base_url=site.base)
            if who:
                sign_in(context, who, site)
            sessions[who] = context
        for language in languages:  # the browser's language (no language cookie is set)
            rows = weights[language] = []
            for name, path, who in PAGES:
                page = sessions[who].new_page()
                page.set_extra_http_headers({"Accept-Language": language})
                # a fresh page per measure with the cache off: every byte counts as on a first visit
                page.context.route("**/*", lambda route: route.continue_())  # routing disables the HTTP cache
                finished = []
                page.on("requestfinished", lambda request, finished=finished: finished.append(request))
                page.goto(path.format(need=site.need, match=site.match), wait_until="networkidle")
                bodies = [request.response().body() for request in finished]
                rows.append(
                    (name, len(bodies), sum(map(len, bodies)), sum(len(gzip.compress(b, 9)) for b in bodies))
                )
                page.close()
        browser.close()
    return weights


if __name__ == "__main__":
    main()
