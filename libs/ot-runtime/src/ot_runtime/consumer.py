"""Event consumer with an inbox and a dead-letter topic.

For each record: read the CloudEvent, check the area, decode the payload, and run the handler
in a database transaction that also records the event id in the inbox. Offsets are committed
only after that transaction, so a crash re-delivers, and the inbox turns the re-delivery into a
no-op. A record that can never be processed (not a CloudEvent, another area's, undecodable,
refused by the rules) goes to the dead-letter topic with the reason in its headers, and the
consumer keeps going. A passing failure (database down) is retried from the same offset.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from google.protobuf.message import DecodeError, Message
from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .cloudevents import CloudEvent, MalformedEvent
from .db import utcnow
from .errors import OtError
from .telemetry import context_from_kafka_headers
from .worker import BackgroundWorker

log = logging.getLogger("ot.consumer")
_tracer = trace.get_tracer("ot_runtime.consumer")

CONSUMED = Counter("ot_events_consumed_total", "Events consumed", ["type", "outcome"])


@dataclass(frozen=True)
class Handler:
    message_type: type[Message]
    handle: Callable[[Session, CloudEvent, Message], None]


class Poison(Exception):
    """This record can never be processed; the message is the reason (no payload content)."""


class EventConsumer(BackgroundWorker):
    def __init__(self, *, bootstrap_servers: str, topics: list[str], group_id: str, tenant: str,
                 sessions: sessionmaker, inbox: sa.Table, handlers: dict[str, Handler],
                 producer, dead_letter_topic: str, poll_timeout_ms: int = 500):
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
        self.consumer = KafkaConsumer(
            *topics, bootstrap_servers=bootstrap_servers.split(","), group_id=group_id,
            enable_auto_commit=False, auto_offset_reset="earliest", client_id=group_id,
            max_poll_records=100)

    def poll_once(self) -> int:
        """Process what one poll returns; return how many records were handled (any outcome)."""
        batches = self.consumer.poll(timeout_ms=self.poll_timeout_ms)
        handled = 0
        for tp, records in batches.items():
            for record in records:
                try:
                    self._process(record)
                except (OperationalError, DBAPIError):
                    # Passing trouble (database away): do not skip the record, try it again.
                    log.exception("database unavailable; will retry the event",
                                  extra={"topic": tp.topic, "partition": tp.partition, "offset": record.offset})
                    self.consumer.seek(tp, record.offset)
                    time.sleep(1.0)
                    break
                handled += 1
                self.consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
        return handled

    def _process(self, record) -> None:
        try:
            event = CloudEvent.from_record(record.headers, record.value)
        except MalformedEvent as bad:
            self._dead_letter(record, str(bad), "unknown")
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            CONSUMED.labels(event.type, "ignored").inc()
            return  # another consumer's business; not an error
        with _tracer.start_as_current_span(f"{record.topic} process", kind=SpanKind.CONSUMER,
                                           context=context_from_kafka_headers(record.headers)) as span:
            span.set_attribute("messaging.system", "kafka")
            span.set_attribute("messaging.destination.name", record.topic)
            span.set_attribute("messaging.message.id", event.id)
            span.set_attribute("cloudevents.event_type", event.type)
            try:
                if event.tenant != self.tenant:
                    raise Poison(f"event is for area {event.tenant!r}, this consumer serves {self.tenant!r}")
                try:
                    message = handler.message_type.FromString(event.data)
                except DecodeError:
                    raise Poison(f"payload is not a valid {handler.message_type.DESCRIPTOR.full_name}") from None
                outcome = self._apply(event, handler, message)
                CONSUMED.labels(event.type, outcome).inc()
                span.set_attribute("ot.outcome", outcome)
            except (Poison, OtError) as refused:
                span.set_status(Status(StatusCode.ERROR, "dead-lettered"))
                self._dead_letter(record, getattr(refused, "message", None) or str(refused), event.type)

    def _apply(self, event: CloudEvent, handler: Handler, message: Message) -> str:
        with self.sessions.begin() as session:
            seen = session.execute(sa.select(self.inbox.c.event_id).where(
                self.inbox.c.consumer == self.group_id, self.inbox.c.event_id == event.id)).first()
            if seen:
                return "duplicate"
            handler.handle(session, event, message)
            session.execute(self.inbox.insert().values(
                consumer=self.group_id, event_id=event.id, ce_type=event.type, processed_at=utcnow()))
        return "processed"

    def _dead_letter(self, record, reason: str, ce_type: str) -> None:
        headers = list(record.headers or []) + [
            ("ot_dlt_reason", reason.encode()),
            ("ot_dlt_topic", record.topic.encode()),
            ("ot_dlt_partition", str(record.partition).encode()),
            ("ot_dlt_offset", str(record.offset).encode()),
            ("ot_dlt_consumer", self.group_id.encode()),
        ]
        self.producer.send(self.dead_letter_topic, key=record.key, value=record.value, headers=headers).get(timeout=15)
        CONSUMED.labels(ce_type, "dead_letter").inc()
        log.warning("event sent to the dead-letter topic",
                    extra={"reason": reason, "topic": record.topic, "partition": record.partition,
                           "offset": record.offset, "dead_letter_topic": self.dead_letter_topic})

    def step(self) -> bool:
        return self.poll_once() > 0

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        self.consumer.close()
