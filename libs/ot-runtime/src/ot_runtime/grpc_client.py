"""Calling another platform service: one way to open the channel (TLS when the settings give a CA),
and the trace context and (when given) the caller's token ride along."""
from __future__ import annotations

import grpc

from .telemetry import kafka_trace_headers


def make_channel(target: str, settings) -> grpc.Channel:
    """A channel to another service of this release. With GRPC_TLS_CA_FILE set, the channel uses
    TLS and verifies the server's certificate against that CA (and presents this service's own
    certificate when it has one, for servers that ask for it); otherwise plaintext (loopback)."""
    if not settings.grpc_tls_ca_file:
        return grpc.insecure_channel(target)
    with open(settings.grpc_tls_ca_file, "rb") as f:
        ca = f.read()
    cert = key = None
    if settings.grpc_tls_cert_file and settings.grpc_tls_key_file:
        with open(settings.grpc_tls_cert_file, "rb") as f:
            cert = f.read()
        with open(settings.grpc_tls_key_file, "rb") as f:
            key = f.read()
    return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                                                    certificate_chain=cert))


def outgoing_metadata(authorization: str | None) -> tuple[tuple[str, str], ...]:
    carrier = [(k, v.decode("latin-1")) for k, v in kafka_trace_headers()]
    if authorization:
        carrier.append(("authorization", authorization))
    return tuple(carrier)
