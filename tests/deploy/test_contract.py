"""The config contract between the chart and the code, on the real PostgreSQL and Kafka
(`source scripts/test_env.sh` exports OT_TEST_DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS).

Every service the chart enables is started as a process with exactly the environment the chart
renders for its container (ConfigMap + env), after the commands of its own migration Job
(`migrate`, then postMigrate such as experts' `seed`), with the Deployment's own arguments. Only
what cannot be the same on a laptop is replaced, and only where the chart already renders the
variable: listen hosts and ports to loopback, the OTLP endpoint to a collector stub here,
AUTH_JWKS_URL to a JWKS served here, OT_<CALLEE>_GRPC_TARGET to the callee started here,
OT_SMTP_HOST/OT_SMTP_PORT to an SMTP sink here, and the Secrets and ConfigMaps to local values (a
fresh database per service, random consent keys and link secret, each service's gRPC certificate
from a CA made here, the service-token key pair, and the files the chart mounts written to a folder
here, their variables pointing there). Kafka is as in a cluster: a SASL_SSL broker of this module's
own (scripts/kafka.sh, TLS and SCRAM-SHA-512, ACLs on) with the rendered KafkaTopics declared and
the rendered KafkaUsers' users and ACLs applied, each service logging in as its own user. A
variable renamed in the chart or in the code makes a service stop at start naming it (or the
override find nothing), and an ACL the chart forgets makes a service fail: either way this test
fails. The portal too: its OT_OIDC_ISSUER, which cannot be the area's provider here, is pointed at a
small OpenID provider on loopback (discovery, keys, the code flow's token endpoint), and it must pass
its readiness probe as rendered, sign a person in through that provider with the rendered client id,
the client secret from its Secret and its public address, and show them their requests, which it
asks intake for over TLS with the person's own token. Callees start first (consent, then intake and experts, then feedback); each must pass the
rendered readiness probe and the chart's `helm test` check (gRPC health over TLS, verified against
the area's CA; the portal, last, has none), then answer one authenticated call over TLS that shows its settings took effect,
and feedback schedules one follow-up from intake's event at the rendered per-type delay and mails
it (intake checked feedback's own signed service token, then SMTP to the sink), with the request's
and the booking's notifications to the rendered coordinators' address and the professional.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import ipaddress
import json
import os
import secrets as pysecrets
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import jwt
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import NameOID
from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaAdminClient
from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, NewTopic, ResourcePattern,
                         ResourceType)
from sqlalchemy.engine import make_url

from conftest import CHART, REPO, find, render
from ot_runtime.testing import TestKeys, serve_jwks

VENV_BIN = REPO / ".venv" / "bin"
AREA = "pohjois-savo"
RELEASE = f"ot-{AREA}"
FULLNAME = f"{RELEASE}-ot-platform"
# The services the shipped chart enables, and its portal; a newly enabled one must be added to this
# test (its Secrets and its one call), so a change of the set fails here rather than going untested.
SERVICES = {"consent", "experts", "feedback", "intake"}
PORTAL = "portal"
ENABLED = SERVICES | {PORTAL}
# Retention defaults rendered for this test, all different from the code's defaults and from each
# other, so consent's answer shows it read each of the six rendered names into the right place.
RETENTION = {"otTuki": (31, 366), "groupConsultation": (15, 181), "expertReinforcement": (32, 367)}
# feedback's timings rendered for this test, all different from the code's defaults (60/14/28):
# a group consultation's request mail is due at once (its per-type delay is 0, the general one 45),
# so the mail goes out during the test, and its reminder and expiry show the other two names were read.
FEEDBACK = {"delayDays": 45, "delayDaysByType.otTuki": 0, "reminderDays": 13, "answerDays": 27}
# What a laptop cannot have: the SMTP sink speaks no TLS and takes no login, and the scheduler
# should not wait a minute (its tick is services.feedback.extraEnv, rendered like any other value).
FEEDBACK_LOCAL = ["area.feedback.smtp.starttls=false", "area.feedback.smtp.username=",
                  "services.feedback.extraEnv.OT_FEEDBACK_TICK_SECONDS=1"]
# One broker here: each topic has one replica.
KAFKA_LOCAL = ["kafka.topics.replicas=1", "kafka.topics.minInsyncReplicas=1"]
# The Kafka users of the release (the KafkaUsers' names), and the topic Job's.
KAFKA_USERS = [f"{FULLNAME}-{svc}" for svc in sorted(SERVICES)] + [f"{FULLNAME}-topics"]


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
    """The identity provider's ES256 key pair in a JWKS served on 127.0.0.1 (the chart's
    AUTH_JWKS_URL points here), and feedback's own service-token key pair, which is not in it.
    Yields (port, the IdP's private key, the service key's private PEM, its public PEM): the Secret
    key service-token.pem holds the first, the ConfigMap key public.pem the second."""
    keys = TestKeys(tmp_path / "keys")
    service = TestKeys(tmp_path / "service-key")
    private = load_pem_private_key(keys.private_path.read_bytes(), password=None)
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid="contract", use="sig", alg="ES256")
    with serve_jwks([jwk]) as port:
        yield port, private, service.private_path.read_bytes(), service.public_path.read_bytes()


class SecureKafka:
    """scripts/kafka.sh's SASL_SSL broker (TLS, SCRAM-SHA-512, ACLs on) on free ports with its own
    data dir, with the release's users and a super user "admin" that stands in for Strimzi's
    operators (declares topics, applies ACLs)."""

    def __init__(self, data_dir: Path, users: list[str]):
        self.passwords = {user: pysecrets.token_urlsafe(18) for user in ["admin", *users]}
        self.env = {**os.environ, "OT_DATA_DIR": str(data_dir), "KAFKA_PORT": str(_free_port()),
                    "KAFKA_CONTROLLER_PORT": str(_free_port()), "KAFKA_SASL_SSL": "1",
                    "KAFKA_SCRAM_USERS": " ".join(f"{u}:{p}" for u, p in self.passwords.items())}
        self.client: dict[str, str] = {}

    def _run(self, command: str) -> str:
        done = subprocess.run(["bash", str(REPO / "scripts" / "kafka.sh"), command], env=self.env,
                              capture_output=True, text=True, timeout=180)
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

    @property
    def ca_pem(self) -> bytes:
        return Path(self.client["KAFKA_SSL_CA_FILE"]).read_bytes()

    def admin(self) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=[self.bootstrap], request_timeout_ms=15000,
                                security_protocol="SASL_SSL", ssl_cafile=self.client["KAFKA_SSL_CA_FILE"],
                                sasl_mechanism="SCRAM-SHA-512", sasl_plain_username="admin",
                                sasl_plain_password=self.passwords["admin"])

    def declare(self, objs: list[dict]) -> None:
        """As Strimzi's Topic and User Operators would: the rendered KafkaTopics, and the ACLs of
        the rendered KafkaUsers (their users exist, with the passwords of the Secrets the KafkaUsers
        name: made when the broker was formatted)."""
        admin = self.admin()
        try:
            topics = [NewTopic(t["spec"]["topicName"], t["spec"]["partitions"], t["spec"]["replicas"],
                               topic_configs={k: str(v) for k, v in t["spec"]["config"].items()})
                      for t in find(objs, "KafkaTopic")]
            if topics:
                admin.create_topics(topics)
            acls = [acl for user in find(objs, "KafkaUser") for acl in strimzi_acls(user)]
            if acls:
                result = admin.create_acls(acls)
                assert not result["failed"], result
        finally:
            admin.close()


def strimzi_acls(user: dict) -> list[ACL]:
    """A KafkaUser's spec.authorization.acls (Strimzi "simple") as the broker's ACL bindings."""
    kinds = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP, "cluster": ResourceType.CLUSTER}
    patterns = {"literal": ACLResourcePatternType.LITERAL, "prefix": ACLResourcePatternType.PREFIXED}
    out = []
    for rule in user["spec"]["authorization"]["acls"]:
        resource = rule["resource"]
        pattern = ResourcePattern(kinds[resource["type"]], resource.get("name", "kafka-cluster"),
                                  patterns[resource.get("patternType", "literal")])
        for operation in rule["operations"]:
            op = ACLOperation[{"AlterConfigs": "ALTER_CONFIGS", "DescribeConfigs": "DESCRIBE_CONFIGS",
                               "IdempotentWrite": "IDEMPOTENT_WRITE", "ClusterAction": "CLUSTER_ACTION"}
                              .get(operation, operation.upper())]
            out.append(ACL(principal=f"User:{user['metadata']['name']}", host=rule.get("host", "*"), operation=op,
                           permission_type=ACLPermissionType.ALLOW, resource_pattern=pattern))
    return out


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory):
    """The module's SASL_SSL broker; stopped when the module ends, passed or failed."""
    broker = SecureKafka(tmp_path_factory.mktemp("contract-kafka"), KAFKA_USERS)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


class AreaCa:
    """The area's CA for gRPC, as cert-manager or the area's PKI would be: a Secret per service
    with tls.crt, tls.key and ca.crt. Certificates name the service's Service names and, because
    the callers here dial 127.0.0.1, that address too."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ot-pohjois-savo-area-ca")])
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                     .not_valid_after(now + dt.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def secret(self, service_host: str) -> dict[str, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        names = [x509.DNSName(service_host), x509.DNSName(f"{service_host}.{RELEASE}.svc"),
                 x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, service_host)]))
                .issuer_name(self.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(names), critical=False).sign(self.key, hashes.SHA256()))
        return {"tls.crt": cert.public_bytes(serialization.Encoding.PEM),
                "tls.key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()),
                "ca.crt": self.pem}


@pytest.fixture()
def smtp_sink():
    """feedback's own SMTP sink (aiosmtpd) on a free loopback port: the relay of this test."""
    from ot_feedback.smtp_sink import SmtpSink
    sink = SmtpSink("127.0.0.1", 0).start()
    yield sink
    sink.stop()


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


class FakeProvider:
    """The area's OpenID provider as far as the portal uses it, on loopback: the discovery document,
    the keys, and a token endpoint for the authorization code flow with PKCE, for one confidential
    client. The test is the person at the provider's sign-in page: `sign_in(query)` takes the
    portal's authorization request and returns the code the provider sends back. ID tokens name
    this provider as issuer (the portal's OT_OIDC_ISSUER points here); access tokens name the
    services' rendered AUTH_JWT_ISSUER and audience, as in a cluster, where both issuers are
    auth.issuer. Both are signed with the key whose JWKS the services read."""

    def __init__(self, private_key, client_id: str, client_secret: str, access_issuer: str, audience: str,
                 subject: str, roles: list[str]):
        self.private_key, self.client_id, self.client_secret = private_key, client_id, client_secret
        self.access_issuer, self.audience, self.subject, self.roles = access_issuer, audience, subject, roles
        self.codes: dict[str, dict] = {}
        self.refused: list[str] = []
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key()))
        jwk.update(kid="contract", use="sig", alg="ES256")
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                if self.path == "/realms/ot/.well-known/openid-configuration":
                    self._json(200, provider.metadata())
                elif self.path == "/realms/ot/certs":
                    self._json(200, {"keys": [jwk]})
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self):  # noqa: N802
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()))
                answer = provider.token(self.path, form, self.headers.get("Authorization", ""))
                self._json(200 if "access_token" in answer else 400, answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/realms/ot"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metadata(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/auth",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/certs",
                "end_session_endpoint": f"{self.issuer}/logout", "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["ES256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]}

    def sign_in(self, query: dict[str, str]) -> str:
        """The person signs in at the provider: a code for this authorization request."""
        code = pysecrets.token_urlsafe(16)
        self.codes[code] = query
        return code

    def _sign(self, claims: dict) -> str:
        now = int(time.time())
        return jwt.encode({"iat": now, "exp": now + 300, "sub": self.subject, "ot_area": AREA, "ot_roles": self.roles,
                           **claims}, self.private_key, algorithm="ES256", headers={"kid": "contract"})

    def token(self, path: str, form: dict[str, str], authorization: str) -> dict:
        """The token endpoint: the client's own credentials, the code once, the PKCE verifier."""
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
            client_id, client_secret = urllib.parse.unquote(client_id), urllib.parse.unquote(client_secret)
        request = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        problem = ("not the token endpoint" if path != "/realms/ot/token" else
                   "not the client" if (client_id, client_secret) != (self.client_id, self.client_secret) else
                   "unknown code" if request is None or form.get("grant_type") != "authorization_code" else
                   "another redirect URI" if form.get("redirect_uri") != request["redirect_uri"] else
                   "PKCE verifier does not match" if request.get("code_challenge_method") != "S256"
                   or challenge != request.get("code_challenge") else "")
        if problem:
            self.refused.append(problem)
            return {"error": "invalid_grant", "error_description": problem}
        return {"token_type": "Bearer", "expires_in": 300, "refresh_token": pysecrets.token_urlsafe(16),
                "access_token": self._sign({"iss": self.access_issuer, "aud": self.audience}),
                "id_token": self._sign({"iss": self.issuer, "aud": self.client_id, "nonce": request["nonce"],
                                        "name": "Testi Ammattilainen"})}


class Browser:
    """A person's browser reaching the portal through the ingress controller: TLS ends there, so
    the pod gets plain HTTP with the controller's X-Forwarded-* headers (OT_PORTAL_TRUSTED_PROXIES=1)
    and the Host of the public address; cookies kept as a browser keeps them."""

    def __init__(self, http_port: int, public_url: str):
        self.http_port = http_port
        self.headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": urllib.parse.urlsplit(public_url).netloc,
                        "X-Forwarded-For": "192.0.2.10"}
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=20)
        try:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request("GET", path, headers={**self.headers, **({"Cookie": cookie} if cookie else {})})
            response = conn.getresponse()
            body = response.read().decode(errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if value and "max-age=0" not in header.lower():
                    self.cookies[name] = value
                else:
                    self.cookies.pop(name, None)
            return response.status, dict(response.headers), body
        finally:
            conn.close()


def resolve_env(objs: list[dict], container: dict, secrets: dict[tuple[str, str], str]) -> dict[str, str]:
    """The environment Kubernetes would give `container`: envFrom ConfigMaps, then env (values,
    secretKeyRefs resolved from `secrets`, the pod's own name); anything else is an error."""
    env: dict[str, str] = {}
    for src in container.get("envFrom", []):
        cm = find(objs, "ConfigMap", src["configMapRef"]["name"])
        assert len(cm) == 1, f"envFrom names ConfigMap {src['configMapRef']['name']}, which the chart does not render"
        env.update(cm[0]["data"])
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        elif e["valueFrom"].get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[e["name"]] = "ot-pohjois-savo-ot-platform-intake-5d8c7b9f4-x2k7q"  # a pod's name
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) in secrets, f"{e['name']} comes from Secret {ref['name']} key {ref['key']}, " \
                                                         f"which this test (and the area files' comments) do not know"
            env[e["name"]] = secrets[(ref["name"], ref["key"])]
    return env


def resolve_secret_files(spec: dict, container: dict, env: dict[str, str], files: dict[tuple[str, str], bytes],
                         root: Path) -> dict[str, str]:
    """The Secret and ConfigMap keys the chart mounts into `container` (read-only volumes), written
    under `root` as Kubernetes would write them under the mount path; the variables that point at
    a mounted file point at the written one instead. A mount no variable points at is an error.
    `files` is keyed by (Secret or ConfigMap name, key)."""
    volumes = {v["name"]: v.get("secret") or {**v["configMap"], "secretName": v["configMap"]["name"]}
               for v in spec.get("volumes", []) if "secret" in v or "configMap" in v}
    out = dict(env)
    for mount in container.get("volumeMounts", []):
        if mount["name"] not in volumes:
            continue
        assert mount.get("readOnly") is True, f"volume {mount['name']} is mounted writable"
        secret = volumes[mount["name"]]
        for item in secret["items"]:
            ref = (secret["secretName"], item["key"])
            assert ref in files, f"the chart mounts {ref[0]} key {ref[1]}, which this test does not know"
            local = root / mount["name"] / item["path"]
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(files[ref])
            local.chmod(0o440)
            mounted = f"{mount['mountPath']}/{item['path']}"
            users = [k for k, v in env.items() if v == mounted]
            assert users, f"{mounted} is mounted, but no rendered variable points at it"
            out.update({k: str(local) for k in users})
    return out


def override(env: dict[str, str], **values: str) -> dict[str, str]:
    missing = [k for k in values if k not in env]
    assert not missing, f"the chart no longer renders {missing}"
    return {**env, **values}


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


def wait_ready(http_port: int, probe: dict, proc: subprocess.Popen, log: Path, what: str, timeout: float = 60) -> None:
    """Ask the rendered readiness probe (an HTTP GET) until it answers 200."""
    assert probe["httpGet"]["port"] == "http", probe
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=probe["timeoutSeconds"])
        try:
            conn.request("GET", probe["httpGet"]["path"])
            response = conn.getresponse()
            last = f"{response.status} {response.read()[:300]!r}"
            if response.status == 200:
                return
        except OSError as error:
            last = repr(error)
        finally:
            conn.close()
        time.sleep(0.3)
    pytest.fail(f"{what}: {probe['httpGet']['path']} on :{http_port} not 200 within {timeout}s: {last}")


def helm_test(env: dict[str, str], proc: subprocess.Popen, log: Path, what: str, timeout: float = 30) -> None:
    """Run the chart's own `helm test` check (files/grpc_health_check.py) with its pod's environment
    until it passes."""
    script = (CHART / "files" / "grpc_health_check.py").read_text()
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        done = subprocess.run([str(VENV_BIN / "python"), "-c", script], capture_output=True, text=True,
                              env={**env, "PATH": os.environ.get("PATH", "")}, timeout=30)
        last = done.stdout + done.stderr
        if done.returncode == 0:
            return
        time.sleep(0.3)
    pytest.fail(f"{what}: the helm test check did not pass within {timeout}s: {last}")


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
                                                                      smtp_sink, secure_kafka, tmp_path):
    prefix = f"ot.{AREA}.contract{uuid.uuid4().hex[:8]}"
    retention = [f"area.retention.caseContent.{t}.{k}={v}" for t, days in RETENTION.items()
                 for k, v in zip(("graceDays", "maxDays"), days)]
    feedback_policy = [f"area.feedback.{k}={v}" for k, v in FEEDBACK.items()]
    # Every trace kept (the area samples a quarter): the test reads each service's spans at the end.
    objs = render(helm_bin, AREA, f"topicPrefix={prefix}", *retention, *feedback_policy, *FEEDBACK_LOCAL,
                  *KAFKA_LOCAL, "otel.samplerArg=1")
    deployments = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in find(objs, "Deployment")}
    assert set(deployments) == ENABLED, "the chart enables other services than this test starts"
    # Strimzi's part: the rendered KafkaTopics and the rendered KafkaUsers' ACLs, on a SASL_SSL broker.
    assert {u["metadata"]["name"] for u in find(objs, "KafkaUser")} == set(KAFKA_USERS) - {f"{FULLNAME}-topics"}
    secure_kafka.declare(objs)

    # The Secrets and ConfigMaps the chart refers to, by the names the area files tell operators to create.
    jwks_port, private_key, service_key_pem, service_public_pem = jwks
    link_secret = pysecrets.token_hex(32)
    secrets = {(f"{FULLNAME}-{svc}-db", "DATABASE_URL"): new_database() for svc in ENABLED}
    client_secret = pysecrets.token_urlsafe(24)  # the portal's at the provider
    secrets[(f"{FULLNAME}-portal-secrets", "oidc-client-secret")] = client_secret
    secrets[(f"{FULLNAME}-portal-secrets", "secret-key")] = pysecrets.token_hex(32)
    secrets[("ot-kafka", "bootstrap-servers")] = secure_kafka.bootstrap
    secrets.update({(f"{user}-kafka", "password"): secure_kafka.passwords[user] for user in KAFKA_USERS})
    consent_key, audit_key = (base64.b64encode(pysecrets.token_bytes(32)).decode() for _ in range(2))
    secrets[(f"{FULLNAME}-consent-secrets", "master-keys")] = f"v1:{consent_key}"  # one version, the current
    secrets[(f"{FULLNAME}-consent-secrets", "audit-key")] = audit_key
    secrets[(f"{FULLNAME}-feedback-secrets", "link-secret")] = link_secret
    secrets[(f"{FULLNAME}-feedback-secrets", "smtp-password")] = ""  # the sink takes no login
    # The statistics file's signing key (Ed25519, PEM), as `openssl genpkey -algorithm ed25519` makes it.
    secrets[(f"{FULLNAME}-feedback-secrets", "aggregate-signing-key")] = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    area_ca = AreaCa()
    secret_files = {(f"{FULLNAME}-feedback-secrets", "service-token.pem"): service_key_pem,
                    (f"{FULLNAME}-service-token", "public.pem"): service_public_pem,  # the ConfigMap
                    ("ot-kafka-cluster-ca-cert", "ca.crt"): secure_kafka.ca_pem}
    for svc in SERVICES:
        for key, content in area_ca.secret(f"{FULLNAME}-{svc}").items():
            secret_files[(f"{FULLNAME}-{svc}-grpc-tls", key)] = content

    ports = {svc: (_free_port(), _free_port()) for svc in ENABLED}
    otlp, exported = otlp_collector

    def rendered(svc: str, spec: dict, container: dict) -> dict[str, str]:
        """The container's environment as Kubernetes gives it: ConfigMap, env, mounted Secret files."""
        return resolve_secret_files(spec, container, resolve_env(objs, container, secrets), secret_files,
                                    tmp_path / "secret-files" / svc)

    # The portal signs people in at the provider the services trust (the same rendered issuer); the
    # provider here is a fake on loopback, whose access tokens name that rendered issuer.
    rendered_env = {svc: find(objs, "ConfigMap", f"-{svc}-env")[0]["data"] for svc in ENABLED}
    assert rendered_env[PORTAL]["OT_OIDC_ISSUER"] == rendered_env["intake"]["AUTH_JWT_ISSUER"]
    provider = FakeProvider(private_key, rendered_env[PORTAL]["OT_OIDC_CLIENT_ID"], client_secret,
                            rendered_env["intake"]["AUTH_JWT_ISSUER"], rendered_env["intake"]["AUTH_JWT_AUDIENCE"],
                            subject="contract-professional", roles=["professional"])

    def local(svc: str, env: dict[str, str]) -> dict[str, str]:
        grpc_port, http_port = ports[svc]
        env = override(env, HTTP_HOST="127.0.0.1", HTTP_PORT=str(http_port), OTEL_EXPORTER_OTLP_ENDPOINT=otlp)
        if svc == PORTAL:  # no gRPC port, no tokens to check: the provider it signs people in at
            env = override(env, OT_OIDC_ISSUER=provider.issuer)
        else:
            env = override(env, GRPC_HOST="127.0.0.1", GRPC_PORT=str(grpc_port),
                           AUTH_JWKS_URL=f"http://127.0.0.1:{jwks_port}/certs")
        env = override(env, **{f"OT_{c.upper()}_GRPC_TARGET": f"127.0.0.1:{ports[c][0]}" for c in callees(env)})
        if svc == "feedback":  # the area's relay is the sink here
            env = override(env, OT_SMTP_HOST=smtp_sink.host, OT_SMTP_PORT=str(smtp_sink.port))
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")  # nothing else from this machine
        return env

    serve_env = {svc: local(svc, rendered(svc, d["spec"]["template"]["spec"], d["spec"]["template"]["spec"]
                                          ["containers"][0]))
                 for svc, d in deployments.items()}

    # The migration hook Job of each service, step by step, in its own environment (no service
    # needs another to migrate, so the services' Jobs run side by side, as Helm runs hooks of one weight).
    def migrate(svc: str) -> list[str]:
        job = find(objs, "Job", f"-{svc}-migrate")[0]["spec"]["template"]["spec"]
        steps = []
        for c in job.get("initContainers", []) + job["containers"]:
            assert c["image"] == deployments[svc]["spec"]["template"]["spec"]["containers"][0]["image"]
            done = subprocess.run([str(VENV_BIN / f"ot-{svc}"), *c["args"]], env=local(svc, rendered(svc, job, c)),
                                  capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, f"ot-{svc} {' '.join(c['args'])}: {done.stderr[-4000:]}"
            steps.append(" ".join(c["args"]))
        return steps

    with ThreadPoolExecutor(len(ENABLED)) as pool:
        steps = dict(zip(sorted(ENABLED), pool.map(migrate, sorted(ENABLED))))
    assert steps == {"consent": ["migrate"], "experts": ["migrate", "seed"], "feedback": ["migrate"],
                     "intake": ["migrate"], "portal": ["migrate"]}

    assert {svc: callees(env) for svc, env in serve_env.items()} == \
        {"consent": set(), "intake": {"consent"}, "experts": {"consent"}, "feedback": {"intake", "experts"},
         "portal": SERVICES}, "who is told to call whom (calls:)"
    # consent first, then intake and experts side by side, then feedback, then the portal
    waves = start_order(serve_env)
    assert waves == [["consent"], ["experts", "intake"], ["feedback"], ["portal"]]
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
                # Ready as the kubelet asks (the rendered probe: its database and Kafka, over SASL_SSL
                # as its own user), then the `helm test` pod's check (gRPC health over TLS).
                probe = deployments[svc]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
                wait_ready(ports[svc][1], probe, procs[svc], logs[svc], f"ot-{svc} serve")
                if svc == PORTAL:
                    continue  # no gRPC health to test: it is checked by signing a person in below
                pod = find(objs, "Pod", f"-{svc}-test-grpc-health")[0]["spec"]
                check_env = resolve_secret_files(pod, pod["containers"][0], resolve_env(objs, pod["containers"][0], {}),
                                                 secret_files, tmp_path / "helm-test" / svc)
                helm_test(override(check_env, OT_HEALTH_TARGET=f"127.0.0.1:{ports[svc][0]}"), procs[svc], logs[svc],
                          f"ot-{svc} serve")

        def md(svc: str, role: str) -> tuple:
            env = serve_env[svc]  # the rendered issuer and audience, checked against the JWKS
            claims = {"sub": f"contract-{role}", "iss": env["AUTH_JWT_ISSUER"], "aud": env["AUTH_JWT_AUDIENCE"],
                      "exp": int(time.time()) + 300, "ot_area": AREA, "ot_roles": [role]}
            if role == "secretary":  # the secretary of the group the test books into
                claims["ot_groups"] = ["haastavat-erot-kuopio"]
            token = jwt.encode(claims, private_key, algorithm="ES256", headers={"kid": "contract"})
            return (("authorization", f"Bearer {token}"),)

        def channel(svc: str) -> grpc.Channel:  # as a caller with the area's CA
            return grpc.secure_channel(f"127.0.0.1:{ports[svc][0]}",
                                       grpc.ssl_channel_credentials(root_certificates=area_ca.pem))

        from ot.common.v1 import case_pb2
        from ot.consent.v1 import consent_pb2, consent_pb2_grpc
        from ot.experts.v1 import experts_pb2, experts_pb2_grpc
        from ot.feedback.v1 import feedback_pb2, feedback_pb2_grpc
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
        # ... and its privacy notice (open to anyone, no token) is the area's: the rendered OT_NOTICE_*.
        with channel("consent") as ch:
            notice = consent_pb2_grpc.ConsentServiceStub(ch).GetPrivacyNotice(
                consent_pb2.GetPrivacyNoticeRequest(language="fi"), timeout=10)
        rendered = serve_env["consent"]
        assert (notice.controller.name, notice.controller.email, notice.data_protection_officer.email) == \
            (rendered["OT_NOTICE_CONTROLLER_NAME"], rendered["OT_NOTICE_CONTROLLER_EMAIL"], rendered["OT_NOTICE_DPO_EMAIL"])
        assert not notice.example  # the area's values, not the local example ones

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

        # feedback: the area's statistics, for a coordinator (the rendered issuer and audience).
        with channel("feedback") as ch:
            stats = feedback_pb2_grpc.FeedbackServiceStub(ch).GetStatistics(
                feedback_pb2.GetStatisticsRequest(period=time.strftime("%Y")), metadata=md("feedback", "coordinator"),
                timeout=10)
        assert stats.tenant == AREA and stats.tables and stats.suppression_rule

        # ... and one follow-up end to end: the OT team answers an OT-TUKI request in writing and
        # returns the answer at intake; feedback consumes the event (OT_TOPIC_PREFIX) and schedules
        # the request mail at once (the per-type OT_FEEDBACK_DELAY_DAYS_OT_TUKI=0; the general 45
        # would be weeks away). Then it asks intake (OT_INTAKE_GRPC_TARGET, over TLS) for the address
        # with a token signed by the mounted OT_SERVICE_TOKEN_KEY_FILE as AUTH_SERVICE_ISSUER
        # (verified by intake against the mounted AUTH_SERVICE_PUBLIC_KEY_FILE), and mails it through
        # OT_SMTP_HOST:OT_SMTP_PORT. A group consultation is booked too (its confirmation is mailed);
        # it is not held here: a booking is marked consulted only once its meeting has started.
        email = "palaute.testi@example.fi"
        professional = intake_pb2.Professional(
            name="Testi Ammattilainen", email=email, profession="sosiaalityöntekijä",
            organisation="Perheoikeudelliset palvelut", sector=case_pb2.SECTOR_SOCIAL, wellbeing_area=AREA)
        with channel("intake") as ch:
            intake = intake_pb2_grpc.IntakeServiceStub(ch)
            group_request = intake.SubmitRequest(intake_pb2.SubmitRequestRequest(
                type=case_pb2.REQUEST_TYPE_GROUP_CONSULTATION, professional=professional,
                categories=[case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE],
                client=intake_pb2.ClientFacts(age_years=9, gender=intake_pb2.GENDER_BOY,
                                              family_situation="pitkittynyt huoltoriita"),
                question="Miten tukea lasta, kun vanhempien riita jatkuu ja tapaamiset keskeytyvät?",
                discussed_in_own_team=True,
                consent=intake_pb2.ConsentAssessment(need=intake_pb2.CONSENT_NEED_NOT_NEEDED)),
                metadata=md("intake", "professional"), timeout=15).request_id
            starts = Timestamp()
            starts.FromDatetime(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=10))
            meeting = intake.PublishMeeting(intake_pb2.PublishMeetingRequest(
                group_id="haastavat-erot-kuopio", starts_at=starts, capacity=1),
                metadata=md("intake", "secretary"), timeout=10)
            intake.BookMeeting(intake_pb2.BookMeetingRequest(request_id=group_request, meeting_id=meeting.meeting_id),
                               metadata=md("intake", "professional"), timeout=10)
            answered = intake.SubmitRequest(intake_pb2.SubmitRequestRequest(
                type=case_pb2.REQUEST_TYPE_OT_TUKI, professional=professional,
                categories=[case_pb2.CASE_CATEGORY_CHALLENGING_DIVORCE],
                client=intake_pb2.ClientFacts(age_years=9, family_situation="pitkittynyt huoltoriita"),
                question="Miten puhua lapsen kanssa, kun vanhemmat eivät puhu toisilleen?",
                discussed_in_own_team=True,
                consent=intake_pb2.ConsentAssessment(need=intake_pb2.CONSENT_NEED_NOT_NEEDED)),
                metadata=md("intake", "professional"), timeout=15).request_id
            intake.AddEntry(intake_pb2.AddEntryRequest(request_id=answered, kind=intake_pb2.ENTRY_KIND_ADVICE,
                                                       text="Ehdotamme lapsen omaa tapaamista perheneuvolassa."),
                            metadata=md("intake", "coordinator"), timeout=15)
            intake.ReturnRecommendations(intake_pb2.RequestRef(request_id=answered),
                                         metadata=md("intake", "coordinator"), timeout=15)

        def follow_up():
            with channel("feedback") as ch:
                return feedback_pb2_grpc.FeedbackServiceStub(ch).GetFollowUp(
                    feedback_pb2.GetFollowUpRequest(request_id=answered), metadata=md("feedback", "coordinator"),
                    timeout=10)

        deadline = time.monotonic() + 45
        while True:  # until feedback has consumed intake's event
            try:
                follow = follow_up()
                break
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > deadline:
                    pytest.fail(f"feedback scheduled no follow-up ({error.code().name}):\n{_tail(logs['feedback'])}")
                time.sleep(0.3)
        assert follow.type == case_pb2.REQUEST_TYPE_OT_TUKI
        assert _when(follow.request_due_at) == _when(follow.consulted_at)  # the per-type delay, 0 days, not 45
        # Beside the follow-up, the same tick sends the notifications of the requests, the advice and
        # the booking, to the rendered coordinators' address and to the professional, linking the
        # rendered portal (OT_NOTIFY_COORDINATORS, OT_PORTAL_URL).
        expected = {"request", "new_request", "booking_confirmed", "advice"}
        kinds = lambda: {m.message["X-OT-Mail-Kind"] for m in smtp_sink.messages}  # noqa: E731
        deadline = time.monotonic() + 30
        while not expected <= kinds() and time.monotonic() < deadline and procs["feedback"].poll() is None:
            time.sleep(0.3)
        mails: dict[str, list] = {}
        for m in smtp_sink.messages:
            mails.setdefault(m.message["X-OT-Mail-Kind"], []).append(m)
        # Every request submitted in this test is a new request to the coordinators; the answered
        # one has one follow-up and its advice, the booked one its confirmation.
        assert sorted(mails) == sorted(expected) and \
            len(mails["request"]) == len(mails["booking_confirmed"]) == len(mails["advice"]) == 1, \
            f"feedback mailed {sorted(kinds())}:\n{_tail(logs['feedback'])}"
        check_feedback_mail(mails["request"][0], email, serve_env["feedback"], link_secret, follow_up())
        assert {m.envelope_to for m in mails["new_request"]} == {(serve_env["feedback"]["OT_NOTIFY_COORDINATORS"],)}
        assert mails["booking_confirmed"][0].envelope_to == (email,)
        assert f"Kirjaudu OT-palveluun: {serve_env['feedback']['OT_PORTAL_URL']}" in mails["booking_confirmed"][0].body
        assert serve_env["feedback"]["OT_PORTAL_URL"] == serve_env[PORTAL]["OT_PORTAL_PUBLIC_URL"]

        # The portal: a person signs in through the provider (OT_OIDC_ISSUER's discovery) as the
        # rendered client with the secret from its Secret, back at the rendered public address, and
        # sees the requests they sent above, which the portal asked intake for (OT_INTAKE_GRPC_TARGET,
        # TLS verified against GRPC_TLS_CA_FILE) with their own token.
        public_url = serve_env[PORTAL]["OT_PORTAL_PUBLIC_URL"]
        browser = Browser(ports[PORTAL][1], public_url)
        status, headers, _ = browser.get("/kirjaudu?next=/omat-pyynnot")
        assert status == 302 and headers["Location"].startswith(f"{provider.issuer}/auth?"), \
            f"{status} {headers.get('Location')}:\n{_tail(logs[PORTAL])}"
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))
        assert (query["client_id"], query["redirect_uri"], query["code_challenge_method"]) == \
            (serve_env[PORTAL]["OT_OIDC_CLIENT_ID"], f"{public_url}/auth/callback", "S256")
        code = provider.sign_in(query)
        status, headers, _ = browser.get(f"/auth/callback?{urllib.parse.urlencode({'code': code, 'state': query['state']})}")
        assert (status, headers.get("Location"), provider.refused) == (302, "/omat-pyynnot", []), _tail(logs[PORTAL])
        status, _, page = browser.get("/omat-pyynnot")
        assert status == 200 and created.request_id in page and group_request in page and answered in page, \
            f"{status}:\n{page[-2000:]}\n{_tail(logs[PORTAL])}"
    finally:
        provider.close()
        # SIGTERM to all at once (as a node drain would); each must stop cleanly and in time.
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        problems += [problem for svc, proc in procs.items() if (problem := _stop(proc, logs[svc], f"ot-{svc}"))]
    assert problems == [], "\n".join(problems)

    # The OTEL_* variables the chart renders reached the SDK: every service flushed its spans on
    # SIGTERM to the rendered endpoint, under its rendered name and resource attributes.
    for svc in ENABLED:
        attrs = dict(kv.split("=", 1) for kv in serve_env[svc]["OTEL_RESOURCE_ATTRIBUTES"].split(","))
        mine = [r for r in exported if r.get("service.name") == serve_env[svc]["OTEL_SERVICE_NAME"]]
        assert mine, f"ot-{svc} exported no spans to {otlp}; got {exported}"
        assert attrs.items() <= mine[0].items() and mine[0]["ot.tenant"] == AREA, mine[0]


def _when(stamp) -> dt.datetime:
    return stamp.ToDatetime(tzinfo=dt.timezone.utc)


def check_feedback_mail(mail, email: str, env: dict[str, str], link_secret: str, follow) -> None:
    """The one follow-up mail, as the rendered feedback settings say it must be."""
    from ot.feedback.v1 import feedback_pb2
    from ot_feedback.domain import LinkSigner
    assert mail.envelope_to == (email,)  # the address from intake's GetRequest, as role "service"
    assert mail.envelope_from == mail.message["From"] == env["OT_FEEDBACK_MAIL_FROM"]
    link = next(line.strip() for line in mail.body.splitlines() if "/palaute/" in line)
    assert link.startswith(env["OT_FEEDBACK_PUBLIC_URL"] + "/palaute/"), link
    # Signed with the link-secret key of the Secret the chart names.
    assert LinkSigner(link_secret.encode()).verify(link.rsplit("/", 1)[1], dt.datetime.now(dt.timezone.utc))
    assert follow.state == feedback_pb2.FOLLOW_UP_STATE_SENT
    sent = _when(follow.request_sent_at)
    assert _when(follow.reminder_due_at) - sent == dt.timedelta(days=FEEDBACK["reminderDays"])
    assert _when(follow.expires_at) - sent == dt.timedelta(days=FEEDBACK["answerDays"])


def test_feedback_service_token_passes_intakes_token_check(helm_bin, jwks, tmp_path):
    """The two real halves, as the chart configures them: feedback's SignedServiceToken from the
    mounted key file under its rendered AUTH_SERVICE_ISSUER, checked by intake's TokenVerifier with
    its rendered issuers and the public key it mounts. A token intake refuses means no feedback
    mail in a cluster; and the same key must not pass as the identity provider's."""
    from ot_feedback.directory import SignedServiceToken
    from ot_runtime.auth import TokenVerifier
    from ot_runtime.errors import Unauthenticated
    port, _, service_key_pem, service_public_pem = jwks
    objs = render(helm_bin, AREA)
    env = {svc: find(objs, "ConfigMap", f"-{svc}-env")[0]["data"] for svc in ("intake", "feedback")}
    assert env["feedback"]["AUTH_SERVICE_ISSUER"] == env["intake"]["AUTH_SERVICE_ISSUER"]
    key_file = tmp_path / "service-token.pem"
    key_file.write_bytes(service_key_pem)
    verifier = TokenVerifier(issuer=env["intake"]["AUTH_JWT_ISSUER"], audience=env["intake"]["AUTH_JWT_AUDIENCE"],
                             tenant=AREA, jwks_url=f"http://127.0.0.1:{port}/certs",
                             service_issuer=env["intake"]["AUTH_SERVICE_ISSUER"],
                             service_public_key_pem=service_public_pem.decode())

    def token(issuer: str) -> str:
        return SignedServiceToken.from_file(str(key_file), tenant=AREA, issuer=issuer,
                                            audience=env["feedback"]["AUTH_JWT_AUDIENCE"]).token()

    principal = verifier.verify(f"Bearer {token(env['feedback']['AUTH_SERVICE_ISSUER'])}")
    assert principal.has_any("service") and principal.subject == "ot-feedback"
    with pytest.raises(Unauthenticated):  # the service key signing as the people's identity provider
        verifier.verify(f"Bearer {token(env['intake']['AUTH_JWT_ISSUER'])}")


def test_topic_job_creates_the_rendered_topics(helm_bin, secure_kafka, tmp_path):
    """The topic-creation Job's own command and environment, run against the SASL_SSL broker as the
    Job's own Kafka user, with the rights the platform team gives it: Create, Describe,
    DescribeConfigs and AlterConfigs on the release's topics (and on the shared catalogue topic)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    run = uuid.uuid4().hex[:8]
    prefix = f"ot.{AREA}.topicjob{run}"
    catalogue = f"ot.catalogue.test{run}.v1"
    objs = render(helm_bin, AREA, "kafka.strimzi.enabled=false", f"topicPrefix={prefix}", *KAFKA_LOCAL,
                  "kafka.topics.catalogue.enabled=true", f"kafka.topics.catalogue.name={catalogue}")
    job = find(objs, "Job", "-topics")[0]
    c = job["spec"]["template"]["spec"]["containers"][0]
    user = next(e["value"] for e in c["env"] if e["name"] == "KAFKA_SASL_USERNAME")
    assert user == f"{FULLNAME}-topics"
    job_rights = [{"resource": {"type": "topic", "name": name, "patternType": "prefix"},
                   "operations": ["Create", "Describe", "DescribeConfigs", "AlterConfigs"]}
                  for name in (f"{prefix}.", catalogue)]
    admin = secure_kafka.admin()
    try:
        result = admin.create_acls(strimzi_acls({"metadata": {"name": user},
                                                 "spec": {"authorization": {"acls": job_rights}}}))
        assert not result["failed"], result
    finally:
        admin.close()
    secrets = {("ot-kafka", "bootstrap-servers"): secure_kafka.bootstrap,
               (f"{user}-kafka", "password"): secure_kafka.passwords[user]}
    env = resolve_secret_files(job["spec"]["template"]["spec"], c, resolve_env(objs, c, secrets),
                               {("ot-kafka-cluster-ca-cert", "ca.crt"): secure_kafka.ca_pem}, tmp_path)
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    assert c["command"][0] == "python"
    cmd = [str(VENV_BIN / "python"), *c["command"][1:], *c["args"]]
    wanted = {t["name"] for t in json.loads(env["OT_TOPICS"])}
    for attempt in (1, 2):  # the second run finds every topic and only updates its configs
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if attempt == 1 and done.returncode and "TopicAuthorizationFailed" in done.stderr:
            time.sleep(2)  # the broker applies new ACLs a moment later
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-4000:]
        verb = "created" if attempt == 1 else "updated"
        assert f"{verb} {prefix}.intake.v1" in done.stdout, done.stdout
    admin = secure_kafka.admin()
    try:
        assert wanted <= set(admin.list_topics())
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, catalogue),
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
        assert configs[catalogue]["cleanup.policy"] == "compact"
        assert configs[f"{prefix}.intake.dlt.v1"]["retention.ms"] == str(90 * 86400000)
    finally:
        admin.close()
