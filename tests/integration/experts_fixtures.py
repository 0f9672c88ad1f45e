"""Fixtures to run the experts service in the integration tier, beside intake.

Services own their data: experts gets its own fresh PostgreSQL database (not intake's), and the
same topic prefix as intake so the two talk over the same Kafka topics. Import the fixtures into
a test module: `from experts_fixtures import experts_database_url, start_experts`.
"""
from __future__ import annotations

import pytest


from conftest import RunningService, service_env, start_service


@pytest.fixture()
def experts_database_url(make_database):
    """A fresh PostgreSQL database for the experts service of one test (not intake's)."""
    return make_database("experts")


@pytest.fixture()
def start_experts(experts_database_url, kafka_bootstrap, topic_prefix, keys, spans):
    """Start experts (migrations, seed catalogue, gRPC, HTTP, relay, consumer) on loopback."""
    from ot_experts.bootstrap import build
    from ot_experts.main import MIGRATIONS, seed_catalogue

    started: list[RunningService] = []

    def start(consent: RunningService, clock=None, sharing=None) -> RunningService:
        """`consent`: the consent service intake uses (experts asks it before sharing a case)."""
        env = service_env("experts", experts_database_url, kafka_bootstrap, topic_prefix, keys,
                          OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent.app.grpc_server.port}")
        service = start_service("experts", build, MIGRATIONS, env, clock,
                                after_migrate=lambda settings: seed_catalogue(settings.database_url), sharing=sharing)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
