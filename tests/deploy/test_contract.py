"""The config contract between the chart and the code, on the real PostgreSQL and Kafka
(`source scripts/test_env.sh` exports OT_TEST_DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS).

Every service the chart enables is started as a process with exactly the environment the chart
renders for its container (ConfigMap + env), after the commands of its own migration Job
(`migrate`, then postMigrate such as experts' `seed`), with the Deployment's own arguments. Only
what cannot be the same on a laptop is replaced, and only where the chart already renders the
variable: listen hosts and ports to loopback, the OTLP endpoint to a collector stub here,
AUTH_JWKS_URL to a JWKS served here, OT_<CALLEE>_GRPC_TARGET to the callee started here, and the
Secrets to local values (a fresh database per service, the local Kafka, a random master key). A
variable renamed in the chart or in the code makes a service stop at start naming it (or the
override find nothing), and this test fails. Callees start first (consent before intake and
experts); each service then answers one authenticated call that shows its settings took effect.
"""
from __future__ import annotations

import base64
import json
import os
import secrets as pysecrets
import signal
import socket
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
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
RELEASE = f"ot-{AREA}"
FULLNAME = f"{RELEASE}-ot-platform"
# The services the shipped chart enables; a newly enabled one must be added to this test (its
# Secrets and its one call), so a change of the set fails here rather than going untested.
ENABLED = {"consent", "experts", "intake"}
# Retention defaults rendered for this test, all different from the code's defaults and from each
# other, so consent's answer shows it read each of the six rendered names into the right place.
RETENTION = {"otTuki": (31, 366), "groupConsultation": (15, 181), "expertReinforcement": (32, 367)}


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
def new_database():
    """Makes fresh, empty databases (one per service, as in a cluster); drops them afterwards."""
    admin_url = _required_env("OT_TEST_DATABASE_URL")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"deploy_{uuid.uuid4().hex[:12]}"
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as c:
        for name in made:
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


@pytest.fixture()
def otlp_collector():
    """An OTLP/gRPC trace collector on 127.0.0.1 that keeps the resource attributes of what it gets
    (the chart's OTEL_EXPORTER_OTLP_ENDPOINT points here)."""
    from concurrent import futures

    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    resources: list[dict[str, str]] = []

    class Collector(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):  # noqa: N802
            for rs in request.resource_spans:
                resources.append({a.key: a.value.string_value for a in rs.resource.attributes})
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Collector(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"http://127.0.0.1:{port}", resources
    server.stop(0)


def resolve_env(objs: list[dict], container: dict, secrets: dict[tuple[str, str], str]) -> dict[str, str]:
    """The environment Kubernetes would give `container`: envFrom ConfigMaps, then env (values,
    and secretKeyRefs resolved from `secrets`); anything else is an error."""
    env: dict[str, str] = {}
    for src in container.get("envFrom", []):
        cm = find(objs, "ConfigMap", src["configMapRef"]["name"])
        assert len(cm) == 1, f"envFrom names ConfigMap {src['configMapRef']['name']}, which the chart does not render"
        env.update(cm[0]["data"])
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) in secrets, f"{e['name']} comes from Secret {ref['name']} key {ref['key']}, " \
                                                         f"which this test (and the area files' comments) do not know"
            env[e["name"]] = secrets[(ref["name"], ref["key"])]
    return env


def override(env: dict[str, str], **values: str) -> dict[str, str]:
    missing = [k for k in values if k not in env]
    assert not missing, f"the chart no longer renders {missing}"
    return {**env, **values}


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


def wait_serving(target: str, service: str, proc: subprocess.Popen, log: Path, what: str,
                 timeout: float = 60) -> None:
    """Run the chart's own `helm test` check (files/grpc_health_check.py) until it passes."""
    script = (CHART / "files" / "grpc_health_check.py").read_text()
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        done = subprocess.run([str(VENV_BIN / "python"), "-c", script], capture_output=True, text=True,
                              env={"OT_HEALTH_TARGET": target, "OT_HEALTH_SERVICE": service,
                                   "OT_HEALTH_TIMEOUT": "2", "PATH": os.environ.get("PATH", "")}, timeout=30)
        last = done.stdout + done.stderr
        if done.returncode == 0:
            return
        time.sleep(0.3)
    pytest.fail(f"{what} at {target} did not report SERVING within {timeout}s: {last}")


def callees(env: dict[str, str]) -> set[str]:
    """The services a rendered environment points at (OT_<NAME>_GRPC_TARGET)."""
    return {k.removeprefix("OT_").removesuffix("_GRPC_TARGET").lower() for k in env
            if k.startswith("OT_") and k.endswith("_GRPC_TARGET")}


def start_order(envs: dict[str, dict[str, str]]) -> list[list[str]]:
    """Waves of services to start: each wave only calls services of earlier waves."""
    left, started, waves = set(envs), set(), []
    while left:
        wave = sorted(s for s in left if callees(envs[s]) <= started)
        assert wave, f"the rendered OT_*_GRPC_TARGETs form a cycle or name a service not enabled: {left}"
        waves.append(wave)
        started |= set(wave)
        left -= set(wave)
    return waves


def _stop(proc: subprocess.Popen, log: Path, what: str) -> str | None:
    """Wait for a process that was sent SIGTERM; returns a problem, or None when it stopped cleanly."""
    try:
        proc.wait(timeout=45)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return f"{what} did not stop within 45 s of SIGTERM"
    if proc.returncode != 0:
        return f"{what} exited with {proc.returncode} after SIGTERM: {_tail(log)}"
    return None


def test_enabled_services_start_with_exactly_the_rendered_environment(helm_bin, new_database, jwks, otlp_collector,
                                                                      tmp_path):
    kafka = _required_env("KAFKA_BOOTSTRAP_SERVERS")
    prefix = f"ot.{AREA}.contract{uuid.uuid4().hex[:8]}"
    retention = [f"area.retention.caseContent.{t}.{k}={v}" for t, days in RETENTION.items()
                 for k, v in zip(("graceDays", "maxDays"), days)]
    objs = render(helm_bin, AREA, f"topicPrefix={prefix}", *retention)
    deployments = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in find(objs, "Deployment")}
    assert set(deployments) == ENABLED, "the chart enables other services than this test starts"

    # The Secrets the chart refers to, by the names the area files tell operators to create.
    secrets = {(f"{FULLNAME}-{svc}-db", "DATABASE_URL"): new_database() for svc in ENABLED}
    secrets[("ot-kafka", "bootstrap-servers")] = kafka
    secrets[(f"{FULLNAME}-consent-secrets", "master-key")] = base64.b64encode(pysecrets.token_bytes(32)).decode()

    jwks_port, private_key = jwks
    ports = {svc: (_free_port(), _free_port()) for svc in ENABLED}
    otlp, exported = otlp_collector

    def local(svc: str, env: dict[str, str]) -> dict[str, str]:
        grpc_port, http_port = ports[svc]
        env = override(env, GRPC_HOST="127.0.0.1", HTTP_HOST="127.0.0.1", GRPC_PORT=str(grpc_port),
                       HTTP_PORT=str(http_port), OTEL_EXPORTER_OTLP_ENDPOINT=otlp,
                       AUTH_JWKS_URL=f"http://127.0.0.1:{jwks_port}/certs")
        env = override(env, **{f"OT_{c.upper()}_GRPC_TARGET": f"127.0.0.1:{ports[c][0]}" for c in callees(env)})
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")  # nothing else from this machine
        return env

    serve_env = {svc: local(svc, resolve_env(objs, d["spec"]["template"]["spec"]["containers"][0], secrets))
                 for svc, d in deployments.items()}

    # The migration hook Job of each service, step by step, in its own environment (no service
    # needs another to migrate, so the services' Jobs run side by side, as Helm runs hooks of one weight).
    def migrate(svc: str) -> list[str]:
        job = find(objs, "Job", f"-{svc}-migrate")[0]["spec"]["template"]["spec"]
        steps = []
        for c in job.get("initContainers", []) + job["containers"]:
            assert c["image"] == deployments[svc]["spec"]["template"]["spec"]["containers"][0]["image"]
            done = subprocess.run([str(VENV_BIN / f"ot-{svc}"), *c["args"]], env=local(svc, resolve_env(objs, c, secrets)),
                                  capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, f"ot-{svc} {' '.join(c['args'])}: {done.stderr[-4000:]}"
            steps.append(" ".join(c["args"]))
        return steps

    with ThreadPoolExecutor(len(ENABLED)) as pool:
        steps = dict(zip(sorted(ENABLED), pool.map(migrate, sorted(ENABLED))))
    assert steps == {"consent": ["migrate"], "experts": ["migrate", "seed"], "intake": ["migrate"]}

    assert {svc: callees(env) for svc, env in serve_env.items()} == \
        {"consent": set(), "intake": {"consent"}, "experts": {"consent"}}, "who is told to call whom (calls:)"
    waves = start_order(serve_env)  # consent first, then intake and experts side by side
    procs: dict[str, subprocess.Popen] = {}
    logs = {svc: tmp_path / f"ot-{svc}.log" for svc in ENABLED}  # a file, so a chatty service never blocks on a pipe
    problems: list[str] = []
    try:
        for wave in waves:
            for svc in wave:
                c = deployments[svc]["spec"]["template"]["spec"]["containers"][0]
                with logs[svc].open("w") as log:
                    procs[svc] = subprocess.Popen([str(VENV_BIN / f"ot-{svc}"), *c["args"]], env=serve_env[svc],
                                                  stdout=subprocess.DEVNULL, stderr=log)
            for svc in wave:
                readiness = deployments[svc]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]
                wait_serving(f"127.0.0.1:{ports[svc][0]}", readiness["service"], procs[svc], logs[svc],
                             f"ot-{svc} serve")

        def md(svc: str, role: str) -> tuple:
            env = serve_env[svc]  # the rendered issuer and audience, checked against the JWKS
            token = jwt.encode({"sub": f"contract-{role}", "iss": env["AUTH_JWT_ISSUER"], "aud": env["AUTH_JWT_AUDIENCE"],
                                "exp": int(time.time()) + 300, "ot_area": AREA, "ot_roles": [role]},
                               private_key, algorithm="ES256", headers={"kid": "contract"})
            return (("authorization", f"Bearer {token}"),)

        def channel(svc: str) -> grpc.Channel:
            return grpc.insecure_channel(f"127.0.0.1:{ports[svc][0]}")

        from ot.common.v1 import case_pb2
        from ot.consent.v1 import consent_pb2, consent_pb2_grpc
        from ot.experts.v1 import experts_pb2, experts_pb2_grpc
        from ot.intake.v1 import intake_pb2, intake_pb2_grpc

        # consent: the area's retention defaults are the six rendered OT_RETENTION_* values.
        with channel("consent") as ch:
            policies = consent_pb2_grpc.ConsentServiceStub(ch).ListRetentionPolicies(
                consent_pb2.ListRetentionPoliciesRequest(), metadata=md("consent", "coordinator"), timeout=10).policies
        got = {case_pb2.RequestType.Name(p.type): (p.grace_days_after_recommendations, p.max_days_after_submission)
               for p in policies}
        assert got == {"REQUEST_TYPE_OT_TUKI": RETENTION["otTuki"],
                       "REQUEST_TYPE_GROUP_CONSULTATION": RETENTION["groupConsultation"],
                       "REQUEST_TYPE_EXPERT_REINFORCEMENT": RETENTION["expertReinforcement"]}

        # intake: a submission, which intake can only store after consent (at the rewritten
        # OT_CONSENT_GRPC_TARGET) opened the case and gave its data key.
        with channel("intake") as ch:
            created = intake_pb2_grpc.IntakeServiceStub(ch).SubmitRequest(intake_pb2.SubmitRequestRequest(
                type=case_pb2.REQUEST_TYPE_OT_TUKI,
                professional=intake_pb2.Professional(
                    name="Testi Ammattilainen", email="testi@example.fi", profession="sosiaalityöntekijä",
                    organisation="Lapsiperhepalvelut", sector=case_pb2.SECTOR_SOCIAL, wellbeing_area=AREA),
                categories=[case_pb2.CASE_CATEGORY_CHILD_PROTECTION_SPECIAL],
                client=intake_pb2.ClientFacts(age_years=15, gender=intake_pb2.GENDER_GIRL,
                                              family_situation="sijaishuolto", earlier_services=["perhetyö"]),
                question="Miten edetä, kun nuori karkailee sijaishuoltopaikasta toistuvasti?",
                discussed_in_own_team=True,
                consent=intake_pb2.ConsentAssessment(need=intake_pb2.CONSENT_NEED_NOT_NEEDED)),
                metadata=md("intake", "professional"), timeout=15)
        assert created.request_id

        # experts: the agreements come from the dataset the migration Job's `seed` loaded.
        with channel("experts") as ch:
            agreements = experts_pb2_grpc.ExpertsServiceStub(ch).ListAgreements(
                experts_pb2.ListAgreementsRequest(area=AREA), metadata=md("experts", "coordinator"), timeout=10)
        assert [(a.area, a.kind) for a in agreements.agreements] == [(AREA, "host")]
    finally:
        # SIGTERM to all at once (as a node drain would); each must stop cleanly and in time.
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        problems += [problem for svc, proc in procs.items() if (problem := _stop(proc, logs[svc], f"ot-{svc}"))]
        _delete_topics(kafka, prefix)
    assert problems == [], "\n".join(problems)

    # The OTEL_* variables the chart renders reached the SDK: every service flushed its spans on
    # SIGTERM to the rendered endpoint, under its rendered name and resource attributes.
    for svc in ENABLED:
        attrs = dict(kv.split("=", 1) for kv in serve_env[svc]["OTEL_RESOURCE_ATTRIBUTES"].split(","))
        mine = [r for r in exported if r.get("service.name") == serve_env[svc]["OTEL_SERVICE_NAME"]]
        assert mine, f"ot-{svc} exported no spans to {otlp}; got {exported}"
        assert attrs.items() <= mine[0].items() and mine[0]["ot.tenant"] == AREA, mine[0]


def _delete_topics(kafka: str, prefix: str) -> None:
    """The services created their topics under this run's prefix; leave the shared broker tidy."""
    from kafka import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=kafka.split(","), request_timeout_ms=15000)
    try:
        mine = sorted(t for t in admin.list_topics() if t.startswith(prefix + "."))
        if mine:
            admin.delete_topics(mine)
    except Exception:  # noqa: BLE001 - tidying only; a leftover topic harms nothing
        pass
    finally:
        admin.close()


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
