"""Full-page screenshots of the main pages, for a reviewer to look at every page in one go: signed out, as
Chad's focal point reading French, and as the secretariat, each at 1,280 px and at 390 px (a phone), on the
demo data. Also prints each page's document width at 390 px (wider means the page scrolls sideways).

Run: .venv/bin/python benchmarks/screenshots.py [--out screenshots/] [--port 8767]
The demo data lives in database ``chm_screenshots`` of the embedded PostgreSQL, loaded afresh each run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from demo_site import FOCAL_POINT, SECRETARIAT, chromium, demo_site, sign_in

PAGES = [  # (file name, path, who, browser language)
    ("home", "/", None, "en-GB"),
    ("needs", "/needs/", None, "en-GB"),
    ("offers-by-meaning", "/offers/?q=formation+biosécurité&by_meaning=1", None, "fr-FR"),
    ("need", "/needs/{need}/", None, "es-ES"),
    ("dashboard", "/dashboard/", None, "fr-FR"),
    ("case-studies", "/case-studies/", None, "en-GB"),
    ("sign-in", "/accounts/login/", None, "fr-FR"),
    ("sign-up", "/accounts/signup/", None, "es-ES"),
    ("welcome", "/welcome/", None, "fr-FR"),
    ("fp-post-a-need", "/needs/new/", FOCAL_POINT, "fr-FR"),
    ("fp-my-postings", "/my/", FOCAL_POINT, "fr-FR"),
    ("fp-my-matches", "/my/matches/", FOCAL_POINT, "fr-FR"),
    ("fp-match", "/matches/{match}/", FOCAL_POINT, "fr-FR"),
    ("fp-notifications", "/notifications/", FOCAL_POINT, "fr-FR"),
    ("fp-mentoring", "/mentoring/", FOCAL_POINT, "fr-FR"),
    ("staff-validation", "/secretariat/validation/", SECRETARIAT, "en-GB"),
    ("staff-match-queue", "/secretariat/matches/", SECRETARIAT, "en-GB"),
    ("staff-mentoring", "/secretariat/mentoring/", SECRETARIAT, "en-GB"),
    ("staff-audit", "/secretariat/audit/", SECRETARIAT, "en-GB"),
]
WIDTHS = {"desktop": 1280, "phone": 390}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with demo_site(port=args.port, database="chm_screenshots") as site, sync_playwright() as playwright:
        browser = chromium(playwright)
        for device, width in WIDTHS.items():
            sessions = {}
            for name, path, who, language in PAGES:
                if (who, language) not in sessions:
                    context = browser.new_context(
                        base_url=site.base, viewport={"width": width, "height": 900}, locale=language
                    )
                    if who:
                        sign_in(context, who, site)
                    sessions[who, language] = context
                page = sessions[who, language].new_page()
                page.goto(path.format(need=site.need, match=site.match), wait_until="networkidle")
                file = args.out / f"{name}-{device}.png"
                page.screenshot(path=str(file), full_page=True)
                document_width = page.evaluate("document.documentElement.scrollWidth")
                flag = "  SCROLLS SIDEWAYS" if document_width > width else ""
                print(f"{file}  {document_width} px wide{flag}")
                page.close()
            for context in sessions.values():
                context.close()
        browser.close()


if __name__ == "__main__":
    main()
