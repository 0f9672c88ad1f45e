"""Intake's edge on the real PostgreSQL with the real consent service: values PostgreSQL refuses
(NUL characters, over-long values) are refused at the edge by name, never INTERNAL; a database
that does not answer is UNAVAILABLE and leaves no consent case behind; concurrent retries of one
idempotency key open one case; a shredded key takes the client's age and gender along; and a fuzz
run over every RPC leaves intake healthy and consent without orphan cases."""
from __future__ import annotations

import base64
import json
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kafka import KafkaProducer
from ot.common.v1 import case_pb2
from ot.events.v1 import consent_events_pb2
from ot.intake.v1 import intake_pb2 as pb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.access import method_path
from ot_runtime.cloudevents import CloudEvent
from ot_runtime.settings import load_settings
from ot_runtime.testing import field_violations, fuzz_service
from ot_intake.edge import ACCESS, SERVICE

from conftest import TENANT, service_env, wait_until
from test_intake_flow import submit_request


def stub(service) -> intake_pb2_grpc.IntakeServiceStub:
    return intake_pb2_grpc.IntakeServiceStub(service.channel)


def ids(engine, query: str) -> set[str]:
    with engine.connect() as c:
        return set(c.execute(sa.text(query)).scalars())


def consent_cases(intake) -> set[str]:
    return ids(intake.consent.app.engine, "SELECT request_id FROM cases")


def stored_requests(intake) -> set[str]:
    return ids(intake.app.engine, "SELECT id FROM requests")


def in_days(days: int) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(datetime.now(timezone.utc) + timedelta(days=days))
    return out


def refused(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- values PostgreSQL refuses never reach it ----------------------------------------------------
@pytest.mark.parametrize("path,value,reason", [
    ("professional.phone", "+358 40 " + "1234 " * 8 + "12345", "too_long"),   # 51: StringDataRightTruncation
    ("professional.name", "Testi\x00Ammattilainen", "control_character"),    # PostgreSQL refuses NUL
    ("professional.profession", "sosiaali\x00työntekijä", "control_character"),
    ("professional.organisation", "x" * 201, "too_long"),
    ("professional.email", "a" * 190 + "@example.fi", "too_long"),
    ("idempotency_key", "k" * 101, "too_long"),
])
def test_values_postgresql_would_refuse_are_refused_at_the_edge_by_name(start_intake, keys, captured_logs, path,
                                                                        value, reason):
    intake = start_intake()
    request = submit_request(idempotency_key="lomake-1")
    target, name = (request.professional, path.split(".")[1]) if "." in path else (request, path)
    setattr(target, name, value)
    error = refused(stub(intake).SubmitRequest, request, metadata=keys.metadata())
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.reason) for v in field_violations(error)] == [(path, reason)]
    assert stored_requests(intake) == set() and consent_cases(intake) == set()
    logs = captured_logs.getvalue()
    assert "StringDataRightTruncation" not in logs and "Testi" not in logs and "example.fi" not in logs


@pytest.mark.parametrize("request_", [
    pb.ListRequestsRequest(page_token=base64.urlsafe_b64encode(
        json.dumps(["2026-03-02T09:00:00", str(uuid.uuid4())]).encode()).decode()),  # a time without a zone
    pb.ListRequestsRequest(submitted_from=Timestamp(seconds=-62135596801)),              # before year 1
    pb.ListRequestsRequest(submitted_to=Timestamp(seconds=2**62)),
])
def test_bad_times_in_a_list_query_are_invalid_argument(start_intake, keys, request_):
    intake = start_intake()
    stub(intake).SubmitRequest(submit_request(), metadata=keys.metadata())
    error = refused(stub(intake).ListRequests, request_, metadata=keys.metadata(roles=("coordinator",)))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT


# --- the database does not answer ----------------------------------------------------------------
def a_port_nobody_listens_on() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def intake_without_database(start_consent, kafka_bootstrap, topic_prefix, keys):
    """Intake as its main starts it, but its DATABASE_URL points at a port with no server; the real
    consent beside it. (The shared PostgreSQL stays up for everyone else.)"""
    from ot_intake.bootstrap import build

    consent = start_consent()
    database_url = f"postgresql+psycopg://ot:ot@127.0.0.1:{a_port_nobody_listens_on()}/intake"
    env = service_env("intake", database_url, kafka_bootstrap, topic_prefix, keys,
                      OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent.app.grpc_server.port}")
    app = build(load_settings("intake", env))
    app.grpc_server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{app.grpc_server.port}")
    yield intake_pb2_grpc.IntakeServiceStub(channel), consent
    channel.close()
    app.grpc_server.stop(1)
    app.handlers.vault.close()
    app.producer.close(timeout=5)
    app.engine.dispose()


@pytest.mark.parametrize("key", ["", "lomake-42"])
def test_with_the_database_away_a_submission_is_unavailable_and_consent_opens_no_case(intake_without_database,
                                                                                       keys, key):
    client, consent = intake_without_database
    for _ in range(2):  # a client that retries on UNAVAILABLE gets the same answer, and still no case
        error = refused(client.SubmitRequest, submit_request(idempotency_key=key), metadata=keys.metadata())
        assert error.code() is grpc.StatusCode.UNAVAILABLE
    assert ids(consent.app.engine, "SELECT request_id FROM cases") == set()
    assert ids(consent.app.engine, "SELECT request_id FROM audit_log WHERE action = 'case.opened'") == set()


# --- one idempotency key, one request, one consent case ------------------------------------------
def test_concurrent_retries_of_one_idempotency_key_make_one_request_and_one_consent_case(start_intake, keys):
    intake = start_intake()
    professional = keys.metadata(subject="prof-retry")
    for round_ in range(5):
        barrier = threading.Barrier(3)
        answers: list = [None] * 3

        def submit(i, key=f"lomake-{round_}"):
            barrier.wait()
            try:
                answers[i] = stub(intake).SubmitRequest(submit_request(idempotency_key=key),
                                                        metadata=professional).request_id
            except grpc.RpcError as error:
                answers[i] = error.code()

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(answers)) == 1 and isinstance(answers[0], str), answers
    assert len(stored_requests(intake)) == 5
    assert consent_cases(intake) == stored_requests(intake)  # no case without its request


# --- a shredded key takes the client's age and gender along ---------------------------------------
def publish_key_shredded(kafka_bootstrap, topic, request_id):
    msg = consent_events_pb2.DataKeyShredded(request_id=request_id, tenant=TENANT, reason="test")
    msg.shredded_at.FromDatetime(datetime.now(timezone.utc))
    event = CloudEvent(id=str(uuid.uuid4()), type="ot.consent.key.shredded.v1", source=f"/ot/{TENANT}/consent",
                       subject=request_id, tenant=TENANT, time=datetime.now(timezone.utc),
                       dataschema="proto:ot.events.v1.DataKeyShredded", data=msg.SerializeToString())
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","))
    producer.send(topic, key=request_id.encode(), value=event.data, headers=event.headers()).get(timeout=15)
    producer.close()


def test_when_the_key_is_shredded_the_clients_age_and_gender_go_too(start_intake, keys, kafka_bootstrap):
    intake = start_intake()
    created = stub(intake).SubmitRequest(submit_request(), metadata=keys.metadata())
    assert created.client.age_years == 15 and created.client.gender == pb.GENDER_GIRL
    publish_key_shredded(kafka_bootstrap, intake.settings.topic("consent"), created.request_id)
    coordinator = keys.metadata(roles=("coordinator",))
    listed = wait_until(lambda: (r := stub(intake).ListRequests(pb.ListRequestsRequest(), metadata=coordinator)
                                 .requests[0]).content_erased and r, what="intake to erase the case content")
    assert listed.client.age_unknown and listed.client.gender == pb.GENDER_UNSPECIFIED
    assert (listed.type, list(listed.categories), listed.status) == \
        (created.type, list(created.categories), case_pb2.REQUEST_STATUS_SUBMITTED)
    with intake.app.engine.connect() as c:
        client, sealed = c.execute(sa.text("SELECT client, sealed_content FROM requests")).one()
    assert client == {} and sealed is None


# --- fuzz every RPC on PostgreSQL, with the real consent -----------------------------------------
def person_roles(method: str) -> tuple[str, ...]:
    return tuple(sorted(ACCESS[method_path(SERVICE, method)] - {"service"}))


def test_fuzzing_every_rpc_on_postgresql_finds_no_internal_error_and_leaves_no_orphan_case(start_intake, keys):
    intake = start_intake()
    client = stub(intake)
    professional = keys.metadata()
    ot_tuki = client.SubmitRequest(submit_request(), metadata=professional)
    group = client.SubmitRequest(submit_request(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, anonymous=True),
                                 metadata=professional)
    meeting = client.PublishMeeting(pb.PublishMeetingRequest(group_id="haastavat-erot-kuopio", starts_at=in_days(30),
                                                             capacity=5), metadata=keys.metadata(roles=("secretary",)))
    rid = ot_tuki.request_id
    talk = client.SubmitRequest(submit_request(), metadata=professional).request_id  # not withdrawn by the seeds
    seeds = {
        "SubmitRequest": submit_request(idempotency_key="lomake-fuzz"),
        "GetRequest": pb.GetRequestRequest(request_id=rid),
        "ListRequests": pb.ListRequestsRequest(page_size=5),
        "TriageRequest": pb.TriageRequestRequest(request_id=rid, note="Arvioitu."),
        "PublishMeeting": pb.PublishMeetingRequest(group_id="haastavat-erot-kuopio", starts_at=in_days(40),
                                                   capacity=3),
        "ListMeetings": pb.ListMeetingsRequest(group_id="haastavat-erot-kuopio"),
        "BookMeeting": pb.BookMeetingRequest(request_id=group.request_id, meeting_id=meeting.meeting_id),
        "MarkConsulted": pb.RequestRef(request_id=rid),
        "ReturnRecommendations": pb.RequestRef(request_id=rid),
        "CloseRequest": pb.RequestRef(request_id=rid),
        "WithdrawRequest": pb.RequestRef(request_id=rid),
        "ExportProfessionalData": pb.ProfessionalRef(subject="test-user"),
        "EraseProfessionalData": pb.ProfessionalRef(subject="prof-away"),
        "AddEntry": pb.AddEntryRequest(request_id=talk, kind=pb.ENTRY_KIND_NOTE, text="Soitettu työntekijälle."),
        "ListEntries": pb.ListEntriesRequest(request_id=talk),
        "GetMeetingAgenda": pb.GetMeetingAgendaRequest(meeting_id=meeting.meeting_id),
    }
    counts = fuzz_service(intake.channel, SERVICE,
                          lambda method: keys.metadata(roles=person_roles(method), groups=("haastavat-erot-kuopio",)),
                          examples=40, raw_payloads=15, seed_messages=seeds)
    for method in ("SubmitRequest", "AddEntry", "ListEntries", "GetMeetingAgenda"):
        assert counts[method].get("OK", 0) > 0, method  # valid mutations reached PostgreSQL and consent
    assert counts["SubmitRequest"].get("INVALID_ARGUMENT", 0) > 0
    assert counts["AddEntry"].get("INVALID_ARGUMENT", 0) > 0

    health = health_pb2_grpc.HealthStub(intake.channel).Check(health_pb2.HealthCheckRequest(service=SERVICE.full_name))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    again = client.SubmitRequest(submit_request(), metadata=keys.metadata(subject="prof-after-fuzz"))
    assert again.status == case_pb2.REQUEST_STATUS_SUBMITTED
    assert client.GetRequest(pb.GetRequestRequest(request_id=again.request_id),
                             metadata=keys.metadata(subject="prof-after-fuzz")).content_included
    assert consent_cases(intake) == stored_requests(intake)  # every consent case has its request
