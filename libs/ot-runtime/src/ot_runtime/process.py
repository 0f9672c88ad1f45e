"""Run a service's parts together and stop them in order on SIGTERM or Ctrl-C.

Stop order: gRPC health goes NOT_SERVING and in-flight calls finish, then the consumer stops
taking events, then the relay publishes what it has in hand, then HTTP closes.
"""
from __future__ import annotations

import logging
import signal
import threading

from .telemetry import shutdown_tracing

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
