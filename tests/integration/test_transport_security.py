"""Transport security and readiness on real infrastructure.

A broker of this module's own, started by scripts/kafka.sh with a SASL_SSL listener (TLS with a CA
made in its data dir, SCRAM-SHA-512 users made when it is formatted) and ACLs (StandardAuthorizer,
deny unless allowed), on its own ports: intake and consent run against it, each as its own Kafka
user with the ACLs the chart gives its KafkaUser, and call each other over gRPC with TLS. Then what
must be refused is: a wrong password, a broker certificate from another CA, a write to another
service's topic, a read of a topic the service does not consume.

/readyz: ready when the shared PostgreSQL and Kafka answer, the database named (and nothing else
said) when its URL points nowhere, Kafka named while the broker is away and ready again when it is
back.
"""
from __future__ import annotations

import base64
import datetime as dt
import http.client
import ipaddress
import json
import os
import secrets
import socket
import subprocess
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, NewTopic, ResourcePattern,
                         ResourceType)
from kafka.errors import KafkaError, TopicAuthorizationFailedError
from ot.consent.v1 import consent_pb2, consent_pb2_grpc
from ot.intake.v1 import intake_pb2_grpc

from ot_runtime.kafka import KafkaReachable, client_config
from ot_runtime.settings import load_settings

from conftest import TENANT, service_env, start_service, wait_until
from test_intake_flow import submit_request

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kafka.sh"
SERVICES = {"intake": ["experts", "consent"], "consent": ["intake", "experts"]}  # service: the services it consumes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SecureKafka:
    """kafka.sh's SASL_SSL broker with a SCRAM user per service and a super user "admin"."""

    def __init__(self, data_dir: Path, users: list[str]):
        self.passwords = {user: secrets.token_urlsafe(18) for user in ["admin", *users]}
        self.env = {**os.environ, "OT_DATA_DIR": str(data_dir), "KAFKA_PORT": str(_free_port()),
                    "KAFKA_CONTROLLER_PORT": str(_free_port()), "KAFKA_SASL_SSL": "1",
                    "KAFKA_SCRAM_USERS": " ".join(f"{u}:{p}" for u, p in self.passwords.items())}
        self.client: dict[str, str] = {}

    def _run(self, command: str) -> str:
        done = subprocess.run(["bash", str(SCRIPT), command], env=self.env, capture_output=True, text=True,
                              timeout=180)
        if done.returncode:
            pytest.fail(f"kafka.sh {command} (SASL_SSL) failed:\n{done.stderr[-3000:]}", pytrace=False)
        return done.stdout

    def start(self) -> None:
        self.client = dict(line.split("=", 1) for line in self._run("start").splitlines() if "=" in line)

    def stop(self) -> None:
        self._run("stop")

    @property
    def bootstrap(self) -> str:
        return self.client["KAFKA_BOOTSTRAP_SERVERS"]

    def settings_env(self, user: str, password: str | None = None) -> dict[str, str]:
        """The KAFKA_* variables of a service that logs in as `user`."""
        return {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KAFKA_SSL_CA_FILE": self.client["KAFKA_SSL_CA_FILE"], "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                "KAFKA_SASL_USERNAME": user, "KAFKA_SASL_PASSWORD": password or self.passwords[user]}

    def config(self, user: str, password: str | None = None, **env) -> dict:
        """client_config() of a service logging in as `user` (env overrides KAFKA_* variables)."""
        settings = load_settings("test", {"OT_TENANT": TENANT, "DATABASE_URL": "sqlite://",
                                          "AUTH_JWT_ISSUER": "i", "AUTH_JWT_AUDIENCE": "a",
                                          "AUTH_JWKS_URL": "https://jwks.invalid/certs",
                                          **self.settings_env(user, password), **env})
        return client_config(settings)

    def admin(self) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=[self.bootstrap], request_timeout_ms=10000, **self.config("admin"))

    def consumed(self, group: str, topic: str) -> bool:
        """Has `group` committed offsets to the end of `topic`, which has records?"""
        admin = self.admin()
        probe = KafkaConsumer(bootstrap_servers=[self.bootstrap], **self.config("admin"))
        try:
            parts = [TopicPartition(topic, p) for p in probe.partitions_for_topic(topic) or ()]
            ends = {tp: end for tp, end in probe.end_offsets(parts).items() if end > 0}
            committed = admin.list_group_offsets(group).get(group, {})
            return bool(ends) and all(committed.get(tp) is not None and committed[tp].offset >= end
                                      for tp, end in ends.items())
        finally:
            probe.close()
            admin.close()


def allow(user: str, kind: ResourceType, name: str, *operations: ACLOperation) -> list[ACL]:
    return [ACL(principal=f"User:{user}", host="*", operation=op, permission_type=ACLPermissionType.ALLOW,
                resource_pattern=ResourcePattern(kind, name, ACLResourcePatternType.LITERAL)) for op in operations]


def service_acls(prefix: str, service: str, consumes: list[str]) -> list[ACL]:
    """What the chart's KafkaUser of `service` allows (deploy/helm/ot-platform/templates/kafkausers.yaml):
    write and describe its own topic and its dead letters, read its consumed topics as its group;
    consent also reads its own topic back (verify-audit --anchors-from-topic)."""
    own = [ACLOperation.WRITE, ACLOperation.DESCRIBE] + ([ACLOperation.READ] if service == "consent" else [])
    acls = allow(service, ResourceType.TOPIC, f"{prefix}.{service}.v1", *own)
    acls += allow(service, ResourceType.TOPIC, f"{prefix}.{service}.dlt.v1", ACLOperation.WRITE, ACLOperation.DESCRIBE)
    for other in consumes:
        acls += allow(service, ResourceType.TOPIC, f"{prefix}.{other}.v1", ACLOperation.READ, ACLOperation.DESCRIBE)
    return acls + allow(service, ResourceType.GROUP, f"{prefix}.{service}", ACLOperation.READ)


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory):
    """The SASL_SSL broker, with the release's topics declared by the super user (as the chart's
    KafkaTopics are) and each service's ACLs; stopped when the module ends, passed or failed."""
    broker = SecureKafka(tmp_path_factory.mktemp("secure-kafka"), list(SERVICES))
    broker.prefix = f"itsec{secrets.token_hex(4)}.{TENANT}"
    try:
        broker.start()
        admin = broker.admin()
        try:
            names = [f"{broker.prefix}.{s}.{k}" for s in ("intake", "experts", "consent") for k in ("v1", "dlt.v1")]
            admin.create_topics([NewTopic(n, 1, 1) for n in names])
            result = admin.create_acls([acl for svc, consumes in SERVICES.items()
                                        for acl in service_acls(broker.prefix, svc, consumes)])
            assert not result["failed"], result
        finally:
            admin.close()
        for service in SERVICES:  # the broker applies new ACLs a moment later

            def sees_its_topic(user=service):
                try:
                    KafkaReachable(broker.bootstrap, f"{broker.prefix}.{user}.v1", broker.config(user))()
                    return True
                except KafkaError:
                    return False
            wait_until(sees_its_topic, 30, f"the ACLs of {service} to apply")
        yield broker
    finally:
        broker.stop()


class Authority:
    """The area's CA for gRPC: server certificates for 127.0.0.1."""

    def __init__(self, name: str = "ot-area-grpc-ca"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def write_files(self, directory: Path) -> dict[str, str]:
        """GRPC_TLS_* of a service: its certificate and key, and the CA its calls verify against."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "svc")]))
                .issuer_name(self.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        directory.mkdir(parents=True, exist_ok=True)
        files = {"GRPC_TLS_CERT_FILE": directory / "tls.crt", "GRPC_TLS_KEY_FILE": directory / "tls.key",
                 "GRPC_TLS_CA_FILE": directory / "ca.crt"}
        files["GRPC_TLS_CERT_FILE"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files["GRPC_TLS_KEY_FILE"].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                                 serialization.PrivateFormat.PKCS8,
                                                                 serialization.NoEncryption()))
        files["GRPC_TLS_CA_FILE"].write_bytes(self.pem)
        return {k: str(v) for k, v in files.items()}


def readyz(port: int) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("GET", "/readyz")
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def inbox_types(service) -> set[str]:
    with service.app.engine.connect() as c:
        return set(c.execute(sa.text("SELECT ce_type FROM inbox")).scalars())


# --- services over SASL_SSL and gRPC TLS ---------------------------------------------------------

def test_services_talk_over_tls_each_as_its_own_kafka_user(secure_kafka, make_database, keys, tmp_path):
    from ot_consent.bootstrap import build as build_consent
    from ot_consent.main import MIGRATIONS as CONSENT_MIGRATIONS
    from ot_intake.bootstrap import build as build_intake
    from ot_intake.main import MIGRATIONS as INTAKE_MIGRATIONS

    area_ca = Authority()
    started = []
    try:
        consent = start_service("consent", build_consent, CONSENT_MIGRATIONS, service_env(
            "consent", make_database("consent"), secure_kafka.bootstrap, secure_kafka.prefix, keys,
            **secure_kafka.settings_env("consent"), **area_ca.write_files(tmp_path / "consent"),
            OT_CONSENT_MASTER_KEYS="v1:" + base64.b64encode(os.urandom(32)).decode(),
            OT_CONSENT_AUDIT_KEY=base64.b64encode(os.urandom(32)).decode()))
        started.append(consent)
        intake = start_service("intake", build_intake, INTAKE_MIGRATIONS, service_env(
            "intake", make_database("intake"), secure_kafka.bootstrap, secure_kafka.prefix, keys,
            **secure_kafka.settings_env("intake"), **area_ca.write_files(tmp_path / "intake"),
            OT_CONSENT_GRPC_TARGET=f"127.0.0.1:{consent.app.grpc_server.port}"))
        started.append(intake)
        assert consent.app.grpc_server.tls and intake.app.grpc_server.tls

        # Both are ready: their database, and Kafka over SASL_SSL as their own users.
        assert readyz(consent.app.http_server.port) == readyz(intake.app.http_server.port) == \
            (200, {"status": "ready"})
        # A submission: the caller reaches intake over TLS; intake gets the data key from consent
        # over TLS (its channel verifies consent against the area's CA); intake's event reaches
        # consent and consent's reaches intake, each written and read by its own Kafka user.
        with grpc.secure_channel(f"127.0.0.1:{intake.app.grpc_server.port}",
                                 grpc.ssl_channel_credentials(root_certificates=area_ca.pem)) as channel:
            reply = intake_pb2_grpc.IntakeServiceStub(channel).SubmitRequest(submit_request(),
                                                                            metadata=keys.metadata(), timeout=15)
        assert reply.request_id
        wait_until(lambda: "ot.intake.request.submitted.v1" in inbox_types(consent), 60,
                   "consent to consume intake's event over SASL_SSL")
        # The professional withdraws the consent (consent over TLS): consent's event on its topic
        # is read by intake's consumer, in intake's group.
        with grpc.secure_channel(f"127.0.0.1:{consent.app.grpc_server.port}",
                                 grpc.ssl_channel_credentials(root_certificates=area_ca.pem)) as to_consent:
            consent_pb2_grpc.ConsentServiceStub(to_consent).WithdrawConsent(
                consent_pb2.WithdrawConsentRequest(request_id=reply.request_id), metadata=keys.metadata(),
                timeout=15)
        prefix = secure_kafka.prefix
        wait_until(lambda: secure_kafka.consumed(f"{prefix}.intake", f"{prefix}.consent.v1"), 60,
                   "intake to consume consent's event over SASL_SSL")
    finally:
        for service in reversed(started):
            service.stop()


# --- what the broker refuses ------------------------------------------------------------------------

def test_a_wrong_password_gets_no_connection(secure_kafka):
    topic = f"{secure_kafka.prefix}.intake.v1"
    KafkaReachable(secure_kafka.bootstrap, topic, secure_kafka.config("intake"))()  # the right one works
    wrong = secure_kafka.config("intake", password="not-" + secure_kafka.passwords["intake"])
    with pytest.raises(KafkaError):
        KafkaReachable(secure_kafka.bootstrap, topic, wrong)()
    with pytest.raises(KafkaError):  # kafka-python 3's producer connects (and so fails) as it is made
        KafkaProducer(bootstrap_servers=[secure_kafka.bootstrap], bootstrap_timeout_ms=5000, max_block_ms=5000,
                      **wrong).send(topic, b"forged").get(timeout=10)


def test_a_broker_certificate_from_another_ca_is_refused(secure_kafka, tmp_path):
    other = tmp_path / "other-ca.crt"
    other.write_bytes(Authority("not-the-brokers-ca").pem)
    topic = f"{secure_kafka.prefix}.intake.v1"
    with pytest.raises(KafkaError):
        KafkaReachable(secure_kafka.bootstrap, topic, secure_kafka.config("intake", KAFKA_SSL_CA_FILE=str(other)))()


def test_a_service_writes_only_its_own_topics_and_reads_only_what_it_consumes(secure_kafka):
    prefix = secure_kafka.prefix
    intake = KafkaProducer(bootstrap_servers=[secure_kafka.bootstrap], acks="all", max_block_ms=10000,
                           **secure_kafka.config("intake"))
    try:
        assert intake.send(f"{prefix}.intake.v1", b"own").get(timeout=15).offset >= 0
        assert intake.send(f"{prefix}.intake.dlt.v1", b"dead letter").get(timeout=15).offset >= 0
        with pytest.raises(TopicAuthorizationFailedError):  # forging consent's "key shredded"
            intake.send(f"{prefix}.consent.v1", b"forged").get(timeout=15)
    finally:
        intake.close(timeout=5)

    def read(user: str, topic: str, group: str | None, polls: int = 20) -> list:
        consumer = KafkaConsumer(bootstrap_servers=[secure_kafka.bootstrap], group_id=group,
                                 enable_auto_commit=False, auto_offset_reset="earliest", **secure_kafka.config(user))
        try:
            consumer.assign([TopicPartition(topic, 0)])
            consumer.seek_to_beginning()
            records: list = []
            for _ in range(polls):
                for batch in consumer.poll(timeout_ms=500).values():
                    records.extend(batch)
                if records:
                    break
            if group and records:
                consumer.commit()  # as the service's consumer does, in its group
            return records
        finally:
            consumer.close()

    # consent reads intake's topic, as its own group.
    assert b"own" in [r.value for r in read("consent", f"{prefix}.intake.v1", f"{prefix}.consent")]
    # What consent's user can see at all: its own topics and the one it consumes, nothing else.
    probe = KafkaConsumer(bootstrap_servers=[secure_kafka.bootstrap], **secure_kafka.config("consent"))
    try:
        assert probe.topics() == {f"{prefix}.consent.v1", f"{prefix}.consent.dlt.v1", f"{prefix}.intake.v1",
                                  f"{prefix}.experts.v1"}
    finally:
        probe.close()
    # intake's dead letters hold a record (written above), and consent gets none of it.
    assert read("consent", f"{prefix}.intake.dlt.v1", None, polls=4) == []


# --- readiness -----------------------------------------------------------------------------------

def test_ready_when_the_database_and_kafka_answer(start_intake):
    intake = start_intake()
    assert readyz(intake.app.http_server.port) == (200, {"status": "ready"})
    assert readyz(intake.consent.app.http_server.port) == (200, {"status": "ready"})


def _build_intake(env: dict):
    from ot_intake.bootstrap import build
    app = build(load_settings("intake", env))
    app.http_server.start()
    return app


def _stop(app) -> None:
    app.http_server.stop()
    app.consumer.consumer.close()
    app.producer.close(timeout=5)
    app.engine.dispose()


def test_a_database_that_does_not_answer_is_named_and_nothing_else_is_said(kafka_bootstrap, topic_prefix, keys):
    nowhere = "postgresql+psycopg://ot_intake:Salasana-1234@127.0.0.1:1/ot_intake"  # nothing listens on port 1
    app = _build_intake(service_env("intake", nowhere, kafka_bootstrap, topic_prefix, keys,
                                    OT_CONSENT_GRPC_TARGET="127.0.0.1:1"))
    try:
        status, body = readyz(app.http_server.port)
        assert (status, body) == (503, {"status": "not ready", "failed": {"database": "OperationalError"}})
        assert not any(value in json.dumps(body) for value in ("Salasana", "ot_intake", "127.0.0.1"))
    finally:
        _stop(app)


def test_kafka_is_named_while_the_broker_is_away_and_ready_again_when_it_is_back(secure_kafka, make_database, keys):
    """Last in this module: it restarts the module's broker (same data dir, users and ACLs). Kafka
    away is reported as degraded, but the service stays ready: its calls still work."""
    app = _build_intake(service_env("intake", make_database("intake"), secure_kafka.bootstrap, secure_kafka.prefix,
                                    keys, **secure_kafka.settings_env("intake"), OT_CONSENT_GRPC_TARGET="127.0.0.1:1"))
    try:
        port = app.http_server.port
        assert readyz(port) == (200, {"status": "ready"})
        secure_kafka.stop()
        status, body = wait_until(lambda: (r := readyz(port))[1].get("degraded") and r, 60, "Kafka reported away")
        assert (status, body) == (200, {"status": "ready", "degraded": {"kafka": body["degraded"]["kafka"]}})
        secure_kafka.start()
        wait_until(lambda: readyz(port) == (200, {"status": "ready"}), 90, "ready again with Kafka back")
    finally:
        _stop(app)
