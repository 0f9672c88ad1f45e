"""OpenTelemetry set-up and W3C trace-context propagation across gRPC and Kafka.

Export follows the standard variables: OTEL_TRACES_EXPORTER=otlp|console|none (default none,
so a laptop run prints nothing extra), OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME,
OTEL_RESOURCE_ATTRIBUTES. The tenant is always a resource attribute, so an operator can filter
one area's traces.
"""
from __future__ import annotations

import os
from typing import Iterable, Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_provider: TracerProvider | None = None


def configure_tracing(service: str, tenant: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install the process-wide tracer provider once; later calls only add `exporter`."""
    global _provider
    if _provider is None:
        resource = Resource.create({
            "service.name": os.environ.get("OTEL_SERVICE_NAME", f"ot-{service}"),
            "service.namespace": "ot-platform",
            "ot.tenant": tenant,
        })
        _provider = TracerProvider(resource=resource)
        chosen = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
        if chosen == "otlp":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif chosen == "console":
            _provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        trace.set_tracer_provider(_provider)
    if exporter is not None:
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        _provider.add_span_processor(SimpleSpanProcessor(exporter))
    return _provider


def shutdown_tracing() -> None:
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


def context_from_grpc_metadata(metadata: Mapping[str, str]) -> otel_context.Context:
    return extract(dict(metadata))
