"""The gRPC edge in-process on loopback: authentication, area check, roles, rich error details."""
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.common.v1 import case_pb2
from ot.intake.v1 import intake_pb2 as pb
from ot.intake.v1 import intake_pb2_grpc

from ot_guard.testing import sample
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.testing import TestKeys, field_violations, status_details
from ot_runtime.auth import TokenVerifier
from ot_intake.grpc_api import IntakeServicer

from intake_testkit import TENANT


@pytest.fixture()
def keys(tmp_path):
    return TestKeys(tmp_path / "keys")


@pytest.fixture()
def stub(handlers, keys):
    verifier = TokenVerifier(issuer="ot-dev", audience="ot-platform", tenant=TENANT,
                             public_key_pem=keys.public_path.read_text())

    def register(server):
        intake_pb2_grpc.add_IntakeServiceServicer_to_server(IntakeServicer(handlers), server)
        return ["ot.intake.v1.IntakeService"]

    server = GrpcServer(host="127.0.0.1", port=0, verifier=verifier, register=register)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield intake_pb2_grpc.IntakeServiceStub(channel), channel
    channel.close()
    server.stop(1)


def valid_request(**changes) -> pb.SubmitRequestRequest:
    req = pb.SubmitRequestRequest(
        type=case_pb2.REQUEST_TYPE_OT_TUKI,
        professional=pb.Professional(name="Testi Ammattilainen", email="testi@example.fi",
                                     profession="koulukuraattori", organisation="Perusopetus",
                                     sector=case_pb2.SECTOR_EDUCATION, wellbeing_area=TENANT),
        categories=[case_pb2.CASE_CATEGORY_NEUROPSYCHIATRIC],
        client=pb.ClientFacts(age_years=14, gender=pb.GENDER_BOY, family_situation="asuu äidin kanssa"),
        question="Miten koulu voi tukea nuorta, jonka koulunkäynti on keskeytynyt?",
        discussed_in_own_team=True,
        consent=pb.ConsentAssessment(need=pb.CONSENT_NEED_NOT_NEEDED))
    for key, value in changes.items():
        setattr(req, key, value)
    return req


def test_health_needs_no_token_and_reports_serving(stub):
    _, channel = stub
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="ot.intake.v1.IntakeService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_no_token_is_unauthenticated(stub):
    client, _ = stub
    with pytest.raises(grpc.RpcError) as err:
        client.SubmitRequest(valid_request())
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_another_areas_token_is_permission_denied(stub, keys):
    client, _ = stub
    with pytest.raises(grpc.RpcError) as err:
        client.SubmitRequest(valid_request(), metadata=keys.metadata(area="keski-suomi"))
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_a_professional_cannot_list_the_areas_requests(stub, keys):
    client, _ = stub
    with pytest.raises(grpc.RpcError) as err:
        client.ListRequests(pb.ListRequestsRequest(), metadata=keys.metadata())
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_submit_returns_the_request_with_its_screening(stub, keys):
    client, _ = stub
    r = client.SubmitRequest(valid_request(), metadata=keys.metadata())
    assert r.status == case_pb2.REQUEST_STATUS_SUBMITTED and r.request_id
    assert r.screening.max_score == 10 and r.screening.reasons and "koordinaattori" in r.screening.summary_fi


def test_refusal_has_field_violations_with_kind_and_offsets_but_not_the_value(stub, keys):
    client, _ = stub
    text = sample("identity_code")
    with pytest.raises(grpc.RpcError) as err:
        client.SubmitRequest(valid_request(question=text, discussed_in_own_team=False), metadata=keys.metadata())
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    violations = {(v.field, v.reason) for v in field_violations(err.value)}
    assert violations == {("question", "identity_code"), ("discussed_in_own_team", "precondition")}
    from ot_guard import scan
    finding = scan(text)[0]
    value = text[finding.start:finding.end]
    everything = err.value.details() + "".join(v.description for v in field_violations(err.value))
    assert value not in everything
    assert f"{finding.start + 1}–{finding.end}" in everything


def test_wrong_transition_is_failed_precondition_with_the_reason(stub, keys):
    client, _ = stub
    r = client.SubmitRequest(valid_request(), metadata=keys.metadata())
    with pytest.raises(grpc.RpcError) as err:
        client.CloseRequest(pb.RequestRef(request_id=r.request_id), metadata=keys.metadata(roles=("coordinator",)))
    assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    [pre, info] = status_details(err.value)
    assert pre.violations[0].type == "LIFECYCLE" and info.metadata["status"] == "submitted"
