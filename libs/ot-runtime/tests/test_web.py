"""The HTTP side on loopback: waitress serves it with a fixed number of workers, refuses bodies
that are too big, drops clients that never finish, stops cleanly; /readyz names what is down
(never a value) and answers in time even when a dependency hangs."""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest
import sqlalchemy as sa
from flask import Flask

from ot_runtime.service import database_check
from ot_runtime.web import HttpServer, Readiness, create_base_app


def get(port: int, path: str = "/healthz", timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except OSError:
        return True


def wait_for(condition, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Gate:
    """A route that holds its request until released, counting how many are inside at once."""

    def __init__(self):
        self.release = threading.Event()
        self.inside = 0
        self.most = 0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            self.release.wait(10)
            return "done"
        finally:
            with self._lock:
                self.inside -= 1


def serve(gate: Gate | None = None, **options) -> HttpServer:
    app = create_base_app("test", {})
    if gate:
        app.add_url_rule("/gate", "gate", gate)
    server = HttpServer(app, "127.0.0.1", 0, **options)
    server.start()
    return server


def test_serves_and_stops_releasing_its_port():
    server = serve()
    assert get(server.port) == (200, b'{"service":"test","status":"ok"}\n')
    server.stop()
    assert refuses_connections(server.port)
    # The port is free again: a new server can listen on it.
    again = HttpServer(Flask("again"), "127.0.0.1", server.port)
    again.stop()


def test_stop_lets_the_request_in_hand_finish_and_accepts_nothing_new():
    gate = Gate()
    server = serve(gate)
    answer = {}
    client = threading.Thread(target=lambda: answer.setdefault("gate", get(server.port, "/gate")))
    client.start()
    wait_for(lambda: gate.inside == 1, what="the request to reach the app")
    stopper = threading.Thread(target=server.stop, kwargs={"grace_seconds": 10})
    stopper.start()
    wait_for(lambda: refuses_connections(server.port), what="the listening socket to close")
    gate.release.set()
    client.join(10)
    stopper.join(15)
    assert answer["gate"] == (200, b"done")  # the request in hand got its whole answer
    assert not stopper.is_alive()


def test_only_the_configured_number_of_workers_run_the_app():
    gate = Gate()
    server = serve(gate, threads=2)
    try:
        answers = []
        clients = [threading.Thread(target=lambda: answers.append(get(server.port, "/gate", timeout=20)))
                   for _ in range(5)]
        for c in clients:
            c.start()
        wait_for(lambda: gate.inside == 2, what="two requests inside")
        time.sleep(0.5)  # room for a third to get in, if anything let it
        assert gate.most == 2
        gate.release.set()
        for c in clients:
            c.join(20)
        assert answers == [(200, b"done")] * 5  # the others waited their turn, none was lost
    finally:
        gate.release.set()
        server.stop()


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send `data` (as much of it as the server takes) and return the server's answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
        except OSError:  # the server refused and closed before we were done sending
            pass
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
        return b"".join(chunks)


def test_a_body_over_the_limit_is_refused_and_the_server_goes_on():
    server = serve(max_body_bytes=64 * 1024)
    try:
        declared = raw_exchange(server.port, b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n"
                                             b"\r\n" + b"a" * 65536)
        assert declared.startswith(b"HTTP/1.1 413 "), declared[:100]
        # Without a length (chunked), it is counted as it arrives and refused when it passes the limit.
        chunk = b"%x\r\n%s\r\n" % (32768, b"b" * 32768)
        streamed = raw_exchange(server.port, b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                             b"\r\n" + chunk * 8)
        assert streamed.startswith(b"HTTP/1.1 413 "), streamed[:100]
        assert get(server.port)[0] == 200
    finally:
        server.stop()


def test_clients_that_never_finish_their_request_hold_no_worker_and_are_dropped():
    server = serve(threads=2, idle_timeout=1)
    slow = []
    try:
        for _ in range(20):  # ten times the workers, each stuck half-way through its headers
            s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)
        assert get(server.port)[0] == 200  # the workers are free for others
        for s in slow:  # idle past idle_timeout: the server closes each (recv sees the end)
            assert s.recv(1024) == b""
    finally:
        for s in slow:
            s.close()
        server.stop()


# --- readiness -----------------------------------------------------------------------------------

def readyz(checks, **kwargs) -> tuple[int, dict]:
    client = create_base_app("test", checks, **kwargs).test_client()
    response = client.get("/readyz")
    return response.status_code, response.get_json()


def test_ready_when_every_check_passes():
    assert readyz({"database": lambda: None, "kafka": lambda: None}) == (200, {"status": "ready"})


def test_a_database_that_does_not_answer_is_named_without_its_address_or_password():
    url = "postgresql+psycopg://ot_reader:Salasana-1234@127.0.0.1:1/ot_intake"  # nothing listens on port 1
    engine = sa.create_engine(url, hide_parameters=True)
    status, body = readyz({"database": database_check(engine), "kafka": lambda: None})
    assert (status, body) == (503, {"status": "not ready", "failed": {"database": "OperationalError"}})
    text = json.dumps(body)
    assert not any(part in text for part in ("Salasana", "ot_reader", "127.0.0.1", "ot_intake"))
    engine.dispose()


def test_a_check_that_hangs_answers_in_time_and_is_not_started_again():
    calls, release = [], threading.Event()

    def hangs():
        calls.append(1)
        release.wait(10)

    readiness = Readiness({"kafka": hangs, "database": lambda: None}, timeout=0.2)
    try:
        for _ in range(3):  # three probes while the first check still hangs
            assert readiness.failures() == {"kafka": "TimeoutError"}
        assert len(calls) == 1
        release.set()
        wait_for(lambda: readiness.failures() == {}, what="ready once the check returns")
    finally:
        release.set()
        readiness.close()


def test_a_failing_check_never_puts_its_message_in_the_answer():
    def fails():
        raise ConnectionError("broker kafka-0 refused user ot-intake with password hunter2")

    status, body = readyz({"database": fails})
    assert (status, body) == (503, {"status": "not ready", "failed": {"database": "ConnectionError"}})


def test_kafka_away_is_reported_but_keeps_the_service_ready():
    """Events wait in the outbox while the broker is away: calls still succeed, so the pods must
    stay in the Service; the operator still sees why the events are late."""
    def kafka():
        raise ConnectionError("no broker")
    kafka.gates_readiness = False

    assert readyz({"database": lambda: None, "kafka": kafka}) == (
        200, {"status": "ready", "degraded": {"kafka": "ConnectionError"}})
    failing_db = readyz({"database": lambda: 1 / 0, "kafka": kafka})
    assert failing_db == (503, {"status": "not ready",
                                "failed": {"database": "ZeroDivisionError", "kafka": "ConnectionError"}})


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_health_and_metrics_do_not_depend_on_readiness(path):
    def fails():
        raise ConnectionError("down")

    client = create_base_app("test", {"database": fails}).test_client()
    assert client.get(path).status_code == 200


def test_an_unhandled_error_in_a_page_is_logged_by_route_never_by_path(caplog):
    """A path can carry a secret (feedback's answer link): the log names the route pattern."""
    app = create_base_app("test", {})

    @app.get("/palaute/<token>")
    def form(token):
        raise RuntimeError("bug")

    with caplog.at_level("ERROR"):
        assert app.test_client().get("/palaute/SECRET-LINK-TOKEN").status_code == 500
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'route', '')}" for r in caplog.records)
    assert "/palaute/<token>" in logged and "SECRET-LINK-TOKEN" not in logged


def test_forwarded_headers_reach_the_app_only_when_asked():
    """Behind an ingress the app must see X-Forwarded-Proto (the portal would otherwise redirect
    every https page to https again); waitress drops the header unless told to keep it."""
    import http.client

    from flask import request
    from werkzeug.middleware.proxy_fix import ProxyFix

    def scheme_seen(**options) -> str:
        app = create_base_app("test", {})
        app.add_url_rule("/scheme", "scheme", lambda: request.scheme)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
        server = HttpServer(app, "127.0.0.1", 0, **options)
        server.start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/scheme", headers={"X-Forwarded-Proto": "https"})
            return conn.getresponse().read().decode()
        finally:
            server.stop()

    assert scheme_seen() == "http"
    assert scheme_seen(keep_forwarded_headers=True) == "https"
