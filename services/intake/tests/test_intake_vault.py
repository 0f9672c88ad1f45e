"""The channel to consent is opened the platform's way: with a CA in the settings it is TLS and
never falls back to plaintext."""
from concurrent import futures
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ot.consent.v1 import consent_pb2, consent_pb2_grpc

from ot_runtime.errors import Unavailable
from ot_intake.domain import ConsultationRequest, Status
from ot_intake.vault import ConsentVault

from intake_testkit import NOW, TENANT, submission

KEY = b"k" * 32


class PlaintextConsent(consent_pb2_grpc.ConsentServiceServicer):
    def OpenCase(self, request, context):
        return consent_pb2.OpenCaseResponse(data_key=KEY)


@pytest.fixture()
def consent_port():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    consent_pb2_grpc.add_ConsentServiceServicer_to_server(PlaintextConsent(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port
    server.stop(0)


def a_ca_certificate(path) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ot-test-ca")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def new_request() -> ConsultationRequest:
    sub = submission()
    return ConsultationRequest(id="0b6f3c1e-2f0e-4c84-9a51-6f1f1d2b9a10", tenant=TENANT, type=sub.type,
                               status=Status.SUBMITTED, owner_subject="prof-1", professional=sub.professional,
                               categories=sub.categories, client=sub.client, question=sub.question,
                               discussed_in_own_team=True, consent=sub.consent, anonymous=False, submitted_at=NOW,
                               updated_at=NOW, screening_score=3)


def settings(ca_file=None):
    return SimpleNamespace(grpc_tls_ca_file=ca_file, grpc_tls_cert_file=None, grpc_tls_key_file=None)


def test_without_a_ca_the_vault_talks_plaintext_on_loopback(consent_port):
    vault = ConsentVault(f"127.0.0.1:{consent_port}", settings(), timeout_seconds=5)
    try:
        assert vault.open_case(new_request()) == KEY
    finally:
        vault.close()


def test_with_a_ca_the_vault_uses_tls_and_refuses_a_plaintext_consent(consent_port, tmp_path):
    vault = ConsentVault(f"127.0.0.1:{consent_port}", settings(a_ca_certificate(tmp_path / "ca.pem")),
                         timeout_seconds=5)
    try:
        with pytest.raises(Unavailable):
            vault.open_case(new_request())
    finally:
        vault.close()
