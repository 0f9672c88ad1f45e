"""The case conversation end to end on real PostgreSQL and Kafka with the real consent service:
an OT-TUKI request asked for more information (the clock stops), answered by its owner (the
clock goes on), advised and returned, every read audited by consent, and after the retention
purge every entry unreadable while the request keeps what statistics count; a group booking
whose group reads and answers; an assigned expert who reads and writes until the consent is
withdrawn; and the demo data `make run` loads, through the real consent, twice.

Intake and consent share one clock (a Monday in a March without holidays) so that working days
are exact; tokens are checked against real time as always."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from kafka import KafkaProducer
from ot.common.v1 import case_pb2
from ot.consent.v1 import consent_pb2 as cpb
from ot.consent.v1 import consent_pb2_grpc
from ot.events.v1 import experts_events_pb2, intake_events_pb2 as ev
from ot.intake.v1 import intake_pb2 as pb
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.clock import FixedClock
from ot_runtime.cloudevents import CloudEvent
from ot_runtime.testing import status_details

from conftest import TENANT, header, read_topic, service_env, wait_consumed, wait_until
from test_intake_flow import submit_request

MONDAY = datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc)  # no Finnish holiday in March 2030
GROUP = "haastavat-erot-pohjois-savo"
ENTRY_ADDED = "ot.intake.conversation.entry_added.v1"
STATUS_CHANGED = "ot.intake.request.status_changed.v1"


def stubs(intake):
    return (intake_pb2_grpc.IntakeServiceStub(intake.channel),
            consent_pb2_grpc.ConsentServiceStub(intake.consent.channel))


def reason_of(error: grpc.RpcError) -> str:
    return next((d.reason for d in status_details(error) if isinstance(d, error_details_pb2.ErrorInfo)), "")


def refused(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


def when(t: Timestamp) -> datetime:
    return t.ToDatetime(tzinfo=timezone.utc)


def ts(at: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(at)
    return out


def person(keys, role, subject, groups=()):
    return keys.metadata(roles=(role,), subject=subject, groups=groups)


def trail(consent, keys, request_id) -> list[tuple[str, str, str]]:
    """(action, actor, detail) of every audit entry about the request, as the data-protection officer sees them."""
    got = consent.QueryAudit(cpb.QueryAuditRequest(request_id=request_id),
                             metadata=keys.metadata(roles=("admin",), subject="dpo-it"))
    return [(e.action, e.actor, e.detail) for e in got.entries]


def reads(consent, keys, request_id, purpose: str) -> list[str]:
    return [actor for action, actor, detail in trail(consent, keys, request_id)
            if action == "content.read" and f"purpose={purpose}" in detail.split("; ")]


@pytest.fixture()
def shared_clock():
    return FixedClock(MONDAY)


@pytest.fixture()
def started(start_intake, start_consent, shared_clock):
    """Intake and consent on one clock."""
    return start_intake(clock=shared_clock, consent=start_consent(shared_clock))


def test_an_ot_tuki_question_reply_advice_and_return_audited_then_purged(started, keys, shared_clock,
                                                                         kafka_bootstrap):
    intake, consent = stubs(started)
    owner = keys.metadata(subject="prof-conversation")
    coordinator = person(keys, "coordinator", "coord-conversation")
    rid = intake.SubmitRequest(submit_request(), metadata=owner).request_id

    shared_clock.advance(days=1)  # Tuesday: the OT team asks
    intake.AddEntry(pb.AddEntryRequest(request_id=rid, kind=pb.ENTRY_KIND_QUESTION,
                                       text="Onko sijaishuoltopaikan kanssa pidetty yhteinen palaveri?",
                                       author_name="OT-keskus"), metadata=coordinator)
    asked = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=owner)
    assert asked.status == case_pb2.REQUEST_STATUS_AWAITING_INFORMATION
    assert asked.waiting_working_days == 1 and asked.owner_subject == "prof-conversation"

    shared_clock.advance(days=3)  # Friday: the clock has stood still since Tuesday
    waiting = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=coordinator)
    assert waiting.waiting_working_days == 1 and not waiting.past_target
    assert intake.ListRequests(pb.ListRequestsRequest(past_target_only=True), metadata=coordinator).total_count == 0
    intake.AddEntry(pb.AddEntryRequest(request_id=rid, kind=pb.ENTRY_KIND_REPLY,
                                       text="Palaveri pidettiin, mutta sopimukset eivät ole pitäneet."), metadata=owner)
    replied = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=owner)
    assert replied.status == case_pb2.REQUEST_STATUS_SUBMITTED
    # Wednesday to Friday paused: the target moves from Monday 11 to Thursday 14 March.
    assert when(replied.response_due_at).date() == datetime(2030, 3, 14).date()

    shared_clock.advance(days=3)  # Monday: the advice, and the answer goes back
    intake.AddEntry(pb.AddEntryRequest(request_id=rid, kind=pb.ENTRY_KIND_ADVICE, expert_ids=["tukikeskus-varjo"],
                                       text="Suosittelemme Tukikeskus Varjon konsultaatiota ja verkostopalaveria."),
                    metadata=coordinator)
    answered = intake.ReturnRecommendations(pb.RequestRef(request_id=rid), metadata=coordinator)
    assert answered.status == case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED
    assert when(answered.first_response_at) == MONDAY + timedelta(days=1)
    assert when(answered.answered_at) == MONDAY + timedelta(days=7)
    assert answered.waiting_working_days == 2  # five working days, three of them paused

    seen = intake.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=owner)
    assert [e.kind for e in seen.entries] == [pb.ENTRY_KIND_QUESTION, pb.ENTRY_KIND_REPLY, pb.ENTRY_KIND_ADVICE]
    assert seen.entries[2].text.startswith("Suosittelemme") and list(seen.entries[2].expert_ids) == ["tukikeskus-varjo"]
    intake.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=coordinator)

    # Every read and write of the text was a key handed out by consent to that person, audited.
    assert reads(consent, keys, rid, "conversation") == ["prof-conversation", "coord-conversation"]
    assert reads(consent, keys, rid, "conversation entry") == ["coord-conversation", "prof-conversation",
                                                              "coord-conversation"]

    # On Kafka: what happened and the response times, never a text.
    records = read_topic(kafka_bootstrap, started.settings.topic("intake"), expect=7)
    added = [ev.ConversationEntryAdded.FromString(r.value) for r in records if header(r, "ce_type") == ENTRY_ADDED]
    assert [(e.kind, e.author_role) for e in added] == [(1, "coordinator"), (2, "professional"), (3, "coordinator")]
    changes = [ev.RequestStatusChanged.FromString(r.value) for r in records if header(r, "ce_type") == STATUS_CHANGED]
    assert [c.to_status for c in changes] == [case_pb2.REQUEST_STATUS_AWAITING_INFORMATION,
                                             case_pb2.REQUEST_STATUS_SUBMITTED,
                                             case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED]
    assert changes[-1].waiting_working_days == 2 and when(changes[-1].submitted_at) == MONDAY
    for text in ("sijaishuoltopaikan", "sopimukset", "Varjon", "OT-keskus"):
        assert all(text.encode() not in r.value for r in records)

    # The retention purge (30 days after the answer for OT-TUKI) makes every entry unreadable.
    with started.consent.app.engine.connect() as c:
        wait_until(lambda: c.execute(sa.text("SELECT recommendations_returned_at FROM cases WHERE request_id=:r"),
                                     {"r": rid}).scalar(), what="consent to start the retention clock")
    shared_clock.advance(days=31)
    assert list(consent.RunPurge(cpb.RunPurgeRequest(), metadata=coordinator).request_ids) == [rid]
    # At once nobody gets the key (the conversation reads as erased); then intake hears of it and
    # drops its ciphertexts.
    assert intake.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=owner).content_erased
    wait_until(lambda: intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=coordinator).content_erased,
               what="intake to hear of the shredded key")
    erased = intake.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=coordinator)
    assert [(e.sequence, e.kind, e.text, e.content_erased) for e in erased.entries] == [
        (1, pb.ENTRY_KIND_QUESTION, "", True), (2, pb.ENTRY_KIND_REPLY, "", True), (3, pb.ENTRY_KIND_ADVICE, "", True)]
    with started.app.engine.connect() as c:
        assert set(c.execute(sa.text("SELECT sealed_text FROM entries WHERE request_id=:r"), {"r": rid}).scalars()) \
            == {None}
    kept = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=coordinator)
    assert kept.content_erased and kept.question == ""
    assert (kept.type, list(kept.categories), kept.status) == (
        case_pb2.REQUEST_TYPE_OT_TUKI, [case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL],
        case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED)
    assert (kept.first_response_at, kept.answered_at, kept.waiting_working_days) == (
        answered.first_response_at, answered.answered_at, 2)
    error = refused(intake.AddEntry, pb.AddEntryRequest(request_id=rid, kind=pb.ENTRY_KIND_NOTE, text="Myöhässä."),
                    metadata=coordinator)
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION


def test_the_worklist_pages_longest_waiting_first_and_filters_past_target_on_postgresql(started, keys, shared_clock):
    intake, _ = stubs(started)
    owner = keys.metadata(subject="prof-worklist")
    coordinator = person(keys, "coordinator", "coord-worklist")
    ids = []
    for _ in range(4):  # Monday to Thursday; the clock is then on Friday
        ids.append(intake.SubmitRequest(submit_request(), metadata=owner).request_id)
        shared_clock.advance(days=1)
    intake.AddEntry(pb.AddEntryRequest(request_id=ids[0], kind=pb.ENTRY_KIND_QUESTION, text="Kysymys?"),
                    metadata=coordinator)  # the oldest now waits for the professional
    intake.AddEntry(pb.AddEntryRequest(request_id=ids[3], kind=pb.ENTRY_KIND_ADVICE, text="Neuvo."),
                    metadata=coordinator)
    intake.ReturnRecommendations(pb.RequestRef(request_id=ids[3]), metadata=coordinator)
    shared_clock.advance(days=5)  # Wednesday of the next week: the second (due Tuesday) is late

    seen, token = [], ""
    while True:
        page = intake.ListRequests(pb.ListRequestsRequest(order=pb.REQUEST_ORDER_LONGEST_WAITING, page_size=1,
                                                          page_token=token), metadata=coordinator)
        seen += [r.request_id for r in page.requests]
        token = page.next_page_token
        if not token:
            break
    assert seen == [ids[1], ids[2], ids[0], ids[3]]
    late = intake.ListRequests(pb.ListRequestsRequest(past_target_only=True), metadata=coordinator)
    assert [r.request_id for r in late.requests] == [ids[1]] and late.requests[0].past_target


def test_a_group_booking_read_by_its_members_and_answered_by_its_secretary(started, keys, shared_clock,
                                                                          kafka_bootstrap, topic_prefix):
    intake, consent = stubs(started)
    owner = keys.metadata(subject="prof-group")
    secretary = person(keys, "secretary", "secr-group", (GROUP,))
    other_secretary = person(keys, "secretary", "secr-other", ("haastavat-erot-keski-suomi",))
    member = person(keys, "group-member", "member-group", (GROUP,))
    meeting = intake.PublishMeeting(pb.PublishMeetingRequest(
        group_id=GROUP, starts_at=ts(MONDAY + timedelta(days=14)), capacity=3,
        location="Perheneuvola, neuvotteluhuone 2"), metadata=secretary)
    rid = intake.SubmitRequest(submit_request(type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, anonymous=True),
                               metadata=owner).request_id
    intake.BookMeeting(pb.BookMeetingRequest(request_id=rid, meeting_id=meeting.meeting_id), metadata=owner)
    intake.AddEntry(pb.AddEntryRequest(request_id=rid, kind=pb.ENTRY_KIND_PRE_INFORMATION,
                                       text="Esitiedot: lapsi asuu vuorotellen, tapaamiset keskeytyvät."),
                    metadata=owner)

    # Consent learns the booking from intake's event (meeting and group on it), then admits the group.
    booking = wait_until(lambda: [ev.RequestStatusChanged.FromString(r.value) for r in read_topic(
        kafka_bootstrap, started.settings.topic("intake"), expect=3, timeout=5, settle=0)
        if header(r, "ce_type") == STATUS_CHANGED], what="the booking event")[0]
    assert (booking.meeting_id, booking.group_id, booking.to_status) == (meeting.meeting_id, GROUP,
                                                                        case_pb2.REQUEST_STATUS_SCHEDULED)
    wait_consumed(kafka_bootstrap, f"{topic_prefix}.consent", started.settings.topic("intake"))

    agenda = intake.GetMeetingAgenda(pb.GetMeetingAgendaRequest(meeting_id=meeting.meeting_id), metadata=secretary)
    assert [(i.request_id, i.anonymous, i.material_missing) for i in agenda.items] == [(rid, True, False)]
    assert agenda.items[0].HasField("material_received_at")
    assert agenda.meeting.location == "Perheneuvola, neuvotteluhuone 2"
    error = refused(intake.GetMeetingAgenda, pb.GetMeetingAgendaRequest(meeting_id=meeting.meeting_id),
                    metadata=other_secretary)
    assert reason_of(error) == "NOT_GROUP_SECRETARY"

    # Before the meeting the members read the case and the form (audited by consent as theirs).
    got = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=member)
    assert got.content_included and got.question
    form = intake.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=member).entries
    assert [e.kind for e in form] == [pb.ENTRY_KIND_PRE_INFORMATION] and form[0].text.startswith("Esitiedot")
    assert "member-group" in reads(consent, keys, rid, "conversation")
    assert not intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=other_secretary).content_included

    # After the meeting the secretary records the recommendations and returns them.
    shared_clock.advance(days=14)
    intake.MarkConsulted(pb.RequestRef(request_id=rid), metadata=secretary)
    intake.AddEntry(pb.AddEntryRequest(request_id=rid, kind=pb.ENTRY_KIND_RECOMMENDATIONS,
                                       text="Ryhmä suosittelee perheasioiden sovittelua ja lapsen tapaamista erikseen."),
                    metadata=secretary)
    returned = intake.ReturnRecommendations(pb.RequestRef(request_id=rid), metadata=secretary)
    assert returned.status == case_pb2.REQUEST_STATUS_RECOMMENDATIONS_RETURNED
    error = refused(intake.ListEntries, pb.ListEntriesRequest(request_id=rid), metadata=member)
    assert reason_of(error) == "ANSWER_RETURNED"  # the group keeps nothing
    mine = intake.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=owner).entries
    assert [e.kind for e in mine] == [pb.ENTRY_KIND_PRE_INFORMATION, pb.ENTRY_KIND_RECOMMENDATIONS]


def produce_assigned(kafka_bootstrap, topic, request_id, expert_ids):
    msg = experts_events_pb2.ExpertsAssigned(assignment_id=str(uuid.uuid4()), request_id=request_id, tenant=TENANT,
                                             expert_ids=expert_ids)
    msg.assigned_at.FromDatetime(datetime.now(timezone.utc))
    event = CloudEvent(id=str(uuid.uuid4()), type="ot.experts.assignment.made.v1", source=f"/ot/{TENANT}/experts",
                       subject=request_id, tenant=TENANT, time=datetime.now(timezone.utc),
                       dataschema="proto:ot.events.v1.ExpertsAssigned", data=msg.SerializeToString())
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","))
    producer.send(topic, key=request_id.encode(), value=event.data, headers=event.headers()).get(timeout=15)
    producer.close()


def test_an_assigned_expert_reads_and_writes_a_statement_until_the_consent_is_withdrawn(started, keys,
                                                                                      kafka_bootstrap, topic_prefix):
    intake, consent = stubs(started)
    owner = keys.metadata(subject="prof-expert")
    coordinator = person(keys, "coordinator", "coord-expert")
    expert = person(keys, "expert", "expert-barnahus")
    request = submit_request(type=case_pb2.REQUEST_TYPE_EXPERT_REINFORCEMENT)
    request.consent.CopyFrom(pb.ConsentAssessment(need=pb.CONSENT_NEED_WRITTEN_ORGANISATION_FORM,
                                                  given_by=pb.CONSENT_GIVER_GUARDIANS))
    rid = intake.SubmitRequest(request, metadata=owner).request_id
    consent.RecordConsent(cpb.RecordConsentRequest(
        request_id=rid, form=cpb.CONSENT_FORM_WRITTEN_ORGANISATION_FORM, given_by=cpb.CONSENT_GIVER_GUARDIANS,
        scope=[cpb.Party(kind=cpb.PARTY_KIND_EXPERT_ORGANISATION, id="barnahus")]), metadata=owner)
    produce_assigned(kafka_bootstrap, started.settings.topic("experts"), rid, ["barnahus"])
    wait_until(lambda: intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=coordinator).status
               == case_pb2.REQUEST_STATUS_ASSIGNED, what="intake to take the assignment")
    wait_consumed(kafka_bootstrap, f"{topic_prefix}.consent", started.settings.topic("experts"))

    got = intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=expert)
    assert got.content_included and got.question
    intake.AddEntry(pb.AddEntryRequest(request_id=rid, kind=pb.ENTRY_KIND_STATEMENT,
                                       text="Lausunto: nuoren tilanne edellyttää moniammatillista arviota."),
                    metadata=expert)
    assert [e.author_role for e in intake.ListEntries(pb.ListEntriesRequest(request_id=rid),
                                                      metadata=expert).entries] == ["expert"]
    assert reads(consent, keys, rid, "conversation") == ["expert-barnahus"]

    consent.WithdrawConsent(cpb.WithdrawConsentRequest(request_id=rid), metadata=owner)
    error = refused(intake.ListEntries, pb.ListEntriesRequest(request_id=rid), metadata=expert)
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "CONSENT_REFUSED")
    error = refused(intake.AddEntry, pb.AddEntryRequest(request_id=rid, kind=pb.ENTRY_KIND_STATEMENT,
                                                        text="Toinen lausunto."), metadata=expert)
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "CONSENT_REFUSED")
    assert not intake.GetRequest(pb.GetRequestRequest(request_id=rid), metadata=expert).content_included
    owners = intake.ListEntries(pb.ListEntriesRequest(request_id=rid), metadata=owner).entries
    assert [e.text for e in owners] == ["Lausunto: nuoren tilanne edellyttää moniammatillista arviota."]


def test_the_demo_data_goes_through_the_real_consent_and_a_second_run_adds_nothing(start_consent, make_database,
                                                                                   kafka_bootstrap, topic_prefix,
                                                                                   keys, capsys):
    from ot_intake.main import MIGRATIONS, seed_demo
    from ot_runtime.migrations import upgrade
    from ot_runtime.settings import load_settings

    consent = start_consent()
    env = service_env("intake", make_database("intake"), kafka_bootstrap, topic_prefix, keys,
                      OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent.app.grpc_server.port}",
                      OT_DEMO_TOKEN_KEY_FILE=str(keys.private_path))
    settings = load_settings("intake", env)
    upgrade(MIGRATIONS, settings.database_url)
    assert seed_demo(settings) == 0
    assert "demo request" in capsys.readouterr().out

    engine = sa.create_engine(settings.database_url)

    def counts():
        with engine.connect() as c:
            intake_rows = [c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                           for t in ("requests", "entries", "meetings", "outbox")]
        with consent.app.engine.connect() as c:
            return intake_rows + [c.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()]
    first = counts()
    assert first[:3] == [4, 7, 3]
    # As the demo users of the local realm: the requests are the demo professional's, the OT team's
    # entries the demo coordinator's (whoever signs in to the portal as them finds them).
    with engine.connect() as c:
        assert set(c.execute(sa.text("SELECT owner_subject FROM requests")).scalars()) == {"professional-pohjois-savo"}
        assert set(c.execute(sa.text("SELECT author_subject FROM entries")).scalars()) == {
            "professional-pohjois-savo", "coordinator-pohjois-savo"}
    assert seed_demo(settings) == 0
    assert capsys.readouterr().out.strip() == "demo data already there"
    assert counts() == first  # nothing in intake, not even a read in consent's trail
    engine.dispose()
