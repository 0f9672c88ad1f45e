"""The client-identifier guard as every service uses it: the platform's one refused-data policy
(ot_guard.policy) turned into field violations that say which field, what kind of data and where,
and never hold the value."""
from __future__ import annotations

from typing import Mapping

from ot_guard import check_fields

from .errors import FieldViolation


def guard(fields: Mapping[str, str]) -> list[FieldViolation]:
    """Client-identifying data found in any of `fields` (empty ones are skipped)."""
    return [FieldViolation(field=v.field, description=v.message(), reason=v.kind)
            for v in check_fields({name: text for name, text in fields.items() if text})]
