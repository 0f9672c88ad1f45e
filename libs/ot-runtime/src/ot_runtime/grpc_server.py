"""The gRPC server every service runs: interceptors, health, reflection, graceful shutdown."""
from __future__ import annotations

import logging
from concurrent import futures
from typing import Callable, Iterable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from .access import Access
from .auth import TokenVerifier
from .fields import FieldRules
from .interceptors import AuthInterceptor, ErrorInterceptor, TracingInterceptor, ValidationInterceptor

log = logging.getLogger("ot.grpc")

# The largest request any RPC needs (a submission's free text is a few kB; the field rules cap each
# field well below this). gRPC refuses a bigger message with RESOURCE_EXHAUSTED before it is read.
MAX_REQUEST_BYTES = 256 * 1024
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class GrpcServer:
    """Build with the servicers' registration, `start()`, and `stop()` on SIGTERM.

    `register(server)` adds the servicers and returns their full service names, which the
    health service reports and reflection lists. `access` says which roles may call each RPC
    (an RPC missing from it is refused to everyone) and `field_rules` the form of every string
    field of the requests (see ot_runtime.access and ot_runtime.fields).
    """

    def __init__(self, *, host: str, port: int, verifier: TokenVerifier,
                 register: Callable[[grpc.Server], Iterable[str]], access: Access | None = None,
                 field_rules: FieldRules | None = None, max_workers: int = 16):
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
            interceptors=[TracingInterceptor(), ErrorInterceptor(), AuthInterceptor(verifier, access),
                          ValidationInterceptor(field_rules)],
            options=[("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
                     ("grpc.max_send_message_length", MAX_RESPONSE_BYTES)])
        self.service_names = list(register(self.server))
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server)
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        if self.port == 0:
            raise RuntimeError(f"cannot listen on {host}:{port}")
        self.host = host

    def start(self) -> None:
        self.server.start()
        self._set_all(health_pb2.HealthCheckResponse.SERVING)
        log.info("gRPC serving", extra={"address": f"{self.host}:{self.port}"})

    def stop(self, grace_seconds: float) -> None:
        """Report NOT_SERVING first so load balancers drain us, then let in-flight calls finish."""
        self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        self.server.stop(grace_seconds).wait()
        log.info("gRPC stopped")

    def _set_all(self, status) -> None:
        for name in ("", *self.service_names):
            self.health.set(name, status)
