"""Calling another platform service: one way to open the channel (TLS when the settings give a CA),
traced by OpenTelemetry's maintained client interceptor (a CLIENT span per call, whose context
rides along as `traceparent` metadata), and the caller's token when given."""
from __future__ import annotations

import grpc
from opentelemetry.instrumentation.grpc import client_interceptor
from opentelemetry.instrumentation.grpc.grpcext import intercept_channel


def make_channel(target: str, settings) -> grpc.Channel:
    """A traced channel to another service of this release. With GRPC_TLS_CA_FILE set, the channel
    uses TLS and verifies the server's certificate against that CA (and presents this service's own
    certificate when it has one, for servers that ask for it); otherwise plaintext (loopback)."""
    return intercept_channel(_channel(target, settings), client_interceptor())


def _channel(target: str, settings) -> grpc.Channel:
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
    """The call's metadata besides the trace context (which the channel's interceptor adds)."""
    return (("authorization", authorization),) if authorization else ()
