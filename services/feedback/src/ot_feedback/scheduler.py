"""The durable schedule: mail rows in the database, sent by a tick that any replica may run.

Two tables of rows, claimed and sent the same way: `mails` (the follow-up's request mail and its
reminder) and `notifications` (what happened in a case, to whom it concerns: notifications.py).

`run_due(now)` does, in order:
1. expire follow-ups whose link has run out (their reminder is cancelled);
2. settle rows left in "sending" for longer than `stale_after` (a replica died mid-send) as
   "unconfirmed": they are never sent again;
3. claim due rows, committing "due -> sending" BEFORE any SMTP exchange. On PostgreSQL the
   candidates are read with SELECT ... FOR UPDATE SKIP LOCKED and each is taken with a
   conditional UPDATE (state = 'due'), so two replicas never claim the same row; the conditional
   UPDATE alone also keeps this true on SQLite;
4. for each claimed row: check it is still wanted, look up the address(es) (intake, experts, or
   the settings; not found -> cancelled; a service down -> back to "due" later), send over SMTP,
   and mark it "sent" with the time and Message-ID. The request mail's success schedules the
   reminder.

Delivery is AT-MOST-ONCE. A crash after the SMTP server took a mail and before it was marked
"sent" leaves it in "sending"; step 2 turns it into "unconfirmed" and it is not sent again. A
second copy of "your answer is ready" or of a feedback request would be worse than the rare
lost one: the portal shows the case either way, and the follow-up's reminder (scheduled from an
unconfirmed request mail too) is its second chance. Refusals that surely left nothing at the
server (cannot connect, recipient refused) and lookups that failed go back to "due" after a wait
that doubles each time (`retry_after`, 2x, 4x, ... up to `max_retry_wait`), up to `max_attempts`
tries; then the row is "failed" and counted (ot_feedback_mails_total / ot_feedback_notifications_total
with outcome "failed"). Downtime needs nothing special: a tick takes every row whose time has
passed, oldest first (a notification too late to be of use is cancelled: its `not_after`).
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.orm import sessionmaker

from ot_runtime.clock import Clock
from ot_runtime.worker import BackgroundWorker

from .directory import DirectoryUnavailable, ExpertsDirectory, IntakeDirectory
from .domain import TYPE_LABELS, FollowUpPolicy, FollowUpState, LinkSigner, MailKind, MailState, RequestType, Status
from .mailer import Mailer, NotDelivered, compose, compose_follow_up
from .notifications import BOOKING_REMINDERS, OPTIONAL, Kind, Recipient, Recipients, reminders_enabled, short_reference
from .store import follow_ups, mails, meetings, notifications, request_facts

log = logging.getLogger("ot.feedback.scheduler")

MAILS = Counter("ot_feedback_mails_total", "Feedback mails by outcome", ["kind", "outcome"])
NOTIFICATIONS = Counter("ot_feedback_notifications_total",
                        "Notification mails by kind and outcome (sent, retry, failed, cancelled, unconfirmed)",
                        ["kind", "outcome"])
# Every SMTP exchange that did not end with the relay taking the mail: "refused" (refused or
# unreachable, surely not taken: the row is retried later) or "unknown" (the relay may have taken it:
# never re-sent). `mail` is follow_up (the mails table) or notification.
SMTP_FAILURES = Counter("ot_feedback_smtp_failures_total",
                        "SMTP sends that failed, by mail (follow_up, notification) and outcome (refused, unknown)",
                        ["mail", "outcome"])
# The series the area's alerts watch exist from the start, so the first failure after a restart is
# an increase Prometheus can see (a counter series born at 1 shows no increase).
for _mail in ("follow_up", "notification"):
    for _outcome in ("refused", "unknown"):
        SMTP_FAILURES.labels(_mail, _outcome)
for _kind in MailKind:
    MAILS.labels(_kind.value, "failed")
for _kind in Kind:
    NOTIFICATIONS.labels(_kind.value, "failed")


@dataclass
class Outcomes:
    sent: list[str] = field(default_factory=list)  # row ids
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    unconfirmed: int = 0


@dataclass
class TickResult(Outcomes):
    """The follow-up mails' outcomes (and expiries); the notifications' in `notices`."""
    expired: int = 0
    notices: Outcomes = field(default_factory=Outcomes)


class _Skip(Exception):
    """This notification is not to be sent: cancelled with `reason` (a name, never a value)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class FeedbackScheduler(BackgroundWorker):
    def __init__(self, *, sessions: sessionmaker, directory: IntakeDirectory, mailer: Mailer, signer: LinkSigner,
                 policy: FollowUpPolicy, clock: Clock, tenant: str, public_url: str, sender: str,
                 experts: ExpertsDirectory | None = None, recipients: Recipients | None = None,
                 instance_id: str | None = None, tick_seconds: float = 60.0, batch_size: int = 50,
                 max_attempts: int = 8, retry_after: timedelta = timedelta(minutes=5),
                 max_retry_wait: timedelta = timedelta(hours=6), stale_after: timedelta = timedelta(hours=1)):
        super().__init__()
        self.name = "feedback-scheduler"
        self.idle_seconds = tick_seconds
        self.sessions = sessions
        self.directory = directory
        self.experts = experts
        self.recipients = recipients or Recipients()
        self.mailer = mailer
        self.signer = signer
        self.policy = policy
        self.clock = clock
        self.tenant = tenant
        self.public_url = public_url.rstrip("/")
        self.sender = sender
        self.instance_id = instance_id or f"feedback-{uuid.uuid4().hex[:8]}"
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.retry_after = retry_after
        self.max_retry_wait = max_retry_wait
        self.stale_after = stale_after
        self._tick_lock = threading.Lock()

    def link(self, token: str) -> str:
        return f"{self.public_url}/palaute/{token}"

    # --- the tick ------------------------------------------------------------------------------
    def run_due(self, now: datetime | None = None, *, follow_ups_only: bool = False) -> TickResult:
        """`follow_ups_only`: the follow-up mails alone (`ot-feedback send-due --as-of`, a later
        `now` on a laptop): the notifications keep their own times, since a later `now` would
        cancel the time-bound ones as too late."""
        with self._tick_lock:  # one tick at a time in this process; other replicas are fenced by the DB
            now = now or self.clock.now()
            result = TickResult()
            result.expired = self._expire(now)
            result.unconfirmed = self._settle_stale(mails, now, MAILS)
            queues = [(mails, self._deliver, result)]
            if not follow_ups_only:
                result.notices.unconfirmed = self._settle_stale(notifications, now, NOTIFICATIONS)
                queues.append((notifications, self._notify, result.notices))
            for table, deliver, outcomes in queues:
                for _ in range(1000):  # bounded: each batch moves its rows out of "due"
                    claimed = self._claim(table, now)
                    if not claimed:
                        break
                    for row in self._claimed_rows(table, claimed):
                        try:
                            deliver(row, now, outcomes)
                        except Exception as exc:  # a bug with one row must not stop the others
                            self._broken(table, row, exc, outcomes)
            return result

    def _expire(self, now: datetime) -> int:
        with self.sessions.begin() as s:
            ids = s.execute(sa.select(follow_ups.c.id).where(
                follow_ups.c.tenant == self.tenant, follow_ups.c.state == FollowUpState.SENT.value,
                follow_ups.c.expires_at <= now)).scalars().all()
            if ids:
                s.execute(follow_ups.update().where(follow_ups.c.id.in_(ids),
                                                    follow_ups.c.state == FollowUpState.SENT.value)
                          .values(state=FollowUpState.EXPIRED.value, updated_at=now))
                s.execute(mails.update().where(mails.c.follow_up_id.in_(ids), mails.c.state == MailState.DUE.value)
                          .values(state=MailState.CANCELLED.value, last_error="expired"))
        return len(ids)

    def _settle_stale(self, table: sa.Table, now: datetime, counter: Counter) -> int:
        with self.sessions.begin() as s:
            stale = s.execute(sa.select(table).where(
                table.c.state == MailState.SENDING.value, table.c.claimed_at <= now - self.stale_after)
                .with_for_update(skip_locked=True)).mappings().all()
            for m in stale:
                s.execute(table.update().where(table.c.id == m["id"], table.c.state == MailState.SENDING.value)
                          .values(state=MailState.UNCONFIRMED.value, last_error="stale_sending"))
                if table is mails and m["kind"] == MailKind.REQUEST:
                    self._request_went_out(s, m["follow_up_id"], m["claimed_at"])
                log.warning("mail left unconfirmed (a sender stopped mid-send); not sending it again",
                            extra={"mail_id": m["id"], "kind": m["kind"]})
                counter.labels(m["kind"], "unconfirmed").inc()
        return len(stale)

    def _claim(self, table: sa.Table, now: datetime) -> list[str]:
        """Take due rows for this instance: committed "due -> sending" before anything is sent."""
        with self.sessions.begin() as s:
            candidates = s.execute(
                sa.select(table.c.id).where(table.c.state == MailState.DUE.value, table.c.due_at <= now)
                .order_by(table.c.due_at, table.c.id).limit(self.batch_size)
                .with_for_update(skip_locked=True)).scalars().all()
            if not candidates:
                return []
            # One statement for the batch; the state check keeps a row another scheduler took
            # meanwhile (SQLite locks no rows) out of it.
            taken = set(s.execute(table.update().where(table.c.id.in_(candidates),
                                                       table.c.state == MailState.DUE.value)
                                  .values(state=MailState.SENDING.value, claimed_at=now, claimed_by=self.instance_id,
                                          attempts=table.c.attempts + 1).returning(table.c.id)).scalars())
        return [row_id for row_id in candidates if row_id in taken]  # committed: these are ours alone now

    def _claimed_rows(self, table: sa.Table, ids: list[str]) -> list[dict]:
        with self.sessions() as s:
            if table is mails:
                query = (sa.select(mails.c.id, mails.c.kind, mails.c.attempts, mails.c.follow_up_id,
                                   follow_ups.c.request_id, follow_ups.c.type,
                                   follow_ups.c.state.label("follow_up_state"), follow_ups.c.consulted_at,
                                   follow_ups.c.expires_at)
                         .join(follow_ups, follow_ups.c.id == mails.c.follow_up_id))
            else:
                query = sa.select(notifications)
            return [dict(r) for r in s.execute(query.where(table.c.id.in_(ids))
                                               .order_by(table.c.due_at, table.c.id)).mappings()]

    # --- the follow-up mails ---------------------------------------------------------------
    def _deliver(self, m: dict, now: datetime, result: TickResult) -> None:
        kind = MailKind(m["kind"])
        wanted = FollowUpState.SCHEDULED if kind is MailKind.REQUEST else FollowUpState.SENT
        if m["follow_up_state"] != wanted or (kind is MailKind.REMINDER and m["expires_at"] <= now):
            self._finish(mails, m["id"], MailState.CANCELLED, reason=f"follow_up_{m['follow_up_state']}")
            result.cancelled += 1
            return
        try:
            contact = self.directory.contact(m["request_id"])
        except DirectoryUnavailable as why:
            self._retry(mails, MAILS, m, now, f"intake_{why}", result)
            return
        reason = None if contact else "request_not_found"
        if contact and contact.withdrawn:
            reason = "withdrawn"
        elif contact and not contact.email:
            reason = "no_email"
        if reason:
            with self.sessions.begin() as s:
                s.execute(mails.update().where(mails.c.id == m["id"]).values(state=MailState.CANCELLED.value,
                                                                             last_error=reason))
                s.execute(follow_ups.update().where(follow_ups.c.id == m["follow_up_id"]).values(
                    state=FollowUpState.CANCELLED.value, cancel_reason=reason, updated_at=now))
                s.execute(mails.update().where(mails.c.follow_up_id == m["follow_up_id"],
                                               mails.c.state == MailState.DUE.value)
                          .values(state=MailState.CANCELLED.value, last_error=reason))
            log.info("feedback cancelled at send time", extra={"request_id": m["request_id"], "reason": reason})
            MAILS.labels(kind.value, "cancelled").inc()
            result.cancelled += 1
            return
        expires = self.policy.expires(now) if kind is MailKind.REQUEST else m["expires_at"]
        message = compose_follow_up(kind=kind, mail_id=m["id"], tenant=self.tenant, to=contact.email,
                                    sender=self.sender, link=self.link(self.signer.sign(m["follow_up_id"], expires)),
                                    type_=RequestType(m["type"]), consulted_at=m["consulted_at"], expires_at=expires,
                                    now=now)
        request_sent = (m["follow_up_id"], expires) if kind is MailKind.REQUEST else None
        self._send(mails, MAILS, m, message, now, result, request_sent=request_sent)

    def _request_went_out(self, s, follow_up_id: str, sent_at: datetime, expires: datetime | None = None) -> None:
        """The request mail left (or may have): the link works from now on and the reminder is due later."""
        expires = expires or self.policy.expires(sent_at)
        s.execute(follow_ups.update().where(follow_ups.c.id == follow_up_id,
                                            follow_ups.c.state == FollowUpState.SCHEDULED.value)
                  .values(state=FollowUpState.SENT.value, sent_at=sent_at, expires_at=expires, updated_at=sent_at))
        exists = s.execute(sa.select(mails.c.id).where(mails.c.follow_up_id == follow_up_id,
                                                       mails.c.kind == MailKind.REMINDER.value)).first()
        if not exists:
            s.execute(mails.insert().values(id=str(uuid.uuid4()), follow_up_id=follow_up_id,
                                            kind=MailKind.REMINDER.value, state=MailState.DUE.value,
                                            due_at=self.policy.reminder_due(sent_at), attempts=0))

    # --- the notifications -----------------------------------------------------------------
    def _notify(self, n: dict, now: datetime, result: Outcomes) -> None:
        kind = Kind(n["kind"])
        try:
            facts = self._still_wanted(n, kind, now)
            to, subject = self._addresses(n, kind)
            if kind in OPTIONAL and subject:
                with self.sessions() as s:
                    if not reminders_enabled(s, subject):
                        raise _Skip("opted_out")
        except _Skip as skip:
            self._finish(notifications, n["id"], MailState.CANCELLED, reason=skip.reason)
            log.info("notification cancelled", extra={"mail_id": n["id"], "kind": kind.value,
                                                      "request_id": n["request_id"], "reason": skip.reason})
            NOTIFICATIONS.labels(kind.value, "cancelled").inc()
            result.cancelled += 1
            return
        except DirectoryUnavailable as why:
            self._retry(notifications, NOTIFICATIONS, n, now, f"directory_{why}", result)
            return
        message = compose(template=kind.value, kind=kind.value, mail_id=n["id"], tenant=self.tenant, to=to,
                          sender=self.sender, now=now, **self._context(n, facts))
        self._send(notifications, NOTIFICATIONS, n, message, now, result)

    def _still_wanted(self, n: dict, kind: Kind, now: datetime) -> dict:
        """What the mail needs to say (the request's type, the meeting), or _Skip: too late, the
        request withdrawn, the booking over, the material arrived."""
        if n["not_after"] and now > n["not_after"]:
            raise _Skip("too_late")
        with self.sessions() as s:
            fact = s.execute(sa.select(request_facts).where(request_facts.c.request_id == n["request_id"])
                             ).mappings().first() if n["request_id"] else None
            meeting = s.execute(sa.select(meetings).where(meetings.c.meeting_id == n["meeting_id"])
                                ).mappings().first() if n["meeting_id"] else None
            booked, missing = 0, 0
            if kind is Kind.AGENDA:
                cases = s.execute(sa.select(request_facts.c.material_received_at).where(
                    request_facts.c.booking_meeting_id == n["meeting_id"])).all()
                booked, missing = len(cases), sum(1 for c in cases if c.material_received_at is None)
        if fact and fact["status"] == Status.WITHDRAWN:
            raise _Skip("withdrawn")
        if kind in BOOKING_REMINDERS and (not fact or fact["booking_meeting_id"] != n["meeting_id"]):
            raise _Skip("booking_ended")
        if kind is Kind.MATERIAL_REMINDER and fact["material_received_at"]:
            raise _Skip("material_received")
        return {"fact": fact, "meeting": meeting, "booked": booked, "missing": missing}

    def _addresses(self, n: dict, kind: Kind) -> tuple[list[str], str]:
        """(To addresses, the recipient's user id for their settings or ""), looked up now, never stored."""
        recipient, key = Recipient(n["recipient"]), n["recipient_key"]
        if recipient is Recipient.PROFESSIONAL:
            contact = self.directory.contact(n["request_id"])
            if contact is None:
                raise _Skip("request_not_found")
            if contact.withdrawn:
                raise _Skip("withdrawn")
            if not contact.email:
                raise _Skip("no_address")
            return [contact.email], contact.subject
        if recipient is Recipient.EXPERT:
            if self.experts is None:
                raise _Skip("no_address")
            email = self.experts.email(key)
            if email is None:
                raise _Skip("expert_not_found")
            if not email:
                raise _Skip("no_address")
            return [email], f"expert-{key}"
        if recipient is Recipient.COORDINATORS:
            if not self.recipients.coordinators:
                raise _Skip("no_address")
            return list(self.recipients.coordinators), ""
        address = self.recipients.secretaries.get(key)
        if not address:
            raise _Skip("no_address")
        return [address], ""

    def _context(self, n: dict, found: dict) -> dict:
        """The facts a notification may carry: never case content or client facts."""
        fact, meeting = found["fact"], found["meeting"]
        raw_type = n["request_type"] or (fact["type"] if fact else None)
        type_fi, type_en = TYPE_LABELS[RequestType(raw_type)] if raw_type else ("pyyntö", "request")
        return dict(portal_url=self.recipients.portal_url, ref=short_reference(n["request_id"] or ""),
                    type_fi=type_fi, type_en=type_en,
                    starts_at=meeting["starts_at"] if meeting else (fact["meeting_starts_at"] if fact else None),
                    deadline=meeting["booking_deadline"] if meeting else None,
                    location=meeting["location"] if meeting else "",
                    group_id=meeting["group_id"] if meeting else n["recipient_key"],
                    booked=found["booked"], missing=found["missing"])

    # --- shared steps ------------------------------------------------------------------------
    def _send(self, table: sa.Table, counter: Counter, row: dict, message, now: datetime, result: Outcomes,
              request_sent: tuple[str, datetime] | None = None) -> None:
        mail = "follow_up" if table is mails else "notification"
        try:
            self.mailer.send(message)
        except NotDelivered as why:
            SMTP_FAILURES.labels(mail, "refused").inc()
            self._retry(table, counter, row, now, f"smtp_{why}", result)
            return
        except Exception as exc:
            SMTP_FAILURES.labels(mail, "unknown").inc()
            # The server may have taken it: never send it again (at-most-once); a request mail
            # counts as gone out, so that its reminder still comes.
            log.warning("SMTP outcome unknown; mail left unconfirmed",
                        extra={"mail_id": row["id"], "error": type(exc).__name__})
            self._finish(table, row["id"], MailState.UNCONFIRMED, reason=type(exc).__name__[:100], now=now,
                         request_sent=request_sent)
            counter.labels(row["kind"], "unconfirmed").inc()
            result.unconfirmed += 1
            return
        self._finish(table, row["id"], MailState.SENT, now=now, message_id=str(message["Message-ID"]),
                     request_sent=request_sent)
        log.info("mail sent", extra={"mail_id": row["id"], "kind": row["kind"], "request_id": row["request_id"]})
        counter.labels(row["kind"], "sent").inc()
        result.sent.append(row["id"])

    def _finish(self, table: sa.Table, row_id: str, state: MailState, *, reason: str | None = None,
                now: datetime | None = None, message_id: str | None = None,
                request_sent: tuple[str, datetime] | None = None) -> None:
        with self.sessions.begin() as s:
            values: dict = dict(state=state.value, last_error=reason)
            if state is MailState.SENT:
                values.update(sent_at=now, message_id=message_id)
            s.execute(table.update().where(table.c.id == row_id).values(**values))
            if request_sent:
                self._request_went_out(s, request_sent[0], now, expires=request_sent[1])

    def _broken(self, table: sa.Table, row: dict, exc: Exception, result: Outcomes) -> None:
        """An unexpected error before anything was sent: the row is failed (never re-sent blindly)."""
        log.error("mail could not be prepared; marked failed", extra={"mail_id": row["id"], "kind": row["kind"],
                                                                       "error": type(exc).__name__})
        self._finish(table, row["id"], MailState.FAILED, reason=type(exc).__name__[:100])
        (MAILS if table is mails else NOTIFICATIONS).labels(row["kind"], "failed").inc()
        result.failed += 1

    def retry_wait(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed try: retry_after, then doubling, at most max_retry_wait."""
        return min(self.retry_after * 2 ** max(0, attempts - 1), self.max_retry_wait)

    def _retry(self, table: sa.Table, counter: Counter, row: dict, now: datetime, reason: str,
               result: Outcomes) -> None:
        give_up = row["attempts"] >= self.max_attempts
        with self.sessions.begin() as s:
            s.execute(table.update().where(table.c.id == row["id"]).values(
                state=(MailState.FAILED if give_up else MailState.DUE).value,
                due_at=now + self.retry_wait(row["attempts"]), last_error=reason[:100]))
        log.warning("mail not sent; %s", "giving up" if give_up else "will retry",
                    extra={"mail_id": row["id"], "kind": row["kind"], "reason": reason, "attempts": row["attempts"]})
        counter.labels(row["kind"], "failed" if give_up else "retry").inc()
        if give_up:
            result.failed += 1
        else:
            result.retried += 1

    # --- the background loop (BackgroundWorker) -------------------------------------------
    def step(self) -> bool:
        self.run_due()
        return False  # then wait a tick
