"""Feedback's gRPC edge, in-process on loopback with the real interceptor chain and SQLite: the
tables cover every RPC and field, every role × RPC cell, another area's token, fuzzing."""
from __future__ import annotations

import uuid

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.common.v1 import case_pb2
from ot.feedback.v1 import feedback_pb2 as pb
from ot.feedback.v1 import feedback_pb2_grpc

from ot_runtime.access import ANYONE, method_path, unlisted_methods
from ot_runtime.auth import ROLES
from ot_runtime.fields import unruled_fields
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.testing import TestKeys, field_violations, fuzz_service, status_details
from ot_feedback.aggregate import CooperationConfig, Counts, export_file
from ot_feedback.edge import ACCESS, FIELD_RULES, SERVICE
from ot_feedback.grpc_api import FeedbackServicer

from test_feedback_followup import consulted
from feedback_testkit import NOW, TENANT

OTHER_AREA = "keski-suomi"
AREA_KEY = Ed25519PrivateKey.generate()  # the other area's statistics signing key
# The answer form's calls: open to anyone, the mailed link's token is the permission.
OPEN = {"OpenFeedbackForm", "AnswerFeedback"}


@pytest.fixture()
def keys(tmp_path):
    return TestKeys(tmp_path / "keys")


@pytest.fixture()
def server(handlers, keys):
    # The coordinating area, so that ImportAreaAggregate's valid request is imported.
    handlers.cooperation = CooperationConfig(coordinating=True, area_keys={OTHER_AREA: AREA_KEY.public_key()})

    def register(grpc_server):
        feedback_pb2_grpc.add_FeedbackServiceServicer_to_server(FeedbackServicer(handlers), grpc_server)
        return [SERVICE.full_name]

    running = GrpcServer(host="127.0.0.1", port=0, verifier=keys.verifier(), register=register, access=ACCESS,
                         field_rules=FIELD_RULES)
    running.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield channel
    channel.close()
    running.stop(0)


@pytest.fixture()
def request_id(handlers) -> str:
    """A request that was consulted: its follow-up is scheduled."""
    rid = str(uuid.uuid4())
    consulted(handlers, rid)
    return rid


@pytest.fixture()
def link(handlers, request_id) -> str:
    """The mailed link's token of a follow-up whose request mail went out (the form is open)."""
    from datetime import timedelta

    from ot_feedback.domain import FollowUpState
    from ot_feedback.store import follow_ups
    fid = str(uuid.uuid4())
    expires = NOW + timedelta(days=28)
    with handlers.sessions.begin() as s:
        s.execute(follow_ups.insert().values(
            id=fid, tenant=TENANT, request_id=str(uuid.uuid4()), type="ot_tuki", state=FollowUpState.SENT.value,
            consulted_at=NOW - timedelta(days=60), sent_at=NOW, expires_at=expires, created_at=NOW, updated_at=NOW))
    return handlers.signer.sign(fid, expires)


def valid_requests(request_id: str, link: str = "") -> dict:
    return {"GetStatistics": pb.GetStatisticsRequest(period="2026"),
            "GetFollowUp": pb.GetFollowUpRequest(request_id=request_id),
            "GetNotificationSettings": pb.GetNotificationSettingsRequest(),
            "SetNotificationSettings": pb.NotificationSettings(reminders_enabled=False),
            "OpenFeedbackForm": pb.OpenFeedbackFormRequest(link_token=link),
            "AnswerFeedback": pb.AnswerFeedbackRequest(link_token=link, usefulness=4, got_needed=pb.GOT_NEEDED_YES),
            "ImportAreaAggregate": pb.ImportAreaAggregateRequest(
                file=export_file(OTHER_AREA, "2026-02", NOW, Counts(), AREA_KEY))}


def allowed_metadata(keys, method: str, subject: str = "fuzz-user"):
    """A token with the first role the method admits, so a call reaches its handler (none for the
    calls open to anyone)."""
    if method in OPEN:
        return ()
    role = sorted(ACCESS[method_path(SERVICE, method)])[0]
    return keys.metadata(roles=(role,), subject=subject)


def call(channel, method: str, request, metadata):
    stub = feedback_pb2_grpc.FeedbackServiceStub(channel)
    return getattr(stub, method)(request, metadata=metadata, timeout=10)


def refusal(channel, method, request, metadata) -> grpc.RpcError | None:
    try:
        call(channel, method, request, metadata)
    except grpc.RpcError as error:
        return error
    return None


def reason(error: grpc.RpcError) -> str:
    return next((d.reason for d in status_details(error) if hasattr(d, "reason")), "")


def test_every_rpc_has_its_roles_and_every_request_field_its_rule():
    assert unlisted_methods(SERVICE, ACCESS) == []
    assert unruled_fields(SERVICE, FIELD_RULES) == []


def test_only_the_ot_team_reads_statistics_and_follow_ups_and_people_mailed_by_user_id_keep_their_settings():
    # The table itself, as the README states it.
    assert {m.name: sorted(ACCESS[method_path(SERVICE, m.name)]) for m in SERVICE.methods} == {
        "GetStatistics": ["coordinator", "secretary"], "GetFollowUp": ["coordinator", "secretary"],
        "GetNotificationSettings": ["expert", "professional"], "SetNotificationSettings": ["expert", "professional"],
        "OpenFeedbackForm": [ANYONE], "AnswerFeedback": [ANYONE], "ImportAreaAggregate": ["coordinator"]}


@pytest.mark.parametrize("method", [m.name for m in SERVICE.methods])
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(server, keys, request_id, link, method, role):
    allowed = method in OPEN or role in ACCESS[method_path(SERVICE, method)]
    error = refusal(server, method, valid_requests(request_id, link)[method], keys.metadata(roles=(role,)))
    if allowed:
        assert error is None, (method, role, error and error.code())
    else:
        assert error is not None and error.code() is grpc.StatusCode.PERMISSION_DENIED
        assert reason(error) == "ROLE_NOT_ALLOWED"


@pytest.mark.parametrize("method", sorted(m.name for m in SERVICE.methods if m.name not in OPEN))
@pytest.mark.parametrize("role", ["coordinator", "service"])
def test_another_areas_token_is_refused_in_every_rpc_that_needs_one(server, keys, request_id, method, role):
    error = refusal(server, method, valid_requests(request_id)[method],
                    keys.metadata(roles=(role,), area=OTHER_AREA))
    assert error is not None and error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "toisen hyvinvointialueen" in error.details()


@pytest.mark.parametrize("method", sorted(OPEN))
def test_the_answer_forms_calls_need_no_token_and_only_the_link_opens_them(server, keys, request_id, link, method):
    assert refusal(server, method, valid_requests(request_id, link)[method], ()) is None
    # Without a link of this area, no token (of any role or area) opens anything.
    for metadata in ((), keys.metadata(roles=("coordinator",)), keys.metadata(roles=("admin",), area=OTHER_AREA)):
        error = refusal(server, method, valid_requests(request_id, link[:-2] + "AA")[method], metadata)
        assert error.code() is grpc.StatusCode.NOT_FOUND


def test_unset_follow_up_times_stay_unset_not_1970(server, keys, request_id):
    # Scheduled: nothing is sent yet, and the reminder is not even due.
    found = call(server, "GetFollowUp", pb.GetFollowUpRequest(request_id=request_id),
                 keys.metadata(roles=("coordinator",)))
    assert found.HasField("consulted_at") and found.HasField("request_due_at")
    for name in ("request_sent_at", "reminder_due_at", "reminder_sent_at", "expires_at"):
        assert not found.HasField(name), name
    from google.protobuf.json_format import MessageToDict
    assert "1970" not in str(MessageToDict(found))


def test_a_follow_up_of_another_area_is_not_found(server, keys, handlers, request_id):
    # The one object-level rule: an area's staff see only their own area's follow-ups.
    handlers.tenant = OTHER_AREA
    rid = str(uuid.uuid4())
    consulted(handlers, rid)
    handlers.tenant = "pohjois-savo"
    error = refusal(server, "GetFollowUp", pb.GetFollowUpRequest(request_id=rid),
                    keys.metadata(roles=("coordinator",)))
    assert error.code() is grpc.StatusCode.NOT_FOUND
    found = call(server, "GetFollowUp", pb.GetFollowUpRequest(request_id=request_id),
                 keys.metadata(roles=("secretary",)))
    assert found.state == pb.FOLLOW_UP_STATE_SCHEDULED


@pytest.mark.parametrize("period", ["9999", "0000", "0001-Q1", "1969-12", "2200"])
def test_a_year_no_report_can_cover_is_invalid_argument_not_internal(server, keys, period):
    error = refusal(server, "GetStatistics", pb.GetStatisticsRequest(period=period),
                    keys.metadata(roles=("coordinator",)))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in field_violations(error)] == ["period"]
    assert "1970–2199" in field_violations(error)[0].description


@pytest.mark.parametrize("request_message,field,why", [
    (pb.GetStatisticsRequest(period="2026" * 5), "period", "too_long"),
    (pb.GetStatisticsRequest(period="2026\x00"), "period", "control_character"),
    (pb.GetStatisticsRequest(period="٢٠٢٦"), "period", "bad_form"),
    (pb.GetFollowUpRequest(request_id="r" * 70000), "request_id", "too_long"),
    (pb.GetFollowUpRequest(request_id="not-a-request-id"), "request_id", "bad_form"),
])
def test_malformed_fields_are_refused_at_the_edge_naming_the_field(server, keys, request_message, field, why):
    method = "GetStatistics" if isinstance(request_message, pb.GetStatisticsRequest) else "GetFollowUp"
    error = refusal(server, method, request_message, keys.metadata(roles=("coordinator",)))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.reason) for v in field_violations(error)] == [(field, why)]


def test_an_unknown_request_type_is_refused(server, keys):
    error = refusal(server, "GetStatistics", pb.GetStatisticsRequest(period="2026", type=99),
                    keys.metadata(roles=("coordinator",)))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in field_violations(error)] == ["type"]


def test_fuzzing_every_rpc_finds_no_internal_error_and_leaves_the_service_healthy(server, keys, request_id, link):
    staff = keys.metadata(roles=("coordinator",))
    tokens = {m.name: allowed_metadata(keys, m.name) for m in SERVICE.methods}
    seen = fuzz_service(server, SERVICE, lambda method: tokens[method], examples=80, raw_payloads=30,
                        seed_messages=valid_requests(request_id, link))
    # The seeds' mutations got past the edge: the fuzzer reached the handlers, not only the checks.
    assert all(seen[m.name].get("OK", 0) > 0 for m in SERVICE.methods if m.name != "AnswerFeedback"), seen
    # The link answers once, whatever else arrives with it.
    assert seen["AnswerFeedback"].get("OK", 0) <= 1 and seen["AnswerFeedback"].get("FAILED_PRECONDITION", 0) > 0
    assert seen["GetStatistics"].get("INVALID_ARGUMENT", 0) > 0
    health = health_pb2_grpc.HealthStub(server).Check(health_pb2.HealthCheckRequest(service=SERVICE.full_name))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    stats = call(server, "GetStatistics", pb.GetStatisticsRequest(period="2026-Q1",
                                                                  type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION), staff)
    assert stats.period == "2026-Q1" and stats.tables


@pytest.mark.parametrize("role", ["professional", "expert"])
def test_notification_settings_are_the_callers_own_and_default_to_reminders_on(server, keys, role):
    me, other = keys.metadata(roles=(role,), subject=f"{role}-1"), keys.metadata(roles=(role,), subject=f"{role}-2")
    assert call(server, "GetNotificationSettings", pb.GetNotificationSettingsRequest(), me).reminders_enabled
    saved = call(server, "SetNotificationSettings", pb.NotificationSettings(reminders_enabled=False), me)
    assert saved.reminders_enabled is False
    assert call(server, "GetNotificationSettings", pb.GetNotificationSettingsRequest(), me).reminders_enabled is False
    # Another person's settings are untouched: the request names nobody, the token names the caller.
    assert call(server, "GetNotificationSettings", pb.GetNotificationSettingsRequest(), other).reminders_enabled
    call(server, "SetNotificationSettings", pb.NotificationSettings(reminders_enabled=True), me)
    assert call(server, "GetNotificationSettings", pb.GetNotificationSettingsRequest(), me).reminders_enabled
