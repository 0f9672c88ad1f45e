"""The edge every service shares: access table, field rules, undecodable input, database errors,
streaming handlers. A small server on loopback with the real interceptor chain."""
import io
import json
import logging

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from ot.intake.v1 import intake_pb2
from sqlalchemy.exc import OperationalError

from ot_guard.testing import sample
from ot_runtime import fields as f
from ot_runtime.access import ANYONE, access_table, unlisted_methods
from ot_runtime.auth import TokenVerifier
from ot_runtime.grpc_server import MAX_REQUEST_BYTES, GrpcServer
from ot_runtime.logging import configure_logging
from ot_runtime.testing import TestKeys, field_violations, status_details

SERVICE = intake_pb2.DESCRIPTOR.services_by_name["IntakeService"]
SUBMIT = "/ot.intake.v1.IntakeService/SubmitRequest"
LIST = "/ot.intake.v1.IntakeService/ListRequests"
RULES = f.field_rules({
    intake_pb2.SubmitRequestRequest: {"question": f.text(100), "idempotency_key": f.token(guarded=True)},
    intake_pb2.Professional: {"name": f.contact_name(), "email": f.email(), "phone": f.phone(),
                              "profession": f.line(50), "organisation": f.line(50),
                              "wellbeing_area": f.area()},
    intake_pb2.ClientFacts: {"family_situation": f.text(100), "earlier_services": f.line(50, max_items=3)},
})


class Recorder:
    def __init__(self):
        self.requests = []
        self.fail_with = None

    def handle(self, request, context):
        if self.fail_with:
            raise self.fail_with
        self.requests.append(request)
        return intake_pb2.Request(request_id="ok")


@pytest.fixture()
def edge(tmp_path):
    keys = TestKeys(tmp_path)
    recorder = Recorder()

    def register(server):
        handlers = {
            "SubmitRequest": grpc.unary_unary_rpc_method_handler(
                recorder.handle, request_deserializer=intake_pb2.SubmitRequestRequest.FromString,
                response_serializer=intake_pb2.Request.SerializeToString),
            "ListRequests": grpc.unary_unary_rpc_method_handler(
                lambda r, c: intake_pb2.ListRequestsResponse(),
                request_deserializer=intake_pb2.ListRequestsRequest.FromString,
                response_serializer=intake_pb2.ListRequestsResponse.SerializeToString),
            "GetRequest": grpc.unary_unary_rpc_method_handler(
                lambda r, c: intake_pb2.Request(),
                request_deserializer=intake_pb2.GetRequestRequest.FromString,
                response_serializer=intake_pb2.Request.SerializeToString),
        }
        server.add_generic_rpc_handlers([
            grpc.method_handlers_generic_handler(SERVICE.full_name, handlers),
            grpc.method_handlers_generic_handler("test.Streams", {
                "Echo": grpc.stream_stream_rpc_method_handler(lambda it, c: (x for x in it))})])
        return [SERVICE.full_name]

    access = access_table(SERVICE, {"SubmitRequest": ("professional",), "ListRequests": ("coordinator",)})
    verifier = TokenVerifier(issuer="ot-dev", audience="ot-platform", tenant="pohjois-savo",
                             public_key_pem=keys.public_path.read_text())
    server = GrpcServer(host="127.0.0.1", port=0, verifier=verifier, register=register, access=access,
                        field_rules=RULES)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield keys, recorder, channel
    channel.close()
    server.stop(0)


def call(channel, method, payload: bytes, metadata):
    return channel.unary_unary(method)(payload, metadata=metadata, timeout=10)


def submit(channel, keys, request, role="professional"):
    return call(channel, SUBMIT, request.SerializeToString(), keys.metadata(roles=(role,)))


def refused(callable_, *args):
    with pytest.raises(grpc.RpcError) as caught:
        callable_(*args)
    return caught.value


def good():
    return intake_pb2.SubmitRequestRequest(
        question="Miten edetä?", professional=intake_pb2.Professional(
            name="Testi Ammattilainen", email="testi@example.fi", phone="+358 40 000 0000",
            profession="sosiaalityöntekijä", wellbeing_area="pohjois-savo"))


def test_a_good_request_reaches_the_handler(edge):
    keys, recorder, channel = edge
    submit(channel, keys, good())
    assert recorder.requests[0].question == "Miten edetä?"


def test_bytes_that_are_not_protobuf_are_invalid_argument_not_internal(edge):
    keys, recorder, channel = edge
    error = refused(call, channel, SUBMIT, b"\xff\xff\xff\xff not protobuf", keys.metadata())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.reason for v in field_violations(error)] == ["undecodable"]
    assert not recorder.requests


def test_invalid_utf8_in_a_string_field_is_invalid_argument(edge):
    keys, recorder, channel = edge
    # field 5 (question), wire type 2, length 2, bytes that are not UTF-8
    error = refused(call, channel, SUBMIT, b"\x2a\x02\xc3\x28", keys.metadata())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not recorder.requests


def test_an_over_long_field_is_refused_before_the_guard_reads_it(edge, monkeypatch):
    keys, recorder, channel = edge
    scanned = []
    monkeypatch.setattr(f, "guard", lambda fields: scanned.append(fields) or [])
    request = good()
    request.question = "a" * 101
    request.client.family_situation = sample("name")  # would be refused by the guard
    error = refused(submit, channel, keys, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.reason) for v in field_violations(error)] == [("question", "too_long")]
    assert scanned == [] and not recorder.requests


@pytest.mark.parametrize("path,value,reason", [
    ("question", "kysymys\x00", "control_character"),
    ("professional.profession", "rivi\nkaksi", "control_character"),
    ("professional.email", "ei osoite", "bad_form"),
    ("professional.wellbeing_area", "lappi", "not_allowed_value"),
    ("idempotency_key", "avain jossa välejä", "bad_form"),
])
def test_closed_forms_and_control_characters(edge, path, value, reason):
    keys, recorder, channel = edge
    request = good()
    target = request
    *parents, name = path.split(".")
    for parent in parents:
        target = getattr(target, parent)
    setattr(target, name, value)
    error = refused(submit, channel, keys, request)
    violations = field_violations(error)
    assert [(v.field, v.reason) for v in violations] == [(path, reason)]
    assert value not in error.details() and all(value not in v.description for v in violations)


def test_too_many_items_in_a_repeated_field(edge):
    keys, recorder, channel = edge
    request = good()
    request.client.earlier_services.extend(["perhetyö"] * 4)
    error = refused(submit, channel, keys, request)
    assert [(v.field, v.reason) for v in field_violations(error)] == [("client.earlier_services", "too_many")]


def test_guarded_fields_are_scanned_and_the_finding_named_by_path(edge):
    keys, recorder, channel = edge
    request = good()
    request.client.earlier_services.extend(["perhetyö", sample("identity_code")[:50]])
    request.professional.organisation = sample("phone")[:50]
    error = refused(submit, channel, keys, request)
    fields = {v.field: v.reason for v in field_violations(error)}
    assert fields.get("client.earlier_services[1]") == "identity_code"
    assert fields.get("professional.organisation") == "phone"


def test_the_professionals_own_contact_fields_are_not_guarded(edge):
    keys, recorder, channel = edge
    request = good()
    request.professional.name = "Maija Virtanen"
    submit(channel, keys, request)
    assert recorder.requests


def test_an_unknown_enum_value_and_an_out_of_range_time_are_refused(edge):
    keys, recorder, channel = edge
    request = good()
    request.type = 999
    error = refused(submit, channel, keys, request)
    assert [(v.field, v.reason) for v in field_violations(error)] == [("type", "unknown_value")]
    listing = intake_pb2.ListRequestsRequest(submitted_from=Timestamp(seconds=-62135596801))
    error = refused(call, channel, LIST, listing.SerializeToString(), keys.metadata(roles=("coordinator",)))
    assert [(v.field, v.reason) for v in field_violations(error)] == [("submitted_from", "out_of_range")]


def test_a_request_over_the_size_limit_is_refused_by_grpc(edge):
    keys, recorder, channel = edge
    error = refused(call, channel, SUBMIT, b"\x2a" + b"\x80\x80\x10" + b"a" * (MAX_REQUEST_BYTES + 10),
                    keys.metadata())
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert not recorder.requests


def test_a_role_outside_the_table_is_refused_with_its_reason(edge):
    keys, recorder, channel = edge
    error = refused(submit, channel, keys, good(), "coordinator")
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    info = [d for d in status_details(error) if d.DESCRIPTOR.name == "ErrorInfo"]
    assert info and info[0].reason == "ROLE_NOT_ALLOWED" and info[0].metadata["allowed_roles"] == "professional"
    assert not recorder.requests


def test_a_method_missing_from_the_table_is_open_to_nobody(edge):
    keys, recorder, channel = edge
    for role in ("professional", "coordinator", "admin"):
        error = refused(call, channel, "/ot.intake.v1.IntakeService/GetRequest", b"", keys.metadata(roles=(role,)))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "GetRequest" in unlisted_methods(SERVICE, access_table(SERVICE, {"SubmitRequest": ("professional",)}))


def test_another_areas_token_is_refused_before_the_field_check(edge):
    keys, recorder, channel = edge
    request = good()
    request.question = "x" * 1000
    error = refused(call, channel, SUBMIT, request.SerializeToString(), keys.metadata(area="keski-suomi"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_streaming_handlers_need_a_token_too(edge):
    keys, recorder, channel = edge
    echo = channel.stream_stream("/test.Streams/Echo")
    with pytest.raises(grpc.RpcError) as caught:
        list(echo(iter([b"a"]), timeout=10))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_database_that_is_away_is_unavailable_and_its_error_text_is_not_logged(edge):
    keys, recorder, channel = edge
    stream = io.StringIO()
    configure_logging("test", "pohjois-savo", stream=stream)
    recorder.fail_with = OperationalError("INSERT ...", {"name": "Maija"}, Exception("server closed the connection"))
    error = refused(submit, channel, keys, good())
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    recorder.fail_with = ValueError("invalid literal: 'Maija Virtanen'")
    error = refused(submit, channel, keys, good())
    assert error.code() == grpc.StatusCode.INTERNAL
    logs = stream.getvalue()
    assert "Maija" not in logs and "message withheld" in logs
    assert all(json.loads(line) for line in logs.splitlines())
    logging.getLogger().handlers.clear()


def test_every_request_field_of_a_table_is_listed_or_reported():
    missing = f.unruled_fields(SERVICE, RULES)
    assert "ot.intake.v1.ClientFacts.health_information" in missing
    assert "ot.intake.v1.SubmitRequestRequest.question" not in missing


def test_a_rule_for_a_field_that_does_not_exist_fails_at_import():
    with pytest.raises(ValueError, match="no field"):
        f.field_rules({intake_pb2.Professional: {"shoe_size": f.line()}})
    with pytest.raises(ValueError, match="no method"):
        access_table(SERVICE, {"Teleport": ("professional",)})
    with pytest.raises(ValueError, match="unknown role"):
        access_table(SERVICE, {"SubmitRequest": ("superuser",)})


def test_the_fuzzer_reaches_the_handler_and_finds_an_internal_error(edge):
    """The shared fuzz harness itself: it gets generated requests past the edge to the handler,
    and it fails when a handler answers INTERNAL."""
    from ot_runtime.testing import fuzz_service
    keys, recorder, channel = edge
    seen = fuzz_service(channel, SERVICE, lambda method: keys.metadata(roles=("professional", "coordinator")),
                        examples=30, raw_payloads=10, seed_messages={"SubmitRequest": good()})
    assert recorder.requests and seen["SubmitRequest"].get("OK")
    assert seen["SubmitRequest"].get("INVALID_ARGUMENT")
    recorder.fail_with = KeyError("bug")
    with pytest.raises(AssertionError, match="INTERNAL"):
        fuzz_service(channel, SERVICE, lambda method: keys.metadata(roles=("professional",)), examples=5,
                     raw_payloads=1, seed_messages={"SubmitRequest": good()})


def test_a_plain_form_is_checked_with_the_same_rules():
    rules = {"comment": f.text(60), "token": f.token(40)}
    assert f.check_form({"comment": "hyvä", "token": "abc"}, rules) == []
    assert [v.reason for v in f.check_form({"comment": "x" * 61}, rules)] == ["too_long"]
    assert [v.reason for v in f.check_form({"token": "ä"}, rules)] == ["bad_form"]
    assert [v.reason for v in f.check_form({"other": "1"}, rules)] == ["unknown_field"]
    assert [v.reason for v in f.check_form({"comment": sample("phone")}, rules)] == ["phone"]


def test_an_rpc_open_to_anyone_needs_no_token_and_the_others_still_do(tmp_path):
    keys = TestKeys(tmp_path)
    recorder = Recorder()

    def register(server):
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE.full_name, {
            "SubmitRequest": grpc.unary_unary_rpc_method_handler(
                recorder.handle, request_deserializer=intake_pb2.SubmitRequestRequest.FromString,
                response_serializer=intake_pb2.Request.SerializeToString),
            "ListRequests": grpc.unary_unary_rpc_method_handler(
                lambda r, c: intake_pb2.ListRequestsResponse(next_page_token="open"),
                request_deserializer=intake_pb2.ListRequestsRequest.FromString,
                response_serializer=intake_pb2.ListRequestsResponse.SerializeToString)})])
        return [SERVICE.full_name]

    access = access_table(SERVICE, {"SubmitRequest": ("professional",), "ListRequests": (ANYONE,)})
    verifier = TokenVerifier(issuer="ot-dev", audience="ot-platform", tenant="pohjois-savo",
                             public_key_pem=keys.public_path.read_text())
    server = GrpcServer(host="127.0.0.1", port=0, verifier=verifier, register=register, access=access,
                        field_rules=RULES)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        answer = intake_pb2.ListRequestsResponse.FromString(call(channel, LIST, b"", ()))
        assert answer.next_page_token == "open"
        error = refused(call, channel, SUBMIT, good().SerializeToString(), ())
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED and not recorder.requests
    finally:
        channel.close()
        server.stop(0)


def test_anyone_cannot_be_mixed_with_roles():
    with pytest.raises(ValueError, match="cannot be combined"):
        access_table(SERVICE, {"ListRequests": (ANYONE, "coordinator")})
