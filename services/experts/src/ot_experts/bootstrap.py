"""The one place that wires experts together from its settings. Nothing connects at import time.

Ports: the runtime reads GRPC_PORT / HTTP_PORT; a local run of experts beside intake uses
GRPC_PORT=50052 and HTTP_PORT=8082.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from ot.experts.v1 import experts_pb2, experts_pb2_grpc

from ot_runtime.auth import TokenVerifier
from ot_runtime.clock import Clock, SystemClock
from ot_runtime.consumer import EventConsumer
from ot_runtime.db import create_engine, session_factory
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.kafka import ensure_topics, make_producer
from ot_runtime.outbox import Outbox, OutboxRelay
from ot_runtime.settings import Settings, SettingsError
from ot_runtime.web import HttpServer

from .consumers import event_handlers
from .grpc_api import ExpertsServicer
from .handlers import ExpertsHandlers
from .sharing import ConsentSharingPolicy, SharingPolicy
from .store import inbox, outbox
from .web import create_app

SERVICE = "experts"
SERVICE_FULL_NAME = experts_pb2.DESCRIPTOR.services_by_name["ExpertsService"].full_name


@dataclass
class ExpertsApp:
    settings: Settings
    engine: sa.Engine
    handlers: ExpertsHandlers
    producer: object
    relay: OutboxRelay
    consumer: EventConsumer
    grpc_server: GrpcServer
    http_server: HttpServer


def build(settings: Settings, *, clock: Clock | None = None, sharing: SharingPolicy | None = None,
          relay_batch_size: int = 100) -> ExpertsApp:
    if sharing is None:
        consent_target = settings.extra.get("OT_CONSENT_GRPC_TARGET", "").strip()
        if not consent_target:
            raise SettingsError("experts: OT_CONSENT_GRPC_TARGET is not set (host:port of the consent service, "
                                "asked before a case is shared with an expert)")
        sharing = ConsentSharingPolicy(consent_target)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    topic = settings.topic(SERVICE)
    events_out = Outbox(outbox, source=settings.event_source, tenant=settings.tenant)
    handlers = ExpertsHandlers(sessions=sessions, outbox=events_out, tenant=settings.tenant, topic=topic,
                               clock=clock or SystemClock(), sharing=sharing)
    consumed = [settings.topic("intake"), settings.topic("consent")]
    ensure_topics(settings.kafka_bootstrap_servers, [topic, *consumed, settings.dead_letter_topic])
    producer = make_producer(settings.kafka_bootstrap_servers, client_id=f"ot-{SERVICE}-{settings.tenant}")
    relay = OutboxRelay(engine, outbox, producer, source=settings.event_source, tenant=settings.tenant,
                        poll_seconds=settings.outbox_poll_seconds, batch_size=relay_batch_size)
    consumer = EventConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, topics=consumed,
        group_id=f"{settings.topic_prefix}.{SERVICE}", tenant=settings.tenant, sessions=sessions, inbox=inbox,
        handlers=event_handlers(handlers), producer=producer, dead_letter_topic=settings.dead_letter_topic)
    verifier = TokenVerifier.from_settings(settings)

    def register(server) -> list[str]:
        experts_pb2_grpc.add_ExpertsServiceServicer_to_server(ExpertsServicer(handlers), server)
        return [SERVICE_FULL_NAME]

    grpc_server = GrpcServer(host=settings.grpc_host, port=settings.grpc_port, verifier=verifier, register=register)

    def database_ready() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def kafka_ready() -> None:
        if not producer.bootstrap_connected():
            raise ConnectionError("Kafka not connected")

    http = HttpServer(create_app(settings.tenant, {"database": database_ready, "kafka": kafka_ready}),
                      settings.http_host, settings.http_port)
    return ExpertsApp(settings=settings, engine=engine, handlers=handlers, producer=producer, relay=relay,
                      consumer=consumer, grpc_server=grpc_server, http_server=http)
