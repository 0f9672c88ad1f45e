"""Integration tier: the services in-process against the real PostgreSQL and Kafka that
`make test` starts (scripts/test_env.sh). A missing service is a failure, never a skip.

Each test gets its own database and its own topic prefix, so tests do not see each other's data.
"""
from __future__ import annotations

import base64
import io
import logging
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.engine import make_url

from ot_runtime.clock import SystemClock
from ot_runtime.logging import JsonFormatter
from ot_runtime.migrations import upgrade
from ot_runtime.settings import load_settings
from ot_runtime.telemetry import configure_tracing
from ot_runtime.testing import root_logging_restored  # noqa: F401 (autouse)
from ot_runtime.testing import TestKeys

TENANT = "pohjois-savo"


def _required_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(f"{name} is not set: run the integration tests with `make test` (or `make integration`), "
                    "which starts PostgreSQL and Kafka and exports their addresses.", pytrace=False)
    return value


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    servers = _required_env("KAFKA_BOOTSTRAP_SERVERS")
    admin = KafkaAdminClient(bootstrap_servers=servers.split(","), request_timeout_ms=10000)
    admin.close()  # reachable, or this raised
    return servers


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = _required_env("OT_TEST_DATABASE_URL")
    engine = sa.create_engine(url)
    with engine.connect() as c:
        # make_database drops WITH (FORCE), which fails now and then (when it meets an autovacuum
        # worker) unless the role may signal other backends: scripts/postgres.sh grants it.
        if not c.execute(sa.text("select pg_has_role('pg_signal_backend', 'MEMBER')")).scalar():
            pytest.fail("the test database's role is not a member of pg_signal_backend, so dropping a "
                        "test database fails whenever autovacuum is working on it; run "
                        "scripts/postgres.sh start (it grants the role) or grant it yourself",
                        pytrace=False)
    engine.dispose()
    return url


@pytest.fixture()
def make_database(pg_admin_url):
    """Creates fresh PostgreSQL databases (one per service: services own their data); all are
    dropped after the test."""
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make(label: str = "db") -> str:
        name = f"it_{label}_{uuid.uuid4().hex[:12]}"
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as c:
        for name in made:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture()
def database_url(make_database):
    """Intake's database for one test."""
    return make_database("intake")


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    configure_tracing("integration", TENANT, exporter=exporter)
    return exporter


@pytest.fixture()
def keys(tmp_path):
    return TestKeys(tmp_path / "keys")


@pytest.fixture()
def topic_prefix(kafka_bootstrap):
    """A fresh topic namespace per test; its topics are deleted afterwards so that a developer's
    broker does not collect thousands of partitions (Kafka then takes minutes to start)."""
    prefix = f"it{uuid.uuid4().hex[:10]}.{TENANT}"
    yield prefix
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap.split(","), request_timeout_ms=10000)
    try:
        mine = [t for t in admin.list_topics() if t.startswith(prefix + ".")]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()


@pytest.fixture()
def captured_logs():
    """Every log line written during the test, formatted exactly as the services write them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test", TENANT))
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def service_env(service: str, database_url: str, kafka: str, prefix: str, keys: TestKeys, **extra) -> dict:
    return {"OT_TENANT": TENANT, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "OT_TOPIC_PREFIX": prefix, "GRPC_PORT": "0", "HTTP_PORT": "0", "OUTBOX_POLL_SECONDS": "0.1",
            "SHUTDOWN_GRACE_SECONDS": "2", **keys.env(), **extra}


@dataclass
class RunningService:
    app: object
    channel: grpc.Channel
    settings: object
    consent: "RunningService | None" = None

    def stop(self) -> None:
        self.channel.close()
        self.app.grpc_server.stop(2)
        for worker in ("purger", "anchorer", "chainer"):  # consent's own background workers, when started
            if getattr(self.app, worker, None):
                getattr(self.app, worker).stop()
        self.app.consumer.stop()
        self.app.relay.stop()
        self.app.http_server.stop()
        self.app.producer.close(timeout=5)
        self.app.engine.dispose()


def start_service(service: str, build, migrations, env: dict, clock=None, *, relay: bool = True,
                  after_migrate=None, running: type[RunningService] = RunningService, **build_args) -> RunningService:
    """Start one service in-process as its main would: settings from `env`, migrations (then
    `after_migrate(settings)`, e.g. a seed), build, HTTP, consumer, relay (unless `relay=False`), gRPC."""
    settings = load_settings(service, env)
    upgrade(migrations, settings.database_url)
    if after_migrate:
        after_migrate(settings)
    app = build(settings, clock=clock or SystemClock(), **build_args)
    app.http_server.start()
    app.consumer.start()
    if relay:
        app.relay.start()
    app.grpc_server.start()
    return running(app, grpc.insecure_channel(f"127.0.0.1:{app.grpc_server.port}"), settings)


@pytest.fixture()
def start_consent(make_database, kafka_bootstrap, topic_prefix, keys, spans):
    """Start consent (its own database, a fresh master key) on loopback; stopped after the test.
    Its purge scheduler is not started: tests call purge with their own clock."""
    from ot_consent.bootstrap import build
    from ot_consent.main import MIGRATIONS

    started: list[RunningService] = []

    def start(clock=None, *, database_url: str | None = None, **env) -> RunningService:
        """`env` adds or replaces settings (None removes one); `database_url` starts it again on an
        existing database. Given the older OT_CONSENT_MASTER_KEY, that one is used instead."""
        settings_env = service_env("consent", database_url or make_database("consent"), kafka_bootstrap,
                                   topic_prefix, keys,
                                   OT_CONSENT_MASTER_KEYS="v1:" + base64.b64encode(os.urandom(32)).decode(),
                                   OT_CONSENT_AUDIT_KEY=base64.b64encode(os.urandom(32)).decode())
        if "OT_CONSENT_MASTER_KEY" in env:
            settings_env.pop("OT_CONSENT_MASTER_KEYS")
        settings_env.update(env)
        service = start_service("consent", build, MIGRATIONS, {k: v for k, v in settings_env.items() if v is not None},
                                clock)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture()
def start_intake(database_url, kafka_bootstrap, topic_prefix, keys, spans, start_consent):
    """Start intake (migrations, gRPC, HTTP, relay, consumer) on loopback, with a consent service
    of its own unless one is given; stopped after the test."""
    from ot_intake.bootstrap import build
    from ot_intake.main import MIGRATIONS

    started: list[RunningService] = []

    def start(clock=None, relay: bool = True, relay_batch_size: int = 100, consent=None) -> RunningService:
        consent = consent or start_consent(clock)
        env = service_env("intake", database_url, kafka_bootstrap, topic_prefix, keys,
                          OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent.app.grpc_server.port}")
        service = start_service("intake", build, MIGRATIONS, env, clock, relay=relay,
                                relay_batch_size=relay_batch_size)
        service.consent = consent
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 30.0, settle: float = 2.0) -> list:
    """All records of `topic`: waits until at least `expect` arrived, then `settle` seconds more to
    catch any extra (a duplicate would show up there)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None, auto_offset_reset="earliest",
                             enable_auto_commit=False)
    try:
        deadline = time.monotonic() + timeout
        while topic not in (consumer.topics() or set()):
            if time.monotonic() > deadline:
                return []
            time.sleep(0.2)
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        records: list = []
        settle_until = None
        while True:
            now = time.monotonic()
            if len(records) >= expect and settle_until is None:
                settle_until = now + settle
            if (settle_until and now > settle_until) or now > deadline:
                return records
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        consumer.close()


def wait_until(condition, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_consumed(bootstrap: str, group: str, topic: str, timeout: float = 30.0) -> None:
    """Wait until `group` has committed offsets up to the end of every partition of `topic`."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    probe = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None)
    try:
        parts = [TopicPartition(topic, p) for p in probe.partitions_for_topic(topic) or ()]
        ends = probe.end_offsets(parts)

        def caught_up():
            committed = admin.list_group_offsets(group).get(group, {})
            return all(committed.get(tp) is not None and committed[tp].offset >= end
                       for tp, end in ends.items() if end > 0)
        try:
            wait_until(caught_up, timeout, f"group {group} to consume {topic}")
        except AssertionError as timed_out:
            # Say where it stands, so that a failure in CI explains itself: which partitions lag,
            # and whether the group's members were assigned them at all.
            # The broker is asked again here: if that fails too, the timeout is still what is said.
            try:
                committed = admin.list_group_offsets(group).get(group, {})
                state = {tp.partition: (committed[tp].offset if tp in committed else None, end)
                         for tp, end in ends.items()}
            except Exception as error:  # a diagnosis, never the failure itself
                state = f"not known: {error!r}"
            try:
                group_state = str(admin.describe_groups([group]))[:3000]
            except Exception as error:
                group_state = f"not described: {error!r}"
            raise AssertionError(f"{timed_out}; partition: (committed, end) {state}; the group, its members "
                                 f"and their assignments: {group_state}") from None
    finally:
        admin.close()
        probe.close()


def header(record, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    return None


class OwnKafka:
    """A broker of one test's own, run by scripts/kafka.sh on free ports with its own data dir
    (the jars are the cached ones), for tests that stop and restart a broker: the shared broker
    is never touched."""

    SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kafka.sh"

    def __init__(self, data_dir: Path):
        port, controller_port = _free_port(), _free_port()
        self.env = {**os.environ, "OT_DATA_DIR": str(data_dir), "KAFKA_PORT": str(port),
                    "KAFKA_CONTROLLER_PORT": str(controller_port)}
        self.bootstrap = f"127.0.0.1:{port}"

    def _run(self, command: str) -> None:
        done = subprocess.run(["bash", str(self.SCRIPT), command], env=self.env, capture_output=True, text=True,
                              timeout=180)
        if done.returncode:
            pytest.fail(f"kafka.sh {command} failed for the test's own broker:\n{done.stderr[-3000:]}", pytrace=False)

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def own_kafka(tmp_path_factory):
    """Start a broker of this test's own (see OwnKafka); it is stopped after the test, passed or failed."""
    broker = OwnKafka(tmp_path_factory.mktemp("own-kafka"))
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
