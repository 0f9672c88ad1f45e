"""Feedback's edges on real PostgreSQL (which refuses NUL characters and over-long values that SQLite
stores): the gRPC API fuzzed, the answer form's refusals over real HTTP, and the service token it
calls intake with (its own issuer and key, the role "service" only)."""
from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.feedback.v1 import feedback_pb2 as fpb
from ot.intake.v1 import intake_pb2 as ipb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.access import method_path
from ot_runtime.clock import FixedClock
from ot_runtime.devtoken import DEV_AUDIENCE, DEV_SERVICE_ISSUER, make_token
from ot_runtime.testing import fuzz_service
from ot_feedback.domain import Category, RequestType, Status
from ot_feedback.edge import ACCESS, SERVICE

from conftest import TENANT, wait_consumed
from feedback_fixtures import feedback_database_url, route, smtp_sink, start_feedback  # noqa: F401 (fixtures)
from feedback_fixtures import follow_up_mails
from test_feedback_flow import consult, link_in, worker_emails

START = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)
FORM = "application/x-www-form-urlencoded"


def consulted(feedback, request_id: str) -> None:
    """A consultation as intake's event brings it (through the handler the consumer calls)."""
    h = feedback.app.handlers
    with h.sessions.begin() as s:
        h.on_status_changed(s, request_id=request_id, type_=RequestType.GROUP_CONSULTATION,
                            categories=[Category.CHALLENGING_DIVORCE], to_status=Status.CONSULTED,
                            changed_at=h.clock.now())


def post(url: str, body: bytes, content_type: str = FORM) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_fuzzing_the_grpc_api_on_postgresql_finds_no_internal_error(start_feedback, keys):
    feedback = start_feedback(None, FixedClock(START))
    request_id = str(uuid.uuid4())
    consulted(feedback, request_id)
    # Each RPC with a token of a role it admits, so the calls reach the handlers and the database.
    tokens = {m.name: keys.metadata(roles=(sorted(ACCESS[method_path(SERVICE, m.name)])[0],), subject="fuzz-user")
              for m in SERVICE.methods}
    seen = fuzz_service(feedback.channel, SERVICE, lambda method: tokens[method], examples=60, raw_payloads=25,
                        seed_messages={"GetStatistics": fpb.GetStatisticsRequest(period="2026-Q1"),
                                       "GetFollowUp": fpb.GetFollowUpRequest(request_id=request_id),
                                       "GetNotificationSettings": fpb.GetNotificationSettingsRequest(),
                                       "SetNotificationSettings": fpb.NotificationSettings(reminders_enabled=False)})
    assert all(seen[m.name].get("OK", 0) > 0 for m in SERVICE.methods), seen
    health = health_pb2_grpc.HealthStub(feedback.channel).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    with feedback.app.engine.connect() as c:  # the service still answers, from the same database
        assert c.execute(sa.text("SELECT count(*) FROM follow_ups")).scalar_one() == 1


def test_the_answer_forms_refusals_on_postgresql_are_pages_and_store_nothing(
        start_intake, start_feedback, smtp_sink, keys, kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    feedback = start_feedback(intake, clock)
    consult(intake, keys, clock, [worker_emails()[0]])
    wait_consumed(kafka_bootstrap, f"{feedback.settings.topic_prefix}.feedback", feedback.settings.topic("intake"))
    clock.advance(days=60)
    assert len(feedback.app.scheduler.run_due().sent) == 1  # intake answered feedback's service token
    url = route(link_in(follow_up_mails(smtp_sink)[0]), feedback)
    fid, expires, mac = url.rsplit("/", 1)[1].split(".")
    good = {"usefulness": "4", "got_needed": "yes", "free_text": "Hyvä."}

    refusals = [
        (url, urlencode({**good, "free_text": "Hyvä\x00keskustelu"}).encode(), FORM, 422),  # PostgreSQL refuses NUL
        (url, urlencode({**good, "free_text": "x" * 2001}).encode(), FORM, 422),
        (url, urlencode({**good, "what_next": "n" * 5000}).encode(), FORM, 422),           # a String(40) column
        (url, b"usefulness=4&got_needed=yes&free_text=%FF", FORM, 400),
        (url, urlencode({**good, "free_text": "Matti, " * 80000}).encode(), FORM, 413),
        (url, b"usefulness=4", "text/plain", 415),
        (url.replace(mac, quote("ä" * 43)), urlencode(good).encode(), FORM, 404),      # a non-ASCII MAC
        (url.replace(expires, "9" * 5000), urlencode(good).encode(), FORM, 404),
    ]
    for target, body, content_type, expected in refusals:
        status, page = post(target, body, content_type)
        assert status == expected, (expected, status, page[:300])
        assert "<h1>" in page or "class='err'" in page
    with feedback.app.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM answers")).scalar_one() == 0

    status, page = post(url, urlencode(good).encode())
    assert status == 200 and "Kiitos" in page


def test_feedbacks_service_key_signs_only_service_tokens(start_intake, start_feedback, smtp_sink, keys,
                                                         kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    stub = intake_pb2_grpc.IntakeServiceStub(intake.channel)
    service_key = keys.service_private_path.read_bytes()
    # Whoever holds feedback's key cannot mint a person's token: not as the service issuer...
    minted = make_token(service_key, area=TENANT, roles=["admin"], subject="ot-feedback", issuer=DEV_SERVICE_ISSUER,
                        audience=DEV_AUDIENCE)
    with pytest.raises(grpc.RpcError) as err:
        stub.EraseProfessionalData(ipb.ProfessionalRef(subject="someone"),
                                   metadata=(("authorization", f"Bearer {minted}"),))
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    # ...nor as the people's issuer (the key is not theirs).
    minted = make_token(service_key, area=TENANT, roles=["admin"], subject="dpo")
    with pytest.raises(grpc.RpcError) as err:
        stub.EraseProfessionalData(ipb.ProfessionalRef(subject="someone"),
                                   metadata=(("authorization", f"Bearer {minted}"),))
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED

    # And feedback configured with a person-issuer key instead of its own gets nothing from intake:
    # the mail waits (retried later), nothing is sent.
    feedback = start_feedback(intake, clock, OT_SERVICE_TOKEN_KEY_FILE=str(keys.private_path))
    consult(intake, keys, clock, [worker_emails()[1]])
    wait_consumed(kafka_bootstrap, f"{feedback.settings.topic_prefix}.feedback", feedback.settings.topic("intake"))
    clock.advance(days=60)
    result = feedback.app.scheduler.run_due()
    assert result.sent == [] and result.retried == 1 and smtp_sink.messages == []
