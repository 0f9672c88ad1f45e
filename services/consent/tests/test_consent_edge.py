"""Consent's edge over in-process gRPC: every RPC in the access table and every request field with a
rule; the role × RPC matrix and the object-level rules with real data; party ids, purposes and the
audit filters in closed forms before anything reaches the append-only trail; bad input that once
gave INTERNAL; and a fuzz run over every RPC that leaves the service healthy and its trail intact."""
import re

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as pb

from ot_guard.testing import load_corpus, sample
from ot_runtime.access import ANYONE, unlisted_methods
from ot_runtime.auth import ROLES
from ot_runtime.fields import unruled_fields
from ot_runtime.testing import field_violations, fuzz_service, status_details
from ot_consent.audit import ACTIONS
from ot_consent.domain import ConsentForm, ConsentGiver, Party, PartyKind, RequestType
from ot_consent.edge import ACCESS, FIELD_RULES, SERVICE
from ot_consent.store import audit_log, cases, consent_versions

from consent_testkit import TENANT, person

OWNER = "prof-1"
REQ = "5f0c7a0e-6d0b-4a47-9a43-2f0d6f1b3c11"
OTHER_REQ = "0b9e1d4c-3f7a-4c2e-8d51-7a6b5c4d3e2f"
GROUP = "haastavat-erot-keski-suomi"  # catalogue slugs (services/experts/.../catalogue.json)
EXPERT = "kys-vaativa-lastenpsykiatria"


def group_party(id_=GROUP):
    return pb.Party(kind=pb.PARTY_KIND_GROUP, id=id_)


def expert_party(id_=EXPERT):
    return pb.Party(kind=pb.PARTY_KIND_EXPERT_ORGANISATION, id=id_)


def open_request(request_id=REQ, scope=(group_party(),)):
    return pb.OpenCaseRequest(request_id=request_id, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                              form=pb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM, given_by=pb.CONSENT_GIVER_GUARDIANS,
                              scope=list(scope))


# A request per RPC that a permitted caller may make with the `known` data.
VALID = {
    "OpenCase": open_request(),
    "GetDataKey": pb.GetDataKeyRequest(request_id=REQ, purpose="triage"),
    "RecordConsent": pb.RecordConsentRequest(request_id=REQ, form=pb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM,
                                             given_by=pb.CONSENT_GIVER_GUARDIANS,
                                             scope=[group_party(), expert_party()]),
    "WithdrawConsent": pb.WithdrawConsentRequest(request_id=REQ),
    "GetConsent": pb.GetConsentRequest(request_id=REQ),
    "CheckSharing": pb.CheckSharingRequest(request_id=REQ, party=expert_party(), purpose="expert assignment"),
    "SetRetentionPolicy": pb.RetentionPolicy(type=case_pb2.REQUEST_TYPE_OT_TUKI, grace_days_after_recommendations=30,
                                             max_days_after_submission=365),
    "ListRetentionPolicies": pb.ListRetentionPoliciesRequest(),
    "RunPurge": pb.RunPurgeRequest(),
    "QueryAudit": pb.QueryAuditRequest(request_id=REQ, action="content.read"),
    "VerifyAudit": pb.VerifyAuditRequest(),
    "GetPrivacyNotice": pb.GetPrivacyNoticeRequest(language="en"),
}


@pytest.fixture()
def known(handlers):
    """REQ is opened by OWNER, with written consent covering the area's challenging-divorces group."""
    handlers.open_case(person(OWNER), REQ, RequestType.GROUP_CONSULTATION, ConsentForm.WRITTEN_ORGANISATION_FORM,
                       ConsentGiver.GUARDIANS, False, [Party(PartyKind.GROUP, GROUP)])
    return REQ


def allowed(method: str) -> frozenset[str]:
    return ACCESS[f"/{SERVICE.full_name}/{method}"]


def token(keys, roles, subject=OWNER, area=TENANT):
    if tuple(roles) == ("service",):
        return keys.metadata(roles=("service",), area=area, subject="ot-experts")
    return keys.metadata(roles=tuple(roles), area=area, subject=subject)


def call(client, method, request, metadata):
    """(code, ErrorInfo reasons) of one call."""
    try:
        getattr(client, method)(request, metadata=metadata)
        return grpc.StatusCode.OK, set()
    except grpc.RpcError as error:
        return error.code(), {d.reason for d in status_details(error) if isinstance(d, error_details_pb2.ErrorInfo)}


def refusal(client, method, request, metadata, path):
    """The field violation for `path` of a call that must be INVALID_ARGUMENT."""
    with pytest.raises(grpc.RpcError) as err:
        getattr(client, method)(request, metadata=metadata)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    found = [v for v in field_violations(err.value) if v.field == path]
    assert found, [v.field for v in field_violations(err.value)]
    return found[0], err.value


def trail(engine) -> list:
    with engine.connect() as c:
        return c.execute(sa.select(audit_log.c.action, audit_log.c.detail).order_by(audit_log.c.sequence)).all()


def slug_shaped_identity_code() -> str:
    """An identity code of the guard's corpus written the way a slug is (lower case, a dash)."""
    for entry in load_corpus():
        for finding in entry["findings"]:
            value = entry["text"][finding["start"]:finding["end"]].lower()
            if finding["kind"] == "identity_code" and re.fullmatch(r"[0-9]{6}-[0-9]{3}[0-9a-z]", value):
                return value
    raise LookupError("no identity code with a dash in the corpus")


# --- the tables are complete ----------------------------------------------------------------------

def test_every_rpc_has_roles_and_every_request_field_a_rule():
    assert unlisted_methods(SERVICE, ACCESS) == []
    assert unruled_fields(SERVICE, FIELD_RULES) == []
    assert set(VALID) == {m.name for m in SERVICE.methods}  # a new RPC gets a row in the matrix below


def test_the_data_protection_officer_gets_the_trail_and_the_consent_records_but_never_a_data_key():
    assert {m.name for m in SERVICE.methods if "admin" in allowed(m.name)} == {
        "QueryAudit", "VerifyAudit", "GetConsent", "ListRetentionPolicies"}
    assert {m.name for m in SERVICE.methods if "service" in allowed(m.name)} == {"CheckSharing"}
    assert allowed("GetDataKey") == {"professional", "coordinator", "secretary", "expert", "group-member"}
    # Open to anyone without sign-in: the privacy notice alone.
    assert {m.name for m in SERVICE.methods if allowed(m.name) == {ANYONE}} == {"GetPrivacyNotice"}


# --- role × RPC ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", sorted(VALID))
def test_each_role_is_refused_exactly_where_the_table_says(client, keys, known, method):
    for role in ROLES:
        code, reasons = call(client, method, VALID[method], token(keys, (role,)))
        refused = code is grpc.StatusCode.PERMISSION_DENIED and "ROLE_NOT_ALLOWED" in reasons
        open_to_anyone = allowed(method) == {ANYONE}
        assert refused == (role not in allowed(method) and not open_to_anyone), (method, role, code, reasons)
        assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (method, role)


def test_another_areas_token_is_refused_in_every_rpc(client, keys, known):
    for method, request in VALID.items():
        if allowed(method) == {ANYONE}:  # public: the token is not read (this area's notice, to anyone)
            assert call(client, method, request, token(keys, ("professional",), area="pohjois-savo"))[0] is \
                grpc.StatusCode.OK
            continue
        for roles in ((r,) for r in sorted(allowed(method))):
            code, _ = call(client, method, request, token(keys, roles, area="pohjois-savo"))
            assert code is grpc.StatusCode.PERMISSION_DENIED, (method, roles)


def test_the_valid_requests_succeed_for_a_permitted_role(client, keys, known):
    # So the matrix above really reaches the handlers.
    for method, request in VALID.items():
        role = sorted(allowed(method))[0]
        assert call(client, method, request, token(keys, (role,))) == (grpc.StatusCode.OK, set()), method


# --- object-level rules: which case a caller may touch -----------------------------------------------

@pytest.mark.parametrize("method, role, subject, outcome", [
    # Reading content: the owner and the coordinators; not another professional, nor a secretary,
    # group member or expert with no booking or assignment here (every cell: test_content_reads.py).
    ("GetDataKey", "professional", OWNER, "OK"),
    ("GetDataKey", "professional", "prof-2", "NOT_OWNER"),
    ("GetDataKey", "coordinator", "coord-1", "OK"),
    ("GetDataKey", "secretary", "secr-1", "NOT_BOOKED_GROUP"),
    ("GetDataKey", "group-member", "member-1", "NOT_BOOKED_GROUP"),
    ("GetDataKey", "expert", f"expert-{EXPERT}", "NOT_ASSIGNED"),
    # The consent is the owner's to record or withdraw.
    ("RecordConsent", "professional", OWNER, "OK"),
    ("RecordConsent", "professional", "prof-2", "NOT_OWNER"),
    ("WithdrawConsent", "professional", OWNER, "OK"),
    ("WithdrawConsent", "professional", "prof-2", "NOT_OWNER"),
    # Its history: the owner, the coordinator, the data-protection officer.
    ("GetConsent", "professional", OWNER, "OK"),
    ("GetConsent", "professional", "prof-2", "NOT_OWNER"),
    ("GetConsent", "coordinator", "coord-1", "OK"),
    ("GetConsent", "admin", "dpo-1", "OK"),
    # A case id once opened belongs to its professional: another one cannot open it (or get its key).
    ("OpenCase", "professional", OWNER, "OK"),
    ("OpenCase", "professional", "prof-2", "NOT_OWNER"),
    # The sharing question is about the area's cases, whoever opened them.
    ("CheckSharing", "coordinator", "coord-1", "OK"),
    ("CheckSharing", "secretary", "secr-1", "OK"),
    ("CheckSharing", "service", "ot-experts", "OK"),
])
def test_object_level_rules(client, keys, known, method, role, subject, outcome):
    code, reasons = call(client, method, VALID[method], token(keys, (role,), subject=subject))
    if outcome == "OK":
        assert code is grpc.StatusCode.OK, (code, reasons)
    else:
        assert (code, reasons) == (grpc.StatusCode.PERMISSION_DENIED, {outcome})


def test_the_owner_gets_the_same_key_as_the_coordinator_and_each_read_is_audited(client, keys, known, engine):
    mine = client.GetDataKey(pb.GetDataKeyRequest(request_id=REQ, purpose="view"), metadata=token(keys, ("professional",)))
    theirs = client.GetDataKey(pb.GetDataKeyRequest(request_id=REQ, purpose="triage"),
                               metadata=token(keys, ("coordinator",), subject="coord-1"))
    assert mine.data_key == theirs.data_key and len(mine.data_key) == 32
    assert [d for a, d in trail(engine) if a == "content.read"] == ["purpose=view; as=owner",
                                                                     "purpose=triage; as=coordinator"]


# --- what reaches the append-only trail: party ids and purposes ---------------------------------------

def party_id_calls(bad: str):
    """(method, request, role, violation path) for every place a party id can be given."""
    return [
        ("OpenCase", open_request(OTHER_REQ, scope=[group_party(bad)]), "professional", "scope[0].id"),
        ("RecordConsent", pb.RecordConsentRequest(request_id=REQ, form=pb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM,
                                                  given_by=pb.CONSENT_GIVER_GUARDIANS,
                                                  scope=[group_party(), expert_party(bad)]),
         "professional", "scope[1].id"),
        ("CheckSharing", pb.CheckSharingRequest(request_id=REQ, party=expert_party(bad), purpose="assignment"),
         "coordinator", "party.id"),
    ]


@pytest.mark.parametrize("bad, reason", [
    (sample("name"), "bad_form"),              # a sentence with a name: not an id at all
    (sample("identity_code"), "bad_form"),
    ("Patrik-Mononen", "bad_form"),            # capitals: not a catalogue slug
    (slug_shaped_identity_code(), "identity_code"),  # slug-shaped: the guard finds it
])
def test_a_name_or_identity_code_as_a_party_id_is_refused_and_nothing_reaches_the_trail(client, keys, known, engine,
                                                                                      bad, reason):
    before = trail(engine)
    with engine.connect() as c:
        versions_before = c.execute(sa.select(sa.func.count()).select_from(consent_versions)).scalar()
    for method, request, role, path in party_id_calls(bad):
        violation, error = refusal(client, method, request, token(keys, (role,)), path)
        assert violation.reason == reason, (method, violation)
        assert bad not in error.details() + violation.description  # the value is never echoed
    assert trail(engine) == before
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(consent_versions)).scalar() == versions_before
        assert c.execute(sa.select(cases.c.request_id)).scalars().all() == [REQ]  # OTHER_REQ never opened


def test_the_catalogues_ids_are_valid_party_ids(client, keys, known):
    import json
    from pathlib import Path
    catalogue = json.loads((Path(__file__).resolve().parents[2] / "experts" / "src" / "ot_experts" / "data" /
                            "catalogue.json").read_text())
    scope = [group_party(g["id"]) for g in catalogue["groups"]] + [expert_party(e["id"]) for e in catalogue["experts"]]
    recorded = client.RecordConsent(pb.RecordConsentRequest(request_id=REQ, form=pb.CONSENT_FORM_NOT_NEEDED,
                                                            scope=scope), metadata=token(keys, ("professional",)))
    assert len(recorded.scope) == len(scope) == 18


@pytest.mark.parametrize("purpose, reason", [
    ("x" * 201, "too_long"),         # was cut to 200 characters and written
    ("triage\x00", "control_character"),  # PostgreSQL refuses NUL: was INTERNAL there
    ("triage\nnote", "control_character"),  # one line in the trail
    (sample("name"), "name"),
    (sample("identity_code"), "identity_code"),
])
def test_a_purpose_is_a_guarded_line_of_at_most_200_characters_and_a_refused_one_is_not_written(
        client, keys, known, engine, purpose, reason):
    before = trail(engine)
    for method, request, role in (
            ("GetDataKey", pb.GetDataKeyRequest(request_id=REQ, purpose=purpose), "coordinator"),
            ("CheckSharing", pb.CheckSharingRequest(request_id=REQ, party=group_party(), purpose=purpose), "secretary")):
        violation, _ = refusal(client, method, request, token(keys, (role,), subject="staff-1"), "purpose")
        assert violation.reason == reason, method
    assert trail(engine) == before


def test_a_party_without_a_kind_is_refused_not_taken_for_the_ot_team(client, keys, known, engine):
    # The consent covers the group only: an unnamed kind used to pass as the OT team, allowed everything.
    before = trail(engine)
    unnamed = pb.Party(id=EXPERT)
    violation, _ = refusal(client, "CheckSharing", pb.CheckSharingRequest(request_id=REQ, party=unnamed, purpose="x"),
                           token(keys, ("coordinator",)), "party.kind")
    assert violation.reason == "required"
    violation, _ = refusal(client, "RecordConsent", pb.RecordConsentRequest(
        request_id=REQ, form=pb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM, given_by=pb.CONSENT_GIVER_GUARDIANS,
        scope=[unnamed]), token(keys, ("professional",)), "scope[0].kind")
    assert violation.reason == "required"
    assert trail(engine) == before


# --- the audit query's filters and paging ---------------------------------------------------------------

def test_every_action_the_trail_writes_is_one_the_filter_accepts(client, keys, known, engine):
    client.GetDataKey(VALID["GetDataKey"], metadata=token(keys, ("coordinator",)))
    client.CheckSharing(VALID["CheckSharing"], metadata=token(keys, ("coordinator",)))
    client.WithdrawConsent(VALID["WithdrawConsent"], metadata=token(keys, ("professional",)))
    written = {a for a, _ in trail(engine)}
    assert written <= ACTIONS and len(written) >= 5
    for action in sorted(written):
        got = client.QueryAudit(pb.QueryAuditRequest(action=action), metadata=token(keys, ("admin",), subject="dpo-1"))
        assert got.entries and {e.action for e in got.entries} == {action}


@pytest.mark.parametrize("request_, path, reason", [
    (pb.QueryAuditRequest(action="content.read\x00"), "action", "control_character"),
    (pb.QueryAuditRequest(action="x" * 5000), "action", "too_long"),
    (pb.QueryAuditRequest(action="content.*"), "action", "not_allowed_value"),
    (pb.QueryAuditRequest(actor="prof 1"), "actor", "bad_form"),
    (pb.QueryAuditRequest(actor="p" * 129), "actor", "too_long"),
    (pb.QueryAuditRequest(actor="prof-1\x00"), "actor", "control_character"),
    (pb.QueryAuditRequest(request_id=REQ + "0"), "request_id", "too_long"),
    (pb.QueryAuditRequest(request_id="r1' OR 1=1"), "request_id", "bad_form"),
    (pb.QueryAuditRequest(from_time=Timestamp(seconds=2**40)), "from_time", "out_of_range"),  # was INTERNAL
    (pb.QueryAuditRequest(to_time=Timestamp(seconds=-2**40)), "to_time", "out_of_range"),
    (pb.QueryAuditRequest(from_time=Timestamp(seconds=0, nanos=-1)), "from_time", "out_of_range"),
    (pb.QueryAuditRequest(page_size=-1), "page_size", "out_of_range"),
    (pb.QueryAuditRequest(page_size=1001), "page_size", "out_of_range"),
    (pb.QueryAuditRequest(page_size=-2**31), "page_size", "out_of_range"),
    (pb.QueryAuditRequest(after_sequence=-1), "after_sequence", "out_of_range"),
    (pb.QueryAuditRequest(after_sequence=-2**63), "after_sequence", "out_of_range"),
])
def test_bad_audit_queries_are_invalid_argument_naming_the_field(client, keys, known, request_, path, reason):
    violation, _ = refusal(client, "QueryAudit", request_, token(keys, ("coordinator",)), path)
    assert violation.reason == reason


def test_the_audit_query_pages_to_the_end_with_any_large_sequence(client, keys, known):
    coordinator = token(keys, ("admin",), subject="dpo-1")
    first = client.QueryAudit(pb.QueryAuditRequest(page_size=1), metadata=coordinator)
    assert len(first.entries) == 1 and first.next_after_sequence == first.entries[0].sequence
    rest = client.QueryAudit(pb.QueryAuditRequest(after_sequence=first.next_after_sequence), metadata=coordinator)
    assert rest.next_after_sequence == 0 and rest.entries
    assert not client.QueryAudit(pb.QueryAuditRequest(after_sequence=2**63 - 1), metadata=coordinator).entries


# --- other bad input that gave INTERNAL (or was stored) before -------------------------------------------

@pytest.mark.parametrize("seconds, nanos", [(2**40, 0), (-2**40, 0), (7258118400, 0), (0, 10**9), (-1, 0)])
def test_an_out_of_range_given_at_is_invalid_argument(client, keys, known, seconds, nanos):
    request = pb.RecordConsentRequest()
    request.CopyFrom(VALID["RecordConsent"])
    request.given_at.CopyFrom(Timestamp(seconds=seconds, nanos=nanos))
    violation, _ = refusal(client, "RecordConsent", request, token(keys, ("professional",)), "given_at")
    assert violation.reason == "out_of_range"


def test_a_given_at_within_the_range_is_kept(client, keys, known):
    request = pb.RecordConsentRequest()
    request.CopyFrom(VALID["RecordConsent"])
    request.given_at.CopyFrom(Timestamp(seconds=7258118399))  # 2199-12-31T23:59:59Z
    assert client.RecordConsent(request, metadata=token(keys, ("professional",))).given_at.seconds == 7258118399


@pytest.mark.parametrize("method, request_, path, reason", [
    ("OpenCase", open_request("r-1"), "request_id", "bad_form"),
    ("OpenCase", open_request(REQ + "x" * 10), "request_id", "too_long"),  # String(36): was INTERNAL on PostgreSQL
    ("OpenCase", open_request(REQ.upper()), "request_id", "bad_form"),
    ("OpenCase", open_request(OTHER_REQ, scope=[group_party("x" * 81)]), "scope[0].id", "too_long"),
    ("OpenCase", open_request(OTHER_REQ, scope=[group_party("ryhmä\x00")]), "scope[0].id", "control_character"),
    ("GetDataKey", pb.GetDataKeyRequest(request_id=REQ[:-1] + "\x00"), "request_id", "control_character"),
    ("GetConsent", pb.GetConsentRequest(request_id="a" * 70000), "request_id", "too_long"),
    ("WithdrawConsent", pb.WithdrawConsentRequest(request_id=" "), "request_id", "bad_form"),
])
def test_ids_are_closed_forms(client, keys, known, method, request_, path, reason):
    violation, _ = refusal(client, method, request_, token(keys, sorted(allowed(method))[:1]), path)
    assert violation.reason == reason


def test_too_many_parties_and_unknown_enum_numbers_are_refused(client, keys, known):
    violation, _ = refusal(client, "RecordConsent", pb.RecordConsentRequest(
        request_id=REQ, form=pb.CONSENT_FORM_NOT_NEEDED, scope=[group_party()] * 101),
        token(keys, ("professional",)), "scope")
    assert violation.reason == "too_many"
    violation, _ = refusal(client, "OpenCase", pb.OpenCaseRequest(request_id=OTHER_REQ, type=99, form=1),
                           token(keys, ("professional",)), "type")
    assert violation.reason == "unknown_value"


def test_a_huge_request_is_refused_by_grpc_before_anything_reads_it(client, keys):
    with pytest.raises(grpc.RpcError) as err:
        client.GetDataKey(pb.GetDataKeyRequest(request_id=REQ, purpose="Matti, " * 80000),
                          metadata=token(keys, ("coordinator",)))
    assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_undecodable_bytes_are_invalid_argument_in_every_rpc(channel, keys, known):
    for method in SERVICE.methods:
        stub = channel.unary_unary(f"/{SERVICE.full_name}/{method.name}")
        metadata = token(keys, sorted(allowed(method.name))[:1])
        with pytest.raises(grpc.RpcError) as err:
            stub(b"\xff\xff\xff", metadata=metadata)  # not protobuf: a truncated tag
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT, method.name
        assert [v.reason for v in field_violations(err.value)] == ["undecodable"]
        for payload in (b"\x0a\x02\xc3\x28", b"\x12\x05\x0a\x03\xed\xa0\x80"):  # invalid UTF-8 in field 1 / inside 2
            try:
                stub(payload, metadata=metadata)
            except grpc.RpcError as error:
                assert error.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), method.name


# --- fuzz ---------------------------------------------------------------------------------------------

def fuzz_seeds() -> dict:
    seeds = dict(VALID)
    seeds["OpenCase"] = open_request("9d7c4f2a-1b3e-4d5f-8a6b-0c1d2e3f4a5b", scope=[group_party(), expert_party()])
    return seeds


def test_fuzzing_every_rpc_finds_no_internal_error_and_leaves_the_service_and_its_trail_intact(
        channel, client, keys, known):
    def metadata_for(method):
        return token(keys, sorted(allowed(method)))

    counts = fuzz_service(channel, SERVICE, metadata_for, examples=40, raw_payloads=15, seed_messages=fuzz_seeds())

    reached = {m for m, c in counts.items() if c.get("OK")}
    assert {"OpenCase", "GetDataKey", "RecordConsent", "GetConsent", "CheckSharing", "QueryAudit",
            "VerifyAudit"} <= reached, counts
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE.full_name))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    key = client.GetDataKey(pb.GetDataKeyRequest(request_id=REQ, purpose="after the fuzz"),
                            metadata=token(keys, ("professional",))).data_key
    assert len(key) == 32
    verified = client.VerifyAudit(pb.VerifyAuditRequest(), metadata=token(keys, ("admin",), subject="dpo-1"))
    assert verified.intact and verified.entries_checked > 10
