"""Take the README's screenshots of the portal from a running `make run` (docs/screenshots/*.png).

    make run            # in one terminal; wait for the banner
    .venv/bin/python scripts/screenshots.py

Signs in through the local Keycloak as the demo users (password `demo`), as a person would, and
captures the main page of each role's work from the demo data. Debian's Chromium drives it
(scripts/browser_deps.sh installs it). Nothing here is a test: the browser tests are in tests/browser.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

# (file name, demo user or None, path, what to click first or None)
SHOTS = [
    ("front-page", None, "/", None),
    ("professional-ask", "professional", "/kysy", None),
    ("professional-my-requests", "professional", "/omat-pyynnot", None),
    ("professional-conversation", "professional", "/omat-pyynnot", "first-request"),
    ("coordinator-worklist", "coordinator", "/pyynnot", None),
    ("coordinator-request", "coordinator", "/pyynnot", "first-request"),
    ("coordinator-statistics", "coordinator", "/tilastot", None),
    ("secretary-meetings", "secretary", "/kokoukset", None),
    ("expert-assignments", "expert", "/toimeksiannot", None),
    ("admin-audit-trail", "admin", "/tarkastusloki", None),
]


def sign_in(page, portal: str, user: str) -> None:
    page.goto(portal + "/")
    page.get_by_role("link", name="Kirjaudu sisään").click()
    page.locator("#username").fill(user)
    page.locator("#password").fill("demo")
    page.locator("#kc-login").click()
    page.wait_for_url(f"{portal}/**")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portal", default=os.environ.get("OT_PORTAL_PUBLIC_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    portal = args.portal.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        contexts = {}
        for name, user, path, click in SHOTS:
            if user not in contexts:
                contexts[user] = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fi-FI")
                if user:
                    sign_in(contexts[user].new_page(), portal, user)
            page = contexts[user].new_page()
            page.goto(portal + path)
            if click == "first-request":
                # the first request link of the list (the demo data has several)
                page.locator("main table tbody tr a").first.click()
                page.wait_for_load_state()
            target = args.out / f"{name}.png"
            page.screenshot(path=str(target), full_page=False)
            print(target.relative_to(REPO))
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
