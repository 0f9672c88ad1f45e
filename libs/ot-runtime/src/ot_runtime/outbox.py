"""Transactional outbox: events are rows written with the state change, published by a relay.

Writing the event in the same database transaction as the change means a change is never lost
without its event, nor an event published for a change that was rolled back. The relay
publishes rows in id order and marks them; it is at-least-once (a crash between the broker's
ack and the mark republishes that batch), and consumers absorb repeats with their inbox.
"""
from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from google.protobuf.message import Message
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge
from sqlalchemy.orm import Session

from .cloudevents import CloudEvent
from .db import utcnow
from .telemetry import context_from_traceparent, current_traceparent, kafka_trace_headers
from .worker import BackgroundWorker

log = logging.getLogger("ot.outbox")
_tracer = trace.get_tracer("ot_runtime.outbox")

PUBLISHED = Counter("ot_outbox_published_total", "Outbox events published", ["topic"])
PENDING = Gauge("ot_outbox_pending", "Outbox events not yet published")


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
        return event_id


class OutboxRelay(BackgroundWorker):
    """Publishes unpublished outbox rows, oldest first, in batches.

    Batches are taken with SELECT ... FOR UPDATE (on PostgreSQL), so two replicas never publish
    the same batch at once and one case's events keep their order.
    """

    def __init__(self, engine: sa.Engine, table: sa.Table, producer, *, source: str, tenant: str,
                 batch_size: int = 100, poll_seconds: float = 0.5, send_timeout: float = 15.0):
        super().__init__()
        self.name = "outbox-relay"
        self.idle_seconds = poll_seconds
        self.engine = engine
        self.table = table
        self.producer = producer
        self.source = source
        self.tenant = tenant
        self.batch_size = batch_size
        self.send_timeout = send_timeout

    def publish_batch(self) -> int:
        """Publish one batch; return how many rows were published."""
        t = self.table
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.published_at.is_(None)).order_by(t.c.id)
                .limit(self.batch_size).with_for_update()).all()
            if not rows:
                return 0
            futures = [self._send(row) for row in rows]
            for future in futures:
                future.get(timeout=self.send_timeout)  # raises if the broker did not take it
            conn.execute(t.update().where(t.c.id.in_([r.id for r in rows])).values(published_at=utcnow()))
        for row in rows:
            PUBLISHED.labels(row.topic).inc()
        return len(rows)

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

    def pending(self) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(self.table)
                                 .where(self.table.c.published_at.is_(None))).scalar_one()
        PENDING.set(count)
        return count

    def step(self) -> bool:
        return self.publish_batch() > 0
