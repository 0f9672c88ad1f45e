"""Consent's edge on the real PostgreSQL: values PostgreSQL refuses or cuts (NUL characters,
over-long ids, out-of-range times) are refused at the edge by name before anything reaches the
append-only audit trail, and a fuzz run over every RPC finds no INTERNAL, leaves consent healthy
and answering, and its audit chain intact."""
from __future__ import annotations

import uuid

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as pb
from ot.consent.v1 import consent_pb2_grpc

from ot_runtime.access import method_path
from ot_runtime.testing import field_violations, fuzz_service
from ot_consent.edge import ACCESS, SERVICE

GROUP = "haastavat-erot-pohjois-savo"
EXPERT = "kys-vaativa-lastenpsykiatria"
OWNER = "prof-consent-edge"


def opened(consent, keys) -> str:
    """A case opened by OWNER, as intake opens one."""
    request_id = str(uuid.uuid4())
    consent_pb2_grpc.ConsentServiceStub(consent.channel).OpenCase(pb.OpenCaseRequest(
        request_id=request_id, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
        form=pb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM, given_by=pb.CONSENT_GIVER_GUARDIANS,
        scope=[pb.Party(kind=pb.PARTY_KIND_GROUP, id=GROUP)]), metadata=keys.metadata(subject=OWNER))
    return request_id


def token(keys, method):
    """A token with every role `method` admits (a person's: "service" in it is ignored)."""
    return keys.metadata(roles=tuple(sorted(ACCESS[method_path(SERVICE, method)])), subject=OWNER)


def trail_length(consent) -> int:
    with consent.app.engine.connect() as c:
        return c.execute(sa.text("SELECT count(*) FROM audit_log")).scalar()


@pytest.mark.parametrize("method, make, path, reason", [
    ("GetDataKey", lambda r: pb.GetDataKeyRequest(request_id=r, purpose="triage\x00"), "purpose", "control_character"),
    ("CheckSharing", lambda r: pb.CheckSharingRequest(request_id=r, purpose="x",
                                                      party=pb.Party(kind=pb.PARTY_KIND_GROUP, id="ryhma\x00")),
     "party.id", "control_character"),
    ("OpenCase", lambda r: pb.OpenCaseRequest(request_id=r + "-and-more", type=case_pb2.REQUEST_TYPE_OT_TUKI,
                                              form=pb.CONSENT_FORM_NOT_NEEDED), "request_id", "too_long"),
    ("RecordConsent", lambda r: pb.RecordConsentRequest(request_id=r, form=pb.CONSENT_FORM_NOT_NEEDED,
                                                        given_at=Timestamp(seconds=2**40)), "given_at", "out_of_range"),
    ("QueryAudit", lambda r: pb.QueryAuditRequest(action="case.opened\x00"), "action", "control_character"),
    ("QueryAudit", lambda r: pb.QueryAuditRequest(to_time=Timestamp(seconds=-2**40)), "to_time", "out_of_range"),
])
def test_values_postgresql_would_refuse_are_refused_at_the_edge_and_never_reach_the_trail(start_consent, keys, method,
                                                                                          make, path, reason):
    consent = start_consent()
    request_id = opened(consent, keys)
    before = trail_length(consent)
    with pytest.raises(grpc.RpcError) as err:
        getattr(consent_pb2_grpc.ConsentServiceStub(consent.channel), method)(make(request_id),
                                                                             metadata=token(keys, method))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.reason) for v in field_violations(err.value)] == [(path, reason)]
    assert trail_length(consent) == before


def test_fuzzing_every_rpc_on_postgresql_finds_no_internal_error_and_leaves_the_trail_intact(start_consent, keys):
    consent = start_consent()
    client = consent_pb2_grpc.ConsentServiceStub(consent.channel)
    known = opened(consent, keys)
    party = pb.Party(kind=pb.PARTY_KIND_EXPERT_ORGANISATION, id=EXPERT)
    seeds = {
        "OpenCase": pb.OpenCaseRequest(request_id=str(uuid.uuid4()), type=case_pb2.REQUEST_TYPE_OT_TUKI,
                                       form=pb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM,
                                       given_by=pb.CONSENT_GIVER_CHILD_AND_GUARDIANS, child_capacity_assessed=True,
                                       scope=[party]),
        "GetDataKey": pb.GetDataKeyRequest(request_id=known, purpose="triage"),
        "RecordConsent": pb.RecordConsentRequest(request_id=known, form=pb.CONSENT_FORM_ORAL_RECORDED_IN_CLIENT_RECORD,
                                                 given_by=pb.CONSENT_GIVER_GUARDIANS, scope=[party]),
        "WithdrawConsent": pb.WithdrawConsentRequest(request_id=known),
        "GetConsent": pb.GetConsentRequest(request_id=known),
        "CheckSharing": pb.CheckSharingRequest(request_id=known, party=party, purpose="expert assignment"),
        "SetRetentionPolicy": pb.RetentionPolicy(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                                                 grace_days_after_recommendations=14, max_days_after_submission=180),
        "QueryAudit": pb.QueryAuditRequest(request_id=known, action="content.read", page_size=10),
    }
    counts = fuzz_service(consent.channel, SERVICE, lambda method: token(keys, method), examples=40, raw_payloads=15,
                          seed_messages=seeds)

    reached = {m for m, c in counts.items() if c.get("OK")}
    assert {"OpenCase", "GetDataKey", "RecordConsent", "GetConsent", "CheckSharing", "QueryAudit",
            "VerifyAudit"} <= reached, counts
    health = health_pb2_grpc.HealthStub(consent.channel).Check(health_pb2.HealthCheckRequest(service=SERVICE.full_name))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert len(client.GetDataKey(pb.GetDataKeyRequest(request_id=known, purpose="after the fuzz"),
                                 metadata=keys.metadata(subject=OWNER)).data_key) == 32
    verified = client.VerifyAudit(pb.VerifyAuditRequest(), metadata=keys.metadata(roles=("admin",), subject="dpo"))
    assert verified.intact and verified.entries_checked > 10
