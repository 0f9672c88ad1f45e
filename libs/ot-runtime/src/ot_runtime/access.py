"""Who may call which RPC: one table per service, enforced at the edge before the handler runs.

Each service declares, for every RPC of its gRPC service, the roles that may call it
(`access_table`). The auth interceptor refuses any other caller with PERMISSION_DENIED and the
reason ROLE_NOT_ALLOWED, and refuses every caller of an RPC that is missing from the table
(fail closed: a new RPC is nobody's until someone decides). What is left to the handlers is the
object-level rule: *which* request a role may touch (the owner, the assigned expert, ...).

The README's role × RPC table is generated from these tables (scripts/policy_tables.py), and a
test calls every cell.
"""
from __future__ import annotations

from typing import Mapping

from google.protobuf.descriptor import ServiceDescriptor

from .auth import ROLES

# "/<package>.<Service>/<Method>" -> the roles that may call it
Access = Mapping[str, frozenset[str]]

# The one "role" that needs no token: an RPC whose table entry is exactly (ANYONE,) is open to a
# caller without sign-in (the answer form behind a mailed link, whose link token is the capability;
# the privacy notice). It cannot be mixed with real roles, so "open to everyone" is always a
# decision of its own, visible in the table and in the README's role table.
ANYONE = "anyone"


def method_path(service: ServiceDescriptor, method: str) -> str:
    return f"/{service.full_name}/{method}"


def access_table(service: ServiceDescriptor, roles_by_method: Mapping[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    """Build a service's table from {"MethodName": ("role", ...)}; refuses unknown methods and
    roles at import time, so a typo cannot silently lock a method or open it to a wrong role."""
    known_methods = {m.name for m in service.methods}
    unknown = set(roles_by_method) - known_methods
    if unknown:
        raise ValueError(f"{service.full_name} has no method(s) {sorted(unknown)}")
    table = {}
    for method, roles in roles_by_method.items():
        if ANYONE in roles:
            if tuple(roles) != (ANYONE,):
                raise ValueError(f"{service.full_name}/{method}: '{ANYONE}' cannot be combined with roles")
            table[method_path(service, method)] = frozenset(roles)
            continue
        bad = set(roles) - set(ROLES)
        if bad:
            raise ValueError(f"{service.full_name}/{method}: unknown role(s) {sorted(bad)}")
        table[method_path(service, method)] = frozenset(roles)
    return table


def is_open_to_anyone(table: Access | None, method: str) -> bool:
    return table is not None and table.get(method) == frozenset({ANYONE})


def unlisted_methods(service: ServiceDescriptor, table: Access) -> list[str]:
    """Methods of `service` that the table does not mention (each would be refused to everyone)."""
    return [m.name for m in service.methods if method_path(service, m.name) not in table]
