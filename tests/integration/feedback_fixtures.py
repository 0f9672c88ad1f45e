"""Fixtures to run the feedback service in the integration tier, beside intake, with a real SMTP sink.

Feedback gets its own fresh PostgreSQL database (services own their data) and the same topic
prefix as intake, so it consumes intake's events from the same Kafka. Its scheduler thread is not
started: tests move the clock and call `app.scheduler.run_due()` themselves, so nothing sleeps.
Import into a test module: `from feedback_fixtures import feedback_database_url, smtp_sink, start_feedback`.
"""
from __future__ import annotations

import http.client
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import grpc
import pytest
from kafka import KafkaProducer
from ot.feedback.v1 import feedback_pb2 as fpb
from ot.feedback.v1 import feedback_pb2_grpc

from ot_runtime.cloudevents import CloudEvent


from conftest import TENANT, RunningService, service_env, start_service


PORTAL_URL = "https://ot-portaali.test"
FOLLOW_UP_KINDS = ("request", "reminder")


def follow_up_mails(sink) -> list:
    """The follow-up's mails (request and reminder) among what the sink received; the
    notifications about the same cases arrive there too."""
    return [m for m in sink.messages if m.message["X-OT-Mail-Kind"] in FOLLOW_UP_KINDS]


def link_token(link: str) -> str:
    """The token of a mailed link, which points at the area's portal (feedback's OT_PORTAL_URL: the
    mailed links' base, OT_FEEDBACK_PUBLIC_URL, is left unset and defaults to it)."""
    assert link.startswith(PORTAL_URL + "/palaute/"), link
    return link.rsplit("/", 1)[1]


def old_address(token: str, feedback) -> str:
    """Where links mailed before the form moved to the portal point: the feedback service's own
    /palaute/<token> on the running instance (what the load balancer would do)."""
    return f"http://127.0.0.1:{feedback.app.http_server.port}/palaute/{token}"


def last_month() -> tuple[str, datetime]:
    """The month before this one (YYYY-MM) and a moment in its middle: the cooperation
    statistics' tests count a month that has ended, as an area exports it."""
    first_of_this = datetime.now(timezone.utc).replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    middle = (first_of_this - timedelta(days=1)).replace(day=14)
    return f"{middle.year:04d}-{middle.month:02d}", middle


def redirect_of(url: str) -> tuple[int, str]:
    """GET over real HTTP without following a redirect: (status, Location)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", parts.path)
        response = connection.getresponse()
        return response.status, response.getheader("Location", "")
    finally:
        connection.close()


def open_form(feedback, token: str) -> fpb.FeedbackForm:
    """OpenFeedbackForm as the portal's page calls it: no token, the link is the permission."""
    return feedback_pb2_grpc.FeedbackServiceStub(feedback.channel).OpenFeedbackForm(
        fpb.OpenFeedbackFormRequest(link_token=token), timeout=10)


# An answer as the portal's form sends it (fields override).
ANSWER = dict(usefulness=5, got_needed=fpb.GOT_NEEDED_YES, what_next=fpb.WHAT_NEXT_RECOMMENDATIONS_FOLLOWED,
              free_text="Ryhmän suositukset selkeyttivät työnjakoa.")


def answer_feedback(feedback, token: str, **fields) -> fpb.AnswerFeedbackResponse:
    """AnswerFeedback as the portal's form calls it (no token)."""
    return feedback_pb2_grpc.FeedbackServiceStub(feedback.channel).AnswerFeedback(
        fpb.AnswerFeedbackRequest(link_token=token, **{**ANSWER, **fields}), timeout=10)


def refusal(call) -> grpc.RpcError:
    """The error a call ends with (it must fail)."""
    try:
        call()
    except grpc.RpcError as error:
        return error
    raise AssertionError("the call was not refused")


def publish(kafka_bootstrap: str, topic: str, ce_type: str, message, key: str, at: datetime,
            event_id: str | None = None) -> str:
    """Put one event on a topic exactly as a service's outbox relay would (CloudEvents headers, the
    aggregate id as the key): for events of a service the test does not run, e.g. experts'
    assignments. Returns the event id."""
    event = CloudEvent(id=event_id or str(uuid.uuid4()), type=ce_type, source=f"/ot/{TENANT}/test", subject=key,
                       tenant=TENANT, time=at, dataschema=f"proto:{message.DESCRIPTOR.full_name}",
                       data=message.SerializeToString())
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","))
    try:
        producer.send(topic, key=key.encode(), value=event.data, headers=event.headers()).get(timeout=15)
    finally:
        producer.close()
    return event.id


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
        self.app.experts.close()


@pytest.fixture()
def start_feedback(feedback_database_url, kafka_bootstrap, topic_prefix, keys, spans, smtp_sink):
    """Start feedback (migrations, gRPC, HTTP, relay, consumer; no scheduler thread) on loopback.

    `start(intake, clock, experts=None)`: intake is the running intake service it asks for the
    workers' e-mails (None when the test sends them no mail), experts the running experts service
    it asks for an expert's (None: nothing listens there). Keyword arguments are extra environment
    variables.
    Calling it again starts another instance on the same database: a restart (after stopping the
    first) or a second replica (while the first runs)."""
    from ot_feedback.bootstrap import build
    from ot_feedback.main import MIGRATIONS

    link_secret = secrets.token_hex(32)
    started: list[RunningFeedback] = []

    def start(intake, clock, experts=None, **extra_env) -> RunningFeedback:
        # None: a test that sends no such mail (feedback connects to intake and experts only at send time).
        target = f"127.0.0.1:{intake.app.grpc_server.port}" if intake else "127.0.0.1:9"
        experts_target = f"127.0.0.1:{experts.app.grpc_server.port}" if experts else "127.0.0.1:9"
        env = service_env("feedback", feedback_database_url, kafka_bootstrap, topic_prefix, keys, **{
            "OT_FEEDBACK_LINK_SECRET": link_secret, "OT_SERVICE_TOKEN_KEY_FILE": str(keys.service_private_path),
            "OT_INTAKE_GRPC_TARGET": target, "OT_EXPERTS_GRPC_TARGET": experts_target, "OT_SMTP_HOST": "127.0.0.1",
            "OT_SMTP_PORT": str(smtp_sink.port), "OT_PORTAL_URL": PORTAL_URL, **extra_env})
        service = start_service("feedback", build, MIGRATIONS, env, clock, running=RunningFeedback)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
