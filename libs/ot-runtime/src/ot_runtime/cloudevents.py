"""CloudEvents in Kafka binary mode: attributes as `ce_*` headers, the protobuf payload as value.

The record key is the aggregate id (ce_subject) so that one case's events stay in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CONTENT_TYPE = "application/protobuf"
SPEC_VERSION = "1.0"


class MalformedEvent(ValueError):
    """The record is not a CloudEvent we can read; it goes to the dead-letter topic."""


@dataclass(frozen=True)
class CloudEvent:
    id: str
    type: str
    source: str
    subject: str
    tenant: str
    time: datetime
    dataschema: str
    data: bytes

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_subject", self.subject.encode()),
            ("ce_time", self.time.isoformat().encode()),
            ("ce_tenant", self.tenant.encode()),
            ("ce_dataschema", self.dataschema.encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]

    @classmethod
    def from_record(cls, headers, value: bytes | None) -> "CloudEvent":
        found = {}
        for key, raw in headers or ():
            try:
                found[key] = raw.decode("utf-8") if raw is not None else ""
            except UnicodeDecodeError:
                raise MalformedEvent(f"header {key} is not UTF-8") from None
        missing = [h for h in ("ce_id", "ce_type", "ce_source", "ce_tenant") if not found.get(h)]
        if missing:
            raise MalformedEvent(f"missing CloudEvents headers: {', '.join(missing)}")
        if found.get("content-type", CONTENT_TYPE) != CONTENT_TYPE:
            raise MalformedEvent(f"unsupported content-type {found['content-type']!r}")
        try:
            time = datetime.fromisoformat(found["ce_time"]) if found.get("ce_time") else None
        except ValueError:
            raise MalformedEvent("ce_time is not an ISO 8601 time") from None
        return cls(id=found["ce_id"], type=found["ce_type"], source=found["ce_source"],
                   subject=found.get("ce_subject", ""), tenant=found["ce_tenant"], time=time,
                   dataschema=found.get("ce_dataschema", ""), data=value or b"")
