"""Fixtures to run the feedback service in the integration tier, beside intake, with a real SMTP sink.

Feedback gets its own fresh PostgreSQL database (services own their data) and the same topic
prefix as intake, so it consumes intake's events from the same Kafka. Its scheduler thread is not
started: tests move the clock and call `app.scheduler.run_due()` themselves, so nothing sleeps.
Import into a test module: `from feedback_fixtures import feedback_database_url, smtp_sink, start_feedback`.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest


from conftest import RunningService, service_env, start_service


PUBLIC_URL = "http://feedback.test"


def route(link: str, feedback) -> str:
    """The mailed link, sent to the running instance (what the load balancer would do)."""
    assert link.startswith(PUBLIC_URL + "/"), link
    return f"http://127.0.0.1:{feedback.app.http_server.port}" + link[len(PUBLIC_URL):]


@pytest.fixture()
def feedback_database_url(make_database):
    """A fresh PostgreSQL database for the feedback service of one test (not intake's)."""
    return make_database("feedback")


@pytest.fixture()
def smtp_sink():
    """A real SMTP server (aiosmtpd) on a free loopback port; what arrived is in `.messages`."""
    from ot_feedback.smtp_sink import SmtpSink
    sink = SmtpSink("127.0.0.1", 0).start()
    yield sink
    sink.stop()


@dataclass
class RunningFeedback(RunningService):
    stopped: bool = False

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.app.scheduler.stop()
        super().stop()
        self.app.directory.close()


@pytest.fixture()
def start_feedback(feedback_database_url, kafka_bootstrap, topic_prefix, keys, spans, smtp_sink):
    """Start feedback (migrations, gRPC, HTTP, relay, consumer; no scheduler thread) on loopback.

    `start(intake, clock)`: intake is the running intake service it asks for contact e-mails
    (None when the test sends no mail). Keyword arguments are extra environment variables.
    Calling it again starts another instance on the same database: a restart (after stopping the
    first) or a second replica (while the first runs)."""
    from ot_feedback.bootstrap import build
    from ot_feedback.main import MIGRATIONS

    link_secret = secrets.token_hex(32)
    # The service's public address, as behind a load balancer; tests route it to the instance
    # running now (instances get a new loopback port on each start).
    started: list[RunningFeedback] = []

    def start(intake, clock, **extra_env) -> RunningFeedback:
        # intake None: a test that sends no mail (feedback connects to intake only at send time).
        target = f"127.0.0.1:{intake.app.grpc_server.port}" if intake else "127.0.0.1:9"
        env = service_env("feedback", feedback_database_url, kafka_bootstrap, topic_prefix, keys, **{
            "OT_FEEDBACK_LINK_SECRET": link_secret, "OT_SERVICE_TOKEN_KEY_FILE": str(keys.service_private_path),
            "OT_INTAKE_GRPC_TARGET": target, "OT_SMTP_HOST": "127.0.0.1", "OT_SMTP_PORT": str(smtp_sink.port),
            "OT_FEEDBACK_PUBLIC_URL": PUBLIC_URL, **extra_env})
        service = start_service("feedback", build, MIGRATIONS, env, clock, running=RunningFeedback)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
