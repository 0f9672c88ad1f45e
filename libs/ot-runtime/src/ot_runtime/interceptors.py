"""gRPC server interceptors: tracing, error mapping, authentication (outermost first).

Each wraps the unary handlers of a call. Health checks and reflection pass without a token so
that Kubernetes probes and grpcurl's discovery work; every other method needs one.
"""
from __future__ import annotations

import logging
from typing import Callable

import grpc
from grpc_status import rpc_status
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter

from .auth import TokenVerifier, reset_principal, set_principal
from .errors import OtError, internal_status, to_rpc_status
from .telemetry import context_from_grpc_metadata

log = logging.getLogger("ot.grpc")
_tracer = trace.get_tracer("ot_runtime.grpc")

RPC_CALLS = Counter("ot_grpc_calls_total", "gRPC calls handled", ["method", "code"])

PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _wrap_unary(handler: grpc.RpcMethodHandler | None, around: Callable) -> grpc.RpcMethodHandler | None:
    """Return `handler` with its unary behaviour wrapped as around(inner, request, context)."""
    if handler is None:
        return None
    if handler.unary_unary:
        inner = handler.unary_unary
        return grpc.unary_unary_rpc_method_handler(
            lambda request, context: around(inner, request, context),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)
    if handler.unary_stream:
        inner = handler.unary_stream
        return grpc.unary_stream_rpc_method_handler(
            lambda request, context: around(inner, request, context),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)
    return handler  # streaming requests: reflection only, which needs no wrapping


def _code_of(context: grpc.ServicerContext) -> grpc.StatusCode:
    code = context.code() if hasattr(context, "code") else None
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.OK


class TracingInterceptor(grpc.ServerInterceptor):
    """One SERVER span per call, continuing the caller's W3C trace from the metadata."""

    def intercept_service(self, continuation, details):
        method = details.method
        metadata = dict(details.invocation_metadata or ())

        def around(inner, request, context):
            parent = context_from_grpc_metadata(metadata)
            token = otel_context.attach(parent)
            try:
                with _tracer.start_as_current_span(method.lstrip("/"), kind=SpanKind.SERVER,
                                                   record_exception=False, set_status_on_exception=False) as span:
                    service, _, name = method.lstrip("/").partition("/")
                    span.set_attribute("rpc.system", "grpc")
                    span.set_attribute("rpc.service", service)
                    span.set_attribute("rpc.method", name)
                    try:
                        return inner(request, context)
                    finally:
                        code = _code_of(context)
                        span.set_attribute("rpc.grpc.status_code", code.value[0])
                        if code not in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT,
                                        grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                                        grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.PERMISSION_DENIED,
                                        grpc.StatusCode.UNAUTHENTICATED):
                            span.set_status(Status(StatusCode.ERROR, code.name))
                        RPC_CALLS.labels(method, code.name).inc()
            finally:
                otel_context.detach(token)

        return _wrap_unary(continuation(details), around)


class ErrorInterceptor(grpc.ServerInterceptor):
    """Turn OtError into its status with rich details; anything else into a bare INTERNAL."""

    def intercept_service(self, continuation, details):
        method = details.method

        def around(inner, request, context):
            try:
                return inner(request, context)
            except OtError as error:
                # Logged by kind and code only: messages and details never carry refused values,
                # but the request itself may, so it is never logged.
                log.info("call refused", extra={"rpc_method": method, "code": error.code.name,
                                                "error": type(error).__name__})
                context.abort_with_status(rpc_status.to_status(to_rpc_status(error)))
            except Exception:
                if _code_of(context) != grpc.StatusCode.OK:
                    raise  # already aborted further in
                log.exception("unexpected error", extra={"rpc_method": method})
                context.abort_with_status(rpc_status.to_status(internal_status(
                    "Sisäinen virhe; yritä hetken kuluttua uudelleen. / Internal error; please try again shortly.")))

        return _wrap_unary(continuation(details), around)


class AuthInterceptor(grpc.ServerInterceptor):
    """Verify the bearer token and make the caller available to the handler as the principal."""

    def __init__(self, verifier: TokenVerifier):
        self.verifier = verifier

    def intercept_service(self, continuation, details):
        if details.method.startswith(PUBLIC_PREFIXES):
            return continuation(details)
        authorization = dict(details.invocation_metadata or ()).get("authorization")

        def around(inner, request, context):
            principal = self.verifier.verify(authorization)
            trace.get_current_span().set_attribute("enduser.role", ",".join(sorted(principal.roles)))
            token = set_principal(principal, authorization)
            try:
                return inner(request, context)
            finally:
                reset_principal(token)

        return _wrap_unary(continuation(details), around)
