"""Calling another platform service: the trace context and (when given) the caller's token ride along."""
from __future__ import annotations

from .telemetry import kafka_trace_headers


def outgoing_metadata(authorization: str | None) -> tuple[tuple[str, str], ...]:
    carrier = [(k, v.decode("latin-1")) for k, v in kafka_trace_headers()]
    if authorization:
        carrier.append(("authorization", authorization))
    return tuple(carrier)
