"""Transport security of the shared runtime, in-process on loopback: the gRPC server with TLS
(certificates made here with `cryptography`), the client side (`make_channel`), and the Kafka
client settings every Kafka client of a service shares (`client_config`). The Kafka half against
a real SASL_SSL broker is tests/integration/test_transport_security.py."""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ot_runtime.grpc_client import make_channel
from ot_runtime.grpc_server import GrpcServer, ServerTls
from ot_runtime.kafka import client_config
from ot_runtime.settings import load_settings
from ot_runtime.testing import TestKeys

ECHO = "/test.Echo/Say"


class Authority:
    """A throwaway certificate authority that issues server certificates for 127.0.0.1."""

    def __init__(self, name: str):
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                                  key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                  key_cert_sign=True, crl_sign=True, encipher_only=False,
                                                  decipher_only=False), critical=True)
                     .sign(self.key, hashes.SHA256()))

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, directory: Path, name: str = "server") -> tuple[Path, Path]:
        """A server certificate for 127.0.0.1 and localhost: (certificate file, key file)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(self.cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                            x509.DNSName("localhost")]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))
        directory.mkdir(parents=True, exist_ok=True)
        cert_file, key_file = directory / "tls.crt", directory / "tls.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + self.pem)
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_file, key_file

    def write(self, path: Path) -> Path:
        path.write_bytes(self.pem)
        return path


def echo_register(server) -> list[str]:
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Echo", {
        "Say": grpc.unary_unary_rpc_method_handler(lambda request, context: b"heard: " + request)})])
    return ["test.Echo"]


@pytest.fixture()
def keys(tmp_path) -> TestKeys:
    return TestKeys(tmp_path / "keys")


@pytest.fixture()
def ca(tmp_path) -> Authority:
    return Authority("ot-test-area-ca")


@pytest.fixture()
def tls_server(tmp_path, keys, ca):
    cert_file, key_file = ca.issue(tmp_path / "server")
    server = GrpcServer(host="127.0.0.1", port=0, verifier=keys.verifier(), register=echo_register,
                        tls=ServerTls(str(cert_file), str(key_file)))
    server.start()
    yield server
    server.stop(0)


def health(channel: grpc.Channel, service: str = "") -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def trusting(pem: bytes, port: int) -> grpc.Channel:
    return grpc.secure_channel(f"127.0.0.1:{port}", grpc.ssl_channel_credentials(root_certificates=pem))


def test_a_client_that_verifies_against_the_area_ca_gets_health_and_calls(tls_server, ca, keys):
    with trusting(ca.pem, tls_server.port) as channel:
        assert health(channel) == health(channel, "test.Echo") == health_pb2.HealthCheckResponse.SERVING
        assert channel.unary_unary(ECHO)(b"moi", metadata=keys.metadata(), timeout=5) == b"heard: moi"


def test_a_plaintext_client_gets_nothing(tls_server, keys):
    with grpc.insecure_channel(f"127.0.0.1:{tls_server.port}") as channel:
        with pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary(ECHO)(b"moi", metadata=keys.metadata(), timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_client_that_trusts_another_ca_refuses_the_server(tls_server):
    impostor = Authority("some-other-ca")
    with trusting(impostor.pem, tls_server.port) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            health(channel)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_make_channel_uses_tls_with_the_settings_ca_and_plaintext_without(tmp_path, tls_server, ca, keys):
    env = {"OT_TENANT": "pohjois-savo", "DATABASE_URL": "sqlite://", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
           **keys.env()}
    with_ca = load_settings("intake", {**env, "GRPC_TLS_CA_FILE": str(ca.write(tmp_path / "ca.crt"))})
    with make_channel(f"127.0.0.1:{tls_server.port}", with_ca) as channel:
        assert channel.unary_unary(ECHO)(b"moi", metadata=keys.metadata(), timeout=5) == b"heard: moi"
    with make_channel(f"127.0.0.1:{tls_server.port}", load_settings("intake", env)) as channel:
        with pytest.raises(grpc.RpcError):
            channel.unary_unary(ECHO)(b"moi", metadata=keys.metadata(), timeout=5)


def test_a_renewed_certificate_is_served_without_a_restart(tmp_path, keys):
    first, renewed = Authority("area-ca-2025"), Authority("area-ca-2026")
    cert_file, key_file = first.issue(tmp_path / "server")
    server = GrpcServer(host="127.0.0.1", port=0, verifier=keys.verifier(), register=echo_register,
                        tls=ServerTls(str(cert_file), str(key_file)))
    server.start()
    try:
        with trusting(first.pem, server.port) as channel:
            assert health(channel) == health_pb2.HealthCheckResponse.SERVING
        # As a renewed Secret arrives: new files under the same names.
        staged_cert, staged_key = renewed.issue(tmp_path / "staged")
        os.replace(staged_key, key_file)
        os.replace(staged_cert, cert_file)
        with trusting(renewed.pem, server.port) as channel:
            assert health(channel) == health_pb2.HealthCheckResponse.SERVING
        with trusting(first.pem, server.port) as channel:  # the old certificate is gone
            with pytest.raises(grpc.RpcError):
                health(channel)
    finally:
        server.stop(0)


def test_without_a_certificate_the_server_stays_plaintext(keys):
    env = {"OT_TENANT": "pohjois-savo", "DATABASE_URL": "sqlite://", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
           **keys.env()}
    assert ServerTls.from_settings(load_settings("intake", env)) is None
    server = GrpcServer(host="127.0.0.1", port=0, verifier=keys.verifier(), register=echo_register)
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            assert health(channel) == health_pb2.HealthCheckResponse.SERVING
    finally:
        server.stop(0)


# --- the Kafka clients' settings ------------------------------------------------------------------

def kafka_settings(keys, **env):
    return load_settings("intake", {"OT_TENANT": "pohjois-savo", "DATABASE_URL": "sqlite://",
                                    "KAFKA_BOOTSTRAP_SERVERS": "kafka-0.kafka:9093", **keys.env(), **env})


def test_kafka_clients_on_a_laptop_are_plaintext(keys):
    assert client_config(kafka_settings(keys)) == {"security_protocol": "PLAINTEXT"}


def test_kafka_clients_in_a_cluster_verify_the_broker_and_log_in_as_the_service(tmp_path, keys, ca):
    settings = kafka_settings(keys, KAFKA_SECURITY_PROTOCOL="SASL_SSL",
                              KAFKA_SSL_CA_FILE=str(ca.write(tmp_path / "kafka-ca.crt")),
                              KAFKA_SASL_MECHANISM="SCRAM-SHA-512", KAFKA_SASL_USERNAME="ot-pohjois-savo-intake",
                              KAFKA_SASL_PASSWORD="from-the-secret")
    assert client_config(settings) == {
        "security_protocol": "SASL_SSL", "ssl_cafile": str(tmp_path / "kafka-ca.crt"), "ssl_check_hostname": True,
        "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "ot-pohjois-savo-intake",
        "sasl_plain_password": "from-the-secret"}


def test_kafka_tls_without_sasl_still_verifies_the_broker(tmp_path, keys, ca):
    settings = kafka_settings(keys, KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CA_FILE=str(ca.write(tmp_path / "c.crt")))
    assert client_config(settings) == {"security_protocol": "SSL", "ssl_cafile": str(tmp_path / "c.crt"),
                                       "ssl_check_hostname": True}


def test_every_kafka_client_accepts_the_shared_settings(tmp_path, keys, ca):
    """kafka-python's admin client refuses options it does not know: the shared settings must be
    ones the producer, the consumer and the admin client all take."""
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    config = client_config(kafka_settings(
        keys, KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SSL_CA_FILE=str(ca.write(tmp_path / "kafka-ca.crt")),
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512", KAFKA_SASL_USERNAME="u", KAFKA_SASL_PASSWORD="p"))
    for client in (KafkaAdminClient, KafkaProducer, KafkaConsumer):
        assert set(config) <= set(client.DEFAULT_CONFIG), client.__name__
