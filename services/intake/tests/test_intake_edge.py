"""Intake's edge on loopback with SQLite: who may call each RPC (every role × every RPC, another
area's token on every RPC), the object-level rules per request, the form of every field, input
that used to give INTERNAL, a database that does not answer, and a fuzz run over every RPC."""
import base64
import json
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.common.v1 import case_pb2
from ot.intake.v1 import intake_pb2 as pb

from ot_guard import scan
from ot_guard.testing import sample
from ot_runtime.access import method_path, unlisted_methods
from ot_runtime.auth import ROLES
from ot_runtime.fields import unruled_fields
from ot_runtime.testing import field_violations, fuzz_service, status_details
from ot_intake.edge import ACCESS, FIELD_RULES, SERVICE
from ot_intake.store import entries, outbox, requests

from intake_testkit import NOW, make_handlers, valid_request

PROFESSIONAL = "test-user"  # keys.metadata()'s default subject
GROUP = "haastavat-erot-kuopio"
OTHER_GROUP = "haastavat-erot-jyvaskyla"


def reason_of(error: grpc.RpcError) -> str:
    return next((d.reason for d in status_details(error) if isinstance(d, error_details_pb2.ErrorInfo)), "")


def refused(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


def count(engine, table) -> int:
    with engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


@pytest.fixture()
def world(stub, keys):
    """A submitted OT-TUKI request (by PROFESSIONAL), a group request and a meeting it can book."""
    client, channel = stub
    ot_tuki = client.SubmitRequest(valid_request(), metadata=keys.metadata())
    group = client.SubmitRequest(valid_request(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, anonymous=True),
                                 metadata=keys.metadata())
    meeting = client.PublishMeeting(pb.PublishMeetingRequest(group_id=GROUP, starts_at=ts(NOW + timedelta(days=30)),
                                                             capacity=5, location="Perheneuvola, neuvotteluhuone 2"),
                                    metadata=keys.metadata(roles=("secretary",)))
    return SimpleNamespace(client=client, channel=channel, request_id=ot_tuki.request_id,
                           group_id=group.request_id, meeting_id=meeting.meeting_id)


def requests_for(w) -> dict:
    """One request per RPC that would reach its handler."""
    return {
        "AddEntry": pb.AddEntryRequest(request_id=w.request_id, kind=pb.ENTRY_KIND_QUESTION,
                                       text="Onko asiaa käsitelty jo perheneuvolassa?"),
        "ListEntries": pb.ListEntriesRequest(request_id=w.request_id),
        "GetMeetingAgenda": pb.GetMeetingAgendaRequest(meeting_id=w.meeting_id),
        "SubmitRequest": valid_request(),
        "GetRequest": pb.GetRequestRequest(request_id=w.request_id),
        "ListRequests": pb.ListRequestsRequest(),
        "TriageRequest": pb.TriageRequestRequest(request_id=w.request_id, note="Arvioitu."),
        "PublishMeeting": pb.PublishMeetingRequest(group_id="haastavat-erot-kuopio",
                                                   starts_at=ts(NOW + timedelta(days=40)), capacity=3),
        "ListMeetings": pb.ListMeetingsRequest(),
        "BookMeeting": pb.BookMeetingRequest(request_id=w.group_id, meeting_id=w.meeting_id),
        "MarkConsulted": pb.RequestRef(request_id=w.request_id),
        "ReturnRecommendations": pb.RequestRef(request_id=w.request_id),
        "CloseRequest": pb.RequestRef(request_id=w.request_id),
        "WithdrawRequest": pb.RequestRef(request_id=w.request_id),
        "ExportProfessionalData": pb.ProfessionalRef(subject=PROFESSIONAL),
        "EraseProfessionalData": pb.ProfessionalRef(subject="someone-else"),
    }


# --- the tables are complete ---------------------------------------------------------------------
def test_every_rpc_has_its_roles_and_every_request_field_its_rule():
    assert unlisted_methods(SERVICE, ACCESS) == []
    assert unruled_fields(SERVICE, FIELD_RULES) == []


def test_the_data_protection_officer_gets_its_duties_and_no_case_work():
    admin = {m.name for m in SERVICE.methods if "admin" in ACCESS[method_path(SERVICE, m.name)]}
    assert admin == {"ExportProfessionalData", "EraseProfessionalData"}


# --- role × RPC ----------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [m.name for m in SERVICE.methods])
def test_each_role_is_refused_exactly_where_the_table_says(world, keys, method):
    allowed = ACCESS[method_path(SERVICE, method)]
    call = getattr(world.client, method)
    for role in ROLES:
        try:
            call(requests_for(world)[method], metadata=keys.metadata(roles=(role,)))
            outcome, reason = grpc.StatusCode.OK, ""
        except grpc.RpcError as error:
            outcome, reason = error.code(), reason_of(error)
        if role in allowed:
            assert reason not in ("ROLE_NOT_ALLOWED", "RPC_NOT_OPEN"), (method, role)
            assert outcome not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (method, role)
        else:
            assert (outcome, reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED"), (method, role)


@pytest.mark.parametrize("method", [m.name for m in SERVICE.methods])
def test_another_areas_token_is_refused_on_every_rpc(world, keys, engine, method):
    allowed = ACCESS[method_path(SERVICE, method)]
    call = getattr(world.client, method)
    for roles in [tuple(sorted(allowed - {"service"}))] + ([("service",)] if "service" in allowed else []):
        error = refused(call, requests_for(world)[method], metadata=keys.metadata(area="keski-suomi", roles=roles))
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED, (method, roles)
    with engine.connect() as c:
        assert c.execute(sa.select(requests.c.status)).scalars().all() == ["submitted", "submitted"]
    assert count(engine, entries) == 0


def test_the_conversation_is_open_to_who_may_read_the_case_and_the_agenda_to_the_group():
    def roles(method):
        return set(ACCESS[method_path(SERVICE, method)])
    assert roles("AddEntry") == {"professional", "coordinator", "secretary", "expert"}
    assert roles("ListEntries") == {"professional", "coordinator", "secretary", "expert", "group-member"}
    assert roles("GetMeetingAgenda") == {"coordinator", "secretary", "group-member"}
    assert "group-member" in roles("GetRequest")
    # members read the cases of their group's meetings: they find them by the calendar and agenda
    assert not any("group-member" in roles(m.name) for m in SERVICE.methods
                   if m.name not in ("GetRequest", "ListEntries", "GetMeetingAgenda", "ListMeetings"))


def test_list_meetings_is_for_the_people_who_book_arrange_or_sit_in_them(world, keys):
    for role in ("professional", "coordinator", "secretary", "group-member"):
        assert world.client.ListMeetings(pb.ListMeetingsRequest(), metadata=keys.metadata(roles=(role,))).meetings
    for role in ("expert", "admin", "service"):
        error = refused(world.client.ListMeetings, pb.ListMeetingsRequest(), metadata=keys.metadata(roles=(role,)))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")


# --- object-level rules: which request a caller may touch ----------------------------------------
def assign(handlers, request_id, *expert_ids):
    with handlers.sessions.begin() as s:
        handlers.on_experts_assigned(s, request_id, list(expert_ids))


def token(keys, role, subject, groups=()):
    return keys.metadata(roles=(role,), subject=subject, groups=groups)


def book(world, keys):
    """Book the group request into the meeting of GROUP (by its owner)."""
    world.client.BookMeeting(pb.BookMeetingRequest(request_id=world.group_id, meeting_id=world.meeting_id),
                             metadata=keys.metadata())


def meeting_held(clock):
    """Move past the world's meeting: only then may its bookings be marked consulted."""
    clock.advance(days=31)


@pytest.mark.parametrize("role,subject,groups,outcome", [
    ("professional", PROFESSIONAL, (), "content"),          # the requester
    ("professional", "prof-other", (), "NOT_OWNER"),
    ("coordinator", "coord-1", (), "content"),
    ("secretary", "secr-1", (GROUP,), "content"),           # the booked group's secretary
    ("secretary", "secr-2", (OTHER_GROUP,), "no content"),  # another group's: as in the list, no content
    ("secretary", "secr-3", (), "no content"),
    ("group-member", "member-1", (GROUP,), "content"),      # booked, not yet answered
    ("group-member", "member-2", (OTHER_GROUP,), "NOT_GROUP_MEMBER"),
    ("service", "ot-feedback", (), "no case data"),         # feedback, for the worker's address
])
def test_who_may_read_a_booked_request(world, keys, vault, role, subject, groups, outcome):
    book(world, keys)
    call = world.client.GetRequest
    request = pb.GetRequestRequest(request_id=world.group_id)
    vault.reads.clear()
    if outcome.isupper():
        error = refused(call, request, metadata=token(keys, role, subject, groups))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)
        assert vault.reads == []
        return
    got = call(request, metadata=token(keys, role, subject, groups))
    assert got.request_id == world.group_id and got.status == case_pb2.REQUEST_STATUS_SCHEDULED
    if outcome == "content":
        assert got.content_included and got.question and got.client.age_years == 14
        assert vault.reads == [(world.group_id, "view")]  # one audited read at consent
    else:
        assert not got.content_included and got.question == "" and not got.client.family_situation
        assert vault.reads == []  # no key was even asked for
    assert got.owner_subject == (PROFESSIONAL if role in ("professional", "service") else "")
    if outcome == "no case data":
        assert got.professional.email == "testi@example.fi"  # what feedback needs
        assert got.client.age_unknown and got.client.gender == pb.GENDER_UNSPECIFIED
        assert not got.HasField("screening") and got.consent.need == pb.CONSENT_NEED_UNSPECIFIED


def test_a_group_member_reads_no_more_once_the_answer_is_returned(world, keys, handlers, clock):
    book(world, keys)
    meeting_held(clock)
    secretary = token(keys, "secretary", "secr-1", (GROUP,))
    ref = pb.RequestRef(request_id=world.group_id)
    world.client.MarkConsulted(ref, metadata=secretary)
    world.client.AddEntry(pb.AddEntryRequest(request_id=world.group_id, kind=pb.ENTRY_KIND_RECOMMENDATIONS,
                                             text="Ryhmä suosittelee perheasioiden sovittelua."), metadata=secretary)
    member = token(keys, "group-member", "member-1", (GROUP,))
    assert world.client.GetRequest(pb.GetRequestRequest(request_id=world.group_id), metadata=member).content_included
    world.client.ReturnRecommendations(ref, metadata=secretary)
    for call, request in ((world.client.GetRequest, pb.GetRequestRequest(request_id=world.group_id)),
                          (world.client.ListEntries, pb.ListEntriesRequest(request_id=world.group_id))):
        error = refused(call, request, metadata=member)
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "ANSWER_RETURNED")
    # The secretary keeps reading until the retention purge; the worker too.
    assert world.client.ListEntries(pb.ListEntriesRequest(request_id=world.group_id), metadata=secretary).entries


@pytest.mark.parametrize("role,subject,outcome", [
    ("professional", PROFESSIONAL, "content"),          # the requester
    ("professional", "prof-other", "NOT_OWNER"),
    ("coordinator", "coord-1", "content"),
    ("expert", "expert-barnahus", "read"),              # assigned: content only if consent hands the key
    ("expert", "expert-valteri", "NOT_ASSIGNED"),
    ("expert", "barnahus", "NOT_ASSIGNED"),             # the id alone is not the expert's subject
    ("group-member", "member-1", "NOT_GROUP_MEMBER"),   # not booked into any meeting
])
def test_who_may_read_an_assigned_request(world, keys, handlers, role, subject, outcome):
    assign(handlers, world.request_id, "barnahus")
    call = world.client.GetRequest
    request = pb.GetRequestRequest(request_id=world.request_id)
    if outcome.isupper():
        error = refused(call, request, metadata=token(keys, role, subject, (GROUP,)))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)
        return
    got = call(request, metadata=token(keys, role, subject))
    assert got.request_id == world.request_id and got.status == case_pb2.REQUEST_STATUS_ASSIGNED
    if outcome == "content":
        assert got.content_included and got.question and got.client.age_years == 14


def test_an_expert_whom_consent_refuses_gets_the_request_without_content(world, keys, handlers, vault):
    assign(handlers, world.request_id, "barnahus")
    vault.refuse.add("expert-barnahus")  # e.g. the client's consent does not cover the organisation
    got = world.client.GetRequest(pb.GetRequestRequest(request_id=world.request_id),
                                  metadata=token(keys, "expert", "expert-barnahus"))
    assert got.status == case_pb2.REQUEST_STATUS_ASSIGNED and not got.content_included and got.question == ""


@pytest.mark.parametrize("role,subject,groups,outcome", [
    ("professional", PROFESSIONAL, (), "ok"), ("professional", "prof-other", (), "NOT_OWNER"),
    ("coordinator", "coord-1", (), "ok"),
    ("secretary", "secr-1", (GROUP,), "ok"),                          # the booked group's secretary
    ("secretary", "secr-2", (OTHER_GROUP,), "NOT_GROUP_SECRETARY"),
])
def test_who_may_withdraw_a_booked_request(world, keys, role, subject, groups, outcome):
    book(world, keys)
    request = pb.RequestRef(request_id=world.group_id)
    if outcome == "ok":
        assert world.client.WithdrawRequest(request, metadata=token(keys, role, subject, groups)).status == \
            case_pb2.REQUEST_STATUS_WITHDRAWN
        [meeting] = world.client.ListMeetings(pb.ListMeetingsRequest(), metadata=keys.metadata()).meetings
        assert meeting.booked == 0  # the place went back to the group
    else:
        error = refused(world.client.WithdrawRequest, request, metadata=token(keys, role, subject, groups))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)
        got = world.client.GetRequest(pb.GetRequestRequest(request_id=world.group_id), metadata=keys.metadata())
        assert got.status == case_pb2.REQUEST_STATUS_SCHEDULED


def test_a_secretary_cannot_withdraw_a_request_booked_into_no_meeting(world, keys):
    error = refused(world.client.WithdrawRequest, pb.RequestRef(request_id=world.request_id),
                    metadata=token(keys, "secretary", "secr-1", (GROUP,)))
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_GROUP_SECRETARY")


@pytest.mark.parametrize("role,subject,groups,outcome", [
    ("professional", PROFESSIONAL, (), "ok"), ("professional", "prof-other", (), "NOT_OWNER"),
    ("coordinator", "coord-1", (), "ok"),
    ("secretary", "secr-1", (GROUP,), "ok"),                          # into their own group's meeting
    ("secretary", "secr-2", (OTHER_GROUP,), "NOT_GROUP_SECRETARY"),
    ("secretary", "secr-3", (), "NOT_GROUP_SECRETARY"),
])
def test_who_may_book_a_request_into_a_meeting(world, keys, role, subject, groups, outcome):
    request = pb.BookMeetingRequest(request_id=world.group_id, meeting_id=world.meeting_id)
    if outcome == "ok":
        booked = world.client.BookMeeting(request, metadata=token(keys, role, subject, groups))
        assert booked.status == case_pb2.REQUEST_STATUS_SCHEDULED and booked.meeting_id == world.meeting_id
    else:
        error = refused(world.client.BookMeeting, request, metadata=token(keys, role, subject, groups))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)
        [meeting] = world.client.ListMeetings(pb.ListMeetingsRequest(), metadata=keys.metadata()).meetings
        assert meeting.booked == 0


@pytest.mark.parametrize("role,subject,groups,outcome", [
    ("coordinator", "coord-1", (), "ok"),
    ("secretary", "secr-1", (GROUP,), "ok"),                          # the booked group's secretary
    ("secretary", "secr-2", (OTHER_GROUP,), "NOT_GROUP_SECRETARY"),
])
def test_who_may_mark_a_booked_request_consulted(world, keys, clock, role, subject, groups, outcome):
    book(world, keys)
    meeting_held(clock)
    request = pb.RequestRef(request_id=world.group_id)
    if outcome == "ok":
        assert world.client.MarkConsulted(request, metadata=token(keys, role, subject, groups)).status == \
            case_pb2.REQUEST_STATUS_CONSULTED
    else:
        error = refused(world.client.MarkConsulted, request, metadata=token(keys, role, subject, groups))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)
        got = world.client.GetRequest(pb.GetRequestRequest(request_id=world.group_id), metadata=keys.metadata())
        assert got.status == case_pb2.REQUEST_STATUS_SCHEDULED


def test_no_secretary_marks_an_expert_request_consulted(world, keys, handlers):
    assign(handlers, world.request_id, "barnahus")
    error = refused(world.client.MarkConsulted, pb.RequestRef(request_id=world.request_id),
                    metadata=token(keys, "secretary", "secr-1", (GROUP,)))
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_GROUP_SECRETARY")


@pytest.mark.parametrize("role,subject,groups,outcome", [
    ("expert", "expert-barnahus", (), "ok"),            # assigned
    ("expert", "expert-valteri", (), "NOT_ASSIGNED"),   # an expert of the network, not of this request
    ("coordinator", "coord-1", (), "ok"),
    ("secretary", "secr-1", (GROUP,), "NOT_GROUP_SECRETARY"),  # not booked: no group's case
])
def test_only_an_assigned_expert_or_a_coordinator_returns_an_experts_answer(world, keys, handlers, role, subject,
                                                                            groups, outcome):
    assign(handlers, world.request_id, "barnahus", "kys-lastenpsykiatria")
    request = pb.RequestRef(request_id=world.request_id)
    world.client.MarkConsulted(request, metadata=keys.metadata(roles=("coordinator",)))
    world.client.AddEntry(pb.AddEntryRequest(request_id=world.request_id, kind=pb.ENTRY_KIND_STATEMENT,
                                             text="Suosittelemme koulun ja kodin yhteistä palaveria."),
                          metadata=token(keys, "expert", "expert-barnahus"))
    if outcome == "ok":
        assert world.client.ReturnRecommendations(request, metadata=token(keys, role, subject, groups)).status == \
            case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED
    else:
        error = refused(world.client.ReturnRecommendations, request, metadata=token(keys, role, subject, groups))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)
        got = world.client.GetRequest(pb.GetRequestRequest(request_id=world.request_id), metadata=keys.metadata())
        assert got.status == case_pb2.REQUEST_STATUS_CONSULTED


@pytest.mark.parametrize("role,subject,groups,outcome", [
    ("coordinator", "coord-1", (), "ok"),
    ("secretary", "secr-1", (GROUP,), "ok"),
    ("secretary", "secr-2", (OTHER_GROUP,), "NOT_GROUP_SECRETARY"),
])
def test_who_returns_a_groups_recommendations(world, keys, clock, role, subject, groups, outcome):
    book(world, keys)
    meeting_held(clock)
    request = pb.RequestRef(request_id=world.group_id)
    world.client.MarkConsulted(request, metadata=keys.metadata(roles=("coordinator",)))
    world.client.AddEntry(pb.AddEntryRequest(request_id=world.group_id, kind=pb.ENTRY_KIND_RECOMMENDATIONS,
                                             text="Ryhmä suosittelee perheasioiden sovittelua."),
                          metadata=keys.metadata(roles=("coordinator",)))
    if outcome == "ok":
        assert world.client.ReturnRecommendations(request, metadata=token(keys, role, subject, groups)).status == \
            case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED
    else:
        error = refused(world.client.ReturnRecommendations, request, metadata=token(keys, role, subject, groups))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)


@pytest.mark.parametrize("role,subject,groups,outcome", [
    ("coordinator", "coord-1", (), "ok"),
    ("secretary", "secr-1", (GROUP,), "ok"),
    ("secretary", "secr-2", (OTHER_GROUP,), "NOT_GROUP_SECRETARY"),
    ("secretary", "secr-3", (), "NOT_GROUP_SECRETARY"),
])
def test_who_may_read_a_meetings_agenda(world, keys, role, subject, groups, outcome):
    book(world, keys)
    request = pb.GetMeetingAgendaRequest(meeting_id=world.meeting_id)
    if outcome == "ok":
        agenda = world.client.GetMeetingAgenda(request, metadata=token(keys, role, subject, groups))
        assert [i.request_id for i in agenda.items] == [world.group_id] and agenda.items[0].anonymous
    else:
        error = refused(world.client.GetMeetingAgenda, request, metadata=token(keys, role, subject, groups))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)


@pytest.mark.parametrize("role,caller,subject,outcome", [
    ("professional", PROFESSIONAL, PROFESSIONAL, "ok"),       # their own data
    ("professional", "prof-other", PROFESSIONAL, "NOT_OWN_DATA"),
    ("admin", "tietosuojavastaava", PROFESSIONAL, "ok"),      # the officer answering a data request
])
def test_who_may_export_a_professionals_data(world, keys, role, caller, subject, outcome):
    request = pb.ProfessionalRef(subject=subject)
    if outcome == "ok":
        export = world.client.ExportProfessionalData(request, metadata=token(keys, role, caller))
        assert export.requests == 2 and "testi@example.fi" in export.json
    else:
        error = refused(world.client.ExportProfessionalData, request, metadata=token(keys, role, caller))
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)


# --- the form of every field, and input that used to give INTERNAL -------------------------------
def violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.code()
    return [(v.field, v.reason) for v in field_violations(error)]


def only_the_identifier(kind: str) -> str:
    text = sample(kind)
    finding = scan(text)[0]
    return text[finding.start:finding.end]


@pytest.mark.parametrize("path,kind", [
    ("professional.profession", "name"),
    ("professional.organisation", "identity_code"),
    ("idempotency_key", "identity_code"),   # kept beside the request: a closed form, and guarded
])
def test_fields_that_were_never_guarded_are_guarded(stub, keys, engine, vault, path, kind):
    client, _ = stub
    request = valid_request()
    value = sample(kind) if path != "idempotency_key" else only_the_identifier(kind)
    target, name = (request.professional, path.split(".")[1]) if "." in path else (request, path)
    setattr(target, name, value)
    error = refused(client.SubmitRequest, request, metadata=keys.metadata())
    assert violations(error) == [(path, kind)]
    assert count(engine, requests) == 0 and vault.keys == {}


@pytest.mark.parametrize("path,value,reason", [
    ("professional.phone", "+358 40 " + "1234 " * 8 + "12345", "too_long"),  # 51: did not fit prof_phone
    ("professional.phone", "soita iltaisin", "bad_form"),
    ("professional.email", "ei osoite", "bad_form"),
    ("professional.email", "a" * 190 + "@example.fi", "too_long"),          # prof_email is String(200)
    ("professional.name", "Testi\x00Ammattilainen", "control_character"),   # PostgreSQL refuses NUL
    ("professional.organisation", "x" * 201, "too_long"),
    ("question", "Miten edetä?\x00", "control_character"),
    ("question", "a" * 4001, "too_long"),
    ("idempotency_key", "k" * 101, "too_long"),                             # was cut to 100 silently
    ("idempotency_key", "avain jossa välejä", "bad_form"),
])
def test_over_long_malformed_and_nul_values_are_refused_naming_the_field(stub, keys, engine, vault, path, value,
                                                                         reason):
    client, _ = stub
    request = valid_request()
    target, name = (request.professional, path.split(".")[1]) if "." in path else (request, path)
    setattr(target, name, value)
    error = refused(client.SubmitRequest, request, metadata=keys.metadata())
    assert violations(error) == [(path, reason)]
    assert count(engine, requests) == 0 and vault.keys == {}


def test_the_professionals_own_name_phone_and_email_are_not_guarded(stub, keys):
    client, _ = stub
    request = valid_request()
    request.professional.name = only_the_identifier("name")
    request.professional.phone = only_the_identifier("phone")
    assert client.SubmitRequest(request, metadata=keys.metadata()).request_id


def page_token(at: str, rid: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at, rid]).encode()).decode()


@pytest.mark.parametrize("token", [
    page_token("2026-03-02T09:00:00", str(uuid.uuid4())),            # a time without a zone
    page_token("0001-01-01T00:00:00+00:00", str(uuid.uuid4())),      # out of range
    page_token("2026-03-02T09:00:00+00:00", "not-an-id"),
    base64.urlsafe_b64encode(b'{"a": 1}').decode(),
    base64.urlsafe_b64encode(b"7").decode(),
    "garbage",
], ids=["no-zone", "year-1", "not-an-id", "an-object", "a-number", "not-base64-json"])
def test_a_page_token_we_did_not_make_is_invalid_argument(world, keys, token):
    error = refused(world.client.ListRequests, pb.ListRequestsRequest(page_token=token),
                    metadata=keys.metadata(roles=("coordinator",)))
    assert violations(error) == [("page_token", "bad_form")]


@pytest.mark.parametrize("method,request_", [
    ("ListRequests", pb.ListRequestsRequest(submitted_from=Timestamp(seconds=-62135596801))),
    ("ListRequests", pb.ListRequestsRequest(submitted_to=Timestamp(seconds=253402300800))),
    ("PublishMeeting", pb.PublishMeetingRequest(group_id="haastavat-erot-kuopio", capacity=3,
                                                starts_at=Timestamp(seconds=2**62))),
    ("ListMeetings", pb.ListMeetingsRequest(from_time=Timestamp(seconds=-2**62))),
])
def test_out_of_range_timestamps_are_invalid_argument(world, keys, method, request_):
    error = refused(getattr(world.client, method), request_, metadata=keys.metadata(roles=("coordinator",)))
    [(field, reason)] = violations(error)
    assert reason == "out_of_range"


@pytest.mark.parametrize("payload", [
    b"\x2a\x02\xc3\x28",                 # question (field 5) that is not UTF-8
    b"\x12\x03\x0a\x01\xff",             # professional.name that is not UTF-8
    b"\xff\xff\xff\xff not protobuf",
])
def test_undecodable_bytes_are_invalid_argument(stub, keys, engine, payload):
    _, channel = stub
    call = channel.unary_unary(method_path(SERVICE, "SubmitRequest"))
    error = refused(call, payload, metadata=keys.metadata())
    assert violations(error) == [("", "undecodable")]
    assert count(engine, requests) == 0


# --- the database does not answer ----------------------------------------------------------------
@pytest.fixture()
def database_away(tmp_path, clock, vault, serve):
    """Intake whose database cannot be reached (a file in a folder that is not there)."""
    engine = sa.create_engine(f"sqlite:///{tmp_path}/no-such-folder/intake.db")
    yield serve(make_handlers(engine, clock, vault))
    engine.dispose()


@pytest.mark.parametrize("key", ["", "lomake-123"])
def test_with_the_database_away_a_submission_is_unavailable_and_consent_opens_no_case(database_away, keys, vault,
                                                                                       key):
    client, _ = database_away
    error = refused(client.SubmitRequest, valid_request(idempotency_key=key), metadata=keys.metadata())
    assert error.code() is grpc.StatusCode.UNAVAILABLE  # a client that retries on UNAVAILABLE does
    assert vault.keys == {}  # no orphan consent case: consent was never asked


def test_a_retry_with_the_same_idempotency_key_asks_consent_only_once(stub, keys, engine, vault):
    client, _ = stub
    first = client.SubmitRequest(valid_request(idempotency_key="lomake-7"), metadata=keys.metadata())
    again = client.SubmitRequest(valid_request(idempotency_key="lomake-7"), metadata=keys.metadata())
    assert again.request_id == first.request_id and again.content_included
    assert list(vault.keys) == [first.request_id] and count(engine, requests) == 1


# --- fuzz: every RPC, generated messages and random bytes ----------------------------------------
def person_roles(method: str) -> tuple[str, ...]:
    """Every role the method admits that a person's token can carry (a service token carries only
    "service"), so generated calls get past the role check."""
    return tuple(sorted(ACCESS[method_path(SERVICE, method)] - {"service"}))


def test_fuzzing_every_rpc_finds_no_internal_error_and_leaves_the_service_healthy(world, keys, engine, vault):
    # The conversation's seeds on a request of their own: the other seeds withdraw world's.
    talk = world.client.SubmitRequest(valid_request(), metadata=keys.metadata()).request_id
    seeds = {**requests_for(world), "EraseProfessionalData": pb.ProfessionalRef(subject="prof-away"),
             "AddEntry": pb.AddEntryRequest(request_id=talk, kind=pb.ENTRY_KIND_NOTE, text="Soitettu työntekijälle."),
             "ListEntries": pb.ListEntriesRequest(request_id=talk)}
    counts = fuzz_service(world.channel, SERVICE,
                          lambda method: keys.metadata(roles=person_roles(method), groups=(GROUP,)),
                          examples=40, raw_payloads=15, seed_messages=seeds)
    for method in ("SubmitRequest", "AddEntry", "ListEntries", "GetMeetingAgenda"):
        assert counts[method].get("OK", 0) > 0, method  # the fuzzer got past the edge into the handler
    assert counts["SubmitRequest"].get("INVALID_ARGUMENT", 0) > 0
    assert counts["AddEntry"].get("INVALID_ARGUMENT", 0) > 0
    health = health_pb2_grpc.HealthStub(world.channel).Check(health_pb2.HealthCheckRequest(service=SERVICE.full_name))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    created = world.client.SubmitRequest(valid_request(), metadata=keys.metadata())
    assert created.status == case_pb2.REQUEST_STATUS_SUBMITTED
    with engine.connect() as c:
        stored = set(c.execute(sa.select(requests.c.id)).scalars())
    assert set(vault.keys) == stored  # every consent case has its request: no orphans
    assert count(engine, outbox) >= len(stored)


def test_a_professional_lists_only_their_own_requests_and_the_team_lists_all(world, keys):
    """"My requests": ListRequests for a professional is filtered by owner in the handler, so no
    filter a caller sets can show another professional's requests."""
    other = world.client.SubmitRequest(valid_request(), metadata=keys.metadata(subject="another-professional"))
    mine = world.client.ListRequests(pb.ListRequestsRequest(), metadata=keys.metadata())
    assert {r.request_id for r in mine.requests} == {world.request_id, world.group_id} and mine.total_count == 2
    theirs = world.client.ListRequests(pb.ListRequestsRequest(), metadata=keys.metadata(subject="another-professional"))
    assert [r.request_id for r in theirs.requests] == [other.request_id]
    assert not any(r.content_included or r.question for r in mine.requests)  # a list never holds content
    everyone = world.client.ListRequests(pb.ListRequestsRequest(), metadata=keys.metadata(roles=("coordinator",)))
    assert everyone.total_count == 3


def test_validate_only_screens_and_checks_like_a_submission_and_stores_nothing(stub, keys, engine):
    """The form's "check before sending" and the OT-seula self-check: the same refusal a real
    submission would get, or the screening, and not a row, an event or a consent case."""
    client, _ = stub
    checked = client.SubmitRequest(valid_request(validate_only=True), metadata=keys.metadata())
    assert checked.request_id == "" and checked.screening.max_score and checked.screening.reasons
    refused_one = refused(client.SubmitRequest, valid_request(validate_only=True, question=sample("identity_code")),
                          metadata=keys.metadata())
    assert refused_one.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.reason for v in field_violations(refused_one)] == ["identity_code"]
    assert count(engine, requests) == count(engine, outbox) == 0
