"""Who gets a request's data key (its case content), cell by cell, over consent's real gRPC edge:
the owner and the coordinators; an expert while assigned (experts' events) and while the consent
covers that expert organisation; the secretary and members of the group the request is booked
into (intake's events) while the consent covers the group, members only until the
recommendations are returned. Every key handed out and every refusal of a caller with the role is
in the audit trail with its reason; role refusals and other areas' tokens never reach it.

Then the events themselves: out of order, repeated, about cases consent does not know, or
malformed, they never leave a half row nor stop the consumer with a crash."""
from datetime import timedelta

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as pb
from ot.events.v1 import experts_events_pb2, intake_events_pb2

from ot_runtime.auth import ROLES
from ot_runtime.consumer import Poison, classify
from ot_runtime.testing import status_details
from ot_consent.consumers import event_handlers
from ot_consent.domain import ConsentForm, ConsentGiver, Party, PartyKind, RequestType
from ot_consent.edge import ACCESS, SERVICE
from ot_consent.store import audit_log, cases, expert_assignments, group_bookings

from consent_testkit import NOW, TENANT, person

OWNER = "prof-1"
REQ = "5f0c7a0e-6d0b-4a47-9a43-2f0d6f1b3c11"
GROUP = "haastavat-erot-keski-suomi"
OTHER_GROUP = "haastavat-erot-etela-savo"
EXPERT = "kys-vaativa-lastenpsykiatria"
OTHER_EXPERT = "barnahus"

ASSIGNED = "ot.experts.assignment.made.v1"
UNASSIGNED = "ot.experts.assignment.removed.v1"
STATUS_CHANGED = "ot.intake.request.status_changed.v1"


def ts(at) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(at)
    return out


def deliver(handlers, ce_type, message):
    """One event, as consent's consumer runs it: the handler in a transaction of its own."""
    with handlers.sessions.begin() as s:
        event_handlers(handlers)[ce_type].handle(s, None, message)


def assigned(handlers, expert_ids, at=NOW, request_id=REQ):
    deliver(handlers, ASSIGNED, experts_events_pb2.ExpertsAssigned(
        request_id=request_id, tenant=TENANT, expert_ids=expert_ids, assigned_at=ts(at)))


def unassigned(handlers, removed, remaining, at=NOW, request_id=REQ):
    deliver(handlers, UNASSIGNED, experts_events_pb2.ExpertsUnassigned(
        request_id=request_id, tenant=TENANT, removed_expert_ids=removed, remaining_expert_ids=remaining,
        unassigned_at=ts(at)))


def status(handlers, to_status, at=NOW, group_id="", request_id=REQ, from_status=0):
    deliver(handlers, STATUS_CHANGED, intake_events_pb2.RequestStatusChanged(
        request_id=request_id, tenant=TENANT, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, from_status=from_status,
        to_status=to_status, changed_at=ts(at), group_id=group_id,
        meeting_id="0d1c2b3a-4f5e-4a6b-8c7d-9e0f1a2b3c4d" if group_id else ""))


def booked(handlers, group=GROUP, at=NOW, request_id=REQ):
    status(handlers, case_pb2.REQUEST_STATUS_SCHEDULED, at, group, request_id, case_pb2.REQUEST_STATUS_TRIAGED)


def open_case(handlers, scope, request_id=REQ, form=ConsentForm.WRITTEN_ORGANISATION_FORM):
    handlers.open_case(person(OWNER), request_id, RequestType.GROUP_CONSULTATION, form,
                       None if form is ConsentForm.NOT_NEEDED else ConsentGiver.GUARDIANS, False, scope)


def withdraw(handlers):
    handlers.withdraw(person(OWNER), REQ)


def scope_only_group(handlers):
    handlers.record(person(OWNER), REQ, ConsentForm.WRITTEN_ORGANISATION_FORM, ConsentGiver.GUARDIANS, False,
                    [Party(PartyKind.GROUP, GROUP)], None)


def scope_only_expert(handlers):
    handlers.record(person(OWNER), REQ, ConsentForm.WRITTEN_ORGANISATION_FORM, ConsentGiver.GUARDIANS, False,
                    [Party(PartyKind.EXPERT_ORGANISATION, EXPERT)], None)


def returned(handlers):
    status(handlers, case_pb2.REQUEST_STATUS_CONSULTED, NOW + timedelta(days=1))
    status(handlers, case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED, NOW + timedelta(days=2))


def request_withdrawn(handlers):
    status(handlers, case_pb2.REQUEST_STATUS_WITHDRAWN, NOW + timedelta(days=1))


def expert_unassigned(handlers):
    unassigned(handlers, [EXPERT], [OTHER_EXPERT], NOW + timedelta(hours=1))


@pytest.fixture()
def case(handlers):
    """REQ: opened by OWNER with written consent covering GROUP and EXPERT; booked into a meeting
    of GROUP; EXPERT and OTHER_EXPERT assigned to it."""
    open_case(handlers, [Party(PartyKind.GROUP, GROUP), Party(PartyKind.EXPERT_ORGANISATION, EXPERT),
                         Party(PartyKind.EXPERT_ORGANISATION, OTHER_EXPERT)])
    booked(handlers)
    assigned(handlers, [EXPERT, OTHER_EXPERT])
    return REQ


def read(client, keys, roles, subject, groups=(), area=TENANT, purpose="view"):
    """(code, ErrorInfo reasons, key) of a GetDataKey call with a token of `roles` and `groups`."""
    if tuple(roles) == ("service",):  # a platform service's token, from the services' own issuer
        metadata = keys.metadata(roles=roles, area=area, subject=subject)
    else:
        metadata = (("authorization",
                     f"Bearer {keys.token(area=area, roles=roles, subject=subject, groups=groups)}"),)
    try:
        reply = client.GetDataKey(pb.GetDataKeyRequest(request_id=REQ, purpose=purpose), metadata=metadata)
        return grpc.StatusCode.OK, set(), reply.data_key
    except grpc.RpcError as error:
        reasons = {d.reason for d in status_details(error) if isinstance(d, error_details_pb2.ErrorInfo)}
        return error.code(), reasons, b""


def trail(engine, after=0) -> list:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(
            sa.select(audit_log.c.action, audit_log.c.actor, audit_log.c.roles, audit_log.c.detail)
            .where(audit_log.c.sequence > after, audit_log.c.request_id == REQ).order_by(audit_log.c.sequence))]


def head(engine) -> int:
    with engine.connect() as c:
        return c.execute(sa.select(sa.func.coalesce(sa.func.max(audit_log.c.sequence), 0))).scalar()


P_GROUP, P_EXPERT = f"group:{GROUP}", f"expert_organisation:{EXPERT}"

# (cell, before the read, roles, subject, ot_groups, the refusal's reason or "OK", the trail entry written)
CELLS = [
    ("owner", None, ("professional",), OWNER, (), "OK", ("content.read", "purpose=view; as=owner")),
    ("another professional", None, ("professional",), "prof-2", (), "NOT_OWNER",
     ("content.refused", "purpose=view; refused=NOT_OWNER")),
    ("coordinator", None, ("coordinator",), "coord-1", (), "OK", ("content.read", "purpose=view; as=coordinator")),
    ("coordinator, consent withdrawn", withdraw, ("coordinator",), "coord-1", (), "OK",
     ("content.read", "purpose=view; as=coordinator")),
    ("assigned expert", None, ("expert",), f"expert-{EXPERT}", (), "OK",
     ("content.read", f"purpose=view; as=assigned_expert; party={P_EXPERT}; sharing=CONSENT_IN_SCOPE")),
    ("an expert never assigned", None, ("expert",), "expert-vaalijala", (), "NOT_ASSIGNED",
     ("content.refused", "purpose=view; refused=NOT_ASSIGNED")),
    ("unassigned expert", expert_unassigned, ("expert",), f"expert-{EXPERT}", (), "NOT_ASSIGNED",
     ("content.refused", "purpose=view; refused=NOT_ASSIGNED")),
    ("assigned expert, consent withdrawn", withdraw, ("expert",), f"expert-{EXPERT}", (), "CONSENT_WITHDRAWN",
     ("content.refused", f"purpose=view; refused=CONSENT_WITHDRAWN; party={P_EXPERT}; sharing=CONSENT_WITHDRAWN")),
    ("assigned expert out of the consent's scope", scope_only_group, ("expert",), f"expert-{EXPERT}", (),
     "NOT_IN_SCOPE",
     ("content.refused", f"purpose=view; refused=NOT_IN_SCOPE; party={P_EXPERT}; sharing=NOT_IN_SCOPE")),
    ("an assigned expert's id as a subject without the expert- prefix", None, ("expert",), EXPERT, (),
     "NOT_ASSIGNED", ("content.refused", "purpose=view; refused=NOT_ASSIGNED")),
    ("the booked group's secretary", None, ("secretary",), "secr-1", (GROUP,), "OK",
     ("content.read", f"purpose=view; as=group_secretary; party={P_GROUP}; sharing=CONSENT_IN_SCOPE")),
    ("the booked group's member", None, ("group-member",), "member-1", (OTHER_GROUP, GROUP), "OK",
     ("content.read", f"purpose=view; as=group_member; party={P_GROUP}; sharing=CONSENT_IN_SCOPE")),
    ("another group's secretary", None, ("secretary",), "secr-2", (OTHER_GROUP,), "NOT_BOOKED_GROUP",
     ("content.refused", "purpose=view; refused=NOT_BOOKED_GROUP")),
    ("another group's member", None, ("group-member",), "member-2", (OTHER_GROUP,), "NOT_BOOKED_GROUP",
     ("content.refused", "purpose=view; refused=NOT_BOOKED_GROUP")),
    ("a secretary of no group (no longer an area-wide reader)", None, ("secretary",), "secr-3", (),
     "NOT_BOOKED_GROUP", ("content.refused", "purpose=view; refused=NOT_BOOKED_GROUP")),
    ("the booked group's member after the recommendations were returned", returned, ("group-member",), "member-1",
     (GROUP,), "RECOMMENDATIONS_RETURNED",
     ("content.refused", f"purpose=view; refused=RECOMMENDATIONS_RETURNED; party={P_GROUP}")),
    ("the booked group's secretary after the recommendations were returned (to record them)", returned,
     ("secretary",), "secr-1", (GROUP,), "OK",
     ("content.read", f"purpose=view; as=group_secretary; party={P_GROUP}; sharing=CONSENT_IN_SCOPE")),
    ("the booked group's secretary after the request was withdrawn", request_withdrawn, ("secretary",), "secr-1",
     (GROUP,), "NOT_BOOKED_GROUP", ("content.refused", "purpose=view; refused=NOT_BOOKED_GROUP")),
    ("the booked group's member, consent withdrawn", withdraw, ("group-member",), "member-1", (GROUP,),
     "CONSENT_WITHDRAWN",
     ("content.refused", f"purpose=view; refused=CONSENT_WITHDRAWN; party={P_GROUP}; sharing=CONSENT_WITHDRAWN")),
    ("the booked group's secretary, group out of the consent's scope", scope_only_expert, ("secretary",), "secr-1",
     (GROUP,), "NOT_IN_SCOPE",
     ("content.refused", f"purpose=view; refused=NOT_IN_SCOPE; party={P_GROUP}; sharing=NOT_IN_SCOPE")),
]


@pytest.mark.parametrize("cell, before, roles, subject, groups, outcome, entry", CELLS, ids=[c[0] for c in CELLS])
def test_who_gets_the_data_key_and_every_answer_is_in_the_trail(client, keys, handlers, engine, case, cell, before,
                                                                roles, subject, groups, outcome, entry):
    owners_key = handlers.data_key(person(OWNER), REQ, "setup")
    if before:
        before(handlers)
    start = head(engine)
    code, reasons, key = read(client, keys, roles, subject, groups)
    if outcome == "OK":
        assert (code, key) == (grpc.StatusCode.OK, owners_key)
    else:
        assert (code, reasons) == (grpc.StatusCode.PERMISSION_DENIED, {outcome})
    assert trail(engine, start) == [(entry[0], subject, ",".join(sorted(roles)), entry[1])]


def test_a_refusal_names_the_party_and_says_why_in_both_languages(client, keys, handlers, case):
    withdraw(handlers)
    with pytest.raises(grpc.RpcError) as err:
        client.GetDataKey(pb.GetDataKeyRequest(request_id=REQ, purpose="view"),
                          metadata=keys.metadata(roles=("expert",), subject=f"expert-{EXPERT}", area=TENANT))
    [info] = [d for d in status_details(err.value) if isinstance(d, error_details_pb2.ErrorInfo)]
    assert (info.reason, dict(info.metadata)) == ("CONSENT_WITHDRAWN", {"request_id": REQ, "party": P_EXPERT})
    assert "peruttu" in err.value.details() and "withdrawn" in err.value.details()


@pytest.mark.parametrize("roles", [("admin",), ("service",)])
def test_the_officer_and_a_platform_service_are_refused_by_role_and_leave_no_entry(client, keys, engine, case, roles):
    start = head(engine)
    subject = "ot-intake" if roles == ("service",) else "dpo-1"
    metadata = keys.metadata(roles=roles, subject=subject, area=TENANT)
    with pytest.raises(grpc.RpcError) as err:
        client.GetDataKey(pb.GetDataKeyRequest(request_id=REQ, purpose="view"), metadata=metadata)
    reasons = {d.reason for d in status_details(err.value) if isinstance(d, error_details_pb2.ErrorInfo)}
    assert (err.value.code(), reasons) == (grpc.StatusCode.PERMISSION_DENIED, {"ROLE_NOT_ALLOWED"})
    assert trail(engine, start) == []


def test_another_areas_token_is_refused_for_every_admitted_role_even_the_booked_groups_and_leaves_no_entry(
        client, keys, engine, case):
    start = head(engine)
    for roles, subject, groups in ((("professional",), OWNER, ()), (("coordinator",), "coord-1", ()),
                                   (("expert",), f"expert-{EXPERT}", ()), (("secretary",), "secr-1", (GROUP,)),
                                   (("group-member",), "member-1", (GROUP,))):
        assert roles[0] in ACCESS[f"/{SERVICE.full_name}/GetDataKey"]
        code, _, key = read(client, keys, roles, subject, groups, area="pohjois-savo")
        assert (code, key) == (grpc.StatusCode.PERMISSION_DENIED, b""), roles
    assert trail(engine, start) == []


def test_every_role_is_either_admitted_by_the_table_or_refused_before_the_handler(client, keys, engine, case):
    # The role half of the cells above: only the five reading roles ever reach the object-level rule.
    start = head(engine)
    for role in ROLES:
        code, reasons, _ = read(client, keys, (role,), "someone-else")
        reached = not (code is grpc.StatusCode.PERMISSION_DENIED and "ROLE_NOT_ALLOWED" in reasons)
        assert reached == (role in {"professional", "coordinator", "secretary", "expert", "group-member"}), role
    assert [(a, roles) for a, _, roles, _ in trail(engine, start)] == [
        ("content.refused", "professional"), ("content.read", "coordinator"), ("content.refused", "secretary"),
        ("content.refused", "expert"), ("content.refused", "group-member")]


def test_withdrawal_stops_the_next_read_at_once_for_the_expert_and_the_group(client, keys, handlers, engine, case):
    expert = (("expert",), f"expert-{EXPERT}", ())
    member = (("group-member",), "member-1", (GROUP,))
    assert read(client, keys, *expert)[0] is grpc.StatusCode.OK
    assert read(client, keys, *member)[0] is grpc.StatusCode.OK
    client.WithdrawConsent(pb.WithdrawConsentRequest(request_id=REQ), metadata=keys.metadata(subject=OWNER,
                                                                                             area=TENANT))
    assert read(client, keys, *expert)[:2] == (grpc.StatusCode.PERMISSION_DENIED, {"CONSENT_WITHDRAWN"})
    assert read(client, keys, *member)[:2] == (grpc.StatusCode.PERMISSION_DENIED, {"CONSENT_WITHDRAWN"})
    assert read(client, keys, ("professional",), OWNER)[0] is grpc.StatusCode.OK  # the owner still reads


def test_consent_not_needed_lets_the_assigned_expert_and_the_booked_group_read(client, keys, handlers, engine):
    open_case(handlers, [], form=ConsentForm.NOT_NEEDED)
    booked(handlers)
    assigned(handlers, [EXPERT])
    code, _, _ = read(client, keys, ("expert",), f"expert-{EXPERT}")
    assert code is grpc.StatusCode.OK
    assert trail(engine)[-1][3] == (f"purpose=view; as=assigned_expert; party={P_EXPERT}; "
                                                 "sharing=CONSENT_NOT_NEEDED")
    assert read(client, keys, ("group-member",), "member-1", (GROUP,))[0] is grpc.StatusCode.OK


def test_written_consent_for_the_ot_team_only_keeps_the_expert_and_the_group_out(client, keys, handlers):
    # What intake opens at submission: the professional must add them to the scope first.
    open_case(handlers, [])
    booked(handlers)
    assigned(handlers, [EXPERT])
    assert read(client, keys, ("expert",), f"expert-{EXPERT}")[1] == {"NOT_IN_SCOPE"}
    assert read(client, keys, ("secretary",), "secr-1", (GROUP,))[1] == {"NOT_IN_SCOPE"}


def test_after_shredding_nobody_gets_the_key_and_the_readers_are_forgotten(client, keys, handlers, engine, clock,
                                                                          case):
    returned(handlers)
    clock.advance(days=2 + 15)  # returned at NOW + 2 days; the group keeps 14 days after that
    assert handlers.purge().shredded == [REQ]
    for roles, subject, groups in ((("professional",), OWNER, ()), (("secretary",), "secr-1", (GROUP,)),
                                   (("expert",), f"expert-{EXPERT}", ())):
        assert read(client, keys, roles, subject, groups)[0] is grpc.StatusCode.NOT_FOUND
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(expert_assignments)).scalar() == 0
        assert c.execute(sa.select(sa.func.count()).select_from(group_bookings)).scalar() == 0


# --- the events: any order, repeats, unknown cases ------------------------------------------------------

def rows(engine):
    with engine.connect() as c:
        return ([tuple(r) for r in c.execute(sa.select(expert_assignments))],
                [tuple(r) for r in c.execute(sa.select(group_bookings))],
                c.execute(sa.select(cases.c.request_id)).scalars().all())


def test_an_assignment_before_consent_knows_the_case_leaves_no_case_row_and_counts_once_the_case_is_opened(
        client, keys, handlers, engine):
    assigned(handlers, [EXPERT])
    booked(handlers)
    assignments, bookings, opened = rows(engine)
    assert opened == [] and assignments == [(REQ, [EXPERT], NOW)] and bookings == [(REQ, GROUP, None, NOW)]
    assert read(client, keys, ("expert",), f"expert-{EXPERT}")[0] is grpc.StatusCode.NOT_FOUND  # no case, no key
    assert trail(engine) == []
    open_case(handlers, [Party(PartyKind.EXPERT_ORGANISATION, EXPERT), Party(PartyKind.GROUP, GROUP)])
    assert read(client, keys, ("expert",), f"expert-{EXPERT}")[0] is grpc.StatusCode.OK
    assert read(client, keys, ("group-member",), "member-1", (GROUP,))[0] is grpc.StatusCode.OK


def test_an_unassignment_naming_an_unknown_expert_keeps_the_remaining_set(client, keys, handlers, engine, case):
    unassigned(handlers, ["never-assigned-here"], [EXPERT, OTHER_EXPERT], NOW + timedelta(minutes=1))
    assert rows(engine)[0] == [(REQ, [OTHER_EXPERT, EXPERT], NOW + timedelta(minutes=1))]
    unassigned(handlers, [EXPERT], [], NOW + timedelta(minutes=2), request_id="0b9e1d4c-3f7a-4c2e-8d51-7a6b5c4d3e2f")
    assert len(rows(engine)[0]) == 2  # an unknown request: a row of its own, empty, nothing else
    assert read(client, keys, ("expert",), f"expert-{EXPERT}")[0] is grpc.StatusCode.OK


def test_a_booking_for_a_case_never_opened_is_kept_aside_and_gives_nobody_anything(client, keys, handlers, engine):
    other = "0b9e1d4c-3f7a-4c2e-8d51-7a6b5c4d3e2f"
    booked(handlers, request_id=other)
    status(handlers, case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED, NOW + timedelta(days=1), request_id=other)
    assignments, bookings, opened = rows(engine)
    assert opened == [] and bookings == [(other, GROUP, NOW + timedelta(days=1), NOW + timedelta(days=1))]
    assert handlers.purge().shredded == []  # nothing to shred, no crash


def test_repeated_events_change_nothing(client, keys, handlers, engine, case):
    before = rows(engine)
    booked(handlers)
    assigned(handlers, [OTHER_EXPERT, EXPERT])
    assert rows(engine) == before


def test_an_older_event_arriving_late_changes_nothing(client, keys, handlers, engine, case):
    expert_unassigned(handlers)                                   # at NOW + 1 h: EXPERT off
    assigned(handlers, [EXPERT, OTHER_EXPERT], NOW)               # the assignment at NOW, again (a replay)
    assert read(client, keys, ("expert",), f"expert-{EXPERT}")[1] == {"NOT_ASSIGNED"}
    request_withdrawn(handlers)                                   # at NOW + 1 day
    booked(handlers, at=NOW + timedelta(hours=2))                 # the booking, late
    assert read(client, keys, ("secretary",), "secr-1", (GROUP,))[1] == {"NOT_BOOKED_GROUP"}


def test_a_question_to_the_professional_and_the_reply_keep_the_booking(client, keys, handlers, case):
    status(handlers, case_pb2.REQUEST_STATUS_AWAITING_INFORMATION, NOW + timedelta(hours=1),
           from_status=case_pb2.REQUEST_STATUS_SCHEDULED)
    assert read(client, keys, ("group-member",), "member-1", (GROUP,))[0] is grpc.StatusCode.OK
    # Back to scheduled: intake need not repeat the meeting and group.
    status(handlers, case_pb2.REQUEST_STATUS_SCHEDULED, NOW + timedelta(hours=2),
           from_status=case_pb2.REQUEST_STATUS_AWAITING_INFORMATION)
    assert read(client, keys, ("group-member",), "member-1", (GROUP,))[0] is grpc.StatusCode.OK
    status(handlers, case_pb2.REQUEST_STATUS_CONSULTED, NOW + timedelta(hours=3))
    assert read(client, keys, ("group-member",), "member-1", (GROUP,))[0] is grpc.StatusCode.OK


def test_a_new_booking_into_another_groups_meeting_moves_the_right(client, keys, handlers, case):
    status(handlers, case_pb2.REQUEST_STATUS_TRIAGED, NOW + timedelta(hours=1))  # unbooked
    assert read(client, keys, ("secretary",), "secr-1", (GROUP,))[1] == {"NOT_BOOKED_GROUP"}
    handlers.record(person(OWNER), REQ, ConsentForm.NOT_NEEDED, None, False, [], None)
    booked(handlers, OTHER_GROUP, NOW + timedelta(hours=2))
    assert read(client, keys, ("secretary",), "secr-1", (GROUP,))[1] == {"NOT_BOOKED_GROUP"}
    assert read(client, keys, ("secretary",), "secr-2", (OTHER_GROUP,))[0] is grpc.StatusCode.OK


@pytest.mark.parametrize("ce_type, message", [
    (ASSIGNED, experts_events_pb2.ExpertsAssigned(request_id="", expert_ids=[EXPERT])),
    (ASSIGNED, experts_events_pb2.ExpertsAssigned(request_id=REQ + "-much-too-long", expert_ids=[EXPERT])),
    (ASSIGNED, experts_events_pb2.ExpertsAssigned(request_id=REQ, expert_ids=["x" * 81])),
    (ASSIGNED, experts_events_pb2.ExpertsAssigned(request_id=REQ, expert_ids=[""])),
    (UNASSIGNED, experts_events_pb2.ExpertsUnassigned(request_id=REQ, remaining_expert_ids=[EXPERT] * 101)),
    (STATUS_CHANGED, intake_events_pb2.RequestStatusChanged(request_id=REQ, to_status=3, group_id="g" * 81)),
])
def test_a_malformed_event_is_a_dead_letter_and_writes_nothing(handlers, engine, ce_type, message):
    with pytest.raises(Poison) as err:
        deliver(handlers, ce_type, message)
    assert classify(err.value) == "permanent"  # the consumer dead-letters it at once and goes on
    assert rows(engine) == ([], [], [])
