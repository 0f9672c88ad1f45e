"""The audit trail: append-only, keyed, and anchored outside the database.

Each entry carries an HMAC-SHA256, under the audit key (OT_CONSENT_AUDIT_KEY, which is never in
the database), over the previous entry's MAC and its own fields; a head row holds the last
sequence and MAC. Appends lock the head row, so entries form one chain even with several
replicas. Whoever can write the database but does not hold the key cannot write an entry that
verifies, so they cannot change, remove or re-chain entries unnoticed; what they can still do is
cut the tail off and point the head at an earlier entry. Against that the head is anchored at
intervals outside the database (`Trail.anchor`: an event on consent's topic and a log line, each
with the sequence and the MAC): `verify` given those anchors finds every anchored entry gone or
changed.

Entries written before the trail was keyed (a SHA-256 chain, by an earlier release) stay as they
were, never rewritten: the setting OT_CONSENT_AUDIT_UNKEYED_UNTIL (outside the database, like the
key) says up to which sequence plain SHA-256 is accepted, and the first keyed entry's MAC covers
the last of them, so they cannot change either. Without that setting every entry must be keyed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ot_runtime.auth import Principal

from .store import audit_head, audit_log

GENESIS = "0" * 64

# Every action the trail records: the closed set QueryAudit's `action` filter accepts (edge.py),
# and `Trail.append` refuses any other, so a new action is added here or nowhere.
ACTIONS = frozenset({
    "case.opened", "case.abandoned", "content.read", "content.refused", "consent.recorded", "consent.withdrawn",
    "sharing.check",
    "policy.changed", "key.shredded", "master_key.current", "master_key.rewrapped", "master_key.retired",
})


def _body(previous: str, sequence: int, at: datetime, actor: str, roles: str, tenant: str, action: str,
          request_id: str, detail: str) -> bytes:
    # UTC, so the digest does not depend on the database session's time zone.
    fields = json.dumps([sequence, at.astimezone(timezone.utc).isoformat(), actor, roles, tenant, action, request_id,
                         detail], ensure_ascii=False, separators=(",", ":"))
    return (previous + fields).encode()


def entry_mac(key: bytes, previous: str, sequence: int, at: datetime, actor: str, roles: str, tenant: str,
              action: str, request_id: str, detail: str) -> str:
    return hmac.new(key, _body(previous, sequence, at, actor, roles, tenant, action, request_id, detail),
                    hashlib.sha256).hexdigest()


def unkeyed_hash(previous: str, sequence: int, at: datetime, actor: str, roles: str, tenant: str, action: str,
                 request_id: str, detail: str) -> str:
    """The digest of entries written before the trail was keyed (and what a forger without the key
    can compute)."""
    return hashlib.sha256(_body(previous, sequence, at, actor, roles, tenant, action, request_id, detail)).hexdigest()


@dataclass(frozen=True)
class Anchor:
    """The head of the trail at one moment, kept outside the database."""
    sequence: int
    mac: str


@dataclass(frozen=True)
class Verification:
    intact: bool
    checked: int
    first_bad_sequence: int = 0
    problem: str = ""
    unkeyed: int = 0  # entries accepted as plain SHA-256 (OT_CONSENT_AUDIT_UNKEYED_UNTIL)
    anchors_checked: int = 0


def read_anchor_lines(lines: Iterable[str]) -> list[Anchor]:
    """Anchors from JSON lines with `sequence` and `mac`: consent's own log lines "audit head
    anchored" (grep them out of the log store) or lines written by hand. Raises ValueError naming
    the line."""
    anchors = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            sequence, mac = item["sequence"], item["mac"]
        except (ValueError, TypeError, KeyError):
            raise ValueError(f"anchor line {number} is not a JSON object with sequence and mac") from None
        if not isinstance(sequence, int) or sequence < 1 or not isinstance(mac, str) or len(mac) != 64:
            raise ValueError(f"anchor line {number}: sequence must be a positive whole number and mac 64 hex digits")
        anchors.append(Anchor(sequence, mac))
    return anchors


@dataclass(frozen=True)
class Trail:
    """One area's audit trail. `key`: the audit key; `unkeyed_until`: the last sequence written
    before the trail was keyed (0: none)."""

    key: bytes = field(repr=False)
    tenant: str
    unkeyed_until: int = 0

    def append(self, session: Session, *, at: datetime, who: Principal | None, action: str, request_id: str,
               detail: str) -> int:
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}: add it to audit.ACTIONS")
        actor = who.subject if who else "system"
        roles = ",".join(sorted(who.roles)) if who else "system"
        head = session.execute(sa.select(audit_head).where(audit_head.c.tenant == self.tenant)
                               .with_for_update()).first()
        if head is None:
            session.execute(audit_head.insert().values(tenant=self.tenant, last_sequence=0, last_hash=GENESIS))
            previous_sequence, previous_hash = 0, GENESIS
        else:
            previous_sequence, previous_hash = head.last_sequence, head.last_hash
        sequence = previous_sequence + 1
        digest = entry_mac(self.key, previous_hash, sequence, at, actor, roles, self.tenant, action, request_id,
                           detail)
        session.execute(audit_log.insert().values(
            tenant=self.tenant, sequence=sequence, at=at, actor=actor, roles=roles, action=action,
            request_id=request_id, detail=detail, prev_hash=previous_hash, hash=digest))
        session.execute(audit_head.update().where(audit_head.c.tenant == self.tenant)
                        .values(last_sequence=sequence, last_hash=digest))
        return sequence

    def anchor(self, session: Session) -> Anchor | None:
        """The head to anchor now, or None when it is already anchored (or the trail is empty). The
        head row stays locked until the caller commits, so replicas do not anchor the same head
        twice and the anchor is the head at that commit."""
        head = session.execute(sa.select(audit_head).where(audit_head.c.tenant == self.tenant)
                               .with_for_update()).first()
        if head is None or head.last_sequence == 0 or head.anchored_sequence == head.last_sequence:
            return None
        session.execute(audit_head.update().where(audit_head.c.tenant == self.tenant)
                        .values(anchored_sequence=head.last_sequence))
        return Anchor(head.last_sequence, head.last_hash)

    def verify(self, session: Session, anchors: Iterable[Anchor] = ()) -> Verification:
        """Recompute the chain from the first entry; with `anchors`, also require every anchored
        entry to be there with the anchored MAC."""
        anchored: dict[int, set[str]] = {}
        for a in anchors:
            anchored.setdefault(a.sequence, set()).add(a.mac)
        previous_hash, expected, checked, unkeyed = GENESIS, 1, 0, 0

        def bad(sequence: int, problem: str) -> Verification:
            return Verification(False, checked, sequence, problem, unkeyed, sum(
                len(macs) for s, macs in anchored.items() if s < sequence))

        rows = session.execute(sa.select(audit_log).where(audit_log.c.tenant == self.tenant)
                               .order_by(audit_log.c.sequence)).mappings()
        for row in rows:
            sequence = row["sequence"]
            if sequence != expected:
                return bad(expected, f"entry {expected} is missing")
            if row["prev_hash"] != previous_hash:
                return bad(sequence, "does not follow the previous entry")
            fields = (previous_hash, sequence, row["at"], row["actor"], row["roles"], self.tenant, row["action"],
                      row["request_id"], row["detail"])
            if sequence <= self.unkeyed_until:
                if not hmac.compare_digest(unkeyed_hash(*fields), row["hash"]):
                    return bad(sequence, "content changed after it was written")
                unkeyed += 1
            elif not hmac.compare_digest(entry_mac(self.key, *fields), row["hash"]):
                if hmac.compare_digest(unkeyed_hash(*fields), row["hash"]):
                    return bad(sequence, "not keyed: a plain SHA-256 entry, so forged, or written before the trail "
                                         "was keyed (then set OT_CONSENT_AUDIT_UNKEYED_UNTIL to the last such entry)")
                return bad(sequence, "content changed after it was written, or not written with this audit key")
            if any(mac != row["hash"] for mac in anchored.get(sequence, ())):
                return bad(sequence, "differs from its anchor: the entry was replaced after it was anchored")
            previous_hash, expected, checked = row["hash"], expected + 1, checked + 1
        if anchored and max(anchored) > checked:
            return bad(checked + 1, f"entries after {checked} are missing: an anchor shows entry {max(anchored)} "
                                    "existed")
        head = session.execute(sa.select(audit_head).where(audit_head.c.tenant == self.tenant)).first()
        last = head.last_sequence if head else 0
        if last != checked or (head and head.last_hash != previous_hash):
            return bad(checked + 1, f"entries after {checked} are missing (head says {last})")
        return Verification(True, checked, unkeyed=unkeyed, anchors_checked=sum(len(m) for m in anchored.values()))
