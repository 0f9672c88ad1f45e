"""Mapping between proto enums and the domain's string enums.

Proto values are named <PREFIX>_<DOMAIN VALUE IN CAPITALS>, e.g. REQUEST_TYPE_OT_TUKI <-> "ot_tuki";
the tables are derived from the descriptors, so a value added on both sides needs no code here.
"""
from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from typing import TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

E = TypeVar("E", bound=StrEnum)


def _prefix(enum_type) -> str:
    return enum_type.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")


def to_domain(enum_type, value: int, domain: type[E]) -> E | None:
    """Proto enum number -> domain enum; None for UNSPECIFIED or an unknown number."""
    try:
        name = enum_type.Name(value)
    except ValueError:
        return None
    suffix = name.removeprefix(_prefix(enum_type)).lower()
    return domain(suffix) if suffix in domain._value2member_map_ else None


def to_proto(enum_type, value: StrEnum | None) -> int:
    if value is None:
        return 0
    return enum_type.Value(_prefix(enum_type) + value.value.upper())


def ts(value: datetime | None) -> Timestamp:
    out = Timestamp()
    if value is not None:
        out.FromDatetime(value.astimezone(timezone.utc))
    return out


def from_ts(value: Timestamp, present: bool) -> datetime | None:
    return value.ToDatetime(tzinfo=timezone.utc) if present else None
