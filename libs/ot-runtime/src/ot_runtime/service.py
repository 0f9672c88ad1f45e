"""The plumbing every service has around its own handlers, wired in one place: topics, Kafka
producer, outbox relay, inbox consumer, gRPC server with auth (and TLS when configured), HTTP
with readiness checks. Every Kafka client here connects with the same settings
(ot_runtime.kafka.client_config: TLS, SASL)."""
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
from .grpc_server import GrpcServer, ServerTls
from .kafka import KafkaReachable, client_config, ensure_topics, make_producer
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
    kafka_config = client_config(settings)
    ensure_topics(settings.kafka_bootstrap_servers, [settings.topic(service), *consumed, settings.dead_letter_topic],
                  config=kafka_config)
    producer = make_producer(settings.kafka_bootstrap_servers, client_id=f"ot-{service}-{settings.tenant}",
                             config=kafka_config)
    relay = OutboxRelay(engine, outbox, producer, source=settings.event_source, tenant=settings.tenant,
                        poll_seconds=settings.outbox_poll_seconds, batch_size=relay_batch_size)
    consumer = EventConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, topics=consumed,
        group_id=f"{settings.topic_prefix}.{service}", tenant=settings.tenant, sessions=sessions, inbox=inbox,
        handlers=handlers, producer=producer, dead_letter_topic=settings.dead_letter_topic,
        kafka_config={**kafka_config, **consumer_membership(settings)})
    verifier = TokenVerifier.from_settings(settings)
    grpc_server = GrpcServer(host=settings.grpc_host, port=settings.grpc_port, verifier=verifier, register=register,
                             access=access, field_rules=field_rules, tls=ServerTls.from_settings(settings))
    http = HttpServer(make_app(readiness_checks(settings, engine, kafka_config), verifier),
                      settings.http_host, settings.http_port)
    return Plumbing(producer=producer, relay=relay, consumer=consumer, grpc_server=grpc_server, http_server=http,
                    verifier=verifier)


def consumer_membership(settings: Settings) -> dict:
    """How fast the group notices a consumer that is gone. A session of 10 s (kafka-python's
    default is 45 s) with a heartbeat every 3 s; and, with an instance id, static membership:
    after a crash (kill -9, an OOM kill) the restarted process rejoins under the same id and gets
    its partitions back at once, without waiting out any session. On a clean stop the consumer
    leaves the group explicitly (EventConsumer.stop), so a rollout does not wait either.

    A subscribed topic created after the consumer joined needs nothing here: kafka-python asks for
    a topic it could not find again at its retry backoff, not at the metadata age (5 minutes), and
    the group rebalances once it appears (tests/integration/test_consumer_membership.py)."""
    config = {"session_timeout_ms": 10000, "heartbeat_interval_ms": 3000}
    if settings.consumer_instance_id:
        config["group_instance_id"] = f"{settings.service_name}-{settings.consumer_instance_id}"[:249]
    return config


def readiness_checks(settings: Settings, engine: sa.Engine, kafka_config: dict) -> dict[str, Callable[[], None]]:
    """What /readyz asks: can the service do its work? Its database answers (gating); and Kafka
    answers the service's own client (TLS, SASL user) about its own topic (reported as degraded,
    not gating: events wait in the outbox). Each failure is named by its exception type only
    (ot_runtime.web.Readiness)."""
    return {"database": database_check(engine),
            "kafka": KafkaReachable(settings.kafka_bootstrap_servers, settings.topic(settings.service_name),
                                    kafka_config, client_id=f"ot-{settings.service_name}-{settings.tenant}-ready")}


def database_check(engine: sa.Engine) -> Callable[[], None]:
    def database() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    return database

