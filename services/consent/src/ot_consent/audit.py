"""The audit trail: append-only and tamper-evident.

Each entry carries a SHA-256 over the previous entry's hash and its own fields, and a head row
holds the last sequence and hash. Appends lock the head row, so entries form one chain even with
several replicas. `verify` recomputes the chain: a changed entry breaks its hash, a removed one
leaves a gap in the sequence, a removed tail no longer matches the head.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ot_runtime.auth import Principal

from .store import audit_head, audit_log

GENESIS = "0" * 64


def entry_hash(previous: str, sequence: int, at: datetime, actor: str, roles: str, tenant: str, action: str,
               request_id: str, detail: str) -> str:
    # UTC, so the hash does not depend on the database session's time zone.
    body = json.dumps([sequence, at.astimezone(timezone.utc).isoformat(), actor, roles, tenant, action, request_id, detail],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((previous + body).encode()).hexdigest()


def append(session: Session, *, tenant: str, at: datetime, who: Principal | None, action: str, request_id: str,
           detail: str) -> int:
    actor = who.subject if who else "system"
    roles = ",".join(sorted(who.roles)) if who else "system"
    head = session.execute(sa.select(audit_head).where(audit_head.c.tenant == tenant).with_for_update()).first()
    if head is None:
        session.execute(audit_head.insert().values(tenant=tenant, last_sequence=0, last_hash=GENESIS))
        previous_sequence, previous_hash = 0, GENESIS
    else:
        previous_sequence, previous_hash = head.last_sequence, head.last_hash
    sequence = previous_sequence + 1
    digest = entry_hash(previous_hash, sequence, at, actor, roles, tenant, action, request_id, detail)
    session.execute(audit_log.insert().values(
        tenant=tenant, sequence=sequence, at=at, actor=actor, roles=roles, action=action, request_id=request_id,
        detail=detail, prev_hash=previous_hash, hash=digest))
    session.execute(audit_head.update().where(audit_head.c.tenant == tenant)
                    .values(last_sequence=sequence, last_hash=digest))
    return sequence


@dataclass(frozen=True)
class Verification:
    intact: bool
    checked: int
    first_bad_sequence: int = 0
    problem: str = ""


def verify(session: Session, tenant: str) -> Verification:
    previous_hash, expected = GENESIS, 1
    checked = 0
    rows = session.execute(sa.select(audit_log).where(audit_log.c.tenant == tenant)
                           .order_by(audit_log.c.sequence)).mappings()
    for row in rows:
        if row["sequence"] != expected:
            return Verification(False, checked, expected, f"entry {expected} is missing")
        if row["prev_hash"] != previous_hash:
            return Verification(False, checked, row["sequence"], "does not follow the previous entry")
        digest = entry_hash(previous_hash, row["sequence"], row["at"], row["actor"], row["roles"], tenant,
                            row["action"], row["request_id"], row["detail"])
        if digest != row["hash"]:
            return Verification(False, checked, row["sequence"], "content changed after it was written")
        previous_hash, expected, checked = row["hash"], expected + 1, checked + 1
    head = session.execute(sa.select(audit_head).where(audit_head.c.tenant == tenant)).first()
    last = head.last_sequence if head else 0
    if last != checked or (head and head.last_hash != previous_hash):
        return Verification(False, checked, checked + 1, f"entries after {checked} are missing (head says {last})")
    return Verification(True, checked)
