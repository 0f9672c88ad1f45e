"""One submitted request is one trace in the local trace viewer, as `make run` shows it: Zipkin
started by scripts/zipkin.sh, intake, consent and experts run as their own processes
(`ot-<service> serve`) exporting with the standard variables (OTEL_TRACES_EXPORTER=zipkin), and
the trace read back through Zipkin's HTTP API.

Zipkin is started, or reused when it already runs (`make run`'s), on ZIPKIN_PORT (default 9411),
and left running like the shared Kafka: it keeps spans in memory only and each test has its own
trace id. If it cannot start, the test fails with the script's message.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.migrations import upgrade

from conftest import TENANT, _free_port, service_env
from test_intake_flow import submit_request

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def zipkin_url() -> str:
    done = subprocess.run(["bash", str(REPO / "scripts" / "zipkin.sh"), "start"], capture_output=True, text=True,
                          timeout=300)
    if done.returncode:
        pytest.fail(f"scripts/zipkin.sh start failed (exit {done.returncode}):\n{done.stderr[-3000:]}", pytrace=False)
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    if "ZIPKIN_URL" not in found:
        pytest.fail(f"scripts/zipkin.sh start printed no ZIPKIN_URL= line:\n{done.stdout}", pytrace=False)
    return found["ZIPKIN_URL"]


class Processes:
    """The services as `make run` starts them: `ot-<service> serve`, each with its own log file."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: dict[str, tuple[subprocess.Popen, int]] = {}

    def start(self, name: str, env: dict) -> int:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([str(BIN / f"ot-{name}"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        port = int(env["GRPC_PORT"])
        self.running[name] = (process, port)
        return port

    def wait_serving(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        for name, (process, port) in self.running.items():
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                health = health_pb2_grpc.HealthStub(channel)
                while True:
                    if process.poll() is not None:
                        pytest.fail(f"ot-{name} serve exited with {process.returncode}:\n{self.tail(name)}",
                                    pytrace=False)
                    try:
                        if health.Check(health_pb2.HealthCheckRequest(), timeout=2).status == \
                                health_pb2.HealthCheckResponse.SERVING:
                            break
                    except grpc.RpcError:
                        pass
                    if time.monotonic() > deadline:
                        pytest.fail(f"ot-{name} did not serve within {timeout:.0f}s:\n{self.tail(name)}", pytrace=False)
                    time.sleep(0.5)

    def tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM, as Ctrl-C in `make run`: each stops in order and sends its last spans."""
        for process, _ in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in self.running.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@pytest.fixture()
def services(make_database, kafka_bootstrap, topic_prefix, keys, zipkin_url, tmp_path):
    from ot_consent.main import MIGRATIONS as CONSENT
    from ot_experts.main import MIGRATIONS as EXPERTS, seed_catalogue
    from ot_intake.main import MIGRATIONS as INTAKE

    tracing = {"OTEL_TRACES_EXPORTER": "zipkin", "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"{zipkin_url}/api/v2/spans",
               # Send each batch within a fifth of a second (the SDK's default waits 5 s).
               "OTEL_BSP_SCHEDULE_DELAY": "200"}
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    urls = {name: make_database(name) for name in ("consent", "intake", "experts")}
    upgrade(CONSENT, urls["consent"])
    upgrade(INTAKE, urls["intake"])
    upgrade(EXPERTS, urls["experts"])
    seed_catalogue(urls["experts"])

    def env(name: str, **extra) -> dict:
        return {**inherited, **service_env(name, urls[name], kafka_bootstrap, topic_prefix, keys, **extra),
                "GRPC_PORT": str(_free_port()), "HTTP_PORT": str(_free_port()), **tracing}

    processes = Processes(tmp_path)
    try:
        consent = processes.start("consent", env(
            "consent", OT_CONSENT_MASTER_KEYS="v1:" + base64.b64encode(os.urandom(32)).decode(),
            OT_CONSENT_AUDIT_KEY=base64.b64encode(os.urandom(32)).decode()))
        intake = processes.start("intake", env("intake", OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent}"))
        processes.start("experts", env("experts", OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent}"))
        processes.wait_serving()
        yield {"intake": intake, "processes": processes}
    finally:
        processes.stop()


def zipkin_trace(zipkin_url: str, trace_id: str) -> list[dict]:
    try:
        with urllib.request.urlopen(f"{zipkin_url}/api/v2/trace/{trace_id}", timeout=10) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        if error.code == 404:  # not (yet) there
            return []
        raise


def test_a_submitted_request_is_one_trace_across_the_services_in_zipkin(services, zipkin_url, keys, topic_prefix):
    trace_id = uuid.uuid4().hex
    caller = keys.metadata()
    with grpc.insecure_channel(f"127.0.0.1:{services['intake']}") as channel:
        intake_pb2_grpc.IntakeServiceStub(channel).SubmitRequest(
            submit_request(), metadata=caller + (("traceparent", f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"),),
            timeout=30)

    topic = f"{topic_prefix}.intake.v1"
    # Zipkin keeps names lower-cased.
    wanted = {"intake's gRPC server span": ("ot-intake", "SERVER", "/ot.intake.v1.intakeservice/submitrequest"),
              "consent's gRPC server span": ("ot-consent", "SERVER", "/ot.consent.v1.consentservice/opencase"),
              "the outbox relay's publish": ("ot-intake", "PRODUCER", f"{topic} publish".lower()),
              "experts' consumer span": ("ot-experts", "CONSUMER", f"{topic} process".lower())}

    def found(spans: list[dict]) -> dict:
        return {what: span for what, (service, kind, name) in wanted.items() for span in spans
                if span.get("localEndpoint", {}).get("serviceName") == service and span.get("kind") == kind
                and span.get("name") == name}

    deadline = time.monotonic() + 90
    spans = zipkin_trace(zipkin_url, trace_id)
    while len(found(spans)) < len(wanted) and time.monotonic() < deadline:
        time.sleep(1)
        spans = zipkin_trace(zipkin_url, trace_id)
    seen = sorted({(s.get("localEndpoint", {}).get("serviceName"), s.get("kind"), s.get("name")) for s in spans})
    missing = sorted(set(wanted) - set(found(spans)))
    assert not missing, f"not in the trace in Zipkin: {missing}; the trace has {seen}"
    for what, span in found(spans).items():
        assert span["tags"].get("ot.tenant") == TENANT, what
    # One trace: the consumer's span is a child of the publish, the publish of intake's call.
    spans_by_id = {s["id"]: s for s in spans}
    consume = found(spans)["experts' consumer span"]
    assert spans_by_id[consume["parentId"]]["kind"] == "PRODUCER"
    # Neither the request's content nor the caller's token reached the trace viewer.
    token = dict(caller)["authorization"].split()[1]
    text = json.dumps(spans, ensure_ascii=False)
    for value in ("Testi Ammattilainen", "testi@example.fi", "karkailee", "sijaishuolto", token.split(".")[2]):
        assert value not in text, value
