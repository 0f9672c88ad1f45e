"""Notifications with fake intake, fake experts and a fake mailer: events in through the consumer's
handlers (as Kafka would bring them), mail rows out, each sent once to whom it concerns, at its
time, in Finnish first, with no case content; reminders cancelled by the material, a withdrawal,
the booking ending, or the person's own opt-out; failed sends retried with growing waits."""
from __future__ import annotations

import io
import logging
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from ot.common.v1 import case_pb2
from ot.events.v1 import experts_events_pb2 as xev
from ot.events.v1 import intake_events_pb2 as iev
from ot.intake.v1 import intake_pb2

from ot_runtime.cloudevents import CloudEvent
from ot_runtime.logging import JsonFormatter
from ot_runtime.settings import SettingsError
from ot_runtime.workdays import FINNISH_TIME
from ot_feedback import consumers as ce
from ot_feedback.consumers import event_handlers
from ot_feedback.directory import Contact
from ot_feedback.mailer import NotDelivered
from ot_feedback.notifications import Recipients
from ot_feedback.scheduler import NOTIFICATIONS
from ot_feedback.store import notifications as notices

from feedback_testkit import NOW, PROFESSIONAL, TENANT, worker_emails

# NOW is Monday 2 March 2026, 11.00 Finnish time. The meeting: Friday 20 March at 12.00 Finnish
# time, booking (= material) deadline a week before.
STARTS = datetime(2026, 3, 20, 10, 0, tzinfo=timezone.utc)
DEADLINE = STARTS - timedelta(days=7)
PORTAL = "https://ot.pohjois-savo.example.invalid"
GROUP = "haastavat-erot-kuopio"


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


class Feed:
    """Events through feedback's consumer handlers, each in its own transaction (as the consumer
    runs them, without the inbox: the rows' own key must make a repeat harmless)."""

    def __init__(self, handlers, notifications):
        self.handlers = handlers
        self.table = event_handlers(handlers, notifications)

    def __call__(self, ce_type: str, msg, event_id: str | None = None) -> str:
        event = CloudEvent(id=event_id or str(uuid.uuid4()), type=ce_type, source=f"/ot/{TENANT}/test", subject="",
                           tenant=TENANT, time=self.handlers.clock.now(), dataschema="",
                           data=msg.SerializeToString())
        with self.handlers.sessions.begin() as s:
            self.table[ce_type].handle(s, event, msg)
        return event.id

    def submitted(self, rid: str, type_=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION) -> str:
        return self(ce.REQUEST_SUBMITTED, iev.RequestSubmitted(
            request_id=rid, tenant=TENANT, type=type_, categories=[case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE],
            sector=case_pb2.SECTOR_SOCIAL, submitted_at=ts(self.handlers.clock.now())))

    def status(self, rid: str, to_status, meeting_id: str = "", starts: datetime | None = STARTS, **extra) -> str:
        msg = iev.RequestStatusChanged(request_id=rid, tenant=TENANT, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION,
                                       categories=[case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE], to_status=to_status,
                                       changed_at=ts(self.handlers.clock.now()), **extra)
        if meeting_id:
            msg.meeting_id, msg.group_id = meeting_id, GROUP
            if starts:
                msg.meeting_starts_at.CopyFrom(ts(starts))
        return self(ce.REQUEST_STATUS_CHANGED, msg)

    def booked(self, rid: str, meeting_id: str, starts: datetime | None = STARTS) -> str:
        return self.status(rid, case_pb2.REQUEST_STATUS_SCHEDULED, meeting_id, starts)

    def meeting(self, meeting_id: str, starts: datetime = STARTS, deadline: datetime = DEADLINE,
                location: str = "Kuopion kaupungintalo, sali 2") -> str:
        return self(ce.MEETING_PUBLISHED, iev.MeetingPublished(
            meeting_id=meeting_id, tenant=TENANT, group_id=GROUP, starts_at=ts(starts), capacity=4,
            booking_deadline=ts(deadline), location=location))

    def entry(self, rid: str, kind: int, event_id: str | None = None) -> str:
        return self(ce.ENTRY_ADDED, iev.ConversationEntryAdded(
            request_id=rid, tenant=TENANT, type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, entry_id=str(uuid.uuid4()),
            kind=kind, author_role="coordinator", added_at=ts(self.handlers.clock.now())), event_id)

    def assigned(self, rid: str, expert_ids: list[str]) -> str:
        return self(ce.EXPERTS_ASSIGNED, xev.ExpertsAssigned(
            assignment_id=str(uuid.uuid4()), request_id=rid, tenant=TENANT, expert_ids=expert_ids,
            assigned_at=ts(self.handlers.clock.now())))

    def unassigned(self, rid: str, removed: list[str], remaining: list[str]) -> str:
        return self(ce.EXPERTS_UNASSIGNED, xev.ExpertsUnassigned(
            assignment_id=str(uuid.uuid4()), request_id=rid, tenant=TENANT, removed_expert_ids=removed,
            remaining_expert_ids=remaining, unassigned_at=ts(self.handlers.clock.now())))


@pytest.fixture()
def feed(handlers, notifications) -> Feed:
    return Feed(handlers, notifications)


@pytest.fixture()
def worker(directory):
    """A request owned by PROFESSIONAL, whose address intake gives at send time."""
    rid = str(uuid.uuid4())
    directory.contacts[rid] = Contact(worker_emails()[0], withdrawn=False, subject=PROFESSIONAL.subject)
    return rid


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def kinds(mailer) -> list[str]:
    return [m["X-OT-Mail-Kind"] for m in mailer.sent]


def rows(handlers, rid: str | None = None) -> dict[str, tuple]:
    with handlers.sessions() as s:
        query = sa.select(notices.c.kind, notices.c.state, notices.c.due_at, notices.c.last_error)
        if rid:
            query = query.where(notices.c.request_id == rid)
        return {r.kind: (r.state, r.due_at, r.last_error) for r in s.execute(query)}


def finnish(moment: datetime) -> datetime:
    return moment.astimezone(FINNISH_TIME)


def finnish_time(*parts: int) -> datetime:
    """A Finnish wall-clock time as the UTC time the service's clock gives."""
    return datetime(*parts, tzinfo=FINNISH_TIME).astimezone(timezone.utc)


def test_each_answer_and_question_goes_to_the_professional_once_finnish_first_with_the_portal_link(
        feed, scheduler, mailer, worker):
    feed.submitted(worker)
    for kind in (intake_pb2.ENTRY_KIND_QUESTION, intake_pb2.ENTRY_KIND_ADVICE, intake_pb2.ENTRY_KIND_RECOMMENDATIONS,
                 intake_pb2.ENTRY_KIND_STATEMENT, intake_pb2.ENTRY_KIND_REPLY, intake_pb2.ENTRY_KIND_NOTE):
        feed.entry(worker, kind)
    result = scheduler.run_due()
    # The professional's own reply and the team's internal note tell the professional nothing new.
    assert sorted(kinds(mailer)) == ["advice", "question", "recommendations", "statement"]
    assert {m["To"] for m in mailer.sent} == {worker_emails()[0]}
    assert len(result.notices.sent) == 4 and scheduler.run_due().notices.sent == []  # nothing twice
    question = next(m for m in mailer.sent if m["X-OT-Mail-Kind"] == "question")
    text = body(question)
    assert question["Subject"] == (f"Lisätietopyyntö pyyntöösi {worker[:8]} / "
                                   f"A request for more information on your request {worker[:8]}")
    assert text.index("OT-keskus pyytää lisätietoja") < text.index("The OT centre asks for more information")
    assert f"viite {worker[:8]}" in text and worker not in text  # the short reference, not the id
    assert f"Kirjaudu OT-palveluun: {PORTAL}" in text and "konsultaatioryhmä" in text


def test_a_repeated_event_writes_no_second_row_and_sends_no_second_mail(feed, handlers, scheduler, mailer, worker):
    event_id = feed.entry(worker, intake_pb2.ENTRY_KIND_ADVICE)
    feed.entry(worker, intake_pb2.ENTRY_KIND_ADVICE, event_id=event_id)  # Kafka delivered it again
    scheduler.run_due()
    feed.entry(worker, intake_pb2.ENTRY_KIND_ADVICE, event_id=event_id)  # and once more, after the send
    scheduler.run_due()
    assert kinds(mailer) == ["advice"]
    with handlers.sessions() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(notices)).scalar_one() == 1


def test_a_new_request_goes_to_every_coordinator_in_one_mail(feed, make_scheduler, mailer, directory):
    coordinators = worker_emails()[1:3]
    scheduler = make_scheduler(recipients=Recipients(portal_url=PORTAL, coordinators=tuple(coordinators)))
    rid = str(uuid.uuid4())
    feed.submitted(rid, case_pb2.REQUEST_TYPE_OT_TUKI)
    scheduler.run_due()
    [mail] = mailer.sent
    assert mail["To"] == ", ".join(coordinators) and mail["Subject"].startswith(f"Uusi pyyntö {rid[:8]}")
    assert "OT-TUKI-konsultaatio" in body(mail) and rid not in directory.calls  # no lookup for the team


def test_no_address_cancels_the_mail_with_a_reason_and_logs_no_value(feed, handlers, scheduler, mailer, directory):
    stream = io.StringIO()
    log_handler = logging.StreamHandler(stream)
    log_handler.setFormatter(JsonFormatter("test", TENANT))
    logging.getLogger().addHandler(log_handler)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        no_email, gone = str(uuid.uuid4()), str(uuid.uuid4())
        directory.contacts[no_email] = Contact("", withdrawn=False, subject="prof-2")
        feed.submitted(no_email)  # and no coordinator addresses are set
        feed.entry(no_email, intake_pb2.ENTRY_KIND_ADVICE)
        feed.entry(gone, intake_pb2.ENTRY_KIND_ADVICE)  # intake no longer has it (erased)
        result = scheduler.run_due()
    finally:
        logging.getLogger().removeHandler(log_handler)
        logging.getLogger().setLevel(previous)
    assert mailer.sent == [] and result.notices.cancelled == 3
    assert rows(handlers, no_email) == {"new_request": ("cancelled", NOW, "no_address"),
                                        "advice": ("cancelled", NOW, "no_address")}
    assert rows(handlers, gone)["advice"][2] == "request_not_found"
    logged = stream.getvalue()
    assert "notification cancelled" in logged and "@" not in logged


def test_a_booking_is_confirmed_with_time_and_place_then_reminded_on_working_days(feed, handlers, scheduler, mailer,
                                                                                 clock, worker):
    meeting = str(uuid.uuid4())
    feed.meeting(meeting)
    feed.booked(worker, meeting)
    scheduler.run_due()
    [confirmation] = [m for m in mailer.sent if m["X-OT-Mail-Kind"] == "booking_confirmed"]
    text = body(confirmation)
    assert confirmation["Subject"] == "Varaus vahvistettu: pe 20.3.2026 / Booking confirmed: Fri 2026-03-20"
    assert "Kokous: pe 20.3.2026 klo 12.00" in text and "Meeting: Fri 2026-03-20 at 12:00" in text
    assert "Paikka: Kuopion kaupungintalo, sali 2" in text
    assert "Esitietolomakkeen määräaika: pe 13.3.2026 klo 12.00" in text
    due = {k: finnish(v[1]) for k, v in rows(handlers, worker).items()}
    # Two working days before Friday 13 March is Wednesday 11 March; the day before the meeting, Thursday 19.
    assert due["material_reminder"] == datetime(2026, 3, 11, 8, 0, tzinfo=FINNISH_TIME)
    assert due["meeting_reminder"] == datetime(2026, 3, 19, 8, 0, tzinfo=FINNISH_TIME)
    clock.set(finnish_time(2026, 3, 11, 7, 59))
    assert scheduler.run_due().notices.sent == []
    clock.set(finnish_time(2026, 3, 11, 8, 0))
    assert len(scheduler.run_due().notices.sent) == 1
    assert mailer.sent[-1]["Subject"].startswith("Muistutus: esitietolomake puuttuu")
    clock.set(finnish_time(2026, 3, 19, 8, 0))
    scheduler.run_due()
    assert mailer.sent[-1]["X-OT-Mail-Kind"] == "meeting_reminder"
    assert "käsitellään huomenna" in body(mailer.sent[-1])
    assert [k for k in kinds(mailer) if k != "agenda"] == ["booking_confirmed", "material_reminder",
                                                           "meeting_reminder"]


def test_the_material_reminder_counts_working_days_over_easter(feed, handlers, worker):
    # Deadline Wednesday 8 April 2026: Tuesday 7 is one working day before; Easter Monday (6) and
    # Good Friday (3) are holidays; Thursday 2 April is the second.
    meeting = str(uuid.uuid4())
    feed.meeting(meeting, starts=datetime(2026, 4, 15, 10, tzinfo=timezone.utc),
                 deadline=datetime(2026, 4, 8, 10, tzinfo=timezone.utc))
    feed.booked(worker, meeting, starts=datetime(2026, 4, 15, 10, tzinfo=timezone.utc))
    assert finnish(rows(handlers, worker)["material_reminder"][1]) == datetime(2026, 4, 2, 8, 0, tzinfo=FINNISH_TIME)


def test_the_material_arriving_cancels_its_reminder_but_not_the_meeting_reminder(feed, handlers, scheduler, mailer,
                                                                               clock, worker):
    meeting = str(uuid.uuid4())
    feed.meeting(meeting)
    feed.booked(worker, meeting)
    feed.entry(worker, intake_pb2.ENTRY_KIND_PRE_INFORMATION)
    assert rows(handlers, worker)["material_reminder"][0::2] == ("cancelled", "material_received")
    clock.set(STARTS)
    scheduler.run_due()
    assert "material_reminder" not in kinds(mailer) and "meeting_reminder" in kinds(mailer)


def test_withdrawal_cancels_every_waiting_notification_and_the_agenda_no_longer_counts_it(
        feed, handlers, make_scheduler, mailer, clock, worker):
    scheduler = make_scheduler(recipients=Recipients(portal_url=PORTAL, secretaries={GROUP: worker_emails()[3]}))
    meeting, other = str(uuid.uuid4()), str(uuid.uuid4())
    feed.meeting(meeting)
    feed.booked(worker, meeting)
    feed.booked(other, meeting)
    scheduler.run_due()  # the confirmations
    feed.status(worker, case_pb2.REQUEST_STATUS_WITHDRAWN)
    assert {k: v[0::2] for k, v in rows(handlers, worker).items()} == {
        "booking_confirmed": ("sent", None), "material_reminder": ("cancelled", "withdrawn"),
        "meeting_reminder": ("cancelled", "withdrawn")}
    clock.set(STARTS - timedelta(days=3))
    scheduler.run_due()
    [agenda] = [m for m in mailer.sent if m["X-OT-Mail-Kind"] == "agenda"]
    assert agenda["To"] == worker_emails()[3]
    assert f"Ryhmän {GROUP} kokoukseen on varattu 1 tapausta; 1 niistä" in body(agenda)
    assert finnish(rows(handlers)["agenda"][1]) == datetime(2026, 3, 17, 8, 0, tzinfo=FINNISH_TIME)


def test_rebooking_moves_the_reminders_to_the_new_meeting_and_the_consultation_ends_them(
        feed, handlers, scheduler, mailer, clock, worker):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    later = STARTS + timedelta(days=14)
    feed.meeting(first)
    feed.meeting(second, starts=later, deadline=later - timedelta(days=7))
    feed.booked(worker, first)
    # Back from awaiting information: the same booking, no second confirmation.
    feed.status(worker, case_pb2.REQUEST_STATUS_AWAITING_INFORMATION)
    feed.booked(worker, first)
    feed.booked(worker, second)
    with handlers.sessions() as s:
        states = sorted((r.kind, r.meeting_id == second, r.state) for r in s.execute(
            sa.select(notices).where(notices.c.request_id == worker)))
    assert states == [("booking_confirmed", False, "due"), ("booking_confirmed", True, "due"),
                      ("material_reminder", False, "cancelled"), ("material_reminder", True, "due"),
                      ("meeting_reminder", False, "cancelled"), ("meeting_reminder", True, "due")]
    scheduler.run_due()
    assert sorted(kinds(mailer)) == ["booking_confirmed", "booking_confirmed"]
    assert {m["Subject"] for m in mailer.sent} == {
        "Varaus vahvistettu: pe 20.3.2026 / Booking confirmed: Fri 2026-03-20",
        "Varaus vahvistettu: pe 3.4.2026 / Booking confirmed: Fri 2026-04-03"}
    feed.status(worker, case_pb2.REQUEST_STATUS_CONSULTED)  # held early: its reminders are of no use
    assert rows(handlers, worker)["meeting_reminder"][0::2] == ("cancelled", "booking_ended")
    clock.set(later)
    scheduler.run_due()
    assert len(mailer.sent) == 2


def test_a_booking_before_its_meeting_event_gets_the_reminders_when_the_meeting_arrives(
        feed, handlers, scheduler, mailer, worker):
    meeting = str(uuid.uuid4())
    feed.booked(worker, meeting, starts=None)  # the meeting's own event comes later (another key)
    assert set(rows(handlers, worker)) == {"booking_confirmed"}
    feed.meeting(meeting)
    assert set(rows(handlers, worker)) == {"booking_confirmed", "material_reminder", "meeting_reminder"}
    feed.meeting(meeting)  # again: nothing new
    scheduler.run_due()
    assert "Paikka: Kuopion kaupungintalo, sali 2" in body(mailer.sent[0])


def test_turning_reminders_off_stops_the_reminders_only(feed, handlers, scheduler, mailer, clock, worker):
    handlers.set_notification_settings(PROFESSIONAL, False)
    meeting = str(uuid.uuid4())
    feed.meeting(meeting)
    feed.booked(worker, meeting)
    feed.entry(worker, intake_pb2.ENTRY_KIND_QUESTION)
    for moment in (NOW, finnish_time(2026, 3, 11, 8, 0), finnish_time(2026, 3, 19, 8, 0)):
        clock.set(moment)
        scheduler.run_due()
    assert sorted(kinds(mailer)) == ["booking_confirmed", "question"]
    assert {k: v[2] for k, v in rows(handlers, worker).items()} == {
        "booking_confirmed": None, "question": None, "material_reminder": "opted_out",
        "meeting_reminder": "opted_out"}
    assert handlers.notification_settings(PROFESSIONAL) is False


def test_experts_are_told_when_assigned_and_unassigned_only_the_changed_ones(feed, handlers, scheduler, mailer,
                                                                          experts, worker):
    a, b = worker_emails()[4:6]
    experts.emails.update({"kys-lastenpsykiatria": a, "barnahus": b, "no-contact": ""})
    feed.submitted(worker)
    feed.assigned(worker, ["kys-lastenpsykiatria"])
    feed.assigned(worker, ["barnahus", "kys-lastenpsykiatria", "no-contact"])  # the whole set: two are new
    feed.unassigned(worker, ["kys-lastenpsykiatria"], ["barnahus", "no-contact"])
    feed.assigned(worker, ["retired-one"])  # the catalogue has no such expert any more
    result = scheduler.run_due()
    assert sorted((m["To"], m["X-OT-Mail-Kind"]) for m in mailer.sent) == sorted([
        (a, "expert_assigned"), (b, "expert_assigned"), (a, "expert_unassigned")])
    assert result.notices.cancelled == 3  # no-contact (no address), retired-one (not found), new_request (no one)
    assigned = next(m for m in mailer.sent if m["X-OT-Mail-Kind"] == "expert_assigned")
    assert f"asiantuntijaksi pyyntöön {worker[:8]}" in assigned["Subject"]
    with handlers.sessions() as s:
        reasons = sorted(s.execute(sa.select(notices.c.last_error).where(notices.c.state == "cancelled")).scalars())
    assert reasons == ["expert_not_found", "no_address", "no_address"]


def test_a_refused_send_is_retried_with_growing_waits_then_failed_and_counted(feed, handlers, make_scheduler, mailer,
                                                                            clock, worker):
    scheduler = make_scheduler(retry_after=timedelta(minutes=1), max_attempts=4)
    feed.entry(worker, intake_pb2.ENTRY_KIND_ADVICE)
    mailer.fail_with = NotDelivered("SMTPRecipientsRefused")
    before = NOTIFICATIONS.labels("advice", "failed")._value.get()
    waits = []
    for _ in range(4):
        result = scheduler.run_due()
        state, due, _ = rows(handlers, worker)["advice"]
        waits.append(due - clock.now())
        clock.set(due)
    assert waits[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert state == "failed" and result.notices.failed == 1
    assert NOTIFICATIONS.labels("advice", "failed")._value.get() == before + 1
    mailer.fail_with = None
    clock.advance(days=1)
    assert scheduler.run_due().notices.sent == [] and mailer.sent == []


def test_intake_down_at_send_time_means_later_and_a_week_late_means_never(feed, handlers, scheduler, mailer, clock,
                                                                        directory, worker):
    feed.entry(worker, intake_pb2.ENTRY_KIND_ADVICE)
    directory.down = True
    assert scheduler.run_due().notices.retried == 1
    directory.down = False
    clock.advance(minutes=5)
    assert len(scheduler.run_due().notices.sent) == 1
    # An answer whose notification could not go out for over a week is not news any more.
    feed.entry(worker, intake_pb2.ENTRY_KIND_STATEMENT)
    clock.advance(days=8)
    assert scheduler.run_due().notices.cancelled == 1
    assert rows(handlers, worker)["statement"][0::2] == ("cancelled", "too_late")


def test_two_schedulers_at_once_send_each_notification_once(feed, make_scheduler, mailer, directory):
    emails = worker_emails()[:6]
    for email in emails:
        rid = str(uuid.uuid4())
        directory.contacts[rid] = Contact(email, withdrawn=False, subject=f"s-{email}")
        feed.entry(rid, intake_pb2.ENTRY_KIND_ADVICE)
    barrier = threading.Barrier(2)
    schedulers = [make_scheduler(), make_scheduler()]
    errors = []

    def tick(s):
        barrier.wait()
        try:
            s.run_due()
        except Exception as exc:  # SQLite may report the race as "database is locked": that sends nothing
            errors.append(type(exc).__name__)
    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    schedulers[0].run_due()  # whatever a locked tick left is sent now, still once
    assert sorted(m["To"] for m in mailer.sent) == sorted(emails)


def test_a_tick_claims_its_batch_in_one_statement_and_only_rows_still_due(feed, make_scheduler, engine, clock):
    for _ in range(5):
        feed.entry(str(uuid.uuid4()), intake_pb2.ENTRY_KIND_ADVICE)
    with engine.begin() as c:  # one of them already taken by another scheduler
        taken_elsewhere = c.execute(sa.select(notices.c.id).limit(1)).scalar_one()
        c.execute(notices.update().where(notices.c.id == taken_elsewhere).values(state="sending"))
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    claimed = make_scheduler()._claim(notices, clock.now())
    assert len(claimed) == 4 and taken_elsewhere not in claimed
    assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE")]) == 1, statements
    with engine.connect() as c:
        states = dict(c.execute(sa.select(notices.c.id, notices.c.state)).all())
    assert {states[i] for i in claimed} == {"sending"}


def test_the_areas_notification_settings_are_read_and_mistakes_named_without_their_values():
    coordinators = worker_emails()[1:3]
    secretary = worker_emails()[3]
    r = Recipients.from_env({"OT_PORTAL_URL": f"{PORTAL}/", "OT_NOTIFY_COORDINATORS": f" {coordinators[0]}, "
                             f"{coordinators[1]} ,", "OT_NOTIFY_GROUP_SECRETARIES": f"{GROUP}={secretary}"})
    assert r == Recipients(portal_url=PORTAL, coordinators=tuple(coordinators), secretaries={GROUP: secretary})
    assert Recipients.from_env({}) == Recipients()  # the local default portal, nobody to mail
    with pytest.raises(SettingsError) as err:
        Recipients.from_env({"OT_PORTAL_URL": "ot.example.invalid", "OT_NOTIFY_COORDINATORS": "not-an-address",
                             "OT_NOTIFY_GROUP_SECRETARIES": f"Ryhmä Yksi={secretary}"})
    message = str(err.value)
    assert all(name in message for name in ("OT_PORTAL_URL", "OT_NOTIFY_COORDINATORS", "OT_NOTIFY_GROUP_SECRETARIES"))
    assert "not-an-address" not in message and secretary not in message
    with pytest.raises(SettingsError):  # one group, two secretaries: which one?
        Recipients.from_env({"OT_NOTIFY_GROUP_SECRETARIES": f"{GROUP}={secretary},{GROUP}={coordinators[0]}"})
