"""Intake end to end on real PostgreSQL and Kafka: gRPC in, outbox, relay, topic, consumer."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaProducer
from ot.common.v1 import case_pb2
from ot.events.v1 import experts_events_pb2, intake_events_pb2
from ot.intake.v1 import intake_pb2 as pb
from ot.intake.v1 import intake_pb2_grpc

from ot_guard import KINDS, scan
from ot_guard.testing import sample
from ot_runtime.cloudevents import CloudEvent
from ot_runtime.outbox import OutboxRelay
from ot_runtime.kafka import make_producer
from ot_runtime.testing import field_violations

from conftest import TENANT, header, read_topic, wait_consumed, wait_until


def submit_request(**changes) -> pb.SubmitRequestRequest:
    req = pb.SubmitRequestRequest(
        type=case_pb2.REQUEST_TYPE_OT_TUKI,
        professional=pb.Professional(name="Testi Ammattilainen", email="testi@example.fi",
                                     profession="sosiaalityöntekijä", organisation="Lapsiperhepalvelut",
                                     sector=case_pb2.SECTOR_SOCIAL, wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL],
        client=pb.ClientFacts(age_years=15, gender=pb.GENDER_GIRL, family_situation="sijaishuolto",
                              earlier_services=["perhetyö"]),
        question="Miten edetä, kun nuori karkailee sijaishuoltopaikasta toistuvasti?",
        discussed_in_own_team=True, consent=pb.ConsentAssessment(need=pb.CONSENT_NEED_NOT_NEEDED))
    for key, value in changes.items():
        setattr(req, key, value)
    return req


def stub(service) -> intake_pb2_grpc.IntakeServiceStub:
    return intake_pb2_grpc.IntakeServiceStub(service.channel)


def count(service, table: str) -> int:
    with service.app.engine.connect() as c:
        return c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_submitted_request_comes_out_as_a_cloudevent_in_the_callers_trace(start_intake, keys, kafka_bootstrap,
                                                                           spans):
    intake = start_intake()
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    created = stub(intake).SubmitRequest(submit_request(), metadata=keys.metadata() + (("traceparent", traceparent),))

    [record] = read_topic(kafka_bootstrap, intake.settings.topic("intake"), expect=1)
    assert record.key.decode() == created.request_id  # one case's events stay in one partition, in order
    assert header(record, "ce_type") == "ot.intake.request.submitted.v1"
    assert header(record, "ce_source") == f"/ot/{TENANT}/intake"
    assert header(record, "ce_subject") == created.request_id
    assert header(record, "ce_tenant") == TENANT
    assert header(record, "content-type") == "application/protobuf"
    assert header(record, "ce_id")
    assert header(record, "traceparent").split("-")[1] == trace_id
    event = intake_events_pb2.RequestSubmitted.FromString(record.value)
    assert event.request_id == created.request_id and event.screening_score == created.screening.score
    # Neither the professional's contact data nor any free text is in the event.
    for private in ("Testi Ammattilainen", "testi@example.fi", "karkailee", "sijaishuolto"):
        assert private.encode() not in record.value

    names = {s.name for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id}
    assert "/ot.intake.v1.IntakeService/SubmitRequest" in names  # OpenTelemetry's gRPC server span
    assert "/ot.consent.v1.ConsentService/OpenCase" in names  # intake's call to consent, in the same trace
    assert f"{intake.settings.topic('intake')} publish" in names


def test_a_refused_request_leaves_no_row_event_log_line_or_span_with_the_value(start_intake, keys, kafka_bootstrap,
                                                                              captured_logs, spans):
    intake = start_intake()
    caller = keys.metadata()
    refused_values = []
    for kind in KINDS:
        text = sample(kind)
        finding = scan(text)[0]
        refused_values.append(text[finding.start:finding.end])
        with pytest.raises(grpc.RpcError) as err:
            stub(intake).SubmitRequest(submit_request(question=text), metadata=caller)
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert [(v.field, v.reason) for v in field_violations(err.value)] == [("question", kind)]

    # A valid request afterwards proves the relay ran; its event must be the only one on the topic.
    ok = stub(intake).SubmitRequest(submit_request(), metadata=caller)
    records = read_topic(kafka_bootstrap, intake.settings.topic("intake"), expect=1)
    assert [header(r, "ce_subject") for r in records] == [ok.request_id]
    assert count(intake, "requests") == 1 and count(intake, "outbox") == 1

    logs = captured_logs.getvalue()
    assert "request refused at the edge" in logs  # the refusals were logged (at the edge), by kind only
    finished = spans.get_finished_spans()
    span_text = everything_in(finished)
    with intake.app.engine.connect() as c:
        stored = repr(c.execute(sa.text("SELECT * FROM requests")).all())
    for value in refused_values:
        assert value not in logs and value not in span_text and value not in stored
        assert all(value.encode() not in r.value for r in records)
    # With the instrumentation on (SQL statements are traced, with their text), no value of the
    # accepted request, nor the caller's token, is in any span either.
    assert any(s.attributes.get("db.statement", "").startswith("INSERT INTO requests") for s in finished)
    token = dict(caller)["authorization"].split()[1]
    for value in ("Testi Ammattilainen", "testi@example.fi", "karkailee", "sijaishuolto", "perhetyö",
                  token, token.split(".")[2]):
        assert value not in span_text, value


def everything_in(spans) -> str:
    """All a span holds that an exporter sends: names, attributes, events, status, links, resource."""
    return repr([(s.name, dict(s.attributes or {}), [(e.name, dict(e.attributes or {})) for e in s.events],
                  s.status.description, [dict(link.attributes or {}) for link in s.links],
                  dict(s.resource.attributes)) for s in spans])


def test_another_areas_token_is_refused(start_intake, keys):
    intake = start_intake()
    with pytest.raises(grpc.RpcError) as err:
        stub(intake).SubmitRequest(submit_request(), metadata=keys.metadata(area="pohjois-karjala"))
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert count(intake, "requests") == 0


def test_the_outbox_survives_a_relay_restart_without_loss_or_duplicate(start_intake, keys, kafka_bootstrap):
    intake = start_intake(relay=False)  # events wait in the outbox
    ids = [stub(intake).SubmitRequest(submit_request(), metadata=keys.metadata()).request_id for _ in range(30)]
    topic = intake.settings.topic("intake")

    def relay(producer):
        return OutboxRelay(intake.app.engine, intake.app.relay.table, producer, source=intake.settings.event_source,
                           tenant=TENANT, batch_size=5)

    first_producer = make_producer(kafka_bootstrap, "relay-first")
    first = relay(first_producer)
    assert first.publish_batch() + first.publish_batch() == 10
    first_producer.close()  # the relay process goes away mid-stream
    assert first.pending() == 20

    second_producer = make_producer(kafka_bootstrap, "relay-second")
    second = relay(second_producer)
    while second.publish_batch():
        pass
    second_producer.close()

    records = read_topic(kafka_bootstrap, topic, expect=30, settle=3.0)
    event_ids = [header(r, "ce_id") for r in records]
    assert len(records) == 30 and len(set(event_ids)) == 30  # nothing lost, nothing twice
    assert sorted(header(r, "ce_subject") for r in records) == sorted(ids)


def produce_experts_assigned(kafka_bootstrap, topic, request_id, event_id, tenant=TENANT, payload=None,
                             traceparent=None):
    msg = experts_events_pb2.ExpertsAssigned(assignment_id=str(uuid.uuid4()), request_id=request_id, tenant=tenant,
                                             expert_ids=["kys-lastenpsykiatria"])
    event = CloudEvent(id=event_id, type="ot.experts.assignment.made.v1", source=f"/ot/{tenant}/experts",
                       subject=request_id, tenant=tenant, time=datetime.now(timezone.utc),
                       dataschema="proto:ot.events.v1.ExpertsAssigned",
                       data=payload if payload is not None else msg.SerializeToString())
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","))
    headers = event.headers() + ([("traceparent", traceparent.encode())] if traceparent else [])
    producer.send(topic, key=request_id.encode(), value=event.data, headers=headers).get(timeout=15)
    producer.close()


def test_one_trace_runs_from_an_incoming_event_through_the_consumer_into_the_next_event(
        start_intake, keys, kafka_bootstrap, spans, captured_logs):
    intake = start_intake()
    created = stub(intake).SubmitRequest(submit_request(), metadata=keys.metadata())
    trace_id = uuid.uuid4().hex
    produce_experts_assigned(kafka_bootstrap, intake.settings.topic("experts"), created.request_id,
                             str(uuid.uuid4()), traceparent=f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01")
    changes = wait_until(lambda: [r for r in read_topic(kafka_bootstrap, intake.settings.topic("intake"), expect=2,
                                                         timeout=5, settle=0)
                                  if header(r, "ce_type") == "ot.intake.request.status_changed.v1"],
                         what="the status-change event")
    assert header(changes[0], "traceparent").split("-")[1] == trace_id
    names = {s.name for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id}
    assert {f"{intake.settings.topic('experts')} process", f"{intake.settings.topic('intake')} publish"} <= names
    moved = [json.loads(line) for line in captured_logs.getvalue().splitlines() if '"request moved"' in line]
    assert moved and moved[0]["trace_id"] == trace_id  # an operator can go from the log line to the trace


def test_a_redelivered_event_changes_nothing(start_intake, keys, kafka_bootstrap):
    intake = start_intake()
    created = stub(intake).SubmitRequest(submit_request(), metadata=keys.metadata())
    experts_topic = intake.settings.topic("experts")
    event_id = str(uuid.uuid4())
    produce_experts_assigned(kafka_bootstrap, experts_topic, created.request_id, event_id)
    coordinator = keys.metadata(roles=("coordinator",))
    got = wait_until(lambda: (r := stub(intake).GetRequest(pb.GetRequestRequest(request_id=created.request_id),
                                                           metadata=coordinator)).status
                     == case_pb2.REQUEST_STATUS_ASSIGNED and r, what="the request to be assigned")
    assert list(got.expert_ids) == ["kys-lastenpsykiatria"]

    produce_experts_assigned(kafka_bootstrap, experts_topic, created.request_id, event_id)  # the same event again
    wait_consumed(kafka_bootstrap, f"{intake.settings.topic_prefix}.intake", experts_topic)
    again = stub(intake).GetRequest(pb.GetRequestRequest(request_id=created.request_id), metadata=coordinator)
    assert again.status == case_pb2.REQUEST_STATUS_ASSIGNED and again.updated_at == got.updated_at
    assert count(intake, "inbox") == 1
    changes = [r for r in read_topic(kafka_bootstrap, intake.settings.topic("intake"), expect=2)
               if header(r, "ce_type") == "ot.intake.request.status_changed.v1"]
    assert len(changes) == 1
    assert not read_topic(kafka_bootstrap, intake.settings.dead_letter_topic, expect=0, timeout=2, settle=0.5)


def test_poison_events_go_to_the_dead_letter_topic_and_the_consumer_keeps_going(start_intake, keys, kafka_bootstrap):
    intake = start_intake()
    experts_topic = intake.settings.topic("experts")
    created = stub(intake).SubmitRequest(submit_request(), metadata=keys.metadata())
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","))
    producer.send(experts_topic, key=b"x", value=b"not a cloudevent at all").get(timeout=15)
    producer.close()
    produce_experts_assigned(kafka_bootstrap, experts_topic, created.request_id, str(uuid.uuid4()),
                             payload=b"\xff\xff\xff garbage")
    produce_experts_assigned(kafka_bootstrap, experts_topic, created.request_id, str(uuid.uuid4()),
                             tenant="keski-suomi")
    produce_experts_assigned(kafka_bootstrap, experts_topic, str(uuid.uuid4()), str(uuid.uuid4()))  # no such request
    produce_experts_assigned(kafka_bootstrap, experts_topic, created.request_id, str(uuid.uuid4()))  # a good one

    dead = read_topic(kafka_bootstrap, intake.settings.dead_letter_topic, expect=4)
    reasons = [header(r, "ot_dlt_reason") for r in dead]
    assert len(dead) == 4
    assert any("missing CloudEvents headers" in r for r in reasons)
    assert any("not a valid ot.events.v1.ExpertsAssigned" in r for r in reasons)
    assert any("keski-suomi" in r for r in reasons)
    assert any("No request" in r for r in reasons)
    assert all(header(r, "ot_dlt_topic") == experts_topic for r in dead)
    coordinator = keys.metadata(roles=("coordinator",))
    wait_until(lambda: stub(intake).GetRequest(pb.GetRequestRequest(request_id=created.request_id),
                                               metadata=coordinator).status == case_pb2.REQUEST_STATUS_ASSIGNED,
               what="the good event after the poison ones to be processed")


def test_two_concurrent_bookings_for_the_last_place_exactly_one_wins(start_intake, keys):
    intake = start_intake()
    secretary = keys.metadata(roles=("secretary",), subject="sihteeri")
    starts = Timestamp()
    for round_ in range(10):
        starts.FromDatetime(datetime.now(timezone.utc) + timedelta(days=30 + round_))
        meeting = stub(intake).PublishMeeting(pb.PublishMeetingRequest(
            group_id="haastavat-erot-kuopio", starts_at=starts, capacity=1), metadata=secretary)
        who = [keys.metadata(subject=f"prof-{round_}-{i}") for i in range(2)]
        requests = [stub(intake).SubmitRequest(submit_request(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION),
                                               metadata=w) for w in who]
        barrier = threading.Barrier(2)
        outcomes: list = [None, None]

        def book(i):
            barrier.wait()
            try:
                stub(intake).BookMeeting(pb.BookMeetingRequest(request_id=requests[i].request_id,
                                                               meeting_id=meeting.meeting_id), metadata=who[i])
                outcomes[i] = "booked"
            except grpc.RpcError as error:
                outcomes[i] = error.code()

        threads = [threading.Thread(target=book, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(map(str, outcomes)) == sorted(["booked", str(grpc.StatusCode.RESOURCE_EXHAUSTED)]), outcomes
        [listed] = [m for m in stub(intake).ListMeetings(pb.ListMeetingsRequest(group_id="haastavat-erot-kuopio"),
                                                         metadata=secretary).meetings
                    if m.meeting_id == meeting.meeting_id]
        assert listed.booked == 1
