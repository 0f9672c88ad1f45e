"""Feedback's edges on real PostgreSQL (which refuses NUL characters and over-long values that SQLite
stores): the gRPC API fuzzed, the answer form's calls refused at the edge with nothing stored, and
the service token it calls intake with (its own issuer and key, the role "service" only)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.feedback.v1 import feedback_pb2 as fpb
from ot.intake.v1 import intake_pb2 as ipb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.access import is_open_to_anyone, method_path
from ot_runtime.clock import FixedClock
from ot_runtime.devtoken import DEV_AUDIENCE, DEV_SERVICE_ISSUER, make_token
from ot_runtime.testing import field_violations, fuzz_service
from ot_feedback.aggregate import Counts, export_file
from ot_feedback.domain import Category, FollowUpState, RequestType, Status
from ot_feedback.edge import ACCESS, SERVICE
from ot_feedback.store import follow_ups

from conftest import TENANT, wait_consumed
from feedback_fixtures import feedback_database_url, smtp_sink, start_feedback  # noqa: F401 (fixtures)
from feedback_fixtures import answer_feedback, follow_up_mails, link_token, refusal
from test_feedback_flow import consult, link_in, worker_emails

START = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)


def consulted(feedback, request_id: str) -> None:
    """A consultation as intake's event brings it (through the handler the consumer calls)."""
    h = feedback.app.handlers
    with h.sessions.begin() as s:
        h.on_status_changed(s, request_id=request_id, type_=RequestType.GROUP_CONSULTATION,
                            categories=[Category.CHALLENGING_DIVORCE], to_status=Status.CONSULTED,
                            changed_at=h.clock.now())


def sent_link(feedback) -> str:
    """A follow-up whose request mail went out: its link token."""
    h = feedback.app.handlers
    fid, now = str(uuid.uuid4()), h.clock.now()
    with h.sessions.begin() as s:
        s.execute(follow_ups.insert().values(
            id=fid, tenant=TENANT, request_id=str(uuid.uuid4()), type="ot_tuki", state=FollowUpState.SENT.value,
            consulted_at=now - timedelta(days=60), sent_at=now, expires_at=now + timedelta(days=28), created_at=now,
            updated_at=now))
    return h.signer.sign(fid, now + timedelta(days=28))


def test_fuzzing_the_grpc_api_on_postgresql_finds_no_internal_error(start_feedback, keys):
    # The coordinating area, with another area's key, so that ImportAreaAggregate's seed is imported.
    area_key = Ed25519PrivateKey.generate()
    public = area_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    feedback = start_feedback(None, FixedClock(START), OT_FEEDBACK_COORDINATING_AREA="true",
                              OT_FEEDBACK_AREA_AGGREGATE_KEYS=json.dumps({"keski-suomi": public}))
    request_id = str(uuid.uuid4())
    consulted(feedback, request_id)
    link = sent_link(feedback)
    # Each RPC with a token of a role it admits, so the calls reach the handlers and the database
    # (none for the answer form's calls, open to anyone).
    tokens = {m.name: () if is_open_to_anyone(ACCESS, method_path(SERVICE, m.name)) else
              keys.metadata(roles=(sorted(ACCESS[method_path(SERVICE, m.name)])[0],), subject="fuzz-user")
              for m in SERVICE.methods}
    seen = fuzz_service(feedback.channel, SERVICE, lambda method: tokens[method], examples=60, raw_payloads=25,
                        seed_messages={"GetStatistics": fpb.GetStatisticsRequest(period="2026-Q1"),
                                       "GetFollowUp": fpb.GetFollowUpRequest(request_id=request_id),
                                       "GetNotificationSettings": fpb.GetNotificationSettingsRequest(),
                                       "SetNotificationSettings": fpb.NotificationSettings(reminders_enabled=False),
                                       "OpenFeedbackForm": fpb.OpenFeedbackFormRequest(link_token=link),
                                       "AnswerFeedback": fpb.AnswerFeedbackRequest(
                                           link_token=link, usefulness=3, got_needed=fpb.GOT_NEEDED_NO),
                                       "ImportAreaAggregate": fpb.ImportAreaAggregateRequest(file=export_file(
                                           "keski-suomi", "2025-12", START, Counts(), area_key))})
    assert all(seen[m.name].get("OK", 0) > 0 for m in SERVICE.methods if m.name != "AnswerFeedback"), seen
    assert seen["AnswerFeedback"].get("OK", 0) <= 1  # the link answers once, whatever else arrives
    health = health_pb2_grpc.HealthStub(feedback.channel).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    with feedback.app.engine.connect() as c:  # the service still answers, from the same database
        assert c.execute(sa.text("SELECT count(*) FROM follow_ups")).scalar_one() == 2


def test_the_answer_forms_refusals_on_postgresql_store_nothing(
        start_intake, start_feedback, smtp_sink, keys, kafka_bootstrap):
    clock = FixedClock(START)
    intake = start_intake(clock=clock)
    feedback = start_feedback(intake, clock)
    consult(intake, keys, clock, [worker_emails()[0]])
    wait_consumed(kafka_bootstrap, f"{feedback.settings.topic_prefix}.feedback", feedback.settings.topic("intake"))
    clock.advance(days=60)
    assert len(feedback.app.scheduler.run_due().sent) == 1  # intake answered feedback's service token
    token = link_token(link_in(follow_up_mails(smtp_sink)[0]))
    fid, expires, mac = token.split(".")

    refusals = [  # (the call's fields, the status, the field violations)
        (dict(free_text="Hyvä\x00keskustelu"), grpc.StatusCode.INVALID_ARGUMENT, [("free_text", "control_character")]),
        (dict(free_text="x" * 2001), grpc.StatusCode.INVALID_ARGUMENT, [("free_text", "too_long")]),
        (dict(what_next=5000), grpc.StatusCode.INVALID_ARGUMENT, [("what_next", "unknown_value")]),
        (dict(free_text="Matti, " * 80000), grpc.StatusCode.RESOURCE_EXHAUSTED, []),  # over gRPC's message limit
        (dict(link_token=f"{fid}.{expires}.{'ä' * 43}"), grpc.StatusCode.INVALID_ARGUMENT,
         [("link_token", "bad_form")]),
        (dict(link_token=f"{fid}.{'9' * 5000}.{mac}"), grpc.StatusCode.INVALID_ARGUMENT, [("link_token", "too_long")]),
        (dict(link_token=f"{fid}.{int(expires) + 1}.{mac}"), grpc.StatusCode.NOT_FOUND, []),
    ]
    for fields, code, violations in refusals:
        error = refusal(lambda: answer_feedback(feedback, fields.pop("link_token", token), **fields))
        assert (error.code(), [(v.field, v.reason) for v in field_violations(error)]) == (code, violations)
    with feedback.app.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM answers")).scalar_one() == 0

    answer_feedback(feedback, token, usefulness=4, got_needed=fpb.GOT_NEEDED_YES, free_text="Hyvä.")
    with feedback.app.engine.connect() as c:
        assert c.execute(sa.text("SELECT usefulness, free_text FROM answers")).all() == [(4, "Hyvä.")]


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
