"""OpenTelemetry set-up and W3C trace-context propagation across gRPC and Kafka.

Export follows the standard OpenTelemetry variables:
- OTEL_TRACES_EXPORTER: `zipkin` (the local trace viewer, scripts/zipkin.sh), `otlp` (an area's
  collector in a cluster), `console` or `none` (the default: a run prints nothing extra). Several
  may be given, comma-separated.
- OTEL_EXPORTER_ZIPKIN_ENDPOINT (default http://localhost:9411/api/v2/spans),
  OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (OTLP over gRPC, default
  http://localhost:4317), read by the exporters themselves.
- OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on), read by the SDK.
- OTEL_SERVICE_NAME (default ot-<service>), OTEL_RESOURCE_ATTRIBUTES.

The tenant is always a resource attribute (`ot.tenant`), so an operator can filter one area's
traces; OTEL_RESOURCE_ATTRIBUTES cannot change it.

The spans come from OpenTelemetry's maintained instrumentation (gRPC server and client, WSGI for
the Flask apps, SQLAlchemy: see grpc_server.py, grpc_client.py, web.py, db.py) and from the
platform's own spans where no instrumentation sees the work: the outbox relay's publish and the
consumer's processing, joined to the producer's trace by the `traceparent` record header.
"""
from __future__ import annotations

import os
from typing import Iterable, Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor,
                                            SpanExporter)

from .settings import SettingsError

EXPORTERS = ("zipkin", "otlp", "console", "none")
# The tracer of the SQLAlchemy instrumentation (db.py).
SQL_TRACER = "opentelemetry.instrumentation.sqlalchemy"

_provider: TracerProvider | None = None


def exporters_from_env(environ: Mapping[str, str] = os.environ) -> list[SpanExporter]:
    """The exporters OTEL_TRACES_EXPORTER names; a name it does not know is a configuration error
    (a typo would otherwise silently export nothing)."""
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "none").split(",") if n.strip()]
    unknown = [n for n in names if n not in EXPORTERS]
    if unknown:
        raise SettingsError(f"OTEL_TRACES_EXPORTER: unknown exporter {', '.join(unknown)}; "
                            f"use one of {', '.join(EXPORTERS)}")
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "zipkin":
            from opentelemetry.exporter.zipkin.json import ZipkinExporter
            exporters.append(ZipkinExporter())  # reads OTEL_EXPORTER_ZIPKIN_ENDPOINT
        elif name == "otlp":
            protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"))
            if protocol != "grpc":
                raise SettingsError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: this platform exports OTLP over gRPC "
                                    "only; unset it or set grpc")
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
            exporters.append(OTLPSpanExporter())  # reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
    return exporters


def configure_tracing(service: str, tenant: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install the process-wide tracer provider once; later calls only add `exporter` (tests add
    an in-memory one). The sampler comes from OTEL_TRACES_SAMPLER(_ARG), as the SDK reads them."""
    global _provider
    if _provider is None:
        exporters = exporters_from_env()  # before anything is installed: a bad value changes nothing
        resource = Resource.create({
            "service.name": os.environ.get("OTEL_SERVICE_NAME", f"ot-{service}"),
            "service.namespace": "ot-platform",
            "ot.tenant": tenant,
        })
        _provider = TracerProvider(resource=resource)
        for chosen in exporters:
            _provider.add_span_processor(_WithoutLoneStatements(BatchSpanProcessor(chosen)))
        trace.set_tracer_provider(_provider)
    if exporter is not None:
        _provider.add_span_processor(_WithoutLoneStatements(SimpleSpanProcessor(exporter)))
    return _provider


class _WithoutLoneStatements(SpanProcessor):
    """Passes every span on to `inner` except a SQL statement outside any call, page, publish or
    processed event: the outbox relay and the background workers poll the database every second,
    and each poll would be a one-span trace that buries the ones people look for."""

    def __init__(self, inner: SpanProcessor):
        self.inner = inner

    def on_start(self, span, parent_context=None) -> None:
        self.inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        scope = span.instrumentation_scope
        if span.parent is None and scope is not None and scope.name == SQL_TRACER:
            return
        self.inner.on_end(span)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def shutdown_tracing() -> None:
    """Send what is still batched (called when the process stops)."""
    if _provider is not None:
        _provider.force_flush()


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, to store beside an outbox row."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> otel_context.Context:
    return extract({"traceparent": traceparent} if traceparent else {})


def context_from_kafka_headers(headers: Iterable[tuple[str, bytes]]) -> otel_context.Context:
    carrier = {k: v.decode("latin-1") for k, v in headers if k in ("traceparent", "tracestate") and v}
    return extract(carrier)


def kafka_trace_headers() -> list[tuple[str, bytes]]:
    carrier: dict[str, str] = {}
    inject(carrier)
    return [(k, v.encode("latin-1")) for k, v in carrier.items()]
