"""The audit trail: append-only, keyed, and anchored outside the database.

Each entry carries an HMAC-SHA256, under the audit key (OT_CONSENT_AUDIT_KEY, which is never in
the database), over the previous entry's MAC and its own fields; a head row holds the last
sequence and MAC. Whoever can write the database but does not hold the key cannot write an entry
that verifies, so they cannot change, remove or re-chain entries unnoticed; what they can still do
is cut the tail off and point the head at an earlier entry. Against that the head is anchored at
intervals outside the database (`Trail.anchor`: an event on consent's topic and a log line, each
with the sequence and the MAC): `verify` given those anchors finds every anchored entry gone or
changed.

Writing an entry and chaining it are two steps, so that no writer holds the head row through its
transaction (which made every submission of an area wait for the one before it to commit):

- A writer (`Trail.append`, in the transaction of what it records) adds the entry to
  `audit_pending` with a MAC of its own (`pending_mac`, under the same key, over its fields) and
  locks nothing that other writers need.
- The chainer (`Trail.chain`) links committed pending entries into the chain in short
  transactions of its own: it locks the head row, reads a batch in id order, refuses any entry
  whose own MAC fails (it stays in `audit_pending`, marked refused and never chained; counted as a
  broken verification and logged by count, never by content), gives the others their sequences and
  chain MACs exactly as a direct append did, deletes them from `audit_pending` and moves the head,
  in one commit. Replicas' chainers take turns on the head lock; a batch is read after taking the
  lock, its rows locked (SKIP LOCKED) and deleted in the same commit, with the deletion counted,
  so no entry is chained twice.
- Who chains: consent's chainer worker (bootstrap.AuditChainer), woken by the commit that appended
  (the session hooks below) and polling as a fallback; in a process without one (an operator's
  command, a unit test) the writer's own thread, right after its commit, in a transaction of its
  own. Every reader of the trail (QueryAudit, export-audit, VerifyAudit, verify-audit, the
  anchor) chains first, so it sees every entry committed before it asked.

What the split gives away: between its commit and its chaining (milliseconds when the worker is
woken, at most its poll of a few hundred ms; longer only while no consent process runs or someone
holds the head row's lock, which also stalls every reader of the trail) an entry is only in
`audit_pending`. Someone who can write the database but lacks the key cannot change or
forge a pending entry unnoticed (its own MAC; `verify` reports every pending entry whose MAC
fails, and every one marked refused, which the chainer does only to those), but in that window
can delete it, or insert a second copy of one they saw (an exact
duplicate: same time, actor and fields), and neither is found afterwards; an entry removed once
it is chained is found as before.

Entries written before the trail was keyed (a SHA-256 chain, by an earlier release) stay as they
were, never rewritten: the setting OT_CONSENT_AUDIT_UNKEYED_UNTIL (outside the database, like the
key) says up to which sequence plain SHA-256 is accepted, and the first keyed entry's MAC covers
the last of them, so they cannot change either. Without that setting every entry must be keyed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.orm import Session, sessionmaker

from ot_runtime.auth import Principal
from ot_runtime.db import insert_unless_present, utcnow

from .store import audit_head, audit_log, audit_pending

log = logging.getLogger("ot.consent")

GENESIS = "0" * 64
# Pending entries linked per chaining transaction: a short hold of the head even after a burst.
CHAIN_BATCH = 500

# For the area's alerts (the chart's PrometheusRule): both results exist from the start, so the
# first broken verification is an increase Prometheus sees. The chainer's refusal of a pending
# entry whose own MAC fails counts as a broken verification too: it is the same finding, made
# at once instead of at the next verify.
AUDIT_VERIFICATIONS = Counter("ot_consent_audit_verifications_total",
                              "Verifications of the audit trail in this process, by result (intact, broken)",
                              ["result"])
for _result in ("intact", "broken"):
    AUDIT_VERIFICATIONS.labels(_result)

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


def pending_mac(key: bytes, tenant: str, at: datetime, actor: str, roles: str, action: str, request_id: str,
                detail: str) -> str:
    """A pending entry's own MAC. Its body begins with '["pending",' and a chain MAC's with the
    previous MAC's 64 hex digits, so neither can stand in for the other."""
    fields = json.dumps(["pending", tenant, at.astimezone(timezone.utc).isoformat(), actor, roles, action, request_id,
                         detail], ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, fields.encode(), hashlib.sha256).hexdigest()


def _pending_intact(key: bytes, row) -> bool:
    return hmac.compare_digest(pending_mac(key, row["tenant"], row["at"], row["actor"], row["roles"], row["action"],
                                           row["request_id"], row["detail"]), row["mac"])


@dataclass(frozen=True)
class Chained:
    """What one chaining did: entries linked into the chain, pending entries refused (their own
    MAC failed), and whether a full batch was taken (there may be more)."""
    chained: int = 0
    refused: int = 0
    more: bool = False


# --- who chains after a commit ------------------------------------------------------------------
# The running chainer workers of this process (bootstrap.AuditChainer: `tenant`, `engine`,
# `wake()`); the session keys under which a transaction remembers the trails it appended to, and
# a committed one the trails its own thread is to chain.
_CHAINERS: "weakref.WeakSet" = weakref.WeakSet()
_APPENDED = "ot_audit_trails_appended"
_TO_CHAIN = "ot_audit_trails_to_chain"


def add_chainer(worker) -> None:
    """From now on commits in this process that append to `worker.tenant`'s trail on
    `worker.engine` wake `worker` instead of chaining in the writer's thread."""
    _CHAINERS.add(worker)


def remove_chainer(worker) -> None:
    _CHAINERS.discard(worker)


@sa.event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    trails = session.info.pop(_APPENDED, None)
    if not trails:
        return
    bind = session.get_bind()
    for trail in trails:
        workers = [w for w in list(_CHAINERS) if w.tenant == trail.tenant and w.engine is bind]
        for worker in workers:
            worker.wake()
        if not workers:
            session.info.setdefault(_TO_CHAIN, set()).add(trail)


@sa.event.listens_for(Session, "after_rollback")
def _forget_rolled_back_entries(session: Session) -> None:
    session.info.pop(_APPENDED, None)


@sa.event.listens_for(Session, "after_transaction_end")
def _chain_after_commit(session: Session, transaction) -> None:
    """No chainer in this process (an operator's command, a unit test): the writer's thread chains,
    in a transaction of its own once its own is over and its connection back in the pool (so a
    thread never holds two connections)."""
    if transaction.parent is not None:
        return
    trails = session.info.pop(_TO_CHAIN, None)
    if not trails:
        return
    chain_sessions = sessionmaker(bind=session.get_bind())
    for trail in trails:
        try:
            trail.chain_all(chain_sessions)
        except Exception as error:  # what was recorded is committed; the next chaining takes it
            log.warning("audit entries left pending after a failed chaining; the next one takes them",
                        extra={"error": type(error).__name__})


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
    pending_refused: int = 0  # entries waiting in audit_pending whose own MAC fails (never chained)


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
               detail: str) -> None:
        """Add the entry to audit_pending in the caller's transaction; it is chained after the
        commit (see the module). Takes no lock that another writer waits for."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}: add it to audit.ACTIONS")
        actor = who.subject if who else "system"
        roles = ",".join(sorted(who.roles)) if who else "system"
        session.execute(audit_pending.insert().values(
            tenant=self.tenant, at=at, actor=actor, roles=roles, action=action, request_id=request_id, detail=detail,
            mac=pending_mac(self.key, self.tenant, at, actor, roles, action, request_id, detail)))
        session.info.setdefault(_APPENDED, set()).add(self)

    def chain(self, session: Session, limit: int = CHAIN_BATCH) -> Chained:
        """Link up to `limit` committed pending entries into the chain, oldest (lowest id) first,
        in the caller's transaction, which holds the head row until it commits: keep it short."""
        p = audit_pending
        waiting = (sa.select(p).where(p.c.tenant == self.tenant, p.c.refused_at.is_(None))
                   .order_by(p.c.id).limit(limit))
        if session.execute(waiting.with_only_columns(p.c.id).limit(1)).first() is None:
            return Chained()  # nothing to do: the head is not even locked
        head = self._lock_head(session)
        # Read after the head lock (a new statement sees what the previous holder committed, its
        # deletions included); SKIP LOCKED: a row another transaction holds is left for later,
        # never read twice.
        rows = session.execute(waiting.with_for_update(skip_locked=True)).mappings().all()
        sequence, previous = head.last_sequence, head.last_hash
        entries, chained, refused = [], [], []
        for row in rows:
            if not _pending_intact(self.key, row):
                refused.append(row["id"])
                continue
            sequence += 1
            mac = entry_mac(self.key, previous, sequence, row["at"], row["actor"], row["roles"], self.tenant,
                            row["action"], row["request_id"], row["detail"])
            entries.append(dict(tenant=self.tenant, sequence=sequence, at=row["at"], actor=row["actor"],
                                roles=row["roles"], action=row["action"], request_id=row["request_id"],
                                detail=row["detail"], prev_hash=previous, hash=mac))
            chained.append(row["id"])
            previous = mac
        if chained:
            session.execute(audit_log.insert(), entries)
            deleted = session.execute(p.delete().where(p.c.id.in_(chained))).rowcount
            if deleted != len(chained):  # someone else took them meanwhile: chain nothing, not twice
                raise RuntimeError("pending audit entries were removed while being chained; the batch is undone")
            session.execute(audit_head.update().where(audit_head.c.tenant == self.tenant)
                            .values(last_sequence=sequence, last_hash=previous))
        if refused:
            session.execute(p.update().where(p.c.id.in_(refused)).values(refused_at=utcnow()))
        return Chained(len(chained), len(refused), more=len(rows) == limit)

    def chain_all(self, sessions: sessionmaker) -> Chained:
        """Chain every pending entry committed before the call, a batch per transaction. A refused
        entry is counted as a broken verification and logged by count, never by content."""
        chained = refused = 0
        while True:
            with sessions.begin() as s:
                done = self.chain(s)
            chained, refused = chained + done.chained, refused + done.refused
            if done.refused:
                AUDIT_VERIFICATIONS.labels("broken").inc()
                log.error("audit entries refused: their own MAC fails, so they were changed or written in the database "
                          "without the audit key; they stay in audit_pending, not chained",
                          extra={"count": done.refused})
            if not done.more:
                return Chained(chained, refused)

    def _lock_head(self, session: Session):
        q = sa.select(audit_head).where(audit_head.c.tenant == self.tenant).with_for_update()
        head = session.execute(q).first()
        if head is None:  # the area's first entry; another chainer may be creating the row right now
            insert_unless_present(session, audit_head, tenant=self.tenant, last_sequence=0, last_hash=GENESIS)
            head = session.execute(q).first()
        return head

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
        entry to be there with the anchored MAC; and require every entry still waiting in
        audit_pending to carry its own valid MAC (the caller chains first, so what waits is what
        was committed since, or what the chainer refused)."""
        anchored: dict[int, set[str]] = {}
        for a in anchors:
            anchored.setdefault(a.sequence, set()).add(a.mac)
        previous_hash, expected, checked, unkeyed = GENESIS, 1, 0, 0
        # Pending entries that will never be chained: a MAC that fails, or a valid one marked
        # refused (the chainer never does that: someone set refused_at to keep it out of the chain).
        forged = marked = 0
        for row in session.execute(sa.select(audit_pending).where(audit_pending.c.tenant == self.tenant)).mappings():
            if not _pending_intact(self.key, row):
                forged += 1
            elif row["refused_at"] is not None:
                marked += 1
        pending_refused = forged + marked

        def bad(sequence: int, problem: str) -> Verification:
            return Verification(False, checked, sequence, problem, unkeyed, sum(
                len(macs) for s, macs in anchored.items() if s < sequence), pending_refused)

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
        anchors_checked = sum(len(m) for m in anchored.values())
        if pending_refused:
            problems = []
            if forged:
                problems.append(f"{forged} entries waiting to be chained fail their own MAC: changed or written in "
                                "the database without the audit key, so never chained (audit_pending)")
            if marked:
                problems.append(f"{marked} entries with a valid MAC were marked refused in the database, which keeps "
                                "them out of the chain (clear their refused_at in audit_pending to chain them)")
            return Verification(False, checked, 0, "; ".join(problems), unkeyed, anchors_checked, pending_refused)
        return Verification(True, checked, unkeyed=unkeyed, anchors_checked=anchors_checked)
