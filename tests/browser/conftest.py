"""Browser tier: a real Keycloak (scripts/keycloak.sh), the services in-process on the real
PostgreSQL and Kafka (the integration tier's fixtures), the portal in-process on a free loopback port,
and Debian's Chromium driven headless by Playwright.

Run with `source scripts/test_env.sh` (PostgreSQL, Kafka) and `scripts/browser_deps.sh` (Chromium)
done; Keycloak is started here when it is not running (the first start takes a few minutes) and left
running, as test_env.sh leaves Kafka. A missing piece is a failure, never a skip.

The services trust the area's Keycloak realm for people's tokens (the `keys` fixture below replaces
the integration tier's test key pair for people; the platform services' own key stays), so every
call the portal makes is checked exactly as in a cluster.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from browser_testkit import AUDIENCE, CHROMIUM, CHROMIUM_ARGS, REPO, TENANT, Keycloak

INTEGRATION = REPO / "tests" / "integration"

def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The integration tier's fixtures and helpers, reused as they are: its conftest under its own name,
# and feedback's fixtures (which import "conftest") with that name pointing at it while they load.
integration = _load("integration_conftest", INTEGRATION / "conftest.py")
_ours = sys.modules.get("conftest")
sys.modules["conftest"] = integration
sys.path.insert(0, str(INTEGRATION))
try:
    import experts_fixtures
    import feedback_fixtures
finally:
    sys.path.remove(str(INTEGRATION))
    if _ours is not None:
        sys.modules["conftest"] = _ours

kafka_bootstrap = integration.kafka_bootstrap
pg_admin_url = integration.pg_admin_url
make_database = integration.make_database
database_url = integration.database_url
spans = integration.spans
topic_prefix = integration.topic_prefix
start_consent = integration.start_consent
start_intake = integration.start_intake
experts_database_url = experts_fixtures.experts_database_url
start_experts = experts_fixtures.start_experts
feedback_database_url = feedback_fixtures.feedback_database_url
smtp_sink = feedback_fixtures.smtp_sink
start_feedback = feedback_fixtures.start_feedback


# --- Keycloak --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def keycloak() -> Keycloak:
    done = subprocess.run(["bash", str(REPO / "scripts" / "keycloak.sh"), "start"], capture_output=True, text=True,
                          timeout=900)
    if done.returncode:
        pytest.fail(f"scripts/keycloak.sh start failed:\n{done.stderr[-3000:]}", pytrace=False)
    out = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return Keycloak(url=out["KEYCLOAK_URL"], portal_client_secret=Path(out["OT_PORTAL_CLIENT_SECRET_FILE"]).read_text().strip())


class KeycloakKeys(integration.TestKeys):
    """The integration tier's keys, but people's tokens come from the area's Keycloak realm."""
    __test__ = False

    def __init__(self, directory: Path, keycloak: Keycloak):
        super().__init__(directory)
        self.keycloak = keycloak

    def env(self) -> dict[str, str]:
        env = super().env()
        del env["AUTH_JWT_PUBLIC_KEY_FILE"]
        return {**env, "AUTH_JWT_ISSUER": self.keycloak.issuer(), "AUTH_JWKS_URL": self.keycloak.jwks_url(),
                "AUTH_JWT_AUDIENCE": AUDIENCE}


@pytest.fixture()
def keys(tmp_path, keycloak):
    return KeycloakKeys(tmp_path / "keys", keycloak)


# --- the portal --------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def start_portal(tmp_path, keycloak, make_database, spans):
    """Start the portal in-process on a free loopback port, signed in against `issuer_area`'s realm
    (this area's unless a test misconfigures it) and calling the given running services; a service
    not given is a closed port (the page shows it as down)."""
    from ot_portal.bootstrap import build
    from ot_portal.main import MIGRATIONS
    from ot_portal.settings import load_portal_settings
    from ot_runtime.migrations import upgrade

    started = []

    def start(*, intake=None, feedback=None, experts=None, issuer_area: str = TENANT, **extra):
        port = _free_port()

        def target(service) -> str:
            return f"127.0.0.1:{service.app.grpc_server.port}" if service else "127.0.0.1:9"

        env = {"OT_TENANT": TENANT, "DATABASE_URL": make_database("portal"), "HTTP_HOST": "127.0.0.1",
               "HTTP_PORT": str(port), "OT_PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "OT_OIDC_ISSUER": keycloak.issuer(issuer_area), "OT_OIDC_CLIENT_ID": "ot-portal",
               "OT_OIDC_CLIENT_SECRET": keycloak.portal_client_secret, "OT_PORTAL_SECRET_KEY": os.urandom(24).hex(),
               "OT_INTAKE_GRPC_TARGET": target(intake), "OT_FEEDBACK_GRPC_TARGET": target(feedback),
               "OT_CONSENT_GRPC_TARGET": target(intake.consent if intake else None),
               "OT_EXPERTS_GRPC_TARGET": target(experts), **extra}
        settings = load_portal_settings(env)
        upgrade(MIGRATIONS, settings.database_url)
        portal = build(settings)
        portal.http_server.start()
        portal.url = settings.public_url
        started.append(portal)
        return portal

    yield start
    for portal in started:
        portal.stop()


# --- the browser --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser_deps.sh", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    """A fresh browser profile per test: no cookies, no Keycloak session."""
    context = browser.new_context()
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()
