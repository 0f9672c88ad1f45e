"""Experts' edge over in-process gRPC: every RPC in the access table and every request field with a
rule; the role × RPC matrix; the form of each field (the guard included) before any handler;
bad input that once gave INTERNAL; and a fuzz run over every RPC."""
import base64

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.common.v1 import case_pb2
from ot.experts.v1 import experts_pb2 as pb

from ot_guard.testing import sample
from ot_runtime.access import unlisted_methods
from ot_runtime.auth import ROLES
from ot_runtime.fields import check, unruled_fields
from ot_runtime.testing import field_violations, fuzz_service, status_details
from ot_experts.catalogue import expert_from_entry
from ot_experts.domain import GROUP_KINDS, KINDS, Category, RequestStatus, RequestType, validate_expert
from ot_experts.edge import ACCESS, FIELD_RULES, SERVICE
from ot_experts.grpc_api import fields_from_proto

from experts_testkit import COORDINATOR, REQ1, TENANT, expert, expert_fields

EXPERT_SUBJECT = "expert-barnahus"


def receive(handlers, request_id=REQ1, status=RequestStatus.SUBMITTED):
    with handlers.sessions.begin() as s:
        handlers.on_request_event(s, f"ev-{request_id}-{status}", request_id, RequestType.EXPERT_REINFORCEMENT,
                                  [Category.CHILD_PROTECTION_SPECIAL], status, TENANT)


@pytest.fixture()
def known(handlers):
    """REQ1 is known and Barnahus is assigned to it."""
    receive(handlers)
    handlers.assign(COORDINATOR, REQ1, ["barnahus"], False)
    return REQ1


# A request per RPC that a permitted caller may make with the `known` data.
VALID = {
    "ListExperts": pb.ListExpertsRequest(text="psykiatria"),
    "GetExpert": pb.GetExpertRequest(expert_id="barnahus"),
    "CreateExpert": pb.CreateExpertRequest(fields=expert_fields(expert())),
    "UpdateExpert": pb.UpdateExpertRequest(expert_id="barnahus", availability=pb.AVAILABILITY_LIMITED),
    "RetireExpert": pb.RetireExpertRequest(expert_id="barnahus"),
    "ListAgreements": pb.ListAgreementsRequest(),
    "ListGroups": pb.ListGroupsRequest(),
    "ListProposals": pb.ListProposalsRequest(request_id=REQ1),
    "AssignExperts": pb.AssignExpertsRequest(request_id=REQ1, expert_ids=["sairaalaopetus"]),
    "UnassignExpert": pb.UnassignExpertRequest(request_id=REQ1, expert_id="barnahus", reason="Ei tarvita enää."),
    "ListAssignments": pb.ListAssignmentsRequest(request_id=REQ1),
    "ListMyAssignments": pb.ListMyAssignmentsRequest(),
}


def allowed(method: str) -> frozenset[str]:
    return ACCESS[f"/{SERVICE.full_name}/{method}"]


def token(keys, roles, area=TENANT):
    if roles == ("service",):
        return keys.metadata(roles=roles, area=area)
    return keys.metadata(roles=roles, area=area, subject=EXPERT_SUBJECT)


def call(client, method, request, metadata):
    """(code, ErrorInfo reasons) of one call."""
    try:
        getattr(client, method)(request, metadata=metadata)
        return grpc.StatusCode.OK, set()
    except grpc.RpcError as error:
        return error.code(), {d.reason for d in status_details(error) if isinstance(d, error_details_pb2.ErrorInfo)}


def violation(error, path):
    found = [v for v in field_violations(error) if v.field == path]
    assert found, [v.field for v in field_violations(error)]
    return found[0]


# --- the tables are complete ----------------------------------------------------------------------

def test_every_rpc_has_roles_and_every_request_field_a_rule():
    assert unlisted_methods(SERVICE, ACCESS) == []
    assert unruled_fields(SERVICE, FIELD_RULES) == []
    assert set(VALID) == {m.name for m in SERVICE.methods}  # a new RPC gets a row in the matrix below


def test_the_closed_forms_cover_the_seed_datasets_values(dataset):
    assert {g["kind"] for g in dataset["groups"]} <= set(GROUP_KINDS)
    assert {e["kind"] for e in dataset["experts"]} <= set(KINDS)


def test_the_data_protection_officer_reads_the_catalogue_only_and_a_service_only_an_experts_contact():
    assert {m.name for m in SERVICE.methods if "admin" in allowed(m.name)} == {"ListExperts", "GetExpert"}
    # feedback reads an assigned expert's contact e-mail to notify them; nothing else
    assert {m.name for m in SERVICE.methods if "service" in allowed(m.name)} == {"GetExpert"}


# --- role × RPC ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", sorted(VALID))
def test_each_role_is_refused_exactly_where_the_table_says(client, keys, known, method):
    for role in ROLES:
        code, reasons = call(client, method, VALID[method], token(keys, (role,)))
        refused = code is grpc.StatusCode.PERMISSION_DENIED and "ROLE_NOT_ALLOWED" in reasons
        assert refused == (role not in allowed(method)), (method, role, code, reasons)
        assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (method, role)


def test_another_areas_token_is_refused_in_every_rpc(client, keys, known):
    for method, request in VALID.items():
        code, _ = call(client, method, request, token(keys, tuple(sorted(allowed(method))), area="keski-suomi"))
        assert code is grpc.StatusCode.PERMISSION_DENIED, method


def test_the_valid_requests_succeed_for_a_permitted_role(client, keys, known):
    # So the matrix above really reaches the handlers.
    for method, request in VALID.items():
        role = "expert" if method == "ListMyAssignments" else "coordinator"
        assert call(client, method, request, token(keys, (role,))) == (grpc.StatusCode.OK, set()), method


# --- the form of every field, and the guard -------------------------------------------------------

def test_every_seed_catalogue_entry_passes_create_experts_rules(client, keys, dataset):
    coordinator = token(keys, ("coordinator",))
    for entry in dataset["experts"]:
        e = expert_from_entry(entry, dataset["version"])
        request = pb.CreateExpertRequest(expert_id=e.id, fields=expert_fields(e))
        assert check(request, FIELD_RULES) == [], e.id
        assert validate_expert(fields_from_proto(request.fields, e.id)) == [], e.id
        # The same entry as the area's own expert (its catalogue id and login are taken).
        request.expert_id, request.fields.user_subject = f"oma-{e.id}", f"oma-{e.user_subject}"
        created = client.CreateExpert(request, metadata=coordinator)
        assert (created.contact.name, created.contact.email) == (e.contact.name, e.contact.email)


@pytest.mark.parametrize("path, change, kind", [
    ("fields.competences[1]", lambda f: f.competences.append(sample("identity_code")), "identity_code"),
    ("fields.price_note", lambda f: setattr(f, "price_note", sample("phone")), "phone"),
    ("fields.name_fi", lambda f: setattr(f, "name_fi", sample("name")), "name"),
    ("fields.name_en", lambda f: setattr(f, "name_en", sample("email")), "email"),
    ("fields.organisation", lambda f: setattr(f, "organisation", sample("birth_date")), "birth_date"),
    ("fields.contact.role", lambda f: setattr(f.contact, "role", sample("name")), "name"),
    ("fields.description_fi", lambda f: setattr(f, "description_fi", sample("identity_code")), "identity_code"),
])
def test_catalogue_fields_once_unguarded_are_guarded(client, keys, path, change, kind):
    request = pb.CreateExpertRequest(fields=expert_fields(expert()))
    change(request.fields)
    with pytest.raises(grpc.RpcError) as err:
        client.CreateExpert(request, metadata=token(keys, ("coordinator",)))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    v = violation(err.value, path)
    assert v.reason == kind and sample(kind) not in err.value.details() + v.description


def test_the_contact_persons_name_and_e_mail_are_a_units_contact_data_in_a_closed_form(client, keys):
    coordinator = token(keys, ("coordinator",))
    request = pb.CreateExpertRequest(fields=expert_fields(expert()))
    request.fields.contact.name = "Maija Meikäläinen"  # a person's name is expected here
    request.fields.contact.email = "maija.meikalainen@yksikko.example"
    assert client.CreateExpert(request, metadata=coordinator).contact.name == "Maija Meikäläinen"
    for name, value, reason in (("email", "ei osoite", "bad_form"), ("email", "a@b.fi" + "x" * 200, "too_long"),
                                ("name", "x" * 201, "too_long")):
        bad = pb.CreateExpertRequest()
        bad.CopyFrom(request)
        setattr(bad.fields.contact, name, value)
        with pytest.raises(grpc.RpcError) as err:
            client.CreateExpert(bad, metadata=coordinator)
        assert violation(err.value, f"fields.contact.{name}").reason == reason


@pytest.mark.parametrize("method, request_, path, reason", [
    ("CreateExpert", pb.CreateExpertRequest(expert_id="Barnahus 2", fields=expert_fields(expert())), "expert_id",
     "bad_form"),
    ("GetExpert", pb.GetExpertRequest(expert_id="x" * 81), "expert_id", "too_long"),
    ("AssignExperts", pb.AssignExpertsRequest(request_id="req-1", expert_ids=["barnahus"]), "request_id", "bad_form"),
    ("AssignExperts", pb.AssignExpertsRequest(request_id=REQ1, expert_ids=[f"e{i}" for i in range(21)]),
     "expert_ids", "too_many"),
    ("ListGroups", pb.ListGroupsRequest(area="lappi"), "area", "not_allowed_value"),
    ("ListGroups", pb.ListGroupsRequest(kind="kerho"), "kind", "not_allowed_value"),
    ("CreateExpert", pb.CreateExpertRequest(fields=pb.ExpertFields(languages=["FI"])), "fields.languages[0]",
     "bad_form"),
    ("CreateExpert", pb.CreateExpertRequest(fields=pb.ExpertFields(kind="robot")), "fields.kind", "not_allowed_value"),
    ("CreateExpert", pb.CreateExpertRequest(fields=pb.ExpertFields(user_subject="expert barnahus")),
     "fields.user_subject", "bad_form"),
    ("UnassignExpert", pb.UnassignExpertRequest(request_id=REQ1, expert_id="barnahus", reason="x" * 501), "reason",
     "too_long"),
])
def test_ids_and_choices_are_closed_forms(client, keys, method, request_, path, reason):
    role = "expert" if method == "ListMyAssignments" else "coordinator"
    with pytest.raises(grpc.RpcError) as err:
        getattr(client, method)(request_, metadata=token(keys, (role,)))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert violation(err.value, path).reason == reason


# --- bad input that gave INTERNAL (or was stored) before -------------------------------------------

def test_a_garbage_page_token_is_invalid_argument_naming_it(client, keys):
    for page_token in ("not-ours", base64.urlsafe_b64encode(b"\xff\xfe").decode(),
                       base64.urlsafe_b64encode(b'{"o": -1}').decode(), base64.urlsafe_b64encode(b"[1]").decode(),
                       base64.urlsafe_b64encode(b'{"o": 1e999}').decode(),
                       base64.urlsafe_b64encode(b'{"o": "5"}').decode(), "a" * 201, "with space", "nul\x00"):
        with pytest.raises(grpc.RpcError) as err:
            client.ListExperts(pb.ListExpertsRequest(page_token=page_token), metadata=token(keys, ("professional",)))
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT, page_token
        assert [v.field for v in field_violations(err.value)] == ["page_token"], page_token


def test_an_out_of_range_page_size_is_invalid_argument(client, keys):
    for page_size in (-1, 101, 2**31 - 1, -2**31):
        with pytest.raises(grpc.RpcError) as err:
            client.ListExperts(pb.ListExpertsRequest(page_size=page_size), metadata=token(keys, ("professional",)))
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert violation(err.value, "page_size").reason == "out_of_range", page_size


def test_over_long_search_text_is_refused_before_the_search_and_a_huge_one_by_grpc(client, keys):
    with pytest.raises(grpc.RpcError) as err:
        client.ListExperts(pb.ListExpertsRequest(text="psykiatria " * 20), metadata=token(keys, ("professional",)))
    assert violation(err.value, "text").reason == "too_long"
    with pytest.raises(grpc.RpcError) as err:
        client.ListExperts(pb.ListExpertsRequest(text="Matti, " * 80000), metadata=token(keys, ("professional",)))
    assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize("method, request_, path", [
    ("CreateExpert", pb.CreateExpertRequest(fields=expert_fields(expert(name_fi="Testi\x00yksikkö"))),
     "fields.name_fi"),
    ("CreateExpert", pb.CreateExpertRequest(fields=expert_fields(expert(competences=("a\x00b",)))),
     "fields.competences[0]"),
    ("UpdateExpert", pb.UpdateExpertRequest(expert_id="barnahus", local_note="tauko\x00"), "local_note"),
    ("UnassignExpert", pb.UnassignExpertRequest(request_id=REQ1, expert_id="barnahus", reason="\x00"), "reason"),
    ("ListExperts", pb.ListExpertsRequest(text="psykiatria\x00"), "text"),
])
def test_nul_characters_are_refused_not_stored(client, keys, known, method, request_, path):
    with pytest.raises(grpc.RpcError) as err:
        getattr(client, method)(request_, metadata=token(keys, ("coordinator",)))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert violation(err.value, path).reason == "control_character"


def test_an_unknown_enum_number_is_refused_not_ignored(client, keys):
    request = pb.CreateExpertRequest(fields=expert_fields(expert()))
    request.fields.categories.append(999)
    with pytest.raises(grpc.RpcError) as err:
        client.CreateExpert(request, metadata=token(keys, ("coordinator",)))
    assert violation(err.value, "fields.categories[1]").reason == "unknown_value"


def test_undecodable_bytes_are_invalid_argument_in_every_rpc(channel, keys):
    for method in SERVICE.methods:
        stub = channel.unary_unary(f"/{SERVICE.full_name}/{method.name}")
        metadata = token(keys, tuple(sorted(allowed(method.name))))
        with pytest.raises(grpc.RpcError) as err:
            stub(b"\xff\xff\xff", metadata=metadata)  # not protobuf: a truncated tag
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT, method.name
        assert [v.reason for v in field_violations(err.value)] == ["undecodable"]
        # Invalid UTF-8 in field 1 or inside field 2: refused, or an unknown field ignored; never INTERNAL.
        for payload in (b"\x0a\x02\xc3\x28", b"\x12\x05\x0a\x03\xed\xa0\x80"):
            code, _ = call_raw(stub, payload, metadata)
            assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), method.name


def call_raw(stub, payload, metadata):
    try:
        stub(payload, metadata=metadata)
        return grpc.StatusCode.OK, None
    except grpc.RpcError as error:
        return error.code(), error


def test_invalid_utf8_in_an_id_is_named_undecodable(channel, keys):
    stub = channel.unary_unary(f"/{SERVICE.full_name}/GetExpert")
    with pytest.raises(grpc.RpcError) as err:
        stub(b"\x0a\x02\xc3\x28", metadata=token(keys, ("professional",)))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.reason for v in field_violations(err.value)] == ["undecodable"]


# --- fuzz ---------------------------------------------------------------------------------------

def test_fuzzing_every_rpc_finds_no_internal_error_and_leaves_the_service_healthy(channel, client, keys, known):
    def metadata_for(method):
        return token(keys, tuple(sorted(allowed(method))))

    seeds = dict(VALID)
    seeds["CreateExpert"] = pb.CreateExpertRequest(expert_id="fuzz-oma", fields=expert_fields(expert()))
    counts = fuzz_service(channel, SERVICE, metadata_for, examples=40, raw_payloads=15, seed_messages=seeds)

    reached = {m for m, c in counts.items() if c.get("OK")}
    assert {"ListExperts", "GetExpert", "CreateExpert", "UpdateExpert", "ListProposals", "AssignExperts",
            "ListAssignments", "ListMyAssignments"} <= reached, counts
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE.full_name))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    proposals = client.ListProposals(pb.ListProposalsRequest(request_id=known), metadata=token(keys, ("coordinator",)))
    assert proposals.request_id == known and proposals.request_status == case_pb2.REQUEST_STATUS_SUBMITTED
