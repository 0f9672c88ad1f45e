"""Transactional outbox: events are rows written with the state change, published by a relay.

What holds:

- **Never a change without its event.** `Outbox.add` writes the event row in the caller's
  transaction, so a committed change always has its event and a rolled-back one has none.
- **At-least-once, in order per key.** The relay publishes pending rows oldest first and marks
  them published after the broker's ack. A crash between the ack and the mark publishes those
  rows again (consumers absorb repeats with their inbox). Within one record key (one case) a row
  is sent only after the row before it is in the log or has failed for good, so one case's
  events are published in the order they were written.
- **One relay publishes at a time; no lock is held across a send.** A replica takes the lease
  row (`outbox_lease`) and reads a batch in one short transaction, sends outside any
  transaction, then marks the rows and gives the lease back in a second short transaction.
  Why a lease row rather than row locks or per-row claims: per-row claims let two replicas
  publish one case's events at once (out of order), and a lease row works the same on SQLite and
  PostgreSQL, needs no long-lived session (unlike an advisory lock, it survives a transaction
  pooler), and is visible to an operator. The lease expires after `lease_seconds`, so a replica
  that dies mid-batch holds up the others that long; one that stalls longer than that may publish
  alongside its successor (repeats, which the inbox absorbs).
- **A row the broker refuses never blocks the others.** A per-record refusal (too large for the
  topic, a topic the service may not write, an invalid record, a record that cannot be built)
  counts an attempt (`attempts`, `last_error`: the error's kind, never payload content); after
  `max_attempts` the row gets `failed_at`, is passed over, counted in `ot_outbox_failed_total`
  and the `ot_outbox_failed_rows` gauge, and logged. Later rows of that key wait behind it until
  then; other keys go on at once. `requeue_failed` puts failed rows back once the cause is fixed
  (a requeued event then comes after the later events of its key).
- **Broker trouble is not the row's fault.** Everything else (connection loss, timeouts, any
  retriable broker error, a producer stuck in a fatal state) ends the batch without counting an
  attempt: rows wait, in order, until the broker is back. A send the producer is still retrying
  when the batch ends is awaited by the next batch rather than sent again.

- **Published as soon as it is committed.** The relay does not wait out its poll: a commit that
  added outbox rows wakes the relays of that table in the same process (a Session `after_commit`
  hook), and on PostgreSQL the transaction also sends `NOTIFY ot_outbox_<table>`, which a relay in
  another replica hears on its LISTEN connection. The poll (`poll_seconds`) stays as the fallback
  for a lost notification or a listener that is reconnecting.

The producer must not be idempotent in kafka-python 3 (see `ot_runtime.kafka.make_producer`):
there, one refused record puts it in a fatal state that fails every later send.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
import weakref
from datetime import timedelta

import sqlalchemy as sa
from google.protobuf.message import Message
from kafka import errors as kafka_errors
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .cloudevents import CloudEvent
from .db import outbox_lease_table, utcnow
from .telemetry import context_from_traceparent, current_traceparent, kafka_trace_headers
from .worker import BackgroundWorker

log = logging.getLogger("ot.outbox")
_tracer = trace.get_tracer("ot_runtime.outbox")

PUBLISHED = Counter("ot_outbox_published_total", "Outbox events published", ["topic"])
PENDING = Gauge("ot_outbox_pending", "Outbox events not yet published (failed ones excluded)")
FAILED = Gauge("ot_outbox_failed_rows", "Outbox events the broker refused for good, waiting for an operator")
FAILED_TOTAL = Counter("ot_outbox_failed_total", "Outbox events marked failed after the broker refused them",
                       ["topic"])
SEND_ERRORS = Counter("ot_outbox_send_errors_total",
                      "Failed outbox sends: 'refused' (counted against the row) or 'broker' (not counted)", ["kind"])

# The broker's (or the client's) refusal of this one record: retrying it the same way cannot
# help. TypeError/ValueError come from building the record (the key or headers cannot be encoded).
REFUSALS = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidRecordError,
    kafka_errors.CorruptRecordError,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.InvalidTopicError,
    kafka_errors.PolicyViolationError,
    kafka_errors.InvalidTimestampError,
    kafka_errors.UnsupportedForMessageFormatError,
    TypeError,
    ValueError,
)

LEASE_NAME = "relay"


def is_refusal(error: BaseException) -> bool:
    """True for a refusal of this record; False for trouble with the broker or the connection,
    which is nobody's row's fault (retried without counting)."""
    return isinstance(error, REFUSALS)


def refusal_reason(error: BaseException) -> str:
    """The error's kind and the broker's fixed description: never the record or its payload."""
    description = getattr(error, "description", None) if isinstance(error, kafka_errors.KafkaError) else None
    reason = f"{type(error).__name__}: {description}" if description else type(error).__name__
    return reason[:300]


# The running relays of this process (woken after a commit that added rows to their table), and
# the session key under which a transaction remembers which outbox tables it added rows to.
_RELAYS: "weakref.WeakSet[OutboxRelay]" = weakref.WeakSet()
_ADDED = "ot_outbox_tables_added"


def notify_channel(table: sa.Table) -> str:
    return f"ot_outbox_{table.name}"


@sa.event.listens_for(Session, "after_commit")
def _wake_relays_after_commit(session: Session) -> None:
    tables = session.info.pop(_ADDED, None)
    if tables:
        for relay in list(_RELAYS):
            if relay.table.name in tables:
                relay.wake()


@sa.event.listens_for(Session, "after_rollback")
def _forget_rolled_back_rows(session: Session) -> None:
    session.info.pop(_ADDED, None)


class Outbox:
    """Adds events to the outbox table inside the caller's transaction."""

    def __init__(self, table: sa.Table, *, source: str, tenant: str):
        self.table = table
        self.source = source
        self.tenant = tenant

    def add(self, session: Session, *, topic: str, ce_type: str, subject: str, message: Message,
            time=None) -> str:
        event_id = str(uuid.uuid4())
        now = utcnow()
        session.execute(self.table.insert().values(
            event_id=event_id, topic=topic, record_key=subject, ce_type=ce_type, ce_subject=subject,
            ce_time=time or now, dataschema=f"proto:{message.DESCRIPTOR.full_name}",
            payload=message.SerializeToString(), traceparent=current_traceparent(), created_at=now))
        added = session.info.setdefault(_ADDED, set())
        if self.table.name not in added:
            added.add(self.table.name)
            if session.get_bind().dialect.name == "postgresql":  # delivered when (if) the transaction commits
                session.execute(sa.select(sa.func.pg_notify(notify_channel(self.table), "")))
        return event_id


class OutboxRelay(BackgroundWorker):
    """Publishes pending outbox rows, oldest first, in batches (see the module's guarantees)."""

    def __init__(self, engine: sa.Engine, table: sa.Table, producer, *, source: str, tenant: str,
                 batch_size: int = 100, poll_seconds: float = 0.5, send_timeout: float = 15.0,
                 max_attempts: int = 5, lease_seconds: float = 60.0, gauge_seconds: float = 15.0):
        super().__init__()
        self.name = "outbox-relay"
        self.idle_seconds = poll_seconds
        self.engine = engine
        self.table = table
        self.lease = outbox_lease_table(table.metadata)
        self.producer = producer
        self.source = source
        self.tenant = tenant
        self.batch_size = batch_size
        self.send_timeout = send_timeout
        self.max_attempts = max_attempts
        self.lease_seconds = lease_seconds
        self.gauge_seconds = gauge_seconds
        self.holder = f"{socket.gethostname()[:60]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lease_until = None  # our own view of the lease we hold
        self._lease_row_ready = False
        # Sends still in the producer's hands when a round ended on broker trouble: the producer
        # retries them itself, so the next round waits for them instead of sending copies.
        self._in_flight: dict[int, object] = {}
        self._gauges_due = 0.0
        self._listener: threading.Thread | None = None

    # --- waking up -----------------------------------------------------------------------
    def start(self) -> None:
        _RELAYS.add(self)
        super().start()
        if self.engine.dialect.name == "postgresql":
            self._listener = threading.Thread(target=self._listen, name="outbox-listen", daemon=True)
            self._listener.start()

    def stop(self, timeout: float = 30.0) -> None:
        _RELAYS.discard(self)
        super().stop(timeout)
        if self._listener:
            self._listener.join(timeout)

    def _listen(self) -> None:
        """Wake on other replicas' commits (their NOTIFY). A connection of its own, never returned
        to the pool (it is in autocommit and LISTENing); after trouble it reconnects, and the poll
        covers the gap."""
        while not self.stopping:
            raw = None
            try:
                raw = self.engine.raw_connection()
                conn = raw.driver_connection
                conn.autocommit = True
                conn.execute(f'LISTEN "{notify_channel(self.table)}"')
                self.wake()  # what was committed while nobody listened
                while not self.stopping:
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        self.wake()
            except Exception as error:
                log.warning("outbox listener lost its connection; polling meanwhile",
                            extra={"error": type(error).__name__})
                self.pause(self.error_seconds)
            finally:
                if raw is not None:
                    raw.invalidate()

    # --- publishing ----------------------------------------------------------------------
    def _pending(self):
        t = self.table
        return sa.and_(t.c.published_at.is_(None), t.c.failed_at.is_(None))

    def publish_batch(self) -> int:
        """Publish one batch; return how many rows were published (0 also when another replica
        holds the lease or the broker is unavailable)."""
        t = self.table
        with self.engine.connect() as conn:  # a plain read first: an idle relay writes nothing
            if conn.execute(sa.select(t.c.id).where(self._pending()).limit(1)).first() is None:
                return 0
        rows = self._claim()
        if not rows:
            return 0
        published: list = []
        refused: list = []
        trouble = None
        try:
            trouble = self._send_in_key_order(rows, published, refused)
        finally:
            self._record(published, refused)
        if trouble is not None:
            SEND_ERRORS.labels("broker").inc()
            log.warning("broker unavailable; the outbox waits and tries again (no attempt counted)",
                        extra={"error": type(trouble).__name__, "published": len(published)})
        return len(published)

    def _claim(self) -> list:
        """Take the lease and read the batch in one short transaction; [] when another replica
        holds the lease."""
        self._ensure_lease_row()
        t, lease = self.table, self.lease
        now = utcnow()
        until = now + timedelta(seconds=self.lease_seconds)
        with self.engine.begin() as conn:
            taken = conn.execute(lease.update().where(
                lease.c.name == LEASE_NAME,
                sa.or_(lease.c.holder == self.holder, lease.c.holder.is_(None), lease.c.expires_at.is_(None),
                       lease.c.expires_at < now)).values(holder=self.holder, expires_at=until)).rowcount
            if not taken:
                return []
            rows = conn.execute(sa.select(t).where(self._pending()).order_by(t.c.id).limit(self.batch_size)).all()
            if not rows:  # published by another replica since our first look
                conn.execute(self._release())
                return []
        self._lease_until = until
        return rows

    def _release(self):
        lease = self.lease
        return (lease.update().where(lease.c.name == LEASE_NAME, lease.c.holder == self.holder)
                .values(holder=None, expires_at=None))

    def _ensure_lease_row(self) -> None:
        if self._lease_row_ready:
            return
        lease = self.lease
        with self.engine.begin() as conn:
            exists = conn.execute(sa.select(lease.c.name).where(lease.c.name == LEASE_NAME)).first()
        if not exists:
            try:
                with self.engine.begin() as conn:
                    conn.execute(lease.insert().values(name=LEASE_NAME))
            except IntegrityError:
                pass  # another replica made it meanwhile
        self._lease_row_ready = True

    def _keep_lease(self) -> bool:
        """Renew the lease when half of it is spent; False when another replica has taken it."""
        now = utcnow()
        if self._lease_until is not None and now < self._lease_until - timedelta(seconds=self.lease_seconds / 2):
            return True
        until = now + timedelta(seconds=self.lease_seconds)
        lease = self.lease
        with self.engine.begin() as conn:
            kept = conn.execute(lease.update().where(lease.c.name == LEASE_NAME, lease.c.holder == self.holder)
                                .values(expires_at=until)).rowcount
        self._lease_until = until if kept else None
        return bool(kept)

    def _send_in_key_order(self, rows, published: list, refused: list):
        """Send `rows` in waves, each holding the next row of every record key, and wait for the
        wave's acks before the next: a key's row goes out only after the one before it is in the
        log, and distinct keys still go out together. A refused row holds back the rest of its
        key for this round. Returns the broker trouble that ended the round early, or None."""
        self._in_flight = {row.id: self._in_flight[row.id] for row in rows if row.id in self._in_flight}
        queues: dict[str, list] = {}
        for row in rows:
            queues.setdefault(row.record_key, []).append(row)
        while queues:
            if not self._keep_lease():
                log.warning("relay lease taken over mid-batch; the other replica goes on")
                return None
            wave = [queue.pop(0) for queue in queues.values()]
            held_back: set[str] = set()
            sent = []
            trouble = None
            failures = []
            for row in wave:
                try:
                    sent.append((row, self._in_flight.pop(row.id, None) or self._send(row)))
                except Exception as error:  # raised by send() itself: built or checked client-side
                    failures.append((row, error))
                    if not is_refusal(error):
                        break
            deadline = time.monotonic() + self.send_timeout
            for row, future in sent:
                try:
                    future.get(timeout=max(0.0, deadline - time.monotonic()))
                    published.append(row)
                except kafka_errors.KafkaTimeoutError as error:
                    if not getattr(future, "is_done", True):
                        self._in_flight[row.id] = future  # not refused: still being tried
                    failures.append((row, error))
                except Exception as error:
                    failures.append((row, error))
            unusable = failures and self._producer_unusable()
            for row, error in failures:
                if is_refusal(error) and not unusable:
                    refused.append((row, error))
                    held_back.add(row.record_key)
                else:
                    trouble = trouble or error
            if unusable:
                log.error("the Kafka producer is in a fatal state and fails every send; nothing is counted "
                          "against the rows; restart the service (and turn idempotence off, see make_producer)")
            if trouble is not None:
                return trouble
            queues = {key: queue for key, queue in queues.items() if queue and key not in held_back}
        return None

    def _producer_unusable(self) -> bool:
        """kafka-python 3's idempotent producer turns any non-retriable error (one record too large
        for its topic) into a fatal state in which every later send fails with that same error:
        those failures are the producer's, not the rows'."""
        manager = getattr(self.producer, "_transaction_manager", None)
        return bool(manager is not None and manager.has_fatal_error())

    def _send(self, row):
        event = CloudEvent(id=row.event_id, type=row.ce_type, source=self.source, subject=row.ce_subject,
                           tenant=self.tenant, time=row.ce_time, dataschema=row.dataschema, data=row.payload)
        # The publish span continues the trace of the call that wrote the row, and its context
        # travels in the record headers, so the consumer's span joins the same trace.
        with _tracer.start_as_current_span(f"{row.topic} publish", kind=SpanKind.PRODUCER,
                                           context=context_from_traceparent(row.traceparent)) as span:
            span.set_attribute("messaging.system", "kafka")
            span.set_attribute("messaging.destination.name", row.topic)
            span.set_attribute("messaging.message.id", row.event_id)
            span.set_attribute("cloudevents.event_type", row.ce_type)
            headers = event.headers() + kafka_trace_headers()
            return self.producer.send(row.topic, key=row.record_key.encode(), value=row.payload, headers=headers)

    def _record(self, published: list, refused: list) -> None:
        """Second short transaction: mark what the broker took, count refusals, give the lease back."""
        t = self.table
        now = utcnow()
        gave_up = []
        with self.engine.begin() as conn:
            if published:
                conn.execute(t.update().where(t.c.id.in_([r.id for r in published])).values(published_at=now))
            for row, error in refused:
                attempts = row.attempts + 1
                failed = attempts >= self.max_attempts
                conn.execute(t.update().where(t.c.id == row.id).values(
                    attempts=attempts, last_error=refusal_reason(error), failed_at=now if failed else None))
                if failed:
                    gave_up.append((row, error, attempts))
            conn.execute(self._release())
        self._lease_until = None
        for row in published:
            PUBLISHED.labels(row.topic).inc()
        for row, error in refused:
            SEND_ERRORS.labels("refused").inc()
            log.warning("the broker refused an outbox event; attempt counted",
                        extra={"event_id": row.event_id, "topic": row.topic, "attempts": row.attempts + 1,
                               "error": type(error).__name__})
        for row, error, attempts in gave_up:
            FAILED_TOTAL.labels(row.topic).inc()
            log.error("outbox event failed for good and is passed over; requeue it once the cause is fixed",
                      extra={"event_id": row.event_id, "topic": row.topic, "attempts": attempts,
                             "reason": refusal_reason(error)})
        if gave_up:
            self.pending()

    # --- operator's view ---------------------------------------------------------------------
    def pending(self) -> int:
        """Rows waiting to be published; also sets the pending and failed gauges."""
        t = self.table
        with self.engine.connect() as conn:
            pending = conn.execute(sa.select(sa.func.count()).select_from(t).where(self._pending())).scalar_one()
            failed = conn.execute(sa.select(sa.func.count()).select_from(t).where(
                t.c.published_at.is_(None), t.c.failed_at.is_not(None))).scalar_one()
        PENDING.set(pending)
        FAILED.set(failed)
        self._gauges_due = time.monotonic() + self.gauge_seconds
        return pending

    def requeue_failed(self, event_ids: list[str] | None = None) -> int:
        """Put failed rows (all, or those with `event_ids`) back in line with fresh attempts;
        returns how many. A requeued event comes out after the later events of its key that were
        published while it was failed: consumers must take it as a late arrival."""
        t = self.table
        where = [t.c.published_at.is_(None), t.c.failed_at.is_not(None)]
        if event_ids is not None:
            where.append(t.c.event_id.in_(event_ids))
        with self.engine.begin() as conn:
            count = conn.execute(t.update().where(*where).values(failed_at=None, attempts=0, last_error=None)).rowcount
        self.pending()
        return count

    def step(self) -> bool:
        published = self.publish_batch()
        if time.monotonic() >= self._gauges_due:
            self.pending()
        return published > 0
