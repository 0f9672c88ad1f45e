"""The portal's unit tests: the real app (sessions in SQLite, Authlib, Flask-WTF, Talisman, Babel)
against a fake OpenID Connect provider and fake services, both on loopback (portal_testkit)."""
from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ot_runtime.migrations import upgrade
from ot_runtime.telemetry import configure_tracing
from ot_portal.bootstrap import build
from ot_portal.main import MIGRATIONS
from ot_portal.settings import load_portal_settings
from portal_testkit import FakeIdP, FakeServices, portal_env

@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Tracing as `ot-portal serve` sets it up (a real provider), the finished spans kept here."""
    exporter = InMemorySpanExporter()
    configure_tracing("portal-test", "pohjois-savo", exporter=exporter)
    return exporter


@pytest.fixture()
def idp():
    provider = FakeIdP().start()
    yield provider
    provider.stop()


@pytest.fixture()
def services():
    fake = FakeServices().start()
    yield fake
    fake.stop()


@pytest.fixture()
def make_portal(tmp_path, idp, services, spans):
    built = []

    def make(**extra):
        settings = load_portal_settings(portal_env(tmp_path, idp, services.port, **extra))
        upgrade(MIGRATIONS, settings.database_url)
        portal = build(settings)
        built.append(portal)
        return portal

    yield make
    for portal in built:
        portal.stop()


@pytest.fixture()
def portal(make_portal):
    return make_portal()


@pytest.fixture()
def client(portal):
    return portal.http_server.app.test_client()
