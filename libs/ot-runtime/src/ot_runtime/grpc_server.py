"""The gRPC server every service runs: interceptors, health, reflection, graceful shutdown, and
TLS when it has a certificate (a cluster; loopback development stays plaintext)."""
from __future__ import annotations

import logging
import os
import threading
from concurrent import futures
from typing import Callable, Iterable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import filters, server_interceptor

from .access import Access
from .auth import TokenVerifier
from .fields import FieldRules
from .interceptors import AuthInterceptor, ErrorInterceptor, OutcomeInterceptor, ValidationInterceptor

log = logging.getLogger("ot.grpc")

# The largest request any RPC needs (a submission's free text is a few kB; the field rules cap each
# field well below this). gRPC refuses a bigger message with RESOURCE_EXHAUSTED before it is read.
MAX_REQUEST_BYTES = 256 * 1024
MAX_RESPONSE_BYTES = 16 * 1024 * 1024

# Probes and grpcurl's discovery make no span: every few seconds, they would bury the calls people look for.
_TRACED = filters.negate(filters.any_of(filters.health_check(), filters.service_prefix("grpc.reflection.")))


def tracing_interceptor() -> grpc.ServerInterceptor:
    """OpenTelemetry's maintained server interceptor: one SERVER span per call, continuing the
    caller's trace from its `traceparent` metadata. Its attributes are the method, the status code,
    the caller's address and gRPC user agent; never the request, the token or other metadata."""
    return server_interceptor(filter_=_TRACED)


class ServerTls:
    """The server's side of TLS: its certificate chain and key, read from files (in a cluster a
    Secret mounted read-only, e.g. written by cert-manager). The files are read again on the first
    handshake after they change, so a renewed certificate is served without a restart.

    No client certificates are asked for (no mutual TLS), also when GRPC_TLS_CA_FILE is set: that CA
    is what this service's own calls verify other services against. Every call is already
    authenticated by its JWT (a person's, or a platform service's from its own issuer) and the
    NetworkPolicies say who may connect at all; a client certificate from the area's CA would add
    no per-service rule (any holder of one would pass) while every caller, the ingress and
    `helm test` included, would need one. A mesh can add mutual TLS underneath if an area wants it.
    """

    def __init__(self, cert_file: str, key_file: str):
        self.cert_file, self.key_file = cert_file, key_file
        self._lock = threading.Lock()
        self._stamp = self._read_stamp()
        self.initial = self._configuration()

    @classmethod
    def from_settings(cls, settings) -> "ServerTls | None":
        """TLS when GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE are set; None means plaintext."""
        if not (settings.grpc_tls_cert_file and settings.grpc_tls_key_file):
            return None
        return cls(settings.grpc_tls_cert_file, settings.grpc_tls_key_file)

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.dynamic_ssl_server_credentials(self.initial, self._changed_configuration,
                                                   require_client_authentication=False)

    def _read_stamp(self) -> tuple:
        return tuple((st.st_mtime_ns, st.st_size, st.st_ino) for st in map(os.stat, (self.cert_file, self.key_file)))

    def _configuration(self):
        with open(self.key_file, "rb") as key, open(self.cert_file, "rb") as chain:
            return grpc.ssl_server_certificate_configuration([(key.read(), chain.read())])

    def _changed_configuration(self):
        """gRPC asks before each handshake: a new configuration when the files changed, else None."""
        try:
            with self._lock:
                stamp = self._read_stamp()
                if stamp == self._stamp:
                    return None
                configuration = self._configuration()
                self._stamp = stamp
        except OSError:  # half-way through a Secret update: keep serving the current certificate
            return None
        log.info("gRPC TLS certificate reloaded")
        return configuration


class GrpcServer:
    """Build with the servicers' registration, `start()`, and `stop()` on SIGTERM.

    `register(server)` adds the servicers and returns their full service names, which the
    health service reports and reflection lists. `access` says which roles may call each RPC
    (an RPC missing from it is refused to everyone) and `field_rules` the form of every string
    field of the requests (see ot_runtime.access and ot_runtime.fields). With `tls` the port
    speaks only TLS.
    """

    def __init__(self, *, host: str, port: int, verifier: TokenVerifier,
                 register: Callable[[grpc.Server], Iterable[str]], access: Access | None = None,
                 field_rules: FieldRules | None = None, max_workers: int = 16, tls: ServerTls | None = None):
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
            interceptors=[tracing_interceptor(), OutcomeInterceptor(), ErrorInterceptor(),
                          AuthInterceptor(verifier, access), ValidationInterceptor(field_rules)],
            options=[("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
                     ("grpc.max_send_message_length", MAX_RESPONSE_BYTES)])
        self.service_names = list(register(self.server))
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server)
        if tls is None:
            self.port = self.server.add_insecure_port(f"{host}:{port}")
        else:
            self.port = self.server.add_secure_port(f"{host}:{port}", tls.credentials())
        self.tls = tls is not None
        if self.port == 0:
            raise RuntimeError(f"cannot listen on {host}:{port}")
        self.host = host

    def start(self) -> None:
        self.server.start()
        self._set_all(health_pb2.HealthCheckResponse.SERVING)
        log.info("gRPC serving", extra={"address": f"{self.host}:{self.port}", "tls": self.tls})

    def stop(self, grace_seconds: float) -> None:
        """Report NOT_SERVING first so load balancers drain us, then let in-flight calls finish."""
        self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        self.server.stop(grace_seconds).wait()
        log.info("gRPC stopped")

    def _set_all(self, status) -> None:
        for name in ("", *self.service_names):
            self.health.set(name, status)
