"""Notifications: who is told what, and when, as mail rows written in the transaction of the event
that causes them (the consumer's). The scheduler (scheduler.py) claims and sends them like the
follow-up mails; the addresses are looked up only then.

Why feedback sends them: it already has the mailer, the durable schedule whose claims keep two
replicas from sending one mail twice, the address lookup with a service token, and the SMTP
egress of the area (one sender, one NetworkPolicy). The services that own the events say only
what happened (ids, kinds, times), never the case, so a mail cannot carry it either.

What goes to whom (the issue's list):
- a new request -> the area's coordinators (a settings list);
- a question for more information, advice, recommendations, a statement -> the professional;
- assigned / unassigned -> the expert (experts' events carry the whole set; the difference to the
  set known here is who is new);
- a booking -> the professional: the confirmation at once; the material reminder two working
  days before the material deadline (= the booking deadline) unless the pre-information form has
  arrived; the reminder the day before the meeting. Both reminders are optional
  (NotificationSettings) and cancelled by the form arriving (the material one), a withdrawal,
  or the booking ending (another meeting, the consultation held);
- the agenda three days before a meeting -> the group's secretary (an address per group).
Each row is unique per (event, kind, recipient): a repeated event writes nothing new.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Iterable, Mapping

import sqlalchemy as sa
from ot.intake.v1 import intake_pb2
from sqlalchemy.orm import Session

from ot_runtime import fields
from ot_runtime.clock import Clock
from ot_runtime.settings import SettingsError
from ot_runtime.workdays import FINNISH_TIME, add_working_days, local_date

from .domain import MailState, RequestType, Status
from .store import meetings, notification_settings, notifications, request_experts, request_facts

log = logging.getLogger("ot.feedback.notifications")


class Kind(StrEnum):
    NEW_REQUEST = "new_request"
    QUESTION = "question"
    ADVICE = "advice"
    RECOMMENDATIONS = "recommendations"
    STATEMENT = "statement"
    EXPERT_ASSIGNED = "expert_assigned"
    EXPERT_UNASSIGNED = "expert_unassigned"
    BOOKING_CONFIRMED = "booking_confirmed"
    MATERIAL_REMINDER = "material_reminder"
    MEETING_REMINDER = "meeting_reminder"
    AGENDA = "agenda"


class Recipient(StrEnum):
    PROFESSIONAL = "professional"   # the request's owner: address and user id from intake at send time
    EXPERT = "expert"               # recipient_key = expert id: address from experts at send time
    COORDINATORS = "coordinators"   # the area's list (a setting)
    SECRETARY = "secretary"         # recipient_key = group id: the group's secretary (a setting)


RECIPIENT = {
    Kind.NEW_REQUEST: Recipient.COORDINATORS,
    Kind.QUESTION: Recipient.PROFESSIONAL, Kind.ADVICE: Recipient.PROFESSIONAL,
    Kind.RECOMMENDATIONS: Recipient.PROFESSIONAL, Kind.STATEMENT: Recipient.PROFESSIONAL,
    Kind.EXPERT_ASSIGNED: Recipient.EXPERT, Kind.EXPERT_UNASSIGNED: Recipient.EXPERT,
    Kind.BOOKING_CONFIRMED: Recipient.PROFESSIONAL, Kind.MATERIAL_REMINDER: Recipient.PROFESSIONAL,
    Kind.MEETING_REMINDER: Recipient.PROFESSIONAL,
    Kind.AGENDA: Recipient.SECRETARY,
}
# What a person may turn off (NotificationSettings.reminders_enabled): the reminders only, never
# answers, questions, assignments or booking confirmations.
OPTIONAL = frozenset({Kind.MATERIAL_REMINDER, Kind.MEETING_REMINDER})
# The reminders that belong to one booking: they go when the booking goes.
BOOKING_REMINDERS = (Kind.MATERIAL_REMINDER, Kind.MEETING_REMINDER)

# Conversation entries the professional is told about (ot.intake.v1.EntryKind numbers; the event
# carries the number, not the API's enum).
ENTRY_NOTICES = {intake_pb2.ENTRY_KIND_QUESTION: Kind.QUESTION, intake_pb2.ENTRY_KIND_ADVICE: Kind.ADVICE,
                 intake_pb2.ENTRY_KIND_RECOMMENDATIONS: Kind.RECOMMENDATIONS,
                 intake_pb2.ENTRY_KIND_STATEMENT: Kind.STATEMENT}
PRE_INFORMATION = intake_pb2.ENTRY_KIND_PRE_INFORMATION

# A notification is news: one that could not go out within a week of its event (a long outage,
# or the first start reading a topic's history) is cancelled as too late rather than sent.
FRESH_FOR = timedelta(days=7)
# Scheduled reminders go out in the morning, Finnish time.
MORNING = time(8, 0)


def morning(day: date) -> datetime:
    """That day's morning in Finnish time, as UTC (times are stored in UTC)."""
    return datetime.combine(day, MORNING, FINNISH_TIME).astimezone(timezone.utc)


def material_reminder_due(deadline: datetime) -> datetime:
    """Two working days before the material deadline's date, in the morning."""
    return morning(local_date(add_working_days(deadline, -2)))


def meeting_reminder_due(starts_at: datetime) -> datetime:
    """The day before the meeting, in the morning."""
    return morning(local_date(starts_at) - timedelta(days=1))


def agenda_due(starts_at: datetime) -> datetime:
    """Three days before the meeting, in the morning."""
    return morning(local_date(starts_at) - timedelta(days=3))


def short_reference(request_id: str) -> str:
    """How a mail names a request: the first 8 characters of its id (no case data)."""
    return request_id[:8]


# --- the area's settings ---------------------------------------------------------------------
_GROUP = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_URL = re.compile(r"https?://[^/\s]+(/\S*)?")
DEFAULT_PORTAL_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Recipients:
    """Where notifications point and the addresses that are settings, not looked up:
    OT_PORTAL_URL (the link in every notification), OT_NOTIFY_COORDINATORS (comma-separated
    addresses: new requests), OT_NOTIFY_GROUP_SECRETARIES (comma-separated `group-id=address`:
    each group's agenda). The professional's and an expert's addresses are never settings: they
    are asked from intake and experts at send time."""
    portal_url: str = DEFAULT_PORTAL_URL
    coordinators: tuple[str, ...] = ()
    secretaries: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Recipients":
        problems: list[str] = []
        email = fields.email().pattern
        portal = env.get("OT_PORTAL_URL", "").strip().rstrip("/") or DEFAULT_PORTAL_URL
        if not _URL.fullmatch(portal):
            problems.append("OT_PORTAL_URL must be an http(s) address (the portal linked from every notification)")
        coordinators = tuple(a.strip() for a in env.get("OT_NOTIFY_COORDINATORS", "").split(",") if a.strip())
        if any(not email.fullmatch(a) for a in coordinators):
            # Which one is not said: the value is an address, and settings errors are logged.
            problems.append("OT_NOTIFY_COORDINATORS must be e-mail addresses separated by commas")
        secretaries: dict[str, str] = {}
        for pair in (p.strip() for p in env.get("OT_NOTIFY_GROUP_SECRETARIES", "").split(",") if p.strip()):
            group, _, address = (x.strip() for x in pair.partition("="))
            if not _GROUP.fullmatch(group) or not email.fullmatch(address) or group in secretaries:
                problems.append("OT_NOTIFY_GROUP_SECRETARIES must be `group-id=address` pairs separated by commas, "
                                "one per group (group ids as in the service map, e.g. haastavat-erot-kuopio)")
                break
            secretaries[group] = address
        if problems:
            raise SettingsError("feedback: " + "; ".join(problems))
        return cls(portal_url=portal, coordinators=coordinators, secretaries=secretaries)


# --- events in: rows out (inside the consumer's transaction) ---------------------------------
@dataclass
class Notifications:
    tenant: str
    clock: Clock

    def add(self, session: Session, *, event_id: str, kind: Kind, due_at: datetime, not_after: datetime | None,
            request_id: str | None = None, request_type: RequestType | None = None, meeting_id: str | None = None,
            recipient_key: str = "") -> bool:
        """One mail row, unless this event already made it (then nothing: the unique key)."""
        key = (notifications.c.event_id == event_id) & (notifications.c.kind == kind.value) & (
            notifications.c.recipient_key == recipient_key)
        if session.execute(sa.select(notifications.c.id).where(key)).first():
            return False
        session.execute(notifications.insert().values(
            id=str(uuid.uuid4()), tenant=self.tenant, event_id=event_id, kind=kind.value,
            recipient=RECIPIENT[kind].value, recipient_key=recipient_key, request_id=request_id,
            request_type=request_type.value if request_type else None, meeting_id=meeting_id,
            state=MailState.DUE.value, due_at=due_at, not_after=not_after, attempts=0, created_at=self.clock.now()))
        log.info("notification scheduled", extra={"kind": kind.value, "request_id": request_id,
                                                  "meeting_id": meeting_id, "due_at": due_at.isoformat()})
        return True

    def cancel(self, session: Session, request_id: str, reason: str, kinds: Iterable[Kind] | None = None) -> int:
        """Cancel the request's notifications still waiting (of `kinds`, or all)."""
        where = (notifications.c.request_id == request_id) & (notifications.c.state == MailState.DUE.value)
        if kinds is not None:
            where &= notifications.c.kind.in_([k.value for k in kinds])
        done = session.execute(notifications.update().where(where).values(
            state=MailState.CANCELLED.value, last_error=reason)).rowcount
        if done:
            log.info("notifications cancelled", extra={"request_id": request_id, "reason": reason, "count": done})
        return done

    @staticmethod
    def _fact(session: Session, request_id: str):
        return session.execute(sa.select(request_facts).where(request_facts.c.request_id == request_id)
                               ).mappings().first()

    def on_request_submitted(self, session: Session, *, event_id: str, request_id: str, type_: RequestType,
                             submitted_at: datetime) -> None:
        self.add(session, event_id=event_id, kind=Kind.NEW_REQUEST, due_at=submitted_at,
                 not_after=submitted_at + FRESH_FOR, request_id=request_id, request_type=type_)

    def on_status_changed(self, session: Session, *, event_id: str, request_id: str, type_: RequestType,
                          to_status: Status, changed_at: datetime, meeting_id: str = "",
                          meeting_starts_at: datetime | None = None) -> None:
        """Bookings start, move and end here. Call after the request's facts are written."""
        fact = self._fact(session, request_id)
        booked = fact["booking_meeting_id"] if fact else None
        if to_status is Status.WITHDRAWN:
            self.cancel(session, request_id, "withdrawn")
            self._set_booking(session, request_id, None, None)
        elif to_status is Status.SCHEDULED and meeting_id and meeting_id != booked:
            if booked:
                self.cancel(session, request_id, "rebooked", BOOKING_REMINDERS)
            self._set_booking(session, request_id, meeting_id, event_id)
            self._booked(session, event_id, request_id, type_, meeting_id, changed_at, meeting_starts_at,
                         material_received=bool(fact and fact["material_received_at"]))
        elif booked and to_status not in (Status.SCHEDULED, Status.AWAITING_INFORMATION):
            # Consulted, answered, or moved off the meeting: its reminders are of no use any more.
            self.cancel(session, request_id, "booking_ended", BOOKING_REMINDERS)
            self._set_booking(session, request_id, None, None)

    def _set_booking(self, session: Session, request_id: str, meeting_id: str | None, event_id: str | None) -> None:
        session.execute(request_facts.update().where(request_facts.c.request_id == request_id).values(
            booking_meeting_id=meeting_id, booking_event_id=event_id))

    def _booked(self, session: Session, event_id: str, request_id: str, type_: RequestType, meeting_id: str,
                booked_at: datetime, starts_at: datetime | None, material_received: bool) -> None:
        meeting = session.execute(sa.select(meetings).where(meetings.c.meeting_id == meeting_id)).mappings().first()
        starts_at = starts_at or (meeting["starts_at"] if meeting else None)
        until = min(booked_at + FRESH_FOR, starts_at) if starts_at else booked_at + FRESH_FOR
        common = dict(event_id=event_id, request_id=request_id, request_type=type_, meeting_id=meeting_id)
        self.add(session, kind=Kind.BOOKING_CONFIRMED, due_at=booked_at, not_after=until, **common)
        if starts_at and meeting_reminder_due(starts_at) > booked_at:
            self.add(session, kind=Kind.MEETING_REMINDER, due_at=meeting_reminder_due(starts_at), not_after=starts_at,
                     **common)
        if meeting and meeting["booking_deadline"] and not material_received:
            self._material_reminder(session, meeting["booking_deadline"], booked_at, **common)

    def _material_reminder(self, session: Session, deadline: datetime, since: datetime, **common) -> None:
        """Only when booked before the reminder's time: a later booking's confirmation names the deadline."""
        due = material_reminder_due(deadline)
        if due > since:
            self.add(session, kind=Kind.MATERIAL_REMINDER, due_at=due, not_after=deadline, **common)

    def on_entry_added(self, session: Session, *, event_id: str, request_id: str, type_: RequestType,
                       entry_kind: int, added_at: datetime) -> None:
        if entry_kind == PRE_INFORMATION:
            session.execute(request_facts.update().where(request_facts.c.request_id == request_id,
                                                         request_facts.c.material_received_at.is_(None))
                            .values(material_received_at=added_at))
            self.cancel(session, request_id, "material_received", [Kind.MATERIAL_REMINDER])
            return
        kind = ENTRY_NOTICES.get(entry_kind)
        if kind is not None:
            self.add(session, event_id=event_id, kind=kind, due_at=added_at, not_after=added_at + FRESH_FOR,
                     request_id=request_id, request_type=type_)

    def on_meeting_published(self, session: Session, *, event_id: str, meeting_id: str, group_id: str,
                             starts_at: datetime, booking_deadline: datetime | None, location: str,
                             published_at: datetime) -> None:
        values = dict(group_id=group_id, starts_at=starts_at, booking_deadline=booking_deadline, location=location,
                      updated_at=self.clock.now())
        if session.execute(sa.select(meetings.c.meeting_id).where(meetings.c.meeting_id == meeting_id)).first():
            session.execute(meetings.update().where(meetings.c.meeting_id == meeting_id).values(**values))
        else:
            session.execute(meetings.insert().values(meeting_id=meeting_id, tenant=self.tenant, **values))
        self.add(session, event_id=event_id, kind=Kind.AGENDA, due_at=max(agenda_due(starts_at), published_at),
                 not_after=starts_at, meeting_id=meeting_id, recipient_key=group_id)
        # Bookings that arrived before the meeting did (events of different keys need not come in
        # order): their reminders needed the meeting's time and deadline.
        booked = session.execute(sa.select(request_facts).where(request_facts.c.booking_meeting_id == meeting_id)
                                 ).mappings().all()
        for fact in booked:
            common = dict(event_id=fact["booking_event_id"], request_id=fact["request_id"],
                          request_type=RequestType(fact["type"]), meeting_id=meeting_id)
            if meeting_reminder_due(starts_at) > published_at:
                self.add(session, kind=Kind.MEETING_REMINDER, due_at=meeting_reminder_due(starts_at),
                         not_after=starts_at, **common)
            if booking_deadline and not fact["material_received_at"]:
                self._material_reminder(session, booking_deadline, published_at, **common)

    def on_experts_assigned(self, session: Session, *, event_id: str, request_id: str, expert_ids: list[str],
                            assigned_at: datetime) -> None:
        """The event carries the whole set after the change: the new ones are those not known here."""
        known = set(self._experts(session, request_id))
        self._replace_experts(session, request_id, expert_ids)
        type_ = self._type(session, request_id)
        for expert_id in sorted(set(expert_ids) - known):
            self.add(session, event_id=event_id, kind=Kind.EXPERT_ASSIGNED, due_at=assigned_at,
                     not_after=assigned_at + FRESH_FOR, request_id=request_id, request_type=type_,
                     recipient_key=expert_id)

    def on_experts_unassigned(self, session: Session, *, event_id: str, request_id: str, removed: list[str],
                              remaining: list[str], unassigned_at: datetime) -> None:
        self._replace_experts(session, request_id, remaining)
        type_ = self._type(session, request_id)
        for expert_id in sorted(set(removed) - set(remaining)):
            self.add(session, event_id=event_id, kind=Kind.EXPERT_UNASSIGNED, due_at=unassigned_at,
                     not_after=unassigned_at + FRESH_FOR, request_id=request_id, request_type=type_,
                     recipient_key=expert_id)

    @staticmethod
    def _experts(session: Session, request_id: str) -> list[str]:
        return list(session.execute(sa.select(request_experts.c.expert_id)
                                    .where(request_experts.c.request_id == request_id)).scalars())

    def _replace_experts(self, session: Session, request_id: str, expert_ids: Iterable[str]) -> None:
        session.execute(request_experts.delete().where(request_experts.c.request_id == request_id))
        for expert_id in sorted(set(expert_ids)):
            session.execute(request_experts.insert().values(request_id=request_id, expert_id=expert_id,
                                                            tenant=self.tenant))

    def _type(self, session: Session, request_id: str) -> RequestType | None:
        fact = self._fact(session, request_id)
        return RequestType(fact["type"]) if fact else None


# --- a person's own settings ------------------------------------------------------------------
def reminders_enabled(session: Session, subject: str) -> bool:
    """The person's choice; on when they never chose."""
    row = session.execute(sa.select(notification_settings.c.reminders_enabled)
                          .where(notification_settings.c.subject == subject)).first()
    return True if row is None else bool(row.reminders_enabled)
