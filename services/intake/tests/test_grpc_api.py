"""The gRPC edge in-process on loopback: authentication, area check, roles, rich error details."""
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.common.v1 import case_pb2
from ot.intake.v1 import intake_pb2 as pb

import sqlalchemy as sa

from ot_guard.testing import sample
from ot_runtime.testing import field_violations, status_details
from ot_intake.store import outbox, requests

from intake_testkit import valid_request


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


def test_a_professional_cannot_list_the_areas_requests_only_their_own(stub, keys):
    client, _ = stub
    client.SubmitRequest(valid_request(), metadata=keys.metadata(subject="someone-else"))
    mine = client.ListRequests(pb.ListRequestsRequest(), metadata=keys.metadata())
    assert (list(mine.requests), mine.total_count) == ([], 0)


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
    # The guard at the edge answers first; the domain's rules are checked once the fields are clean.
    assert {(v.field, v.reason) for v in field_violations(err.value)} == {("question", "identity_code")}
    with pytest.raises(grpc.RpcError) as second:
        client.SubmitRequest(valid_request(discussed_in_own_team=False), metadata=keys.metadata())
    assert {(v.field, v.reason) for v in field_violations(second.value)} == {("discussed_in_own_team", "precondition")}
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


def rows(engine, table):
    with engine.connect() as c:
        return c.execute(sa.select(table)).mappings().all()


@pytest.mark.parametrize("kind", ["identity_code", "name", "phone", "email", "address", "birth_date",
                                  "diagnosis_code"])
def test_client_identifying_data_is_refused_and_nothing_is_written(stub, keys, engine, vault, kind):
    client, _ = stub
    text = sample(kind)
    with pytest.raises(grpc.RpcError) as err:
        client.SubmitRequest(valid_request(question=text), metadata=keys.metadata())
    [v] = field_violations(err.value)
    assert (v.field, v.reason) == ("question", kind)
    assert "merkit" in v.description and "characters" in v.description  # where to look
    from ot_guard import scan
    finding = scan(text)[0]
    refused_value = text[finding.start:finding.end]
    assert refused_value and refused_value not in v.description and refused_value not in err.value.details()
    assert rows(engine, requests) == [] and rows(engine, outbox) == [] and vault.keys == {}


def test_the_guard_checks_every_client_list_item_and_names_its_position(stub, keys):
    client, _ = stub
    request = valid_request()
    request.client.cooperation_partners.append(sample("phone"))
    with pytest.raises(grpc.RpcError) as err:
        client.SubmitRequest(request, metadata=keys.metadata())
    assert [v.field for v in field_violations(err.value)] == ["client.cooperation_partners[1]"]


def test_a_triage_note_with_client_data_is_refused(stub, keys):
    client, _ = stub
    created = client.SubmitRequest(valid_request(), metadata=keys.metadata())
    with pytest.raises(grpc.RpcError) as err:
        client.TriageRequest(pb.TriageRequestRequest(request_id=created.request_id, note=sample("identity_code")),
                             metadata=keys.metadata(roles=("coordinator",)))
    assert [(v.field, v.reason) for v in field_violations(err.value)] == [("note", "identity_code")]
    got = client.GetRequest(pb.GetRequestRequest(request_id=created.request_id),
                            metadata=keys.metadata(roles=("coordinator",)))
    assert got.status == case_pb2.REQUEST_STATUS_SUBMITTED and got.triage_note == ""


def test_a_list_larger_than_the_count_limit_says_at_least(stub, keys, monkeypatch):
    from ot_intake import store
    monkeypatch.setattr(store, "COUNT_LIMIT", 1)
    client, _ = stub
    for _ in range(2):
        client.SubmitRequest(valid_request(), metadata=keys.metadata())
    page = client.ListRequests(pb.ListRequestsRequest(), metadata=keys.metadata())
    assert (len(page.requests), page.total_count, page.total_count_at_least) == (2, 1, True)
