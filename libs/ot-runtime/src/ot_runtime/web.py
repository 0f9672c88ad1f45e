"""The HTTP side of a service: health, readiness, Prometheus metrics, and the service's pages.

Kubernetes probes the gRPC health service natively; these endpoints are for people and for
tools that speak only HTTP.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from flask import Flask, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.serving import make_server

log = logging.getLogger("ot.web")


def create_base_app(service: str, readiness_checks: dict[str, Callable[[], None]]) -> Flask:
    """A Flask app with /healthz, /readyz and /metrics; a service adds its own pages to it."""
    app = Flask(f"ot_{service}")
    app.config["JSON_AS_ASCII"] = False

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", service=service)

    @app.get("/readyz")
    def readyz():
        failed = {}
        for name, check in readiness_checks.items():
            try:
                check()
            except Exception as exc:  # the reason, never data
                failed[name] = type(exc).__name__
        if failed:
            return jsonify(status="not ready", failed=failed), 503
        return jsonify(status="ready")

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    return app


class HttpServer:
    def __init__(self, app: Flask, host: str, port: int):
        self._server = make_server(host, port, app, threaded=True)
        self.port = self._server.server_port
        self.host = host
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("HTTP serving", extra={"address": f"{self.host}:{self.port}"})

    def stop(self) -> None:
        self._server.shutdown()
