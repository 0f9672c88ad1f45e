"""The gRPC edge in-process on loopback: authentication, area check, roles, rich error details."""
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.common.v1 import case_pb2
from ot.experts.v1 import experts_pb2 as pb

from ot_runtime.testing import field_violations, status_details
from ot_experts.domain import Category, RequestStatus, RequestType

from experts_testkit import REQ1, TENANT


@pytest.fixture()
def request_known(handlers):
    with handlers.sessions.begin() as s:
        handlers.on_request_event(s, "ev-1", REQ1, RequestType.EXPERT_REINFORCEMENT,
                                  [Category.CHILD_PROTECTION_SPECIAL], RequestStatus.SUBMITTED, TENANT)
    return REQ1


def coordinator(keys):
    return keys.metadata(roles=("coordinator",), subject="coord-1")


def test_health_needs_no_token_and_reports_serving(channel):
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="ot.experts.v1.ExpertsService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_another_areas_token_sees_nothing(client, keys, request_known):
    for call, req in ((client.ListAssignments, pb.ListAssignmentsRequest(request_id=request_known)),
                      (client.ListProposals, pb.ListProposalsRequest(request_id=request_known)),
                      (client.ListExperts, pb.ListExpertsRequest())):
        with pytest.raises(grpc.RpcError) as err:
            call(req, metadata=keys.metadata(area="keski-suomi", roles=("coordinator",)))
        assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_search_over_grpc_finds_inflected_forms_and_pages(client, keys):
    reply = client.ListExperts(pb.ListExpertsRequest(text="psykiatria", page_size=1), metadata=keys.metadata())
    assert reply.total_count >= 2 and len(reply.experts) == 1 and reply.next_page_token
    rest = client.ListExperts(pb.ListExpertsRequest(text="psykiatria", page_size=10,
                                                    page_token=reply.next_page_token), metadata=keys.metadata())
    names = [e.name_fi for e in [*reply.experts, *rest.experts]]
    assert any("psykiatrian" in n for n in names)


def test_assign_without_agreement_is_failed_precondition_with_the_reason(client, keys, request_known):
    with pytest.raises(grpc.RpcError) as err:
        client.AssignExperts(pb.AssignExpertsRequest(request_id=request_known, expert_ids=["valtion-koulukodit"],
                                                     cost_approved=True), metadata=coordinator(keys))
    assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    [pre] = [d for d in status_details(err.value) if isinstance(d, error_details_pb2.PreconditionFailure)]
    assert pre.violations[0].type == "NO_AGREEMENT" and pre.violations[0].subject == "experts/valtion-koulukodit"
    assert "sopimus" in err.value.details()


def test_paid_expert_needs_cost_approval_then_assigns(client, keys, request_known):
    req = pb.AssignExpertsRequest(request_id=request_known, expert_ids=["vaalijala"])
    with pytest.raises(grpc.RpcError) as err:
        client.AssignExperts(req, metadata=coordinator(keys))
    assert status_details(err.value)[0].violations[0].type == "COST_APPROVAL_REQUIRED"
    req.cost_approved = True
    reply = client.AssignExperts(req, metadata=coordinator(keys))
    assert [(a.expert_id, a.active, a.cost_approved) for a in reply.assignments] == [("vaalijala", True, True)]
    proposals = client.ListProposals(pb.ListProposalsRequest(request_id=request_known), metadata=coordinator(keys))
    assert proposals.proposals and all(p.reasons for p in proposals.proposals)
    assert proposals.request_status == case_pb2.REQUEST_STATUS_SUBMITTED


def test_a_professional_cannot_create_and_bad_input_names_the_field(client, keys):
    with pytest.raises(grpc.RpcError) as err:
        client.CreateExpert(pb.CreateExpertRequest(fields=pb.ExpertFields(name_fi="X")), metadata=keys.metadata())
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        client.CreateExpert(pb.CreateExpertRequest(fields=pb.ExpertFields(
            kind="person", name_fi="Alueen oma asiantuntija", cost=pb.COST_PAID, modalities=[pb.MODALITY_REMOTE],
            categories=[case_pb2.CASE_CATEGORY_NEUROPSYCHIATRIC])), metadata=coordinator(keys))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in field_violations(err.value)] == ["fields.price_note"]


def test_expert_sees_own_assignments(client, keys, request_known):
    client.AssignExperts(pb.AssignExpertsRequest(request_id=request_known, expert_ids=["barnahus"]),
                         metadata=coordinator(keys))
    mine = client.ListMyAssignments(pb.ListMyAssignmentsRequest(),
                                    metadata=keys.metadata(roles=("expert",), subject="expert-barnahus"))
    assert [a.request_id for a in mine.assignments] == [request_known]
    groups = client.ListGroups(pb.ListGroupsRequest(area="etela-savo"), metadata=keys.metadata())
    assert {g.kind for g in groups.groups} == {"statutory_expert_group", "challenging_divorces"}
