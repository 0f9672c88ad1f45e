"""Helpers of the browser tests: the local Keycloak as a test sees it, signing in through its form,
axe-core on a page, and a professional's request sent as the professional."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TENANT = "pohjois-savo"
AUDIENCE = "ot-platform"
PASSWORD = "demo"
CHROMIUM = "/usr/bin/chromium"
# What Chromium needs on this kind of machine (root, no GPU, no network beyond loopback).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@dataclass(frozen=True)
class Keycloak:
    url: str
    portal_client_secret: str

    def issuer(self, area: str = TENANT) -> str:
        return f"{self.url}/realms/{area}"

    def jwks_url(self, area: str = TENANT) -> str:
        return f"{self.issuer(area)}/protocol/openid-connect/certs"

    def token(self, user: str, area: str = TENANT, password: str = PASSWORD) -> str:
        """A demo user's access token, as `scripts/keycloak.sh token <area> <user>` prints it."""
        done = subprocess.run(["bash", str(REPO / "scripts" / "keycloak.sh"), "token", area, user, password],
                              capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise AssertionError(f"keycloak.sh token {area} {user} failed: {done.stderr.strip()}")
        return done.stdout.strip()


_axe = None


def assert_accessible(page) -> None:
    """axe-core (WCAG 2.x A and AA rules and best practices) on the page as shown: no serious or
    critical violation."""
    global _axe
    from axe_playwright_python.sync_playwright import Axe
    _axe = _axe or Axe()
    violations = _axe.run(page).response["violations"]
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
           if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{page.url}: {bad}"


def sign_in(page, portal, user: str, password: str = PASSWORD, start: str = "/") -> None:
    """Through Keycloak's own login form, as a person would."""
    page.goto(portal.url + start)
    page.get_by_role("link", name="Kirjaudu sisään").click()
    page.locator("#username").fill(user)
    page.locator("#password").fill(password)
    page.locator("#kc-login").click()
    page.wait_for_url(f"{portal.url}/**")


def submit_request(intake, keycloak: Keycloak, question: str) -> str:
    """A professional's request, sent over gRPC with their own Keycloak token; returns its id."""
    from ot.common.v1 import case_pb2
    from ot.intake.v1 import intake_pb2, intake_pb2_grpc
    token = keycloak.token("professional")
    stub = intake_pb2_grpc.IntakeServiceStub(intake.channel)
    answer = stub.SubmitRequest(intake_pb2.SubmitRequestRequest(
        type=case_pb2.REQUEST_TYPE_OT_TUKI,
        professional=intake_pb2.Professional(name="Demo Ammattilainen", email="professional.pohjois-savo@example.fi",
                                             profession="sosiaalityöntekijä", organisation="Lapsiperhepalvelut",
                                             sector=case_pb2.SECTOR_SOCIAL, wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL],
        client=intake_pb2.ClientFacts(age_years=15, gender=intake_pb2.GENDER_GIRL, family_situation="sijaishuolto"),
        question=question, discussed_in_own_team=True,
        consent=intake_pb2.ConsentAssessment(need=intake_pb2.CONSENT_NEED_NOT_NEEDED)),
        metadata=(("authorization", f"Bearer {token}"),), timeout=30)
    return answer.request_id
