"""Experts beside intake over real Kafka and PostgreSQL: proposals for a submitted request, a
coordinator's assignment that intake shows, one trace end to end; agreements, area isolation and
redelivery."""
from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from kafka import KafkaProducer
from ot.common.v1 import case_pb2
from ot.events.v1 import experts_events_pb2
from ot.experts.v1 import experts_pb2 as xpb
from ot.experts.v1 import experts_pb2_grpc
from ot.intake.v1 import intake_pb2 as ipb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.testing import status_details

from conftest import TENANT, header, read_topic, wait_consumed, wait_until
from experts_fixtures import experts_database_url, start_experts  # noqa: F401 (fixtures)

CATEGORIES = [case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL, case_pb2.CASE_CATEGORY_FAMILY_HOMICIDE_THREAT]


def submission() -> ipb.SubmitRequestRequest:
    return ipb.SubmitRequestRequest(
        type=case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT,
        professional=ipb.Professional(name="Testi Ammattilainen", email="testi.ammattilainen@example.fi",
                                      profession="sosiaalityöntekijä", organisation="Lastensuojelu",
                                      sector=case_pb2.SECTOR_SOCIAL, wellbeing_area=TENANT),
        categories=CATEGORIES,
        client=ipb.ClientFacts(age_years=9, gender=ipb.GENDER_BOY, family_situation="asuu sijaisperheessä"),
        question="Tarvitsemme asiantuntijaryhmään erityisosaamista väkivallan uhan arviointiin.",
        discussed_in_own_team=True, consent=ipb.ConsentAssessment(need=ipb.CONSENT_NEED_NOT_NEEDED))


def proposals_when_ready(experts_stub, request_id, md):
    def ready():
        try:
            reply = experts_stub.ListProposals(xpb.ListProposalsRequest(request_id=request_id), metadata=md)
        except grpc.RpcError as err:
            if err.code() is grpc.StatusCode.NOT_FOUND:
                return None  # experts has not consumed the submission yet
            raise
        return reply if reply.revision else None
    return wait_until(ready, 30, "proposals in experts")


@pytest.fixture()
def both(start_intake, start_experts, keys):
    intake = start_intake()
    experts = start_experts(intake.consent)
    return (intake_pb2_grpc.IntakeServiceStub(intake.channel), experts_pb2_grpc.ExpertsServiceStub(experts.channel),
            keys.metadata(roles=("professional",), subject="prof-it"),
            keys.metadata(roles=("coordinator",), subject="coord-it"))


def test_submitted_request_gets_proposals_coordinator_assigns_and_intake_shows_assigned_in_one_trace(
        both, keys, spans, kafka_bootstrap, topic_prefix):
    intake, experts, professional, coordinator = both
    request_id = intake.SubmitRequest(submission(), metadata=professional).request_id

    proposals = proposals_when_ready(experts, request_id, coordinator)
    ids = [p.expert.expert_id for p in proposals.proposals]
    assert "barnahus" in ids and "valtion-koulukodit" not in ids  # being investigated: not proposed
    assert [p.rank for p in proposals.proposals] == list(range(1, len(ids) + 1))
    for p in proposals.proposals:
        codes = {r.code for r in p.reasons}
        assert {"category_fit", "agreement", "availability", "load"} <= codes and ({"free", "paid"} & codes)
        assert p.score == sum(r.points for r in p.reasons) and all(r.reason_fi and r.reason_en for r in p.reasons)
    assert set(proposals.categories) == set(CATEGORIES)

    reply = experts.AssignExperts(xpb.AssignExpertsRequest(request_id=request_id, expert_ids=["barnahus"]),
                                  metadata=coordinator)
    assert [(a.expert_id, a.active) for a in reply.assignments] == [("barnahus", True)]

    def assigned():
        r = intake.GetRequest(ipb.GetRequestRequest(request_id=request_id), metadata=coordinator)
        return r if r.status == case_pb2.REQUEST_STATUS_ASSIGNED else None
    shown = wait_until(assigned, 30, "intake to show the request as assigned")
    assert list(shown.expert_ids) == ["barnahus"]

    [record] = read_topic(kafka_bootstrap, f"{topic_prefix}.experts.v1", expect=1)
    assert record.key.decode() == request_id and header(record, "ce_type") == "ot.experts.assignment.made.v1"
    assert list(experts_events_pb2.ExpertsAssigned.FromString(record.value).expert_ids) == ["barnahus"]

    mine = experts.ListMyAssignments(xpb.ListMyAssignmentsRequest(),
                                     metadata=keys.metadata(roles=("expert",), subject="expert-barnahus"))
    assert [a.request_id for a in mine.assignments] == [request_id]

    def the_five_spans():
        found = {}
        for s in spans.get_finished_spans():
            a = s.attributes or {}
            dest, ce = a.get("messaging.destination.name"), a.get("cloudevents.event_type")
            if a.get("ot.request_id") == request_id and s.name.endswith("IntakeService/SubmitRequest"):
                found["intake grpc"] = s
            elif dest == f"{topic_prefix}.intake.v1" and ce == "ot.intake.request.submitted.v1":
                found["intake publish" if s.name.endswith("publish") else "experts consume"] = s
            elif dest == f"{topic_prefix}.experts.v1" and ce == "ot.experts.assignment.made.v1":
                found["experts publish" if s.name.endswith("publish") else "intake consume"] = s
        return found if len(found) == 5 else None
    found = wait_until(the_five_spans, 15, "the five spans of the flow")
    assert len({s.context.trace_id for s in found.values()}) == 1, {k: hex(s.context.trace_id) for k, s in found.items()}


def test_no_agreement_other_area_and_redelivery(both, keys, kafka_bootstrap, topic_prefix):
    intake, experts, professional, coordinator = both
    request_id = intake.SubmitRequest(submission(), metadata=professional).request_id
    first = proposals_when_ready(experts, request_id, coordinator)

    # The state reform schools have no agreement with any area yet: refused, with the reason.
    with pytest.raises(grpc.RpcError) as err:
        experts.AssignExperts(xpb.AssignExpertsRequest(request_id=request_id, expert_ids=["valtion-koulukodit"],
                                                       cost_approved=True), metadata=coordinator)
    assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    [pre] = [d for d in status_details(err.value) if isinstance(d, error_details_pb2.PreconditionFailure)]
    assert pre.violations[0].type == "NO_AGREEMENT" and "sopimus" in pre.violations[0].description
    experts.AssignExperts(xpb.AssignExpertsRequest(request_id=request_id, expert_ids=["tukikeskus-varjo"]),
                          metadata=coordinator)

    # Another area's token sees nothing of this area's assignments or proposals.
    other = keys.metadata(area="keski-suomi", roles=("coordinator",), subject="coord-ks")
    for call, req in ((experts.ListAssignments, xpb.ListAssignmentsRequest(request_id=request_id)),
                      (experts.ListProposals, xpb.ListProposalsRequest(request_id=request_id)),
                      (experts.ListMyAssignments, xpb.ListMyAssignmentsRequest())):
        with pytest.raises(grpc.RpcError) as err:
            call(req, metadata=other)
        assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED

    # The same submission event (same ce_id) delivered again changes nothing.
    intake_topic = f"{topic_prefix}.intake.v1"
    records = read_topic(kafka_bootstrap, intake_topic, expect=2)
    [submitted] = [r for r in records if header(r, "ce_type") == "ot.intake.request.submitted.v1"]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","))
    producer.send(intake_topic, key=submitted.key, value=submitted.value, headers=submitted.headers).get(timeout=15)
    producer.close()
    wait_consumed(kafka_bootstrap, f"{topic_prefix}.experts", intake_topic)
    again = experts.ListProposals(xpb.ListProposalsRequest(request_id=request_id), metadata=coordinator)
    assert (again.proposal_set_id, again.revision) == (first.proposal_set_id, 1)
    assert [p.expert.expert_id for p in again.proposals] == [p.expert.expert_id for p in first.proposals]
    assignments = experts.ListAssignments(xpb.ListAssignmentsRequest(request_id=request_id), metadata=coordinator)
    assert [(a.expert_id, a.active) for a in assignments.assignments] == [("tukikeskus-varjo", True)]
