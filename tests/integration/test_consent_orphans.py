"""Orphan cases on the real PostgreSQL and Kafka: a case that consent opened but intake never stored
(a crash between consent's answer and intake's commit) is discarded by the purge once the grace
period is over, while a request intake stored is confirmed by its RequestSubmitted event on Kafka
and never swept."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as cpb
from ot.consent.v1 import consent_pb2_grpc
from ot.intake.v1 import intake_pb2 as ipb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.clock import FixedClock

from conftest import wait_until
from test_consent_flow import submission


def row(engine, query: str, **params):
    with engine.connect() as c:
        return c.execute(sa.text(query), params).one_or_none()


def test_an_unstored_case_is_swept_after_the_grace_period_and_a_submitted_one_is_confirmed_and_kept(
        start_intake, start_consent, keys):
    # Consent's clock starts past the upgrade window its migration opened (since + the grace period).
    clock = FixedClock(datetime.now(timezone.utc) + timedelta(hours=2))
    consent_service = start_consent(clock)
    intake_service = start_intake(consent=consent_service)
    consent = consent_pb2_grpc.ConsentServiceStub(consent_service.channel)
    intake = intake_pb2_grpc.IntakeServiceStub(intake_service.channel)
    engine = consent_service.app.engine
    professional = keys.metadata(subject="prof-orphan")
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-orphan")

    # Intake asked for a key and then crashed before its commit: consent has the case, intake nothing.
    orphan = str(uuid.uuid4())
    consent.OpenCase(cpb.OpenCaseRequest(request_id=orphan, type=case_pb2.REQUEST_TYPE_OT_TUKI,
                                         form=cpb.CONSENT_FORM_NOT_NEEDED), metadata=professional)
    clock.advance(seconds=1)
    stored = intake.SubmitRequest(submission(), metadata=professional).request_id
    wait_until(lambda: row(engine, "SELECT confirmed_at FROM cases WHERE request_id = :r", r=stored)[0],
               what="intake's RequestSubmitted to confirm the stored case")
    assert row(engine, "SELECT confirmed_at FROM cases WHERE request_id = :r", r=orphan)[0] is None

    clock.advance(minutes=59)  # within the grace period (one hour): intake's relay may still be on its way
    assert consent.RunPurge(cpb.RunPurgeRequest(), metadata=coordinator).shredded == 0
    assert row(engine, "SELECT wrapped_key FROM data_keys WHERE request_id = :r", r=orphan)[0] is not None

    clock.advance(minutes=2)
    report = consent.RunPurge(cpb.RunPurgeRequest(), metadata=coordinator)
    assert report.shredded == 0  # the report is about retention; the orphan's request never existed

    key = row(engine, "SELECT wrapped_key, shred_reason FROM data_keys WHERE request_id = :r", r=orphan)
    assert key.wrapped_key is None and key.shred_reason.startswith("abandoned")
    assert row(engine, "SELECT count(*) FROM consent_versions WHERE request_id = :r", r=orphan)[0] == 0
    assert row(engine, "SELECT count(*) FROM outbox WHERE record_key = :r", r=orphan)[0] == 0  # nobody to tell
    trail = consent.QueryAudit(cpb.QueryAuditRequest(request_id=orphan), metadata=coordinator).entries
    assert [(e.action, e.actor) for e in trail] == [("case.opened", "prof-orphan"), ("case.abandoned", "coord-orphan")]
    with pytest.raises(grpc.RpcError) as err:
        consent.GetDataKey(cpb.GetDataKeyRequest(request_id=orphan, purpose="late"), metadata=coordinator)
    assert err.value.code() is grpc.StatusCode.NOT_FOUND

    # The stored request keeps its key: its content still opens through intake, a month later too.
    clock.advance(days=30)
    consent.RunPurge(cpb.RunPurgeRequest(), metadata=coordinator)
    got = intake.GetRequest(ipb.GetRequestRequest(request_id=stored), metadata=coordinator)
    assert got.content_included and got.question == submission().question
    assert row(engine, "SELECT abandoned_at FROM cases WHERE request_id = :r", r=stored)[0] is None
    assert consent.VerifyAudit(cpb.VerifyAuditRequest(), metadata=coordinator).intact
