"""The HTTP side of a service: health, readiness, Prometheus metrics, and the service's pages
(feedback's form and statistics, consent's privacy notice), served by waitress.

In a cluster the kubelet probes these: liveness asks /healthz (the process answers), readiness asks
/readyz (the service can do its work: its database answers). Kafka is reported there too, but does
not make the service unready: while the broker is away the outbox keeps every event and the
consumers wait, so taking the pods out of the Service would only refuse calls that would succeed.

Every page request gets a SERVER span from OpenTelemetry's maintained WSGI middleware (what its
Flask instrumentation builds on), named by the Flask route, never by the path: see `_traced`.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Callable

from flask import Flask, Response, jsonify, request
from flask.testing import FlaskClient
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
from opentelemetry.trace import Span
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from waitress import wasyncore
from werkzeug.exceptions import HTTPException
from waitress.server import create_server

log = logging.getLogger("ot.web")

# A readiness probe's answer comes within this many seconds, whatever a dependency does.
READINESS_TIMEOUT_SECONDS = 3.0


class Readiness:
    """Runs the readiness checks side by side and answers within `timeout` seconds.

    A dependency that hangs (a database behind a dropped route: TCP waits minutes) must neither
    make the probe slow nor take one request thread per probe: each check runs at most once at a
    time, and a probe that finds it still running reports it as failed ("TimeoutError") instead of
    starting another."""

    def __init__(self, checks: dict[str, Callable[[], None]], timeout: float = READINESS_TIMEOUT_SECONDS):
        self.checks = dict(checks)
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.checks)), thread_name_prefix="readyz")
        self._running: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._last: dict[str, str] | None = None

    def failures(self) -> dict[str, str]:
        """{check name: exception type} of the checks that failed or did not answer in time; the
        type only, never the message (a driver's message can carry a host, a user, a value).
        A check whose `gates_readiness` is False (Kafka) is reported but does not make the
        service unready: see `gating`."""
        with self._lock:
            futures = {}
            for name, check in self.checks.items():
                running = self._running.get(name)
                if running is None or running.done():
                    running = self._running[name] = self._pool.submit(check)
                futures[name] = running
        wait(futures.values(), timeout=self.timeout)
        failed = {}
        for name, future in futures.items():
            if not future.done():
                failed[name] = "TimeoutError"
            elif future.exception() is not None:
                failed[name] = type(future.exception()).__name__
        self._log_change(failed)
        return failed

    def gating(self, failed: dict[str, str]) -> dict[str, str]:
        """The failures that make the service unready."""
        return {name: kind for name, kind in failed.items()
                if getattr(self.checks[name], "gates_readiness", True)}

    def close(self) -> None:
        """Release what the checks hold (a check with a `close()`, e.g. its Kafka client)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        for check in self.checks.values():
            if hasattr(check, "close"):
                check.close()

    def _log_change(self, failed: dict[str, str]) -> None:
        # Once per change, not once per probe: the kubelet asks every few seconds.
        if failed != self._last:
            if failed:
                log.warning("not ready", extra={"failed": failed})
            elif self._last is not None:
                log.info("ready again")
            self._last = failed


class _ClosingTestClient(FlaskClient):
    """Flask's test client, reading each answer whole and closing it as waitress does: the
    request's span then ends and its trace context is released within the call (an answer left
    open would keep that context attached to the test's thread)."""

    def open(self, *args, buffered: bool = True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


class _App(Flask):
    test_client_class = _ClosingTestClient

    def log_exception(self, exc_info) -> None:
        # Flask's own line names the request path, and a path can carry a secret (feedback's
        # single-use answer link): name the route pattern instead.
        rule = request.url_rule.rule if request.url_rule else "(no route)"
        log.error("unhandled error in a page", extra={"route": rule, "method": request.method}, exc_info=exc_info)


def create_base_app(service: str, readiness_checks: dict[str, Callable[[], None]], *,
                    readiness_timeout: float = READINESS_TIMEOUT_SECONDS) -> Flask:
    """A Flask app with /healthz, /readyz and /metrics; a service adds its own pages to it."""
    app = _App(f"ot_{service}")
    app.config["JSON_AS_ASCII"] = False
    readiness = app.extensions["ot_readiness"] = Readiness(readiness_checks, readiness_timeout)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", service=service)

    @app.get("/readyz")
    def readyz():
        failed = readiness.failures()
        gating = readiness.gating(failed)
        if gating:
            return jsonify(status="not ready", failed=failed), 503
        if failed:  # e.g. Kafka away: calls still work, events wait in the outbox
            return jsonify(status="ready", degraded=failed)
        return jsonify(status="ready")

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    app.wsgi_app = _traced(app)
    return app


# The kubelet's probes and Prometheus' scrapes make no span: every few seconds, they would bury the
# requests people look for.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Where the WSGI middleware puts the path and query, in the old and the new semantic conventions.
_PATH_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.full")
_QUERY_ATTRIBUTES = ("url.query",)


def _traced(app: Flask):
    """`app.wsgi_app` with a SERVER span per request, continuing the caller's `traceparent`.

    A path or a query can carry a secret or an id (feedback's single-use answer link, the portal's
    sign-in callback `?code=`), so the span is named by the route pattern
    (`GET /omat-pyynnot/<request_id>`) and the attributes that held the path hold that pattern too;
    a query is never kept. Request headers are not recorded (OpenTelemetry's header capture stays off)."""
    plain = app.wsgi_app

    def name_by_route(span: Span, environ: dict) -> None:
        if not span.is_recording():
            return
        try:
            rule, _ = app.url_map.bind_to_environ(environ).match(return_rule=True)
            route = rule.rule
        except HTTPException:  # no such page, method not allowed, a trailing-slash redirect
            route = "(no route)"
        span.update_name(f"{environ.get('REQUEST_METHOD', '')} {route}")
        span.set_attribute("http.route", route)
        present = getattr(span, "attributes", None) or {}
        for key in _PATH_ATTRIBUTES:
            if key in present:
                span.set_attribute(key, route)
        for key in _QUERY_ATTRIBUTES:
            if key in present:
                span.set_attribute(key, "REDACTED")

    traced = OpenTelemetryMiddleware(plain, request_hook=name_by_route)

    def wsgi_app(environ, start_response):
        if environ.get("PATH_INFO") in UNTRACED_PATHS:
            return plain(environ, start_response)
        return traced(environ, start_response)

    return wsgi_app


class HttpServer:
    """The service's HTTP port, served by waitress (a production WSGI server).

    - `threads` workers run the app; nothing else does, however many clients there are. Waitress
      reads requests and writes answers in its own I/O loop, so a slow client holds no worker.
    - A request body over `max_body_bytes` is refused with 413 before it is read (the pages' own
      limits, e.g. feedback's form, are lower and answered by the app).
    - A connection idle for `idle_timeout` seconds (also one that never finishes its request) is
      closed; at most `connection_limit` connections are open at a time.
    - `stop()` stops accepting, lets the requests in hand finish, then closes every connection.
    """

    def __init__(self, app: Flask, host: str, port: int, *, threads: int = 8, max_body_bytes: int = 1024 * 1024,
                 idle_timeout: int = 30, connection_limit: int = 200, keep_forwarded_headers: bool = False):
        """`keep_forwarded_headers`: pass X-Forwarded-* on to the app (which decides how many proxies
        it trusts, e.g. with werkzeug's ProxyFix); waitress drops them by default."""
        self._map: dict = {}
        self._server = create_server(
            app, map=self._map, host=host, port=port, threads=threads, max_request_body_size=max_body_bytes,
            channel_timeout=idle_timeout, cleanup_interval=max(1, min(idle_timeout, 30)),
            connection_limit=connection_limit, clear_untrusted_proxy_headers=not keep_forwarded_headers,
            # poll() has no limit on file descriptor numbers (select() stops at 1024).
            asyncore_use_poll=True)
        if not hasattr(self._server, "effective_port"):  # a name with several addresses, e.g. "localhost"
            self._server.task_dispatcher.shutdown(timeout=0)
            wasyncore.close_all(self._map)
            raise ValueError(f"HTTP host {host!r} has several addresses; give one (127.0.0.1, 0.0.0.0)")
        self.app = app
        self.host = host
        self.port = self._server.effective_port
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("HTTP serving", extra={"address": f"{self.host}:{self.port}"})

    def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop accepting connections, let the requests in hand finish (at most `grace_seconds`;
        requests still waiting for a worker are dropped), send their answers, close the rest."""
        deadline = time.monotonic() + grace_seconds
        if not self._thread.is_alive():  # never started (or already stopped): only release the port
            self._server.task_dispatcher.shutdown(timeout=0)
            wasyncore.close_all(self._map)
            self._close_readiness()
            return
        self._in_loop(lambda: wasyncore.dispatcher.close(self._server))  # the listening socket
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=grace_seconds)
        self._in_loop(self._close_connections)
        self._thread.join(max(0.1, deadline - time.monotonic()))
        if self._thread.is_alive():  # a client that does not read its answer: cut it off
            wasyncore.close_all(self._map)
            self._thread.join(5)
        self._close_readiness()
        log.info("HTTP stopped")

    def _close_readiness(self) -> None:
        readiness = getattr(self.app, "extensions", {}).get("ot_readiness")
        if readiness is not None:
            readiness.close()

    def _in_loop(self, action: Callable[[], None]) -> None:
        """Run `action` in waitress's I/O thread (its loop is not thread-safe) and wait for it."""
        done = threading.Event()

        def run():
            try:
                action()
            finally:
                done.set()

        self._server.trigger.pull_trigger(run)
        done.wait(5)

    def _close_connections(self) -> None:
        # In the I/O thread, after the workers finished: a connection with an answer still to send
        # closes once it is sent; every other one now. With the trigger gone too the map empties
        # and the loop ends.
        for dispatcher in list(self._map.values()):
            if dispatcher is self._server.trigger:
                continue
            if getattr(dispatcher, "total_outbufs_len", 0):
                dispatcher.close_when_flushed = True
            else:
                dispatcher.handle_close()
        self._server.trigger.close()
