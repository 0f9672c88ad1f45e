"""Shared values for consent's unit tests (fictional subjects only)."""
from datetime import datetime, timezone

from ot_runtime.auth import Principal

TENANT = "keski-suomi"
NOW = datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc)


def person(subject: str = "prof-1", *roles: str) -> Principal:
    return Principal(subject=subject, tenant=TENANT, roles=frozenset(roles or ("professional",)))


COORDINATOR = person("coord-1", "coordinator")
INTAKE = person("ot-experts", "service")
