"""Event consumer with an inbox and a dead-letter topic.

What holds, per consumer group and partition:

- **Exactly once in effect (at-least-once delivery plus the inbox).** A record's handler runs in
  a database transaction that also writes the event id to the inbox; the offset is committed only
  after that transaction commits (or after the record is on the dead-letter topic). A crash or a
  failed commit in between delivers the record again, and the inbox makes the repeat a no-op.
- **Nothing is skipped.** The committed offset never passes a record that was neither processed
  nor dead-lettered. After any failure the consumer seeks back to that record and polls it again;
  the records behind it in that partition wait (other partitions go on), so one case's events are
  also handled in order.
- **Passing trouble is retried, with backoff (tenacity).** Lost or refused database connections,
  serialisation failures, deadlocks, lock and statement timeouts (`OperationalError`,
  `InterfaceError`, any invalidated connection), pool timeouts, `ot_runtime.errors.Unavailable`
  from a service the handler calls (or a gRPC UNAVAILABLE / DEADLINE_EXCEEDED), and a failed
  dead-letter send: the same record is tried again after exponentially growing waits up to
  `retry_max_seconds`, as long as it takes. Waits end at once on `stop()`. One poll's records
  get at most `retry_round_seconds` of retrying between them (each record at least one attempt),
  then the consumer polls again and the same records come back: the group never drops a
  consumer that is only waiting, and a partition whose record keeps failing does not starve the
  others.
- **A record that can never be processed goes to the dead-letter topic, then the consumer goes
  on.** Not a CloudEvent, another area's, an undecodable payload, a rule's refusal (any `OtError`
  but `Unavailable`, or `Poison`), a constraint or data error from the database (`IntegrityError`,
  `DataError`). The record keeps its key, value and headers, plus `ot_dlt_reason` (reason text,
  never payload content), `ot_dlt_error` (the error's kind), `ot_dlt_attempts`, `ot_dlt_topic`,
  `ot_dlt_partition`, `ot_dlt_offset` and `ot_dlt_consumer`. An unexpected exception (a bug) is
  retried `unexpected_attempts` times and then dead-lettered with its type as the reason.
- **A record is never dropped because the dead-letter topic is unavailable**: until the send is
  acknowledged the record stays uncommitted and is retried (the dead-letter topic is itself
  at-least-once: an unacknowledged send that did arrive may arrive twice).

`replay_dead_letters` puts chosen dead-lettered events back on their topics once the cause is fixed.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import grpc
import sqlalchemy as sa
from google.protobuf.message import DecodeError, Message
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Gauge
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from tenacity import (Retrying, retry_if_exception_type, stop_before_delay, stop_when_event_set,
                      wait_exponential)

from .cloudevents import CloudEvent, MalformedEvent
from .db import insert_unless_present, utcnow
from .errors import OtError, Unavailable
from .telemetry import context_from_kafka_headers
from .worker import BackgroundWorker

log = logging.getLogger("ot.consumer")
_tracer = trace.get_tracer("ot_runtime.consumer")

CONSUMED = Counter("ot_events_consumed_total", "Events consumed", ["type", "outcome"])
RETRIED = Counter("ot_events_retried_total",
                  "Failed attempts at an event that will be tried again (transient, unexpected, dead_letter_send)",
                  ["type", "kind"])
# Created per consumer group at start (so the first dead letter is an increase Prometheus can see).
DEAD_LETTERED = Counter("ot_events_dead_lettered_total", "Records this consumer group sent to its dead-letter topic",
                        ["group"])
LAG = Gauge("ot_consumer_lag", "Records in an assigned partition not yet settled by this consumer: the partition's "
            "end offset (highwater, from the last fetch) minus the consumer's position, after each poll",
            ["group", "topic", "partition"])

TRANSIENT, PERMANENT, UNEXPECTED = "transient", "permanent", "unexpected"
_PASSING_GRPC = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


@dataclass(frozen=True)
class Handler:
    message_type: type[Message]
    handle: Callable[[Session, CloudEvent, Message], None]


class Poison(Exception):
    """This record can never be processed; the message is the reason (no payload content)."""


def classify(error: BaseException) -> str:
    """TRANSIENT (retry as long as it takes), PERMANENT (dead-letter now) or UNEXPECTED (a bug:
    retry a few times, then dead-letter)."""
    if isinstance(error, Unavailable):
        return TRANSIENT
    if isinstance(error, (Poison, MalformedEvent, DecodeError, OtError)):
        return PERMANENT
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
            return TRANSIENT
        if isinstance(error, (sa_exc.IntegrityError, sa_exc.DataError)):
            return PERMANENT
        return UNEXPECTED
    if isinstance(error, (sa_exc.TimeoutError, sa_exc.DisconnectionError, TimeoutError, ConnectionError)):
        return TRANSIENT
    if isinstance(error, grpc.RpcError) and callable(getattr(error, "code", None)) and error.code() in _PASSING_GRPC:
        return TRANSIENT
    return UNEXPECTED


def dead_letter_reason(error: BaseException) -> str:
    """Why a record is dead-lettered, in words that never carry a value from the record or a
    database row (a database's message can: "Key (email)=(...) already exists")."""
    if isinstance(error, OtError):
        return error.message  # written never to echo a refused value
    if isinstance(error, (Poison, MalformedEvent)):
        return str(error)
    if isinstance(error, sa_exc.DBAPIError):
        orig = error.orig
        constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
        return (f"the database refused the change: {type(orig).__name__}"
                + (f" (constraint {constraint})" if constraint else ""))
    return f"unexpected {type(error).__name__} in the handler"


@dataclass(frozen=True)
class _DeadLetter:
    reason: str
    error: str  # the error's kind (exception type)
    attempts: int


class _TryAgain(Exception):
    """The attempt failed for a passing reason: tenacity waits, then tries again."""


class _Stopping(Exception):
    """stop() was called: leave the record where it is."""


class EventConsumer(BackgroundWorker):
    def __init__(self, *, bootstrap_servers: str, topics: list[str], group_id: str, tenant: str,
                 sessions: sessionmaker, inbox: sa.Table, handlers: dict[str, Handler],
                 producer, dead_letter_topic: str, poll_timeout_ms: int = 500, kafka_config: dict | None = None,
                 retry_initial_seconds: float = 0.5, retry_max_seconds: float = 30.0,
                 retry_round_seconds: float = 60.0, unexpected_attempts: int = 5,
                 send_timeout: float = 15.0, commit_timeout_ms: int = 15000):
        """`kafka_config`: extra KafkaConsumer settings (TLS, SASL...); they may not turn on
        auto-commit or change the group, on which the guarantees rest."""
        super().__init__()
        self.name = f"consumer-{group_id}"
        self.idle_seconds = 0  # poll() itself waits for records
        self.topics = topics
        self.group_id = group_id
        self.tenant = tenant
        self.sessions = sessions
        self.inbox = inbox
        self.handlers = handlers
        self.producer = producer
        self.dead_letter_topic = dead_letter_topic
        self.poll_timeout_ms = poll_timeout_ms
        self.retry_initial_seconds = retry_initial_seconds
        self.retry_max_seconds = retry_max_seconds
        self.unexpected_attempts = unexpected_attempts
        self.send_timeout = send_timeout
        self.commit_timeout_ms = commit_timeout_ms
        config = {"bootstrap_servers": bootstrap_servers.split(","), "client_id": group_id,
                  "auto_offset_reset": "earliest", "max_poll_records": 100, "max_poll_interval_ms": 300000,
                  **(kafka_config or {}),
                  "group_id": group_id, "enable_auto_commit": False}
        # A retry round must end well within max.poll.interval, or the group would drop us.
        self.retry_round_seconds = min(retry_round_seconds, config["max_poll_interval_ms"] / 1000 / 3)
        self._round_ends = 0.0
        self._topics_known = False
        # Unexpected errors per record, kept across rounds so the bound holds however the
        # retrying is split up; a record's entry goes when it is settled.
        self._unexpected: dict[tuple[str, int, int], int] = {}
        self.consumer = KafkaConsumer(*topics, **config)
        DEAD_LETTERED.labels(group_id)
        self._lag_labels: set[tuple[str, str, str]] = set()

    # --- the loop ------------------------------------------------------------------------------
    def step(self) -> bool:
        return self.poll_once() > 0

    def poll_once(self) -> int:
        """Settle what one poll returns, in order per partition; return how many records were
        settled (processed, found already processed, ignored or dead-lettered)."""
        if not self._topics_known:
            self._learn_topics()
        batches = self.consumer.poll(timeout_ms=self.poll_timeout_ms)
        self._round_ends = time.monotonic() + self.retry_round_seconds
        # poll() has moved every partition's position past its whole batch: whatever happens
        # below, the finally clause moves it back to the first record not settled.
        unsettled = {tp: records[0].offset for tp, records in batches.items() if records}
        settled = 0
        try:
            for tp, records in batches.items():
                for record in records:
                    if self.stopping or not self._settle(record):
                        break  # this record, and the rest of its partition's batch, wait
                    unsettled[tp] = record.offset + 1
                    settled += 1
                    if not self._commit(tp, record.offset + 1):
                        return settled  # poll again: a rebalance or the broker's return sorts it out
            return settled
        finally:
            for tp, records in batches.items():
                if records and unsettled[tp] <= records[-1].offset:
                    self._rewind(tp, unsettled[tp])
            self._record_lag()

    def _learn_topics(self, wait_seconds: float = 10.0) -> None:
        """Know every subscribed topic's partitions before the first poll joins the group.

        kafka-python joins the group as soon as it has bootstrapped, with no topic metadata yet;
        the group's leader then assigns nobody a partition of a topic it does not know ("No
        partition metadata for topic ...") and counts on a later metadata change to rejoin. Mostly
        that comes within a second, but CI saw a consumer left without one topic's partitions for
        over a minute. A topic still invisible after `wait_seconds` (not created yet) is left to
        that mechanism, as before: the consumer joins all the same."""
        deadline = time.monotonic() + wait_seconds
        missing = list(self.topics)
        while missing:
            missing = [t for t in missing if not self.consumer.partitions_for_topic(t)]
            if not missing or time.monotonic() >= deadline or self.stopping:
                break
            self.pause(0.2)
        if missing:
            log.warning("subscribed topics not visible yet; joining the group without them",
                        extra={"topics": missing})
        self._topics_known = True

    def _commit(self, tp, next_offset: int) -> bool:
        try:
            self.consumer.commit({tp: OffsetAndMetadata(next_offset, "", -1)}, timeout_ms=self.commit_timeout_ms)
            return True
        except KafkaError as error:
            # The record's transaction is committed; if this offset never is, the record comes
            # again and the inbox makes it a no-op.
            log.warning("offset commit failed; the record is done and its redelivery will be a no-op",
                        extra={"topic": tp.topic, "partition": tp.partition, "offset": next_offset - 1,
                               "error": type(error).__name__})
            return False

    def _rewind(self, tp, offset: int) -> None:
        try:
            self.consumer.seek(tp, offset)
        except (ValueError, KafkaError):
            pass  # no longer ours (rebalanced): its next owner starts from the committed offset

    def _record_lag(self) -> None:
        """ot_consumer_lag of each assigned partition, from what the client already knows (the
        highwater of its last fetch and its own position; no request to the broker). A partition
        not fetched yet has no figure; one no longer assigned loses its series."""
        seen = set()
        try:
            for tp in self.consumer.assignment() or ():
                end = self.consumer.highwater(tp)
                if end is None:
                    continue
                position = self.consumer.position(tp, timeout_ms=0)
                if position is None:
                    continue
                labels = (self.group_id, tp.topic, str(tp.partition))
                LAG.labels(*labels).set(max(0, end - position))
                seen.add(labels)
        except Exception as error:  # a figure, never a reason to stop consuming
            # Keep the last values until the next poll (e.g. a partition revoked meanwhile).
            log.debug("consumer lag not measured", extra={"error": type(error).__name__})
            return
        for labels in self._lag_labels - seen:
            LAG.remove(*labels)
        self._lag_labels = seen

    # --- one record ------------------------------------------------------------------------------
    def _settle(self, record) -> bool:
        """Process the record or dead-letter it; False when it is to stay where it is."""
        settled = self._settle_once(record)
        if settled:
            self._unexpected.pop((record.topic, record.partition, record.offset), None)
        return settled

    def _settle_once(self, record) -> bool:
        try:
            event = CloudEvent.from_record(record.headers, record.value)
        except MalformedEvent as bad:
            return self._dead_letter(record, "unknown", _DeadLetter(str(bad), type(bad).__name__, 1))
        handler = self.handlers.get(event.type)
        if handler is None:
            CONSUMED.labels(event.type, "ignored").inc()
            return True  # another consumer's business; not an error
        with _tracer.start_as_current_span(f"{record.topic} process", kind=SpanKind.CONSUMER,
                                           context=context_from_kafka_headers(record.headers or [])) as span:
            span.set_attribute("messaging.system", "kafka")
            span.set_attribute("messaging.destination.name", record.topic)
            span.set_attribute("messaging.message.id", event.id)
            span.set_attribute("cloudevents.event_type", event.type)
            outcome = self._outcome(record, event, handler)
            if outcome is None:
                span.set_status(Status(StatusCode.ERROR, "not processed yet; will be retried"))
                return False
            if isinstance(outcome, _DeadLetter):
                span.set_status(Status(StatusCode.ERROR, "dead-lettered"))
                return self._dead_letter(record, event.type, outcome)
            CONSUMED.labels(event.type, outcome).inc()
            span.set_attribute("ot.outcome", outcome)
            return True

    def _outcome(self, record, event: CloudEvent, handler: Handler) -> str | _DeadLetter | None:
        """'processed' or 'duplicate'; a _DeadLetter; or None (not settled: stopping, or still
        failing for a passing reason at the end of this round)."""
        if event.tenant != self.tenant:
            return _DeadLetter(f"event is for area {event.tenant!r}, this consumer serves {self.tenant!r}",
                               "Poison", 1)
        try:
            message = handler.message_type.FromString(event.data)
        except DecodeError:
            return _DeadLetter(f"payload is not a valid {handler.message_type.DESCRIPTOR.full_name}",
                               "DecodeError", 1)
        attempts = 0
        where_in_log = (record.topic, record.partition, record.offset)

        def attempt():
            nonlocal attempts
            if self.stopping:
                raise _Stopping()
            attempts += 1
            try:
                return self._apply(event, handler, message)
            except Exception as error:
                kind = classify(error)
                if kind == PERMANENT:
                    return _DeadLetter(dead_letter_reason(error), type(error).__name__, attempts)
                where = {"event_id": event.id, "ce_type": event.type, "topic": record.topic,
                         "partition": record.partition, "offset": record.offset, "attempt": attempts,
                         "error": type(error).__name__}
                if kind == UNEXPECTED:
                    unexpected = self._unexpected[where_in_log] = self._unexpected.get(where_in_log, 0) + 1
                    if unexpected >= self.unexpected_attempts:
                        log.error("event failed with an unexpected error every time; dead-lettering it",
                                  extra=where, exc_info=error)
                        return _DeadLetter(f"{dead_letter_reason(error)}, {unexpected} attempts",
                                           type(error).__name__, attempts)
                RETRIED.labels(event.type, kind).inc()
                log.warning("event not processed (%s error); trying again", kind, extra=where,
                            exc_info=error if kind == UNEXPECTED else None)
                raise _TryAgain() from error

        try:
            return self._retrying()(attempt)
        except (_TryAgain, _Stopping):
            return None

    def _retrying(self) -> Retrying:
        """Attempts until success, stop(), or the end of this poll's round (at least one)."""
        return Retrying(
            retry=retry_if_exception_type(_TryAgain),
            wait=wait_exponential(multiplier=self.retry_initial_seconds, max=self.retry_max_seconds),
            stop=stop_when_event_set(self._stop) | stop_before_delay(max(0.0, self._round_ends - time.monotonic())),
            sleep=self.pause, reraise=True)

    def _apply(self, event: CloudEvent, handler: Handler, message: Message) -> str:
        # The inbox row first: a repeat is known by one statement, and two members of the group on
        # one record at once (a rebalance mid-record) cannot both run the handler: the second's
        # insert waits for the first's transaction and then finds the row (insert_unless_present).
        # A handler that fails rolls the row back with its own changes.
        with self.sessions.begin() as session:
            if not insert_unless_present(session, self.inbox, consumer=self.group_id, event_id=event.id,
                                         ce_type=event.type, processed_at=utcnow()):
                return "duplicate"
            handler.handle(session, event, message)
        return "processed"

    def _dead_letter(self, record, ce_type: str, verdict: _DeadLetter) -> bool:
        """True once the dead-letter topic has the record; False (the record stays) when stop()
        came first or the send still fails at the end of this round."""
        headers = [(k, v) for k, v in (record.headers or []) if not k.startswith("ot_dlt_")] + [
            ("ot_dlt_reason", verdict.reason[:500].encode()),
            ("ot_dlt_error", verdict.error.encode()),
            ("ot_dlt_attempts", str(verdict.attempts).encode()),
            ("ot_dlt_topic", record.topic.encode()),
            ("ot_dlt_partition", str(record.partition).encode()),
            ("ot_dlt_offset", str(record.offset).encode()),
            ("ot_dlt_consumer", self.group_id.encode()),
        ]
        where = {"reason": verdict.reason, "error": verdict.error, "topic": record.topic,
                 "partition": record.partition, "offset": record.offset, "dead_letter_topic": self.dead_letter_topic}

        def send():
            if self.stopping:
                raise _Stopping()
            try:
                self.producer.send(self.dead_letter_topic, key=record.key, value=record.value,
                                   headers=headers).get(timeout=self.send_timeout)
            except Exception as error:
                RETRIED.labels(ce_type, "dead_letter_send").inc()
                log.warning("dead-letter send failed; the record stays and is tried again",
                            extra={**where, "send_error": type(error).__name__})
                raise _TryAgain() from error

        try:
            self._retrying()(send)
        except (_TryAgain, _Stopping):
            return False
        CONSUMED.labels(ce_type, "dead_letter").inc()
        DEAD_LETTERED.labels(self.group_id).inc()
        log.warning("event sent to the dead-letter topic", extra=where)
        return True

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        # A static member (group_instance_id) never sends LeaveGroup on close (KIP-345): the group
        # would keep its partitions until its session runs out. On a clean stop we leave all the
        # same, so a rollout's new pods take over at once; kafka-python sends the leave for a
        # member it considers dynamic, and its LeaveGroup request carries the instance id.
        # (Checked by tests/integration/test_consumer_membership.py against the pinned version.)
        coordinator = getattr(self.consumer, "_coordinator", None)
        if coordinator is not None and getattr(coordinator, "group_instance_id", None):
            coordinator.is_dynamic_member = lambda: True
        self.consumer.close()


def replay_dead_letters(bootstrap_servers: str, dead_letter_topic: str, event_ids: set[str], producer,
                        kafka_config: dict | None = None, timeout_ms: int = 15000) -> int:
    """Put the dead-lettered records of `event_ids` back on the topics they came from (their
    `ot_dlt_topic`), with their key, value and CloudEvents headers, once the cause is fixed; returns
    how many were sent. The inbox never recorded them, so the consumer processes them as new (or
    dead-letters them again, with fresh `ot_dlt_*` headers). Replaying one twice is harmless: the
    second copy is a repeat to the inbox."""
    reader = KafkaConsumer(bootstrap_servers=bootstrap_servers.split(","), group_id=None, enable_auto_commit=False,
                           **(kafka_config or {}))
    sent = 0
    try:
        partitions = [TopicPartition(dead_letter_topic, p)
                      for p in reader.partitions_for_topic(dead_letter_topic) or ()]
        reader.assign(partitions)
        reader.seek_to_beginning(*partitions)
        ends = reader.end_offsets(partitions)
        deadline = time.monotonic() + timeout_ms / 1000
        while any(reader.position(tp) < end for tp, end in ends.items()) and time.monotonic() < deadline:
            for records in reader.poll(timeout_ms=500).values():
                for record in records:
                    headers = dict(record.headers or [])
                    if headers.get("ce_id", b"").decode("utf-8", "replace") not in event_ids:
                        continue
                    original = [(k, v) for k, v in record.headers if not k.startswith("ot_dlt_")]
                    producer.send(headers["ot_dlt_topic"].decode(), key=record.key, value=record.value,
                                  headers=original).get(timeout=timeout_ms / 1000)
                    sent += 1
    finally:
        reader.close()
    log.info("dead-lettered events replayed", extra={"dead_letter_topic": dead_letter_topic, "replayed": sent})
    return sent
