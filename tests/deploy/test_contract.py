"""The config contract between the chart and the code, on the real PostgreSQL and Kafka
(`source scripts/test_env.sh` exports OT_TEST_DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS).

intake is started as a process with exactly the environment the chart renders for its container
(ConfigMap + env); only what cannot be the same on a laptop is replaced, and only where the
chart already renders the variable: listen hosts and ports to loopback, the OTLP endpoint to a
closed loopback port, AUTH_JWKS_URL to a JWKS served here, and the two Secrets to the local
database and Kafka. A variable renamed in the chart or in ot_runtime.settings makes intake stop
at start naming it (or the override find nothing), and this test fails.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlalchemy.engine import make_url

from conftest import CHART, REPO, find, render
from ot_runtime.testing import TestKeys

VENV_BIN = REPO / ".venv" / "bin"
AREA = "pohjois-savo"


def _required_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(f"{name} is not set: run `source scripts/test_env.sh` first (make deploy-check does)",
                    pytrace=False)
    return value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def database_url():
    admin_url = _required_env("OT_TEST_DATABASE_URL")
    name = f"deploy_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture()
def jwks(tmp_path):
    """An ES256 key pair and its JWKS served on 127.0.0.1 (the chart's AUTH_JWKS_URL points here)."""
    keys = TestKeys(tmp_path / "keys")
    private = load_pem_private_key(keys.private_path.read_bytes(), password=None)
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid="contract", use="sig", alg="ES256")
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], private
    server.shutdown()


def container_env(objs: list[dict], deployment: dict, secrets: dict[tuple[str, str], str]) -> dict[str, str]:
    """The environment Kubernetes would give the container: envFrom ConfigMaps, then env
    (values, and secretKeyRefs resolved from `secrets`); anything else is an error."""
    c = deployment["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for src in c.get("envFrom", []):
        cm = find(objs, "ConfigMap", src["configMapRef"]["name"])
        assert len(cm) == 1, f"envFrom names ConfigMap {src['configMapRef']['name']}, which the chart does not render"
        env.update(cm[0]["data"])
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = secrets[(ref["name"], ref["key"])]
    return env


def override(env: dict[str, str], **values: str) -> dict[str, str]:
    missing = [k for k in values if k not in env]
    assert not missing, f"the chart no longer renders {missing}"
    return {**env, **values}


def wait_serving(target: str, service: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Run the chart's own `helm test` check (files/grpc_health_check.py) until it passes."""
    script = (CHART / "files" / "grpc_health_check.py").read_text()
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ot-intake serve exited with {proc.returncode}:\n{proc.stderr.read()[-4000:]}")
        done = subprocess.run([str(VENV_BIN / "python"), "-c", script], capture_output=True, text=True,
                              env={"OT_HEALTH_TARGET": target, "OT_HEALTH_SERVICE": service,
                                   "OT_HEALTH_TIMEOUT": "2", "PATH": os.environ.get("PATH", "")}, timeout=30)
        last = done.stdout + done.stderr
        if done.returncode == 0:
            return
        time.sleep(0.5)
    pytest.fail(f"{target} did not report SERVING within {timeout}s: {last}")


def test_intake_starts_with_exactly_the_rendered_environment(helm_bin, database_url, jwks):
    kafka = _required_env("KAFKA_BOOTSTRAP_SERVERS")
    prefix = f"ot.{AREA}.contract{uuid.uuid4().hex[:8]}"
    objs = render(helm_bin, AREA, f"topicPrefix={prefix}")
    dep = find(objs, "Deployment", "-intake")[0]
    secrets = {("ot-pohjois-savo-ot-platform-intake-db", "DATABASE_URL"): database_url,
               ("ot-kafka", "bootstrap-servers"): kafka}
    env = container_env(objs, dep, secrets)
    jwks_port, private_key = jwks
    grpc_port, http_port = _free_port(), _free_port()
    env = override(env, GRPC_HOST="127.0.0.1", HTTP_HOST="127.0.0.1", GRPC_PORT=str(grpc_port),
                   HTTP_PORT=str(http_port), OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{_free_port()}",
                   AUTH_JWKS_URL=f"http://127.0.0.1:{jwks_port}/certs")
    # Nothing else from this machine: PATH only, so the binary is found.
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")

    migrate = subprocess.run([str(VENV_BIN / "ot-intake"), "migrate"], env=env, capture_output=True, text=True,
                             timeout=120)
    assert migrate.returncode == 0, migrate.stderr[-4000:]

    proc = subprocess.Popen([str(VENV_BIN / "ot-intake"), "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        readiness = dep["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["service"]
        wait_serving(f"127.0.0.1:{grpc_port}", readiness, proc)
        # An authenticated call with the rendered issuer and audience, checked against the JWKS.
        from ot.intake.v1 import intake_pb2, intake_pb2_grpc
        token = jwt.encode({"sub": "contract", "iss": env["AUTH_JWT_ISSUER"], "aud": env["AUTH_JWT_AUDIENCE"],
                            "exp": int(time.time()) + 300, "ot_area": AREA, "ot_roles": ["coordinator"]},
                           private_key, algorithm="ES256", headers={"kid": "contract"})
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as ch:
            reply = intake_pb2_grpc.IntakeServiceStub(ch).ListRequests(
                intake_pb2.ListRequestsRequest(page_size=5), metadata=(("authorization", f"Bearer {token}"),),
                timeout=10)
        assert reply.total_count == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("ot-intake did not stop within 45 s of SIGTERM")
    assert proc.returncode == 0, proc.stderr.read()[-4000:]


def test_topic_job_creates_the_rendered_topics(helm_bin):
    """The topic-creation Job's own command and environment, run against the local Kafka."""
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    kafka = _required_env("KAFKA_BOOTSTRAP_SERVERS")
    run = uuid.uuid4().hex[:8]
    prefix = f"ot.{AREA}.topicjob{run}"
    objs = render(helm_bin, AREA, "kafka.strimzi.enabled=false", f"topicPrefix={prefix}",
                  "kafka.topics.replicas=1", "kafka.topics.minInsyncReplicas=1",
                  "kafka.topics.catalogue.enabled=true", f"kafka.topics.catalogue.name=ot.catalogue.test{run}.v1")
    job = find(objs, "Job", "-topics")[0]
    c = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
    env["KAFKA_BOOTSTRAP_SERVERS"] = kafka
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    assert c["command"][0] == "python"
    cmd = [str(VENV_BIN / "python"), *c["command"][1:], *c["args"]]
    for attempt in (1, 2):  # the second run finds every topic and only updates its configs
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-4000:]
        verb = "created" if attempt == 1 else "updated"
        assert f"{verb} {prefix}.intake.v1" in done.stdout, done.stdout
    admin = KafkaAdminClient(bootstrap_servers=kafka.split(","), request_timeout_ms=15000)
    try:
        wanted = {t["name"] for t in json.loads(env["OT_TOPICS"])}
        assert wanted <= set(admin.list_topics())
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, f"ot.catalogue.test{run}.v1"),
                                            ConfigResource(ConfigResourceType.TOPIC, f"{prefix}.intake.dlt.v1")])
        configs = {}
        if isinstance(described, dict):  # kafka-python 3: {"topic": {name: {config: value}}}
            for topic_name, entries in described["topic"].items():
                configs[topic_name] = {k: (v["value"] if isinstance(v, dict) else v)
                                       for k, v in entries.items()}
        else:  # kafka-python 2: DescribeConfigs responses
            for response in described:
                for res in response.resources:
                    configs[res[3]] = {entry[0]: entry[1] for entry in res[4]}
        assert configs[f"ot.catalogue.test{run}.v1"]["cleanup.policy"] == "compact"
        assert configs[f"{prefix}.intake.dlt.v1"]["retention.ms"] == str(90 * 86400000)
        admin.delete_topics(sorted(wanted))
    finally:
        admin.close()
