"""The plumbing every service has around its own handlers, wired in one place: topics, Kafka
producer, outbox relay, inbox consumer, gRPC server with auth, HTTP with readiness checks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import grpc
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import sessionmaker

from .access import Access
from .auth import TokenVerifier
from .consumer import EventConsumer, Handler
from .fields import FieldRules
from .grpc_server import GrpcServer
from .kafka import ensure_topics, make_producer
from .outbox import OutboxRelay
from .settings import Settings
from .web import HttpServer


@dataclass
class Plumbing:
    producer: object
    relay: OutboxRelay
    consumer: EventConsumer
    grpc_server: GrpcServer
    http_server: HttpServer
    verifier: TokenVerifier


def wire(settings: Settings, *, engine: sa.Engine, sessions: sessionmaker, outbox: sa.Table, inbox: sa.Table,
         consumes: Iterable[str], handlers: dict[str, Handler], register: Callable[[grpc.Server], list[str]],
         make_app: Callable[[dict, TokenVerifier], Flask], access: Access | None = None,
         field_rules: FieldRules | None = None,
         relay_batch_size: int = 100) -> Plumbing:
    """`consumes`: the services whose topics this one reads; `register` adds the servicers and
    returns their full names; `access` and `field_rules` are the service's edge (who may call which
    RPC, the form of every request field); `make_app(readiness_checks, verifier)` builds the
    service's Flask app."""
    service = settings.service_name
    consumed = [settings.topic(name) for name in consumes]
    ensure_topics(settings.kafka_bootstrap_servers, [settings.topic(service), *consumed, settings.dead_letter_topic])
    producer = make_producer(settings.kafka_bootstrap_servers, client_id=f"ot-{service}-{settings.tenant}")
    relay = OutboxRelay(engine, outbox, producer, source=settings.event_source, tenant=settings.tenant,
                        poll_seconds=settings.outbox_poll_seconds, batch_size=relay_batch_size)
    consumer = EventConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, topics=consumed,
        group_id=f"{settings.topic_prefix}.{service}", tenant=settings.tenant, sessions=sessions, inbox=inbox,
        handlers=handlers, producer=producer, dead_letter_topic=settings.dead_letter_topic)
    verifier = TokenVerifier.from_settings(settings)
    grpc_server = GrpcServer(host=settings.grpc_host, port=settings.grpc_port, verifier=verifier, register=register,
                             access=access, field_rules=field_rules)

    def database_ready() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def kafka_ready() -> None:
        if not producer.bootstrap_connected():
            raise ConnectionError("Kafka not connected")

    http = HttpServer(make_app({"database": database_ready, "kafka": kafka_ready}, verifier),
                      settings.http_host, settings.http_port)
    return Plumbing(producer=producer, relay=relay, consumer=consumer, grpc_server=grpc_server, http_server=http,
                    verifier=verifier)
