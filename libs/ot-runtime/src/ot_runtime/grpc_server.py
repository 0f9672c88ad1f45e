"""The gRPC server every service runs: interceptors, health, reflection, graceful shutdown."""
from __future__ import annotations

import logging
from concurrent import futures
from typing import Callable, Iterable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from .auth import TokenVerifier
from .interceptors import AuthInterceptor, ErrorInterceptor, TracingInterceptor

log = logging.getLogger("ot.grpc")


class GrpcServer:
    """Build with the servicers' registration, `start()`, and `stop()` on SIGTERM.

    `register(server)` adds the servicers and returns their full service names, which the
    health service reports and reflection lists.
    """

    def __init__(self, *, host: str, port: int, verifier: TokenVerifier,
                 register: Callable[[grpc.Server], Iterable[str]], max_workers: int = 16):
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
            interceptors=[TracingInterceptor(), ErrorInterceptor(), AuthInterceptor(verifier)])
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
