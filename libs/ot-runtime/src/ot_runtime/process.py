"""Run a service's parts together and stop them in order on SIGTERM or Ctrl-C.

Stop order: gRPC health goes NOT_SERVING and in-flight calls finish, then the consumer stops
taking events, then the relay publishes what it has in hand, then HTTP closes.
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from typing import Callable

from .logging import configure_logging
from .settings import SettingsError, load_settings
from .telemetry import configure_tracing, shutdown_tracing

log = logging.getLogger("ot.process")


def run_until_signalled(*, grpc_server, http_server, relay, consumers, grace_seconds: float) -> None:
    stop = threading.Event()

    def _on_signal(signum, _frame):
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    http_server.start()
    relay.start()
    for consumer in consumers:
        consumer.start()
    grpc_server.start()
    stop.wait()

    grpc_server.stop(grace_seconds)
    for consumer in consumers:
        consumer.stop()
    relay.stop()
    http_server.stop()
    shutdown_tracing()
    log.info("stopped")


def run_command(service: str, commands: dict[str, Callable], argv: list[str] | None = None,
                add_arguments: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """The entry point of `ot-<service> <command>`: read the settings (a configuration problem is
    one clear line and exit code 2, never a traceback), set up logs and tracing, run the command
    as `command(settings, args)`."""
    commands = {**commands, **DELIVERY_COMMANDS}
    parser = argparse.ArgumentParser(prog=f"ot-{service}", description=f"The OT platform's {service} service.")
    parser.add_argument("command", choices=list(commands))
    parser.add_argument("--event-id", action="append", default=[],
                        help="replay-dead-letters, requeue-outbox: the event (ce_id) to put back; repeat for several "
                             "(requeue-outbox without it: every failed event)")
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        settings = load_settings(service)
        configure_logging(service, settings.tenant, settings.log_level)
        configure_tracing(service, settings.tenant)
        return commands[args.command](settings, args) or 0
    except SettingsError as exc:
        print(f"ot-{service}: {exc}", file=sys.stderr)
        return 2


# --- every service's delivery commands, for the operator who fixed the cause of a failure -------
def replay_dead_letters(settings, args) -> int:
    """Put dead-lettered events (by --event-id) back on the topics they came from; the consumer's
    inbox makes a replay of an event it already processed a no-op."""
    from .consumer import replay_dead_letters as replay
    from .kafka import client_config, make_producer

    if not args.event_id:
        print("replay-dead-letters: give at least one --event-id (the ce_id header of the dead letter)",
              file=sys.stderr)
        return 2
    config = client_config(settings)
    producer = make_producer(settings.kafka_bootstrap_servers, client_id=f"ot-{settings.service_name}-replay",
                             config=config)
    try:
        sent = replay(settings.kafka_bootstrap_servers, settings.dead_letter_topic, set(args.event_id), producer,
                      kafka_config=config)
    finally:
        producer.close(timeout=10)
    print(json.dumps({"dead_letter_topic": settings.dead_letter_topic, "replayed": sent,
                      "asked": len(set(args.event_id))}))
    return 0 if sent == len(set(args.event_id)) else 1


def requeue_outbox(settings, args) -> int:
    """Put outbox events the broker kept refusing (marked failed) back in line: those given by
    --event-id, or all. The running relay publishes them after the later events of their case."""
    import sqlalchemy as sa

    from .db import create_engine, outbox_table
    from .outbox import OutboxRelay

    engine = create_engine(settings.database_url)
    try:
        relay = OutboxRelay(engine, outbox_table(sa.MetaData()), producer=None, source=settings.event_source,
                            tenant=settings.tenant)
        count = relay.requeue_failed(args.event_id or None)
    finally:
        engine.dispose()
    print(json.dumps({"requeued": count}))
    return 0


DELIVERY_COMMANDS = {"replay-dead-letters": replay_dead_letters, "requeue-outbox": requeue_outbox}


def serve(app, settings, extra_workers=()) -> None:
    """Run a built service app (the shape every bootstrap.build returns) until SIGTERM."""
    run_until_signalled(grpc_server=app.grpc_server, http_server=app.http_server, relay=app.relay,
                        consumers=[app.consumer, *extra_workers], grace_seconds=settings.shutdown_grace_seconds)
    app.producer.close(timeout=10)
    app.engine.dispose()
