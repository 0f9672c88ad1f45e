"""The one place that wires experts together from its settings. Nothing connects at import time.

Ports: the runtime reads GRPC_PORT / HTTP_PORT; a local run of experts beside intake uses
GRPC_PORT=50052 and HTTP_PORT=8082.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from ot.experts.v1 import experts_pb2_grpc

from ot_runtime.clock import Clock, SystemClock
from ot_runtime.consumer import EventConsumer
from ot_runtime.db import create_engine, session_factory
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.outbox import Outbox, OutboxRelay
from ot_runtime.service import wire
from ot_runtime.settings import Settings
from ot_runtime.web import HttpServer

from .consumers import event_handlers
from .edge import ACCESS, FIELD_RULES, SERVICE as EDGE_SERVICE
from .grpc_api import ExpertsServicer
from .handlers import ExpertsHandlers
from .sharing import ConsentSharingPolicy, SharingPolicy
from .store import inbox, outbox
from .web import create_app

SERVICE = "experts"
SERVICE_FULL_NAME = EDGE_SERVICE.full_name


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
        sharing = ConsentSharingPolicy(settings.require(
            "OT_CONSENT_GRPC_TARGET", "host:port of the consent service, asked before a case is shared with an expert"),
            settings)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    topic = settings.topic(SERVICE)
    events_out = Outbox(outbox, source=settings.event_source, tenant=settings.tenant)
    handlers = ExpertsHandlers(sessions=sessions, outbox=events_out, tenant=settings.tenant, topic=topic,
                               clock=clock or SystemClock(), sharing=sharing)

    def register(server) -> list[str]:
        experts_pb2_grpc.add_ExpertsServiceServicer_to_server(ExpertsServicer(handlers), server)
        return [SERVICE_FULL_NAME]

    parts = wire(settings, engine=engine, sessions=sessions, outbox=outbox, inbox=inbox,
                 consumes=["intake", "consent"], handlers=event_handlers(handlers), register=register,
                 make_app=lambda checks, verifier: create_app(settings.tenant, checks),
                 access=ACCESS, field_rules=FIELD_RULES, relay_batch_size=relay_batch_size)
    return ExpertsApp(settings=settings, engine=engine, handlers=handlers, producer=parts.producer,
                      relay=parts.relay, consumer=parts.consumer, grpc_server=parts.grpc_server,
                      http_server=parts.http_server)
