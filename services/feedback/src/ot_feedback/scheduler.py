"""The durable schedule: mail rows in the database, sent by a tick that any replica may run.

`run_due(now)` does, in order:
1. expire follow-ups whose link has run out (their reminder is cancelled);
2. settle mails left in "sending" for longer than `stale_after` (a replica died mid-send) as
   "unconfirmed": they are never sent again;
3. claim due mails, committing "due -> sending" BEFORE any SMTP exchange. On PostgreSQL the
   candidates are read with SELECT ... FOR UPDATE SKIP LOCKED and each is taken with a
   conditional UPDATE (state = 'due'), so two replicas never claim the same mail; the conditional
   UPDATE alone also keeps this true on SQLite;
4. for each claimed mail: ask intake for the worker's address (not found -> the follow-up is
   cancelled; intake down -> back to "due" later), send over SMTP, and mark it "sent" with the
   time and Message-ID. The request mail's success schedules the reminder.

Delivery is AT-MOST-ONCE. A crash after the SMTP server took a mail and before it was marked
"sent" leaves it in "sending"; step 2 turns it into "unconfirmed" and it is not sent again. A
feedback request is a courtesy: a second copy would annoy a busy professional, a lost one costs
one answer, and the reminder (scheduled from an unconfirmed request mail too) is the second
chance. Refusals that surely left nothing at the server (cannot connect, recipient refused) go
back to "due" with a delay, up to `max_attempts`. Downtime needs nothing special: a tick takes
every mail whose time has passed, oldest first.
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

from .directory import DirectoryUnavailable, IntakeDirectory
from .domain import FollowUpPolicy, FollowUpState, LinkSigner, MailKind, MailState, RequestType
from .mailer import Mailer, NotDelivered, compose
from .store import follow_ups, mails

log = logging.getLogger("ot.feedback.scheduler")

MAILS = Counter("ot_feedback_mails_total", "Feedback mails by outcome", ["kind", "outcome"])


@dataclass
class TickResult:
    sent: list[str] = field(default_factory=list)          # mail ids
    retried: int = 0
    cancelled: int = 0
    expired: int = 0
    unconfirmed: int = 0


class FeedbackScheduler(BackgroundWorker):
    def __init__(self, *, sessions: sessionmaker, directory: IntakeDirectory, mailer: Mailer, signer: LinkSigner,
                 policy: FollowUpPolicy, clock: Clock, tenant: str, public_url: str, sender: str,
                 instance_id: str | None = None, tick_seconds: float = 60.0, batch_size: int = 50,
                 max_attempts: int = 8, retry_after: timedelta = timedelta(minutes=15),
                 stale_after: timedelta = timedelta(hours=1)):
        super().__init__()
        self.name = "feedback-scheduler"
        self.idle_seconds = tick_seconds
        self.sessions = sessions
        self.directory = directory
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
        self.stale_after = stale_after
        self._tick_lock = threading.Lock()

    def link(self, token: str) -> str:
        return f"{self.public_url}/palaute/{token}"

    # --- the tick ------------------------------------------------------------------------------
    def run_due(self, now: datetime | None = None) -> TickResult:
        with self._tick_lock:  # one tick at a time in this process; other replicas are fenced by the DB
            now = now or self.clock.now()
            result = TickResult()
            result.expired = self._expire(now)
            result.unconfirmed = self._settle_stale(now)
            for _ in range(1000):  # bounded: each batch moves its rows out of "due"
                claimed = self._claim(now)
                if not claimed:
                    break
                for row in claimed:
                    self._deliver(row, now, result)
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

    def _settle_stale(self, now: datetime) -> int:
        with self.sessions.begin() as s:
            stale = s.execute(sa.select(mails.c.id, mails.c.kind, mails.c.follow_up_id, mails.c.claimed_at).where(
                mails.c.state == MailState.SENDING.value, mails.c.claimed_at <= now - self.stale_after)
                .with_for_update(skip_locked=True)).all()
            for m in stale:
                s.execute(mails.update().where(mails.c.id == m.id, mails.c.state == MailState.SENDING.value)
                          .values(state=MailState.UNCONFIRMED.value, last_error="stale_sending"))
                if m.kind == MailKind.REQUEST:
                    self._request_went_out(s, m.follow_up_id, m.claimed_at)
                log.warning("mail left unconfirmed (a sender stopped mid-send); not sending it again",
                            extra={"mail_id": m.id, "kind": m.kind})
                MAILS.labels(m.kind, "unconfirmed").inc()
        return len(stale)

    def _claim(self, now: datetime) -> list[dict]:
        with self.sessions.begin() as s:
            candidates = s.execute(
                sa.select(mails.c.id).where(mails.c.state == MailState.DUE.value, mails.c.due_at <= now)
                .order_by(mails.c.due_at, mails.c.id).limit(self.batch_size)
                .with_for_update(skip_locked=True)).scalars().all()
            claimed = []
            for mail_id in candidates:
                taken = s.execute(mails.update().where(mails.c.id == mail_id, mails.c.state == MailState.DUE.value)
                                  .values(state=MailState.SENDING.value, claimed_at=now, claimed_by=self.instance_id,
                                          attempts=mails.c.attempts + 1)).rowcount
                if taken == 1:
                    claimed.append(mail_id)
            if not claimed:
                return []
            rows = s.execute(
                sa.select(mails.c.id, mails.c.kind, mails.c.attempts, mails.c.follow_up_id, follow_ups.c.request_id,
                          follow_ups.c.type, follow_ups.c.state.label("follow_up_state"), follow_ups.c.consulted_at,
                          follow_ups.c.expires_at)
                .join(follow_ups, follow_ups.c.id == mails.c.follow_up_id)
                .where(mails.c.id.in_(claimed)).order_by(mails.c.due_at, mails.c.id)).mappings().all()
        return [dict(r) for r in rows]  # committed: these are ours alone now

    def _deliver(self, m: dict, now: datetime, result: TickResult) -> None:
        kind = MailKind(m["kind"])
        wanted = FollowUpState.SCHEDULED if kind is MailKind.REQUEST else FollowUpState.SENT
        if m["follow_up_state"] != wanted or (kind is MailKind.REMINDER and m["expires_at"] <= now):
            self._finish(m["id"], MailState.CANCELLED, reason=f"follow_up_{m['follow_up_state']}")
            result.cancelled += 1
            return
        try:
            contact = self.directory.contact(m["request_id"])
        except DirectoryUnavailable as why:
            self._retry(m, now, f"intake_{why}", result)
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
        message = compose(kind=kind, mail_id=m["id"], tenant=self.tenant, to=contact.email, sender=self.sender,
                          link=self.link(self.signer.sign(m["follow_up_id"], expires)),
                          type_=RequestType(m["type"]), consulted_at=m["consulted_at"], expires_at=expires, now=now)
        try:
            self.mailer.send(message)
        except NotDelivered as why:
            self._retry(m, now, f"smtp_{why}", result)
            return
        except Exception as exc:
            # The server may have taken it: never send it again (at-most-once), but go on as if
            # it went out, so that the reminder still comes.
            log.warning("SMTP outcome unknown; mail left unconfirmed",
                        extra={"mail_id": m["id"], "error": type(exc).__name__})
            self._finish(m["id"], MailState.UNCONFIRMED, reason=type(exc).__name__[:100], now=now,
                         request_sent=(m["follow_up_id"], expires) if kind is MailKind.REQUEST else None)
            result.unconfirmed += 1
            return
        self._finish(m["id"], MailState.SENT, now=now, message_id=str(message["Message-ID"]),
                     request_sent=(m["follow_up_id"], expires) if kind is MailKind.REQUEST else None)
        log.info("feedback mail sent", extra={"mail_id": m["id"], "kind": kind.value, "request_id": m["request_id"]})
        MAILS.labels(kind.value, "sent").inc()
        result.sent.append(m["id"])

    def _finish(self, mail_id: str, state: MailState, *, reason: str | None = None, now: datetime | None = None,
                message_id: str | None = None, request_sent: tuple[str, datetime] | None = None) -> None:
        with self.sessions.begin() as s:
            values: dict = dict(state=state.value, last_error=reason)
            if state is MailState.SENT:
                values.update(sent_at=now, message_id=message_id)
            s.execute(mails.update().where(mails.c.id == mail_id).values(**values))
            if request_sent:
                self._request_went_out(s, request_sent[0], now, expires=request_sent[1])

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

    def _retry(self, m: dict, now: datetime, reason: str, result: TickResult) -> None:
        give_up = m["attempts"] >= self.max_attempts
        with self.sessions.begin() as s:
            s.execute(mails.update().where(mails.c.id == m["id"]).values(
                state=(MailState.FAILED if give_up else MailState.DUE).value, due_at=now + self.retry_after,
                last_error=reason[:100]))
        log.warning("feedback mail not sent; %s", "giving up" if give_up else "will retry",
                    extra={"mail_id": m["id"], "reason": reason, "attempts": m["attempts"]})
        MAILS.labels(m["kind"], "failed" if give_up else "retry").inc()
        result.retried += 1

    # --- the background loop (BackgroundWorker) -------------------------------------------
    def step(self) -> bool:
        self.run_due()
        return False  # then wait a tick
