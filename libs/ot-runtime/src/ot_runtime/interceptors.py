"""gRPC server interceptors, outermost first: OpenTelemetry's server span (the maintained
instrumentation, see grpc_server.py), the call's outcome (status on that span, metrics), error
mapping, authentication with the service's access table, and the field check (ot_runtime.fields).

Each wraps every kind of handler (unary and streaming, in either direction). Health checks and
reflection pass without a token so that Kubernetes probes and grpcurl's discovery work; every
other method needs one. A request that cannot be decoded (not protobuf, invalid UTF-8 in a
string) is INVALID_ARGUMENT, not INTERNAL: the decoding happens inside the chain, where it can be
answered properly.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

import grpc
from grpc_status import rpc_status
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from prometheus_client import Counter, Histogram

from sqlalchemy import exc as sa_exc

from .access import Access, is_open_to_anyone
from .auth import TokenVerifier, reset_principal, set_principal
from .errors import (FieldViolation, InvalidArgument, OtError, PermissionDenied, Unavailable, internal_status,
                     to_rpc_status)
from .fields import FieldRules, check

log = logging.getLogger("ot.grpc")

# Alert rules (the chart's PrometheusRule) use exactly these names and labels: `method` is the full
# gRPC method (/ot.intake.v1.IntakeService/SubmitRequest), `code` the status code's name (OK, ...).
RPC_CALLS = Counter("ot_grpc_calls_total", "gRPC calls handled", ["method", "code"])
RPC_DURATION = Histogram("ot_grpc_server_duration_seconds", "Time the server took to answer a gRPC call",
                         ["method", "code"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))

# Codes that are the caller's doing (a refused or wrong request): the call is not an error of the
# server, so its span is not marked as one. Every other non-OK code is.
CALLER_CODES = frozenset({grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                          grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.RESOURCE_EXHAUSTED,
                          grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED})

PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _wrap(handler: grpc.RpcMethodHandler | None, around: Callable,
          request_deserializer: Callable | None = None) -> grpc.RpcMethodHandler | None:
    """Return `handler` with its behaviour wrapped as around(inner, request_or_iterator, context),
    whatever its kind, optionally with another request deserializer."""
    if handler is None:
        return None
    deserializer = request_deserializer or handler.request_deserializer
    for kind, make in (("unary_unary", grpc.unary_unary_rpc_method_handler),
                       ("unary_stream", grpc.unary_stream_rpc_method_handler),
                       ("stream_unary", grpc.stream_unary_rpc_method_handler),
                       ("stream_stream", grpc.stream_stream_rpc_method_handler)):
        inner = getattr(handler, kind)
        if inner:
            return make(lambda request, context, inner=inner: around(inner, request, context),
                        request_deserializer=deserializer, response_serializer=handler.response_serializer)
    return handler


def _code_of(context: grpc.ServicerContext) -> grpc.StatusCode:
    code = context.code() if hasattr(context, "code") else None
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.OK


class OutcomeInterceptor(grpc.ServerInterceptor):
    """The call's outcome: its status code on the server span that OpenTelemetry's interceptor
    (outside this one) opened, and the metrics `ot_grpc_calls_total` and
    `ot_grpc_server_duration_seconds`.

    The instrumentation alone cannot see the code of a call ended with `abort_with_status` (how
    ErrorInterceptor answers, with rich details): it would report every refusal as OK. The span's
    status names the code only, never the message."""

    def intercept_service(self, continuation, details):
        method = details.method

        def around(inner, request, context):
            started = time.perf_counter()
            try:
                return inner(request, context)
            finally:
                code = _code_of(context)
                span = trace.get_current_span()
                span.set_attribute("rpc.grpc.status_code", code.value[0])
                if code not in CALLER_CODES:
                    span.set_status(Status(StatusCode.ERROR, code.name))
                RPC_CALLS.labels(method, code.name).inc()
                RPC_DURATION.labels(method, code.name).observe(time.perf_counter() - started)

        return _wrap(continuation(details), around)


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
                status = to_rpc_status(error)
            except _DATABASE_AWAY as error:
                # The database is away (down, restarting, pool exhausted): a transaction that did
                # not commit changed nothing, and a client that retries on UNAVAILABLE should.
                log.warning("database unavailable", extra={"rpc_method": method, "error": type(error).__name__})
                status = to_rpc_status(Unavailable(DATABASE_AWAY))
            except Exception:
                if _code_of(context) != grpc.StatusCode.OK:
                    raise  # already aborted further in
                log.exception("unexpected error", extra={"rpc_method": method})
                status = internal_status(
                    "Sisäinen virhe; yritä hetken kuluttua uudelleen. / Internal error; please try again shortly.")
            # Aborted outside the except blocks: the abort's exception then does not chain the
            # original one, whose message may quote the request, into the traceback that the
            # server span records.
            context.abort_with_status(rpc_status.to_status(status))

        return _wrap(continuation(details), around)


DATABASE_AWAY = ("Tietokanta ei vastaa juuri nyt; mitään ei tallennettu. Yritä hetken kuluttua uudelleen. / "
                 "The database does not answer right now; nothing was saved. Please try again shortly.")
_DATABASE_AWAY = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


class AuthInterceptor(grpc.ServerInterceptor):
    """Verify the bearer token, check the caller's roles against the service's access table, and
    make the caller available to the handler as the principal.

    `access` None means the service has no table yet (each handler checks roles itself); a
    table refuses every method it does not list."""

    def __init__(self, verifier: TokenVerifier, access: Access | None = None):
        self.verifier = verifier
        self.access = access

    def intercept_service(self, continuation, details):
        method = details.method
        if method.startswith(PUBLIC_PREFIXES) or is_open_to_anyone(self.access, method):
            return continuation(details)  # no principal: the handler must not ask for one
        authorization = dict(details.invocation_metadata or ()).get("authorization")

        def around(inner, request, context):
            principal = self.verifier.verify(authorization)
            self._check_role(method, principal.roles)
            trace.get_current_span().set_attribute("enduser.role", ",".join(sorted(principal.roles)))
            token = set_principal(principal, authorization)
            try:
                return inner(request, context)
            finally:
                reset_principal(token)

        return _wrap(continuation(details), around)

    def _check_role(self, method: str, roles: frozenset[str]) -> None:
        if self.access is None:
            return
        allowed = self.access.get(method)
        if not allowed:
            raise PermissionDenied("Tätä toimintoa ei ole avattu millekään roolille. / This operation is not open to "
                                   "any role.", reason="RPC_NOT_OPEN")
        if not roles & allowed:
            names = ", ".join(sorted(allowed))
            raise PermissionDenied(f"Tähän tarvitaan jokin rooleista: {names}. / This needs one of the roles: {names}.",
                                   reason="ROLE_NOT_ALLOWED", info={"allowed_roles": ",".join(sorted(allowed))})


class _Undecodable:
    """Stands in for a request whose bytes are not a valid message (so the chain can answer
    INVALID_ARGUMENT instead of gRPC's bare INTERNAL "Exception deserializing request!")."""

    def __init__(self, message_name: str):
        self.message_name = message_name


def _lenient(deserializer: Callable | None) -> Callable | None:
    if deserializer is None:
        return None

    def decode(data: bytes):
        try:
            return deserializer(data)
        except Exception:  # DecodeError, or UnicodeDecodeError in a string field
            return _Undecodable(getattr(deserializer, "__qualname__", "request"))
    return decode


def _undecodable() -> InvalidArgument:
    return InvalidArgument([FieldViolation(
        "", "Pyyntöä ei voi lukea: se ei ole kelvollinen protobuf-viesti tai siinä on virheellistä UTF-8:aa. / "
            "The request cannot be read: it is not a valid protobuf message, or a string in it is not valid UTF-8.",
        "undecodable")])


class ValidationInterceptor(grpc.ServerInterceptor):
    """Decode the request and check every field's form, then the guard (ot_runtime.fields), before
    the handler sees it. Innermost: it runs after authentication, so an anonymous caller cannot
    make the server scan anything."""

    def __init__(self, rules: FieldRules | None = None):
        self.rules = rules

    def intercept_service(self, continuation, details):
        if details.method.startswith(PUBLIC_PREFIXES):
            return continuation(details)
        handler = continuation(details)
        if handler is None:
            return None

        def checked(request):
            if isinstance(request, _Undecodable):
                raise _undecodable()
            if self.rules is not None:
                problems = check(request, self.rules)
                if problems:
                    log.info("request refused at the edge", extra={
                        "rpc_method": details.method, "violations": len(problems),
                        "kinds": sorted({p.reason for p in problems})})
                    raise InvalidArgument(problems)
            return request

        def around(inner, request, context):
            if handler.request_streaming:
                return inner((checked(item) for item in request), context)
            return inner(checked(request), context)

        return _wrap(handler, around, request_deserializer=_lenient(handler.request_deserializer))
