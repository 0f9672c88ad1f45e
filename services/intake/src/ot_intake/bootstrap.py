"""The one place that wires intake together from its settings. Nothing connects at import time."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.clock import Clock, SystemClock
from ot_runtime.consumer import EventConsumer
from ot_runtime.db import create_engine, session_factory
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.outbox import Outbox, OutboxRelay
from ot_runtime.service import wire
from ot_runtime.settings import Settings, SettingsError
from ot_runtime.web import HttpServer

from .consumers import event_handlers
from .domain import DEFAULT_RESPONSE_TARGET_WORKING_DAYS
from .edge import ACCESS, FIELD_RULES, SERVICE as EDGE_SERVICE
from .grpc_api import IntakeServicer
from .handlers import IntakeHandlers
from .store import inbox, outbox
from .vault import ConsentVault
from .web import create_app

SERVICE = "intake"
SERVICE_FULL_NAME = EDGE_SERVICE.full_name


@dataclass
class IntakeApp:
    settings: Settings
    engine: sa.Engine
    handlers: IntakeHandlers
    producer: object
    relay: OutboxRelay
    consumer: EventConsumer
    grpc_server: GrpcServer
    http_server: HttpServer


def response_target_days(settings: Settings) -> int:
    """OT_RESPONSE_TARGET_WORKING_DAYS: the area's target from submission to the answer, in working
    days (Monday to Friday without Finnish public holidays); default 5."""
    raw = settings.extra.get("OT_RESPONSE_TARGET_WORKING_DAYS", "").strip()
    if not raw:
        return DEFAULT_RESPONSE_TARGET_WORKING_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= 60:
        raise SettingsError(f"intake: OT_RESPONSE_TARGET_WORKING_DAYS must be a whole number of working days "
                            f"1–60, got {raw!r}")
    return int(raw)


def build(settings: Settings, *, clock: Clock | None = None, relay_batch_size: int = 100) -> IntakeApp:
    consent_target = settings.require("OT_CONSENT_GRPC_TARGET", "host:port of the consent service, which holds "
                                                                "each request's data key")
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    topic = settings.topic(SERVICE)
    events_out = Outbox(outbox, source=settings.event_source, tenant=settings.tenant)
    handlers = IntakeHandlers(sessions=sessions, outbox=events_out, tenant=settings.tenant, topic=topic,
                              clock=clock or SystemClock(), vault=ConsentVault(consent_target, settings),
                              response_target_days=response_target_days(settings))

    def register(server) -> list[str]:
        intake_pb2_grpc.add_IntakeServiceServicer_to_server(IntakeServicer(handlers), server)
        return [SERVICE_FULL_NAME]

    parts = wire(settings, engine=engine, sessions=sessions, outbox=outbox, inbox=inbox,
                 consumes=["experts", "consent"], handlers=event_handlers(handlers), register=register,
                 make_app=lambda checks, verifier: create_app(settings.tenant, checks),
                 access=ACCESS, field_rules=FIELD_RULES, relay_batch_size=relay_batch_size)
    return IntakeApp(settings=settings, engine=engine, handlers=handlers, producer=parts.producer,
                     relay=parts.relay, consumer=parts.consumer, grpc_server=parts.grpc_server,
                     http_server=parts.http_server)
