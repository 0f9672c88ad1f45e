"""The parts bench/platform_bench.py is built from: the services as real processes, their
databases, an identity provider, the load generator (ghz), the baselines, and bulk seeding.

Nothing here decides what a figure means or whether it meets its target; platform_bench.py does.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc
import sqlalchemy as sa
from google.protobuf.json_format import MessageToDict
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TENANT = "pohjois-savo"
AUDIENCE = "ot-platform"
FULL_NAMES = {"intake": "ot.intake.v1.IntakeService", "experts": "ot.experts.v1.ExpertsService",
              "consent": "ot.consent.v1.ConsentService", "feedback": "ot.feedback.v1.FeedbackService"}
# Which services' topics each service's consumer reads (each bootstrap's `consumes`).
CONSUMES = {"intake": ("experts", "consent"), "experts": ("intake", "consent"),
            "consent": ("intake", "experts"), "feedback": ("intake", "consent", "experts")}

# The portal's unit tests' OpenID Connect provider: the portal signs people in through it, and the
# services trust its tokens (RS256, like the areas' Keycloak), so no Keycloak is needed here.
sys.path.insert(0, str(REPO / "services" / "portal" / "tests"))
from portal_testkit import CLIENT_ID, CLIENT_SECRET, FakeIdP, person  # noqa: E402


def say(text: str = "") -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `samples`."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def rss_mb(pid: int) -> float | None:
    """Resident memory of a running process (VmRSS), in MB; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def machine_load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- CPU time ------------------------------------------------------------------------------------
_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU of a process, all its threads (and with `children`, its exited children
    it has waited for: a PostgreSQL backend that ended keeps counting in its postmaster)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / _TICKS


def _pids_where(match) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if match(entry.name, (entry / "cmdline").read_bytes().split(b"\0")):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


class CpuMeter:
    """CPU seconds of the platform's processes, the PostgreSQL server (postmaster, backends and the
    backends that ended) and the Kafka broker, read from /proc: what a submission costs in all, not
    only in the process that answers it."""

    def __init__(self, platform: "Platform", admin_url: str):
        self.platform = platform
        port = str(make_url(admin_url).port or 5432)
        # The postmaster of the cluster on the bench's port; its backends are its children.
        postmasters = _pids_where(lambda pid, argv: argv[0].endswith(b"postgres") and b"-D" in argv)
        self.postmaster = next((p for p in postmasters if _listens(p, port)), None)
        self.broker = next(iter(_pids_where(lambda pid, argv: argv[0].endswith(b"java")
                                            and b"kafka.Kafka" in argv)), None)

    def read(self) -> dict[str, float]:
        groups = {s.name: cpu_seconds(s.process.pid) for s in self.platform.all() if s.process}
        if self.postmaster:
            backends = _pids_where(lambda pid, argv: _parent(pid) == self.postmaster)
            groups["postgresql"] = cpu_seconds(self.postmaster, children=True) + sum(map(cpu_seconds, backends))
        if self.broker:
            groups["kafka"] = cpu_seconds(self.broker)
        return groups


def _parent(pid: str) -> int | None:
    fields = _stat(int(pid))
    return int(fields[1]) if fields else None


def _listens(pid: int, port: str) -> bool:
    """Whether the postmaster's data directory's postmaster.pid names `port` (its fourth line)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        data = Path(argv[argv.index(b"-D") + 1].decode())
        if not data.is_absolute():
            data = Path(os.readlink(f"/proc/{pid}/cwd")) / data
        return (data / "postmaster.pid").read_text().splitlines()[3].strip() == port
    except (OSError, ValueError, IndexError):
        return False


# --- the identity provider ---------------------------------------------------------------------
class Identity:
    """The fake provider, started on loopback, and access tokens from it for any role."""

    def __init__(self):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on the bench's output
        self.idp = FakeIdP().start()
        self.issuer = self.idp.issuer

    def token(self, role: str, subject: str | None = None, ttl: int = 3 * 3600) -> str:
        now = int(time.time())
        return self.idp.sign({**person(role, sub=subject), "iss": self.issuer, "aud": AUDIENCE, "iat": now,
                              "exp": now + ttl, "jti": uuid.uuid4().hex})

    def metadata(self, role: str, subject: str | None = None) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(role, subject)}"),)

    def stop(self) -> None:
        self.idp.stop()


# --- databases ---------------------------------------------------------------------------------
class Databases:
    """The bench's own PostgreSQL databases (on the given server, never its others) and SQLite files;
    every one is dropped at the end."""

    def __init__(self, admin_url: str, run_id: str, directory: Path):
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.admin_url = admin_url
        self.run_id = run_id
        self.directory = directory
        self.made: list[str] = []

    def postgres(self, label: str) -> str:
        name = f"bench_{self.run_id}_{label}"
        with self.admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.made.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def sqlite(self, label: str) -> str:
        return f"sqlite:///{self.directory / (label + '.db')}"

    def drop_all(self) -> None:
        with self.admin.connect() as c:
            for name in self.made:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def migrate(service: str, database_url: str) -> None:
    """`ot-<service> migrate`, in this process (saves an interpreter start per service)."""
    import importlib
    from ot_runtime.migrations import upgrade
    upgrade(importlib.import_module(f"ot_{service}.main").MIGRATIONS, database_url)


def seed_experts(database_url: str) -> None:
    """`ot-experts seed`: the packaged expert catalogue."""
    from ot_experts.main import seed_catalogue
    seed_catalogue(database_url)


# --- the services as processes -----------------------------------------------------------------
# Variables of the caller's environment that would change a service's configuration.
_OWN_PREFIXES = ("OT_", "AUTH_", "GRPC_", "HTTP_", "KAFKA_", "OTEL_", "DATABASE_URL", "OUTBOX_", "LOG_LEVEL")


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}


@dataclass
class Service:
    """One `ot-<name> serve` process with its own log file; `start()`, `wait_serving()`, `rss()`,
    `stop()` (SIGTERM), `kill()` (SIGKILL)."""
    name: str
    env: dict
    log_dir: Path
    grpc_port: int = 0
    http_port: int = 0
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"{self.name}.{self.starts}.log", "wb")
        command = [str(BIN / f"ot-{self.name.split('-')[0]}"), "serve"]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()

    def wait_serving(self, timeout: float = 120) -> float:
        """Until gRPC health says SERVING (the portal: until /readyz answers); returns the time."""
        deadline = time.monotonic() + timeout
        if self.name == "portal":
            import requests
            while time.monotonic() < deadline:
                self._check_alive()
                try:
                    if requests.get(f"http://127.0.0.1:{self.http_port}/readyz", timeout=2).status_code == 200:
                        return time.monotonic()
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            raise RuntimeError(f"the portal did not become ready within {timeout:.0f}s (log in {self.log_dir})")
        with grpc.insecure_channel(self.target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                self._check_alive()
                try:
                    if health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1).status == \
                            health_pb2.HealthCheckResponse.SERVING:
                        return time.monotonic()
                except grpc.RpcError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not report SERVING within {timeout:.0f}s (log in {self.log_dir})")

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with code {self.process.returncode} "
                               f"(log: {self.log_dir / f'{self.name}.{self.starts}.log'})")

    def rss(self) -> float | None:
        return rss_mb(self.process.pid) if self.process and self.process.poll() is None else None

    def stop(self, timeout: float = 30) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """kill -9: no shutdown, no leaving the consumer group."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


class Platform:
    """A set of services of one area on one database kind, with a topic prefix of their own."""

    def __init__(self, label: str, *, services: list[str], database, kafka: str, identity: Identity,
                 run_dir: Path, portal: bool = False, feedback_tick_s: float | None = None):
        self.label = label
        self.kafka = kafka
        self.prefix = f"bench{uuid.uuid4().hex[:8]}.{TENANT}"
        self.log_dir = run_dir / label
        self.log_dir.mkdir(parents=True, exist_ok=True)
        keys = run_dir / "keys"
        from ot_runtime.devtoken import DEV_SERVICE_ISSUER, SERVICE_KEY, ensure_keys
        service_private, service_public = ensure_keys(keys, SERVICE_KEY)
        self.services: dict[str, Service] = {}
        for name in services:
            self.services[name] = Service(name, {}, self.log_dir, free_port(), free_port())
        consent_target = self.services["consent"].target if "consent" in self.services else "127.0.0.1:1"
        self.urls = {name: database(f"{label}_{name}") for name in services}
        for name, service in self.services.items():
            service.env = {
                **clean_environ(), "OT_TENANT": TENANT, "DATABASE_URL": self.urls[name],
                "KAFKA_BOOTSTRAP_SERVERS": kafka, "OT_TOPIC_PREFIX": self.prefix,
                "GRPC_HOST": "127.0.0.1", "GRPC_PORT": str(service.grpc_port),
                "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(service.http_port),
                "AUTH_JWT_ISSUER": identity.issuer, "AUTH_JWT_AUDIENCE": AUDIENCE,
                "AUTH_JWKS_URL": f"{identity.issuer}/protocol/openid-connect/certs",
                "AUTH_SERVICE_ISSUER": DEV_SERVICE_ISSUER, "AUTH_SERVICE_PUBLIC_KEY_FILE": str(service_public),
                "OT_CONSENT_GRPC_TARGET": consent_target,
                # As the chart sets it (the pod's name): a process restarted under the same id is
                # the container restarted in its pod, and takes its partitions back at once.
                "OT_CONSUMER_INSTANCE_ID": f"bench-{name}-0",
            }
        if "consent" in self.services:
            self.services["consent"].env.update(
                OT_CONSENT_MASTER_KEYS="v1:" + base64.b64encode(os.urandom(32)).decode(),
                OT_CONSENT_AUDIT_KEY=base64.b64encode(os.urandom(32)).decode())
        if "feedback" in self.services:
            # No coordinator or secretary addresses: feedback consumes every event but mails nobody
            # (nothing in this bench is two months old), so no SMTP server is needed.
            self.services["feedback"].env.update(
                OT_INTAKE_GRPC_TARGET=self.services["intake"].target,
                OT_EXPERTS_GRPC_TARGET=self.services["experts"].target,
                OT_SMTP_HOST="127.0.0.1", OT_SMTP_PORT=str(free_port()),
                OT_FEEDBACK_PUBLIC_URL="http://127.0.0.1:1", OT_SERVICE_TOKEN_KEY_FILE=str(service_private),
                OT_FEEDBACK_LINK_SECRET=os.urandom(24).hex())
            if feedback_tick_s is not None:
                self.services["feedback"].env["OT_FEEDBACK_TICK_SECONDS"] = f"{feedback_tick_s:g}"
        self.portal: Service | None = None
        if portal:
            port = free_port()
            self.portal = Service("portal", {
                **clean_environ(), "OT_TENANT": TENANT, "DATABASE_URL": database(f"{label}_portal"),
                "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port), "OT_PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "OT_OIDC_ISSUER": identity.issuer, "OT_OIDC_CLIENT_ID": CLIENT_ID,
                "OT_OIDC_CLIENT_SECRET": CLIENT_SECRET, "OT_PORTAL_SECRET_KEY": os.urandom(24).hex(),
                **{f"OT_{n.upper()}_GRPC_TARGET": s.target for n, s in self.services.items()}},
                self.log_dir, 0, port)

    def all(self) -> list[Service]:
        return [*self.services.values(), *([self.portal] if self.portal else [])]

    def start(self) -> None:
        """Migrations (and the expert catalogue) first, then every process at once, then wait."""
        for name, url in self.urls.items():
            migrate(name, url)
            if name == "experts":
                seed_experts(url)
        if self.portal:
            migrate("portal", self.portal.env["DATABASE_URL"])
        for service in self.all():
            service.start()
        for service in self.all():
            service.wait_serving()

    def stop(self) -> None:
        for service in reversed(self.all()):
            service.stop()

    def channel(self, name: str) -> grpc.Channel:
        return grpc.insecure_channel(self.services[name].target)

    def topic(self, service: str) -> str:
        return f"{self.prefix}.{service}.v1"

    def consumer_lag(self) -> int:
        """Events on the platform's topics that its consumers have not committed yet."""
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
        admin = KafkaAdminClient(bootstrap_servers=self.kafka.split(","), client_id="ot-bench-lag")
        probe = KafkaConsumer(bootstrap_servers=self.kafka.split(","), group_id=None)
        try:
            lag = 0
            for name in self.services:
                group = f"{self.prefix}.{name}"
                committed = admin.list_group_offsets(group).get(group, {})
                for source in CONSUMES[name]:
                    if source not in self.services:
                        continue
                    topic = self.topic(source)
                    parts = [TopicPartition(topic, p) for p in probe.partitions_for_topic(topic) or ()]
                    for tp, end in probe.end_offsets(parts).items():
                        done = committed.get(tp)
                        lag += end - (done.offset if done is not None and done.offset >= 0 else 0)
            return lag
        finally:
            admin.close()
            probe.close()

    def notifications_done(self, timeout: float) -> bool:
        """Until feedback's scheduler has handled every notification due by now (it does so on its
        tick, OT_FEEDBACK_TICK_SECONDS: 60 s by default); False if some are still waiting."""
        if "feedback" not in self.services:
            return True
        engine = sa.create_engine(self.urls["feedback"])
        query = sa.text("SELECT count(*) FROM notifications WHERE state IN ('due', 'sending') "
                        "AND due_at <= CURRENT_TIMESTAMP")
        try:
            deadline = time.monotonic() + timeout
            while True:
                with engine.connect() as conn:
                    if conn.execute(query).scalar_one() == 0:
                        return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.5)
        finally:
            engine.dispose()

    def wait_drained(self, timeout: float) -> tuple[float, int]:
        """Until every consumer has caught up (twice in a row, a second apart, so that the relays'
        last events count too); returns (seconds waited, events still behind at the end)."""
        start = time.monotonic()
        zero_seen = False
        lag = -1
        while time.monotonic() - start < timeout:
            lag = self.consumer_lag()
            if lag == 0 and zero_seen:
                break
            zero_seen = lag == 0
            time.sleep(1)
        return time.monotonic() - start, lag


# --- the load generator ------------------------------------------------------------------------
def ghz_path() -> str:
    """The pinned ghz, built once into the user's cache by scripts/bench_tools.sh."""
    done = subprocess.run(["bash", str(REPO / "scripts" / "bench_tools.sh")], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"scripts/bench_tools.sh failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().split("GHZ=", 1)[1].splitlines()[0]


def build_protoset(path: Path) -> Path:
    """Every proto of the platform as one descriptor set (ghz reads the methods from it)."""
    import grpc_tools
    from grpc_tools import protoc
    protos = [str(p.relative_to(REPO / "proto")) for p in sorted((REPO / "proto").rglob("*.proto"))]
    include = Path(grpc_tools.__file__).parent / "_proto"
    code = protoc.main(["protoc", f"-I{REPO / 'proto'}", f"-I{include}", "--include_imports",
                        f"--descriptor_set_out={path}", *protos])
    if code != 0:
        raise RuntimeError("protoc could not build the descriptor set")
    return path


@dataclass
class Load:
    """What one ghz run measured (successful calls only in the latencies)."""
    calls: int
    ok: int
    seconds: float
    rps_ok: float
    p50_ms: float
    p99_ms: float
    codes: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"calls": self.calls, "ok": self.ok, "seconds": round(self.seconds, 2), "rps_ok": round(self.rps_ok, 1),
                "p50_ms": round(self.p50_ms, 2), "p99_ms": round(self.p99_ms, 2), "codes": self.codes}


class Ghz:
    def __init__(self, binary: str, protoset: Path):
        self.binary = binary
        self.protoset = protoset

    def run(self, target: str, call: str, message, token: str, *, concurrency: int,
            seconds: float | None = None, calls: int | None = None) -> Load:
        """`seconds` of closed-loop load with `concurrency` workers on one connection, or `calls`
        calls. ghz gets one core (--cpus 1): the other is the platform's."""
        data = MessageToDict(message, preserving_proto_field_name=True)
        command = [self.binary, "--insecure", "--protoset", str(self.protoset), "--call", call,
                   "-d", json.dumps(data), "-m", json.dumps({"authorization": f"Bearer {token}"}),
                   "-c", str(concurrency), "--connections", "1", "--cpus", "1", "--timeout", "30s",
                   "--format", "json", "--disable-template-functions", "--disable-template-data"]
        if seconds is not None:
            command += ["-z", f"{seconds:g}s", "--duration-stop", "ignore"]
        else:
            command += ["-n", str(calls)]
        done = subprocess.run([*command, target], capture_output=True, text=True, timeout=(seconds or 600) + 120)
        if done.returncode:
            raise RuntimeError(f"ghz failed ({done.returncode}): {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        codes = report.get("statusCodeDistribution") or {}
        ok = int(codes.get("OK", 0))
        total_s = report["total"] / 1e9
        latencies = {int(d["percentage"]): d["latency"] / 1e6 for d in report.get("latencyDistribution") or ()}
        return Load(calls=int(report["count"]), ok=ok, seconds=total_s, rps_ok=ok / total_s if total_s else 0.0,
                    p50_ms=latencies.get(50, float("nan")), p99_ms=latencies.get(99, float("nan")), codes=codes)


class NoopServer:
    """bench/noop_server.py as a process: the baseline gRPC server."""

    def __init__(self, log_dir: Path):
        import inspect
        from ot_runtime.grpc_server import MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, GrpcServer
        workers = inspect.signature(GrpcServer.__init__).parameters["max_workers"].default
        self.port = free_port()
        log = open(log_dir / "noop.log", "wb")
        settings = [str(self.port), str(workers), str(MAX_REQUEST_BYTES), str(MAX_RESPONSE_BYTES)]
        self.process = subprocess.Popen([sys.executable, str(REPO / "bench" / "noop_server.py"), *settings],
                                        env=clean_environ(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        self.service = Service("noop", {}, log_dir, self.port, 0, self.process, 1)
        self.service.wait_serving(60)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def rss(self) -> float | None:
        return self.service.rss()

    def stop(self) -> None:
        self.service.stop()


# --- Kafka -------------------------------------------------------------------------------------
def kafka_round_trip(bootstrap: str, topic: str, count: int, warm: int = 5) -> list[float]:
    """Milliseconds from send to receipt of `count` records one after another: the platform's
    producer settings (ot_runtime.kafka.make_producer: acks=all, linger 5 ms), flushed per record,
    and a plain kafka-python consumer on the same broker."""
    from kafka import KafkaConsumer, TopicPartition
    from ot_runtime.kafka import ensure_topics, make_producer
    ensure_topics(bootstrap, [topic], partitions=1)
    producer = make_producer(bootstrap, client_id="ot-bench-round-trip")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_end(tp)
    consumer.position(tp)
    payload = os.urandom(160)  # about a RequestSubmitted event's size
    samples = []
    try:
        for i in range(warm + count):
            key = f"{i}-{uuid.uuid4()}".encode()
            start = time.perf_counter()
            producer.send(topic, key=key, value=payload, headers=[("ce_type", b"ot.bench.v1")])
            producer.flush()
            seen = False
            while not seen:
                for records in consumer.poll(timeout_ms=1000).values():
                    seen = seen or any(r.key == key for r in records)
                if time.perf_counter() - start > 30:
                    raise RuntimeError("a record did not come back within 30 s")
            if i >= warm:
                samples.append((time.perf_counter() - start) * 1000)
    finally:
        producer.close(timeout=5)
        consumer.close()
    return samples


class TopicWatcher:
    """Reads a topic from its end in a thread and notes when each case's event (ce_subject) arrives."""

    def __init__(self, bootstrap: str, topic: str):
        from kafka import KafkaConsumer, TopicPartition
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                                      enable_auto_commit=False)
        parts = [TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic) or ()]
        if not parts:
            raise RuntimeError(f"topic {topic} does not exist")
        self.consumer.assign(parts)
        self.consumer.seek_to_end(*parts)
        for tp in parts:
            self.consumer.position(tp)
        self.arrived: dict[str, float] = {}
        self.changed = threading.Condition()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="topic-watcher")
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for records in self.consumer.poll(timeout_ms=100).values():
                now = time.perf_counter()
                with self.changed:
                    for r in records:
                        subject = dict(r.headers or ()).get("ce_subject")
                        if subject:
                            self.arrived.setdefault(subject.decode(), now)
                    self.changed.notify_all()

    def wait_for(self, subject: str, timeout: float) -> float | None:
        with self.changed:
            self.changed.wait_for(lambda: subject in self.arrived, timeout)
            return self.arrived.get(subject)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.consumer.close()


# --- ListRequests: requests written straight into intake's database --------------------------------
def seed_requests(database_url: str, count: int, rng: random.Random, meeting_ids: list[str]) -> None:
    """Add `count` requests shaped like real ones to intake's tables with PostgreSQL COPY: every
    status, type and category, 1-3 categories each, two years of submissions, a sealed content blob
    of a real one's size, conversation entries, group bookings. The list query reads exactly these
    columns and tables (requests, request_categories, meetings, entries)."""
    from ot_runtime.vocabulary import Category, RequestStatus, RequestType, Sector
    engine = sa.create_engine(database_url)
    now = datetime.now(timezone.utc)
    statuses = [(RequestStatus.CLOSED, 40), (RequestStatus.RECOMMENDATIONS_RETURNED, 20), (RequestStatus.SUBMITTED, 8),
                (RequestStatus.TRIAGED, 8), (RequestStatus.ASSIGNED, 8), (RequestStatus.SCHEDULED, 6),
                (RequestStatus.CONSULTED, 4), (RequestStatus.AWAITING_INFORMATION, 3), (RequestStatus.WITHDRAWN, 3)]
    status_values, status_weights = [s.value for s, _ in statuses], [w for _, w in statuses]
    types = [RequestType.OT_TUKI.value, RequestType.GROUP_CONSULTATION.value, RequestType.EXPERT_REINFORCEMENT.value]
    categories = [c.value for c in Category]
    sectors = [s.value for s in Sector]
    answered = {RequestStatus.CLOSED.value, RequestStatus.RECOMMENDATIONS_RETURNED.value}
    request_columns = ("id", "tenant", "type", "status", "owner_subject", "prof_name", "prof_phone", "prof_email",
                       "profession", "organisation", "sector", "client", "sealed_content", "discussed_in_own_team",
                       "consent_need", "consent_given_by", "consent_child_capacity_assessed", "anonymous",
                       "submitted_at", "updated_at", "screening_score", "meeting_id", "expert_ids",
                       "idempotency_key", "booked_at", "response_due_at", "first_response_at", "answered_at",
                       "paused_working_days")
    entry_columns = ("id", "request_id", "sequence", "kind", "author_subject", "author_role", "author_name",
                     "sealed_text", "expert_ids", "created_at")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY requests ({', '.join(request_columns)}) FROM STDIN") as copy_requests:
            rows_categories, rows_entries = [], []
            for _ in range(count):
                rid = str(uuid.uuid4())
                status = rng.choices(status_values, status_weights)[0]
                type_ = rng.choices(types, (50, 30, 20))[0]
                submitted = now - timedelta(seconds=rng.uniform(0, 730 * 86400))
                owner = f"professional-{rng.randrange(2000)}"
                booked = type_ == RequestType.GROUP_CONSULTATION.value and status not in (
                    RequestStatus.SUBMITTED.value, RequestStatus.TRIAGED.value) and meeting_ids
                done = status in answered
                copy_requests.write_row((
                    rid, TENANT, type_, status, owner, "Testi Ammattilainen", "", f"{owner}@example.fi",
                    "sosiaalityöntekijä", "Lapsiperhepalvelut", rng.choice(sectors),
                    json.dumps({"age_years": rng.randrange(0, 18), "gender": rng.choice(["girl", "boy", "other"])}),
                    os.urandom(rng.randrange(400, 1400)), True, "not_needed", None, False, False,
                    submitted, submitted + timedelta(days=rng.uniform(0, 20)), rng.randrange(0, 11),
                    rng.choice(meeting_ids) if booked else None, json.dumps([]), None,
                    submitted + timedelta(days=2) if booked else None, submitted + timedelta(days=7),
                    submitted + timedelta(days=2) if done else None, submitted + timedelta(days=6) if done else None, 0))
                for category in rng.sample(categories, rng.choice((1, 1, 2, 3))):
                    rows_categories.append((rid, category))
                for sequence in range(rng.choice((0, 0, 1, 2, 3, 4)) if status != "submitted" else 0):
                    rows_entries.append((str(uuid.uuid4()), rid, sequence + 1,
                                         rng.choice(("question", "reply", "advice", "note")), owner, "professional",
                                         "", os.urandom(rng.randrange(200, 900)), json.dumps([]),
                                         submitted + timedelta(days=sequence + 1)))
        with cursor.copy("COPY request_categories (request_id, category) FROM STDIN") as copy:
            for row in rows_categories:
                copy.write_row(row)
        with cursor.copy(f"COPY entries ({', '.join(entry_columns)}) FROM STDIN") as copy:
            for row in rows_entries:
                copy.write_row(row)
        raw.commit()
        # Statistics and the visibility map as autovacuum would have them on a table of this size
        # (without the latter no count or index-only scan can skip the table's pages).
        # On the driver's connection: set on the pool's wrapper it changed nothing, and the
        # statements ran in a transaction that was rolled back (so the planner had no statistics).
        raw.driver_connection.autocommit = True
        cursor = raw.driver_connection.cursor()
        for table in ("requests", "request_categories", "entries"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    finally:
        raw.close()
        engine.dispose()


def seed_meetings(database_url: str, rng: random.Random, count: int = 40) -> list[str]:
    engine = sa.create_engine(database_url)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    now = datetime.now(timezone.utc)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO meetings (id, tenant, group_id, starts_at, capacity, booked, booking_lead_days, "
                          "location) VALUES (:id, :tenant, :group, :starts, 1000000, 0, 7, 'Kokoushuone 2')"),
                  [{"id": i, "tenant": TENANT, "group": "haastavat-erot-pohjois-savo",
                    "starts": now - timedelta(days=rng.randrange(-60, 700))} for i in ids])
    engine.dispose()
    return ids


def deep_page_token(database_url: str, where_sql: str, params: dict, offset: int, total: int) -> str:
    """The page token a client holds after paging `offset` rows into the filtered list (newest
    first): the sort key of the row before the page and the first page's total, as intake encodes it."""
    from ot_intake.store import encode_page_token
    engine = sa.create_engine(database_url)
    with engine.connect() as c:
        row = c.execute(sa.text(f"SELECT submitted_at, id FROM requests r WHERE {where_sql} "
                                "ORDER BY submitted_at DESC, id DESC OFFSET :offset LIMIT 1"),
                        {**params, "offset": offset}).one()
    engine.dispose()
    return encode_page_token((row[0], row[1]), total)


def run_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ot-bench-"))


def delete_topics(bootstrap: str, prefixes: list[str]) -> None:
    """The run's own topics (those under its prefixes), so the shared broker keeps none of them."""
    from kafka import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="ot-bench-cleanup")
    try:
        ours = [t for t in admin.list_topics() if any(t.startswith(p) for p in prefixes)]
        if ours:
            admin.delete_topics(ours)
    finally:
        admin.close()
