"""The case conversation over gRPC on loopback (the real edge, SQLite, a fake consent): entries
sealed with the request's key and read through consent, a question that stops the clock and a
reply that restarts it, the answer that must exist before it is returned, refusals that store
nothing, the purge that leaves only the skeleton, the response times on the worklist (order and
filter in SQL, paging), the meeting agenda and the events (never text)."""
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from ot.common.v1 import case_pb2
from ot.events.v1 import intake_events_pb2 as ev
from ot.intake.v1 import intake_pb2 as pb

from ot_guard.testing import sample
from ot_runtime.testing import field_violations, status_details
from ot_intake.store import entries, outbox

from intake_testkit import NOW, valid_request

GROUP = "haastavat-erot-kuopio"
OWNER = "prof-owner"


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


def when(t: Timestamp) -> datetime:
    return t.ToDatetime(tzinfo=timezone.utc)


def events(engine, ce_type: str, message):
    with engine.connect() as c:
        rows = c.execute(sa.select(outbox.c.payload).where(outbox.c.ce_type == ce_type).order_by(outbox.c.id)).all()
    return [message.FromString(r.payload) for r in rows]


def all_event_bytes(engine) -> bytes:
    with engine.connect() as c:
        return b"".join(c.execute(sa.select(outbox.c.payload)).scalars())


class People:
    def __init__(self, keys):
        self.keys = keys
        self.owner = keys.metadata(subject=OWNER)
        self.other = keys.metadata(subject="prof-other")
        self.coordinator = keys.metadata(roles=("coordinator",), subject="coord-1")
        self.secretary = keys.metadata(roles=("secretary",), subject="secr-1", groups=(GROUP,))
        self.service = keys.metadata(roles=("service",), subject="ot-feedback")

    def expert(self, expert_id: str):
        return self.keys.metadata(roles=("expert",), subject=f"expert-{expert_id}")


@pytest.fixture()
def people(keys):
    return People(keys)


@pytest.fixture()
def client(stub):
    return stub[0]


def submit(client, people, **changes) -> str:
    return client.SubmitRequest(valid_request(**changes), metadata=people.owner).request_id


def add(client, md, request_id, kind, text, **extra) -> pb.Entry:
    return client.AddEntry(pb.AddEntryRequest(request_id=request_id, kind=kind, text=text, **extra), metadata=md)


def status(client, people, request_id) -> int:
    return client.GetRequest(pb.GetRequestRequest(request_id=request_id), metadata=people.coordinator).status


# --- the OT-TUKI return trip --------------------------------------------------------------------
def test_a_question_a_reply_advice_and_the_answer_returned(client, people, clock, engine, vault):
    rid = submit(client, people)
    clock.advance(days=1)  # Tuesday
    question = add(client, people.coordinator, rid, pb.ENTRY_KIND_QUESTION,
                   "Onko perheneuvolan arvio jo tehty?", author_name="OT-keskus, koordinaattori")
    assert (question.sequence, question.author_role, question.author_subject) == (1, "coordinator", "coord-1")
    waiting = client.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=people.owner)
    assert waiting.status == case_pb2.REQUEST_STATUS_AWAITING_INFORMATION
    assert when(waiting.first_response_at) == NOW + timedelta(days=1)

    clock.advance(days=2)  # Thursday: the professional replies; the request goes back to where it was
    reply = add(client, people.owner, rid, pb.ENTRY_KIND_REPLY, "Arvio on tehty viime kuussa.")
    assert reply.sequence == 2 and reply.author_role == "professional"
    back = client.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=people.owner)
    assert back.status == case_pb2.REQUEST_STATUS_SUBMITTED
    # Wednesday and Thursday were paused: the target moves from Monday 9 to Wednesday 11 March.
    assert when(back.response_due_at).date() == datetime(2026, 3, 11).date()

    add(client, people.coordinator, rid, pb.ENTRY_KIND_NOTE, "Sisäinen: kysy myös koulun näkemys.")
    advice = add(client, people.coordinator, rid, pb.ENTRY_KIND_ADVICE,
                 "Suosittelemme Barnahuksen konsultaatiota.", expert_ids=["barnahus"])
    assert list(advice.expert_ids) == ["barnahus"]
    clock.advance(days=1)  # Friday
    answered = client.ReturnRecommendations(pb.RequestRef(request_id=rid), metadata=people.coordinator)
    assert answered.status == case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED
    assert when(answered.answered_at) == NOW + timedelta(days=4)
    assert answered.waiting_working_days == 2 and not answered.past_target  # four days, two of them paused

    seen = client.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=people.owner)
    assert [(e.sequence, e.kind) for e in seen.entries] == [
        (1, pb.ENTRY_KIND_QUESTION), (2, pb.ENTRY_KIND_REPLY), (4, pb.ENTRY_KIND_ADVICE)]  # no note
    assert seen.entries[0].text == "Onko perheneuvolan arvio jo tehty?"
    assert seen.entries[0].author_name == "OT-keskus, koordinaattori" and not seen.content_erased
    team = client.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=people.coordinator)
    assert [e.kind for e in team.entries][2] == pb.ENTRY_KIND_NOTE
    assert (rid, "conversation") in vault.reads  # every read of the text went through consent

    # Stored only sealed; the events say what happened, never the text or the author's name.
    with engine.connect() as c:
        stored = repr(c.execute(sa.select(entries)).all())
    published = all_event_bytes(engine)
    for text in ("perheneuvolan", "viime kuussa", "Barnahuksen", "koulun näkemys"):
        assert text not in stored and text.encode() not in published
    assert b"OT-keskus, koordinaattori" not in published
    added = events(engine, "ot.intake.conversation.entry_added.v1", ev.ConversationEntryAdded)
    assert [(e.kind, e.author_role) for e in added] == [(1, "coordinator"), (2, "professional"), (6, "coordinator"),
                                                        (3, "coordinator")]
    assert all(e.request_id == rid and e.type == case_pb2.REQUEST_TYPE_OT_TUKI for e in added)
    changes = events(engine, "ot.intake.request.status_changed.v1", ev.RequestStatusChanged)
    assert [(c.from_status, c.to_status) for c in changes] == [
        (case_pb2.REQUEST_STATUS_SUBMITTED, case_pb2.REQUEST_STATUS_AWAITING_INFORMATION),
        (case_pb2.REQUEST_STATUS_AWAITING_INFORMATION, case_pb2.REQUEST_STATUS_SUBMITTED),
        (case_pb2.REQUEST_STATUS_SUBMITTED, case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED)]
    last = changes[-1]
    assert when(last.submitted_at) == NOW and when(last.first_response_at) == NOW + timedelta(days=1)
    assert when(last.answered_at) == NOW + timedelta(days=4) and last.waiting_working_days == 2


def test_the_answer_cannot_be_returned_before_it_is_written(client, people):
    rid = submit(client, people)
    add(client, people.coordinator, rid, pb.ENTRY_KIND_NOTE, "Selvitetään.")
    error = refused(client.ReturnRecommendations, pb.RequestRef(request_id=rid), metadata=people.coordinator)
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "neuvo, toimenpidesuositukset tai lausunto" in error.details() and "no answer to return" in error.details()
    assert status(client, people, rid) == case_pb2.REQUEST_STATUS_SUBMITTED


def test_a_second_question_keeps_the_wait_and_only_the_owners_reply_ends_it(client, people, engine):
    rid = submit(client, people)
    add(client, people.coordinator, rid, pb.ENTRY_KIND_QUESTION, "Kuinka vanha lapsi on?")
    add(client, people.coordinator, rid, pb.ENTRY_KIND_QUESTION, "Entä sisarukset?")
    assert status(client, people, rid) == case_pb2.REQUEST_STATUS_AWAITING_INFORMATION
    error = refused(add, client, people.other, rid, pb.ENTRY_KIND_REPLY, "En ole pyytäjä.")
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_OWNER")
    assert status(client, people, rid) == case_pb2.REQUEST_STATUS_AWAITING_INFORMATION
    add(client, people.owner, rid, pb.ENTRY_KIND_REPLY, "Kaksitoista, ja kaksi sisarusta.")
    assert status(client, people, rid) == case_pb2.REQUEST_STATUS_SUBMITTED
    assert len(events(engine, "ot.intake.request.status_changed.v1", ev.RequestStatusChanged)) == 2


def test_who_writes_which_kind_at_the_edge(client, people):
    rid = submit(client, people)
    for md, kind, reason in ((people.owner, pb.ENTRY_KIND_ADVICE, "KIND_NOT_ALLOWED"),
                             (people.coordinator, pb.ENTRY_KIND_REPLY, "KIND_NOT_ALLOWED"),
                             (people.secretary, pb.ENTRY_KIND_QUESTION, "NOT_GROUP_SECRETARY"),  # not booked
                             (people.expert("barnahus"), pb.ENTRY_KIND_STATEMENT, "NOT_ASSIGNED")):
        error = refused(add, client, md, rid, kind, "Teksti.")
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, reason), (kind, reason)
    error = refused(add, client, people.keys.metadata(roles=("group-member",), groups=(GROUP,)), rid,
                    pb.ENTRY_KIND_NOTE, "Teksti.")
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    assert client.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=people.coordinator).entries == []


@pytest.mark.parametrize("role,subject,groups,outcome", [
    ("professional", OWNER, (), ["pre_information", "recommendations"]),   # the owner: no notes
    ("professional", "prof-other", (), "NOT_OWNER"),
    ("coordinator", "coord-2", (), ["pre_information", "note", "recommendations"]),
    ("secretary", "secr-1", (GROUP,), ["pre_information", "note", "recommendations"]),
    ("secretary", "secr-2", ("haastavat-erot-jyvaskyla",), "NOT_GROUP_SECRETARY"),
    ("group-member", "member-1", (GROUP,), ["pre_information", "recommendations"]),
    ("group-member", "member-2", ("haastavat-erot-jyvaskyla",), "NOT_GROUP_MEMBER"),
    ("expert", "expert-barnahus", (), "NOT_ASSIGNED"),
])
def test_who_reads_a_booked_cases_conversation(client, people, keys, vault, role, subject, groups, outcome):
    meeting = client.PublishMeeting(pb.PublishMeetingRequest(group_id=GROUP, starts_at=ts(NOW + timedelta(days=20)),
                                                             capacity=3), metadata=people.secretary)
    rid = submit(client, people, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION)
    client.BookMeeting(pb.BookMeetingRequest(request_id=rid, meeting_id=meeting.meeting_id), metadata=people.owner)
    add(client, people.owner, rid, pb.ENTRY_KIND_PRE_INFORMATION, "Esitiedot.")
    add(client, people.secretary, rid, pb.ENTRY_KIND_NOTE, "Sihteerin muistiinpano.")
    add(client, people.secretary, rid, pb.ENTRY_KIND_RECOMMENDATIONS, "Suositukset.")
    vault.reads.clear()
    md = keys.metadata(roles=(role,), subject=subject, groups=groups)
    if isinstance(outcome, str):
        error = refused(client.ListEntries, pb.ListEntriesRequest(request_id=rid), metadata=md)
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, outcome)
        assert vault.reads == []  # refused before any key was asked for
        return
    got = client.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=md).entries
    assert [pb.EntryKind.Name(e.kind).removeprefix("ENTRY_KIND_").lower() for e in got] == outcome
    assert all(e.text for e in got) and vault.reads == [(rid, "conversation")]


# --- refusals store nothing ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["identity_code", "name", "phone", "diagnosis_code"])
def test_a_text_with_client_identifiers_is_refused_and_nothing_is_stored(client, people, engine, vault, kind):
    rid = submit(client, people)
    vault.reads.clear()
    with engine.connect() as c:
        before = c.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
    error = refused(add, client, people.owner, rid, pb.ENTRY_KIND_REPLY, sample(kind))
    assert [(v.field, v.reason) for v in field_violations(error)] == [("text", kind)]
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one() == 0
        assert c.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one() == before
    assert vault.reads == []  # consent was not even asked


@pytest.mark.parametrize("request_,field", [
    (pb.AddEntryRequest(kind=pb.ENTRY_KIND_REPLY, text="x" * 12001), "text"),
    (pb.AddEntryRequest(kind=pb.ENTRY_KIND_REPLY, text="Teksti\x00."), "text"),
    (pb.AddEntryRequest(kind=99, text="Teksti."), "kind"),
    (pb.AddEntryRequest(text="Teksti."), "kind"),                                        # no kind
    (pb.AddEntryRequest(kind=pb.ENTRY_KIND_REPLY, text="  "), "text"),
    (pb.AddEntryRequest(kind=pb.ENTRY_KIND_REPLY, text="Teksti.", expert_ids=["barnahus"]), "expert_ids"),
    (pb.AddEntryRequest(kind=pb.ENTRY_KIND_REPLY, text="Teksti.", expert_ids=["Ei tunnus"]), "expert_ids[0]"),
    (pb.AddEntryRequest(kind=pb.ENTRY_KIND_REPLY, text="Teksti.", idempotency_key="avain välillä"),
     "idempotency_key"),
])
def test_malformed_entries_are_invalid_argument_naming_the_field(client, people, engine, request_, field):
    rid = submit(client, people)
    request_.request_id = rid
    error = refused(client.AddEntry, request_, metadata=people.owner)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field in [v.field for v in field_violations(error)]
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one() == 0


def test_consent_refusing_an_expert_refuses_their_statement_and_their_reading(client, people, handlers, engine,
                                                                              vault):
    rid = submit(client, people, type=case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT)
    with handlers.sessions.begin() as s:
        handlers.on_experts_assigned(s, rid, ["barnahus"])
    add(client, people.expert("barnahus"), rid, pb.ENTRY_KIND_STATEMENT, "Lausunto: koulun tuki riittää.")
    vault.refuse.add("expert-barnahus")  # consent withdrawn: its own check now refuses the key
    error = refused(add, client, people.expert("barnahus"), rid, pb.ENTRY_KIND_STATEMENT, "Toinen lausunto.")
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "CONSENT_REFUSED")
    error = refused(client.ListEntries, pb.ListEntriesRequest(request_id=rid), metadata=people.expert("barnahus"))
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "CONSENT_REFUSED")
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one() == 1
    owner_view = client.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=people.owner)
    assert [e.text for e in owner_view.entries] == ["Lausunto: koulun tuki riittää."]


def test_a_retry_with_the_same_idempotency_key_writes_one_entry(client, people, engine):
    rid = submit(client, people)
    first = add(client, people.coordinator, rid, pb.ENTRY_KIND_QUESTION, "Kysymys?", idempotency_key="q-1")
    again = add(client, people.coordinator, rid, pb.ENTRY_KIND_QUESTION, "Kysymys?", idempotency_key="q-1")
    assert again.entry_id == first.entry_id and again.text == "Kysymys?"
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one() == 1
    assert len(events(engine, "ot.intake.conversation.entry_added.v1", ev.ConversationEntryAdded)) == 1
    # Another author's key is theirs alone.
    other = add(client, people.owner, rid, pb.ENTRY_KIND_REPLY, "Vastaus.", idempotency_key="q-1")
    assert other.entry_id != first.entry_id


def test_a_new_submission_asks_no_entry_count_and_a_retry_shows_the_entries_made_since(client, people, engine):
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    first = client.SubmitRequest(valid_request(idempotency_key="lomake-7"), metadata=people.owner)
    assert first.entries == 0
    # Nothing can have been written to a request's conversation before the request itself.
    assert not [s for s in statements if "FROM entries" in s], statements
    add(client, people.coordinator, first.request_id, pb.ENTRY_KIND_QUESTION, "Kysymys?")
    # The form sent again (a double click, a retry after a timeout): the same request, as it is now.
    again = client.SubmitRequest(valid_request(idempotency_key="lomake-7"), metadata=people.owner)
    assert again.request_id == first.request_id and again.entries == 1


# --- the purge ----------------------------------------------------------------------------------
def test_after_the_key_is_shredded_every_entry_is_unreadable_and_the_skeleton_stays(client, people, handlers,
                                                                                    engine, vault):
    rid = submit(client, people)
    add(client, people.coordinator, rid, pb.ENTRY_KIND_QUESTION, "Kysymys?", author_name="Koordinaattori Koe")
    add(client, people.owner, rid, pb.ENTRY_KIND_REPLY, "Vastaus.")
    vault.shred(rid)
    # Consent has shredded; intake has not heard yet: the read finds no key and says so.
    early = client.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=people.owner)
    assert early.content_erased and [e.text for e in early.entries] == ["", ""]
    with handlers.sessions.begin() as s:
        handlers.on_content_erased(s, rid)
    later = client.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=people.coordinator)
    assert later.content_erased and all(e.content_erased and e.text == "" and e.author_name == ""
                                        for e in later.entries)
    assert [(e.sequence, e.kind, e.author_role) for e in later.entries] == [
        (1, pb.ENTRY_KIND_QUESTION, "coordinator"), (2, pb.ENTRY_KIND_REPLY, "professional")]
    with engine.connect() as c:
        assert set(c.execute(sa.select(entries.c.sealed_text)).scalars()) == {None}
    error = refused(add, client, people.coordinator, rid, pb.ENTRY_KIND_NOTE, "Myöhässä.")
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION and "CONTENT_ERASED" in repr(status_details(error))
    kept = client.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=people.coordinator)
    assert kept.first_response_at.seconds and kept.type == case_pb2.REQUEST_TYPE_OT_TUKI and kept.entries == 2


# --- who sees what on the request ---------------------------------------------------------------
def test_owner_subject_and_entry_counts_depend_on_who_asks(client, people):
    rid = submit(client, people)
    add(client, people.coordinator, rid, pb.ENTRY_KIND_QUESTION, "Kysymys?")
    add(client, people.coordinator, rid, pb.ENTRY_KIND_NOTE, "Sisäinen.")
    get = pb.GetRequestRequest(request_id=rid)
    owner_view = client.GetRequest(get, metadata=people.owner)
    assert (owner_view.owner_subject, owner_view.entries) == (OWNER, 1)  # the note is not theirs to see
    assert client.GetRequest(get, metadata=people.service).owner_subject == OWNER  # feedback's notifications
    team_view = client.GetRequest(get, metadata=people.coordinator)
    assert (team_view.owner_subject, team_view.entries) == ("", 2)
    listed = client.ListRequests(pb.ListRequestsRequest(), metadata=people.secretary).requests
    assert [(r.request_id, r.entries, r.owner_subject) for r in listed] == [(rid, 0, "")]  # not their group's


# --- the worklist: longest waiting first, past target, paging -----------------------------------
def test_the_worklist_orders_by_the_target_and_filters_those_past_it(client, people, clock):
    ids = {}
    for name in ("first", "second", "third", "fourth", "answered"):
        ids[name] = submit(client, people)
        clock.advance(days=1)
    # Now Saturday 7 March. The second waits for the professional: it is not the team's to hurry.
    add(client, people.coordinator, ids["second"], pb.ENTRY_KIND_QUESTION, "Kysymys?")
    add(client, people.coordinator, ids["answered"], pb.ENTRY_KIND_ADVICE, "Neuvo.")
    client.ReturnRecommendations(pb.RequestRef(request_id=ids["answered"]), metadata=people.coordinator)
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc))  # Tuesday: first (due Mon 9) is late

    order = pb.ListRequestsRequest(order=pb.REQUEST_ORDER_LONGEST_WAITING, page_size=1)
    seen, token = [], ""
    while True:
        order.page_token = token
        page = client.ListRequests(order, metadata=people.coordinator)
        seen += [r.request_id for r in page.requests]
        token = page.next_page_token
        if not token:
            break
    assert seen == [ids["first"], ids["third"], ids["fourth"], ids["second"], ids["answered"]]
    assert page.total_count == 5

    late = client.ListRequests(pb.ListRequestsRequest(past_target_only=True), metadata=people.coordinator)
    assert [r.request_id for r in late.requests] == [ids["first"]] and late.total_count == 1
    assert late.requests[0].past_target and late.requests[0].waiting_working_days == 6
    clock.set(datetime(2026, 3, 13, 12, 0, tzinfo=timezone.utc))  # Friday: the third and fourth too
    late = client.ListRequests(pb.ListRequestsRequest(past_target_only=True, order=pb.REQUEST_ORDER_LONGEST_WAITING),
                               metadata=people.coordinator)
    assert [r.request_id for r in late.requests] == [ids["first"], ids["third"], ids["fourth"]]


def test_a_page_token_of_the_other_order_is_invalid_argument(client, people):
    for _ in range(3):
        submit(client, people)
    newest = client.ListRequests(pb.ListRequestsRequest(page_size=1), metadata=people.coordinator).next_page_token
    error = refused(client.ListRequests, pb.ListRequestsRequest(order=pb.REQUEST_ORDER_LONGEST_WAITING,
                                                                page_token=newest), metadata=people.coordinator)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in field_violations(error)] == ["page_token"]


# --- meetings: location, agenda, material -------------------------------------------------------
def test_the_agenda_shows_the_bookings_and_the_material_by_the_deadline(client, people, clock, engine):
    meeting = client.PublishMeeting(pb.PublishMeetingRequest(
        group_id=GROUP, starts_at=ts(NOW + timedelta(days=20)), capacity=3,
        location="https://meet.example.fi/haastavat-erot"), metadata=people.secretary)
    assert meeting.location == "https://meet.example.fi/haastavat-erot"
    [published] = events(engine, "ot.intake.meeting.published.v1", ev.MeetingPublished)
    assert published.location == meeting.location
    with_form = submit(client, people, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, anonymous=True)
    without = submit(client, people, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION)
    for rid in (with_form, without):
        client.BookMeeting(pb.BookMeetingRequest(request_id=rid, meeting_id=meeting.meeting_id), metadata=people.owner)
    clock.advance(days=2)
    add(client, people.owner, with_form, pb.ENTRY_KIND_PRE_INFORMATION, "Esitiedot: vuoroasuminen, riitaa.")
    booking = events(engine, "ot.intake.request.status_changed.v1", ev.RequestStatusChanged)[0]
    assert (booking.meeting_id, booking.group_id) == (meeting.meeting_id, GROUP)  # consent learns the booking

    agenda = client.GetMeetingAgenda(pb.GetMeetingAgendaRequest(meeting_id=meeting.meeting_id),
                                     metadata=people.secretary)
    assert agenda.meeting.location == meeting.location
    items = {i.request_id: i for i in agenda.items}
    assert items[with_form].anonymous and not items[without].anonymous
    assert when(items[with_form].material_received_at) == NOW + timedelta(days=2)
    assert when(items[with_form].booked_at) == NOW and not items[without].HasField("material_received_at")
    assert not items[without].material_missing  # the deadline (13 days from now) has not passed
    clock.advance(days=12)  # past the booking deadline (7 days before the meeting)
    agenda = client.GetMeetingAgenda(pb.GetMeetingAgendaRequest(meeting_id=meeting.meeting_id),
                                     metadata=people.coordinator)
    assert {i.request_id: i.material_missing for i in agenda.items} == {with_form: False, without: True}
    assert "vuoroasuminen" not in repr(agenda)  # no content on the agenda

    # The booked group's secretary reads and writes the case; after a withdrawal, the booking is gone.
    assert client.ListEntries(pb.ListEntriesRequest(request_id=with_form), metadata=people.secretary).entries
    client.WithdrawRequest(pb.RequestRef(request_id=without), metadata=people.owner)
    agenda = client.GetMeetingAgenda(pb.GetMeetingAgendaRequest(meeting_id=meeting.meeting_id),
                                     metadata=people.secretary)
    assert [i.request_id for i in agenda.items] == [with_form]


def test_a_location_is_guarded_and_an_unknown_meeting_has_no_agenda(client, people, engine):
    error = refused(client.PublishMeeting, pb.PublishMeetingRequest(
        group_id=GROUP, starts_at=ts(NOW + timedelta(days=20)), capacity=3, location=sample("identity_code")),
        metadata=people.secretary)
    assert [(v.field, v.reason) for v in field_violations(error)] == [("location", "identity_code")]
    assert client.ListMeetings(pb.ListMeetingsRequest(), metadata=people.secretary).meetings == []
    error = refused(client.GetMeetingAgenda, pb.GetMeetingAgendaRequest(meeting_id="0b6f3c1e-2f0e-4c84-9a51-6f1f1d2b9a10"),
                    metadata=people.coordinator)
    assert error.code() is grpc.StatusCode.NOT_FOUND


# --- the professional's own data -----------------------------------------------------------------
def test_export_lists_the_professionals_entries_and_erasure_blanks_their_name(client, people, handlers):
    import json
    rid = submit(client, people)
    add(client, people.owner, rid, pb.ENTRY_KIND_REPLY, "Lisätietoa tilanteesta.", author_name="Testi Ammattilainen")
    export = json.loads(handlers.export_professional(handlers_person(OWNER), OWNER)[1])
    [entry] = export["conversation_entries"]
    assert (entry["request_id"], entry["kind"], entry["author_name"]) == (rid, "reply", "Testi Ammattilainen")
    assert "Lisätietoa" not in json.dumps(export)  # the text is the client's case, not the worker's data
    handlers.erase_professional(handlers_person("dpo", "admin"), OWNER)
    [kept] = client.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=people.coordinator).entries
    assert kept.author_name == "" and kept.author_subject.startswith("erased:") and kept.text


def handlers_person(subject, role="professional"):
    from intake_testkit import person
    return person(subject, role)
