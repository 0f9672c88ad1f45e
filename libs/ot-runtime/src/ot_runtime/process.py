"""Run a service's parts together and stop them in order on SIGTERM or Ctrl-C.

Stop order: gRPC health goes NOT_SERVING and in-flight calls finish, then the consumer stops
taking events, then the relay publishes what it has in hand, then HTTP closes.
"""
from __future__ import annotations

import argparse
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
    parser = argparse.ArgumentParser(prog=f"ot-{service}", description=f"The OT platform's {service} service.")
    parser.add_argument("command", choices=list(commands))
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


def serve(app, settings, extra_workers=()) -> None:
    """Run a built service app (the shape every bootstrap.build returns) until SIGTERM."""
    run_until_signalled(grpc_server=app.grpc_server, http_server=app.http_server, relay=app.relay,
                        consumers=[app.consumer, *extra_workers], grace_seconds=settings.shutdown_grace_seconds)
    app.producer.close(timeout=10)
    app.engine.dispose()
