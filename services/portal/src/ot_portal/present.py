"""How the pages show things: the current language's half of a bilingual text, the vocabulary's
labels, times in Finnish time, and the objects the templates draw. Used by every page module and
registered as Jinja filters once (web.py)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from ot.common.v1 import case_pb2

from ot_runtime.protoconv import to_domain
from ot_runtime.vocabulary import (CATEGORY_LABELS, REQUEST_TYPE_LABELS, ROLE_LABELS, STATUS_LABELS, Category,
                                   RequestStatus, RequestType)

from .i18n import current_language

HELSINKI = ZoneInfo("Europe/Helsinki")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def in_language(pair: tuple[str, str]) -> str:
    return pair[0] if current_language() == "fi" else pair[1]


def bilingual(text: str) -> str:
    """The services write messages as "suomeksi / in English": the current language's half."""
    fi, sep, en = text.partition(" / ")
    return (fi if current_language() == "fi" else en) if sep else text


def type_label(value) -> str:
    """A request type's label from its vocabulary value ("ot_tuki") or its proto number."""
    if isinstance(value, int):
        value = to_domain(case_pb2.RequestType, value, RequestType) or ""
    return in_language(REQUEST_TYPE_LABELS[RequestType(value)]) if value in RequestType._value2member_map_ else value


def category_label(value) -> str:
    if isinstance(value, int):
        value = to_domain(case_pb2.CaseCategory, value, Category) or ""
    return in_language(CATEGORY_LABELS[Category(value)]) if value in Category._value2member_map_ else value


def status_label(value) -> str:
    if isinstance(value, int):
        value = to_domain(case_pb2.RequestStatus, value, RequestStatus) or ""
    return in_language(STATUS_LABELS[RequestStatus(value)]) if value in RequestStatus._value2member_map_ else value


def role_label(role: str) -> str:
    return in_language(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def local_time(value) -> str:
    """A timestamp (protobuf, datetime or ISO text) in Finnish time, as people write it; "" if unset."""
    if value is None or value == "":
        return ""
    if hasattr(value, "ToDatetime"):
        if not value.seconds and not value.nanos:
            return ""
        value = value.ToDatetime(tzinfo=timezone.utc)
    elif isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(HELSINKI)
    return local.strftime("%-d.%-m.%Y %H:%M") if current_language() == "fi" else local.strftime("%Y-%m-%d %H:%M")


FILTERS = {"local_time": local_time, "type_label": type_label, "category_label": category_label,
           "status_label": status_label, "role_label": role_label, "bilingual": bilingual}
