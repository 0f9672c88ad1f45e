"""Experts' edge on the real PostgreSQL and Kafka: a fuzz run over every RPC (NUL characters and
over-long values fail differently there than on SQLite), and a consent withdrawal that overtakes
intake's submission on the real consumer, then every RPC on that request.

Experts runs here with a sharing policy that allows every share, so the fuzzer's assignments reach
the database; consent's own answers are covered in test_experts_flow.py."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kafka import KafkaProducer
from ot.common.v1 import case_pb2
from ot.events.v1 import consent_events_pb2, intake_events_pb2
from ot.experts.v1 import experts_pb2 as xpb
from ot.experts.v1 import experts_pb2_grpc

from ot_runtime.cloudevents import CloudEvent
from ot_runtime.testing import fuzz_service, status_details

from conftest import TENANT, header, read_topic, service_env, start_service, wait_consumed
from experts_fixtures import experts_database_url  # noqa: F401 (fixture)


@pytest.fixture()
def experts(experts_database_url, kafka_bootstrap, topic_prefix, keys, spans):  # noqa: F811
    from ot_experts.bootstrap import build
    from ot_experts.main import MIGRATIONS, seed_catalogue
    from ot_experts.sharing import AllowAllUntilConsentService

    env = service_env("experts", experts_database_url, kafka_bootstrap, topic_prefix, keys,
                      OT_CONSENT_GRPC_TARGET="127.0.0.1:1")  # not asked: the policy below allows all
    service = start_service("experts", build, MIGRATIONS, env,
                            after_migrate=lambda settings: seed_catalogue(settings.database_url),
                            sharing=AllowAllUntilConsentService())
    yield service
    service.stop()


def publish(kafka_bootstrap, topic, ce_type, message, request_id, source):
    event = CloudEvent(id=str(uuid.uuid4()), type=ce_type, source=source, subject=request_id, tenant=TENANT,
                       time=datetime.now(timezone.utc), dataschema=f"proto:{message.DESCRIPTOR.full_name}",
                       data=message.SerializeToString())
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","))
    producer.send(topic, key=request_id.encode(), value=event.data, headers=event.headers()).get(timeout=15)
    producer.close()


def submit_event(kafka_bootstrap, service, request_id):
    publish(kafka_bootstrap, service.settings.topic("intake"), "ot.intake.request.submitted.v1",
            intake_events_pb2.RequestSubmitted(request_id=request_id, tenant=TENANT,
                                               type=case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT,
                                               categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL]),
            request_id, f"/ot/{TENANT}/intake")
    wait_consumed(kafka_bootstrap, f"{service.settings.topic_prefix}.experts", service.settings.topic("intake"))


def withdraw_event(kafka_bootstrap, service, request_id):
    publish(kafka_bootstrap, service.settings.topic("consent"), "ot.consent.consent.withdrawn.v1",
            consent_events_pb2.ConsentWithdrawn(request_id=request_id, tenant=TENANT), request_id,
            f"/ot/{TENANT}/consent")
    wait_consumed(kafka_bootstrap, f"{service.settings.topic_prefix}.experts", service.settings.topic("consent"))


def code_and_reasons(call, request, metadata):
    try:
        call(request, metadata=metadata)
        return grpc.StatusCode.OK, set()
    except grpc.RpcError as error:
        return error.code(), {d.reason for d in status_details(error) if isinstance(d, error_details_pb2.ErrorInfo)}


def test_a_withdrawal_before_the_submission_leaves_every_rpc_answering(experts, keys, kafka_bootstrap):
    client = experts_pb2_grpc.ExpertsServiceStub(experts.channel)
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-it")
    request_id = str(uuid.uuid4())
    calls = ((client.ListProposals, xpb.ListProposalsRequest(request_id=request_id)),
             (client.ListAssignments, xpb.ListAssignmentsRequest(request_id=request_id)),
             (client.AssignExperts, xpb.AssignExpertsRequest(request_id=request_id, expert_ids=["barnahus"])),
             (client.UnassignExpert, xpb.UnassignExpertRequest(request_id=request_id, expert_id="barnahus")))

    # A withdrawal with an id that is not intake's goes to the dead-letter topic; the next one is processed.
    withdraw_event(kafka_bootstrap, experts, "not-a-request-id")
    withdraw_event(kafka_bootstrap, experts, request_id)
    [dead] = read_topic(kafka_bootstrap, experts.settings.dead_letter_topic, expect=1)
    assert dead.key == b"not-a-request-id" and header(dead, "ot_dlt_reason")
    assert [code_and_reasons(call, request, coordinator)[0] for call, request in calls] == [
        grpc.StatusCode.NOT_FOUND] * 4

    submit_event(kafka_bootstrap, experts, request_id)
    proposals = client.ListProposals(xpb.ListProposalsRequest(request_id=request_id), metadata=coordinator)
    assert proposals.request_status == case_pb2.REQUEST_STATUS_SUBMITTED and not proposals.proposals
    assert "withdrawn" in proposals.summary_en
    assert [code_and_reasons(call, request, coordinator) for call, request in calls] == [
        (grpc.StatusCode.OK, set()), (grpc.StatusCode.OK, set()),
        (grpc.StatusCode.FAILED_PRECONDITION, {"SHARING_NOT_ALLOWED"}),
        (grpc.StatusCode.FAILED_PRECONDITION, {"NOT_ASSIGNED"})]


def test_fuzzing_every_rpc_on_postgresql_finds_no_internal_error(experts, keys, kafka_bootstrap):
    from ot_experts.edge import ACCESS, SERVICE

    client = experts_pb2_grpc.ExpertsServiceStub(experts.channel)
    request_id = str(uuid.uuid4())
    submit_event(kafka_bootstrap, experts, request_id)
    coordinator = keys.metadata(roles=("coordinator",), subject="coord-it")
    client.AssignExperts(xpb.AssignExpertsRequest(request_id=request_id, expert_ids=["barnahus"]), metadata=coordinator)

    def metadata_for(method):
        return keys.metadata(roles=tuple(sorted(ACCESS[f"/{SERVICE.full_name}/{method}"])), subject="expert-barnahus")

    own = xpb.ExpertFields(kind="person", name_fi="Perheneuvolan psykologi", categories=[
        case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL], cost=xpb.COST_FREE, modalities=[xpb.MODALITY_REMOTE],
        competences=["vanhemmuuden arviointi"], languages=["fi"],
        contact=xpb.Contact(name="Kuvitteellinen Yhteyshenkilö", role="psykologi", email="yhteys@example.invalid"))
    seeds = {
        "ListExperts": xpb.ListExpertsRequest(text="psykiatria"),
        "GetExpert": xpb.GetExpertRequest(expert_id="barnahus"),
        "CreateExpert": xpb.CreateExpertRequest(expert_id="fuzz-oma", fields=own),
        "UpdateExpert": xpb.UpdateExpertRequest(expert_id="barnahus", local_note="Tammikuussa tauko."),
        "RetireExpert": xpb.RetireExpertRequest(expert_id="valteri"),
        "ListGroups": xpb.ListGroupsRequest(area="keski-suomi"),
        "ListProposals": xpb.ListProposalsRequest(request_id=request_id),
        "AssignExperts": xpb.AssignExpertsRequest(request_id=request_id, expert_ids=["sairaalaopetus"]),
        "UnassignExpert": xpb.UnassignExpertRequest(request_id=request_id, expert_id="sairaalaopetus",
                                                    reason="Ei tarvita."),
        "ListAssignments": xpb.ListAssignmentsRequest(request_id=request_id),
    }
    counts = fuzz_service(experts.channel, SERVICE, metadata_for, examples=40, raw_payloads=15, seed_messages=seeds)

    reached = {m for m, c in counts.items() if c.get("OK")}
    assert {"CreateExpert", "UpdateExpert", "AssignExperts", "UnassignExpert", "ListMyAssignments"} <= reached, counts
    health = health_pb2_grpc.HealthStub(experts.channel).Check(health_pb2.HealthCheckRequest(service=SERVICE.full_name))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    after = client.ListAssignments(xpb.ListAssignmentsRequest(request_id=request_id), metadata=coordinator)
    assert ("barnahus", True) in [(a.expert_id, a.active) for a in after.assignments]
