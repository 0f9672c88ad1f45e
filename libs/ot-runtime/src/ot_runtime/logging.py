"""Structured JSON logs carrying the current trace and span ids.

Log lines are for operators: they hold ids, kinds and counts, never request contents. Handlers
must not log free text or contact data; the guard's refusals log only field names and kinds.
"""
from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import datetime, timezone

from opentelemetry import trace

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, tenant: str):
        super().__init__()
        self.service = service
        self.tenant = tenant

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "tenant": self.tenant,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)

    def formatException(self, ei) -> str:  # noqa: N802 (logging's API)
        return safe_traceback(ei[1])


def safe_traceback(error: BaseException | None) -> str:
    """Where an error happened (frames and exception types, with their causes), without the
    exception messages: a message can carry a value (a database's "Key (email)=(...) already
    exists", a parser's "invalid literal: 'Maija'"), and log lines must never hold request data."""
    parts = []
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        frames = "".join(traceback.format_tb(error.__traceback__))
        parts.append(f"{type(error).__module__}.{type(error).__qualname__} (message withheld)\n{frames}")
        error = error.__cause__ or error.__context__
    return "\n-- caused by --\n".join(parts)


def configure_logging(service: str, tenant: str, level: str = "INFO", stream=None) -> logging.Handler:
    """Route all logging to one JSON handler on stderr (or `stream`); returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service, tenant))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # kafka-python is chatty at INFO about every connection; its warnings still come through.
    logging.getLogger("kafka").setLevel(logging.WARNING)
    return handler
