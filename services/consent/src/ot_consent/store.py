"""Consent's tables and repository (SQLAlchemy Core)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ot_runtime.crypto import LEGACY_KEY_ID
from ot_runtime.db import UtcDateTime, inbox_table, insert_unless_present, outbox_table

from .domain import (Assignment, Booking, Case, ConsentForm, ConsentGiver, ConsentVersion, DEFAULT_POLICIES, Party,
                     PartyKind, RequestType, RetentionPolicy)

metadata = sa.MetaData()

cases = sa.Table(
    "cases", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("owner_subject", sa.String(200), nullable=False),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("recommendations_returned_at", UtcDateTime(), nullable=True),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Column("content_erased_at", UtcDateTime(), nullable=True),
    # Intake's RequestSubmitted arrived (the request was stored); cases from before this column
    # count as confirmed (migration 0004). Still NULL after the grace period: an orphan, abandoned.
    sa.Column("confirmed_at", UtcDateTime(), nullable=True),
    sa.Column("abandoned_at", UtcDateTime(), nullable=True),
    sa.Index("ix_cases_erasure", "tenant", "content_erased_at"),
)

# Every version is kept: the history of a consent is itself part of the record.
consent_versions = sa.Table(
    "consent_versions", metadata,
    sa.Column("request_id", sa.String(36), sa.ForeignKey("cases.request_id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("form", sa.String(40), nullable=False),
    sa.Column("given_by", sa.String(40), nullable=True),
    sa.Column("child_capacity_assessed", sa.Boolean, nullable=False),
    sa.Column("scope", sa.JSON, nullable=False),
    sa.Column("given_at", UtcDateTime(), nullable=False),
    sa.Column("withdrawn", sa.Boolean, nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
)

# The wrapped data key is set to NULL when shredded; the row stays as evidence of when and why.
# key_id names the master key version that wrapped it (rows from before versioning: v1, the
# single key of that time; its server default also labels rows a previous release still writes).
data_keys = sa.Table(
    "data_keys", metadata,
    sa.Column("request_id", sa.String(36), sa.ForeignKey("cases.request_id"), primary_key=True),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("shredded_at", UtcDateTime(), nullable=True),
    sa.Column("shred_reason", sa.String(200), nullable=True),
    sa.Column("key_id", sa.String(32), nullable=False, server_default=LEGACY_KEY_ID),
    sa.Index("ix_data_keys_key_id", "key_id"),
)

# Every master key version that has been current, and when it was retired. The keys themselves
# are never here (they are configuration, from a Secret). The row is also the lock that keeps a
# retirement and a new wrap under that version from crossing (FOR UPDATE against FOR SHARE).
master_keys = sa.Table(
    "master_keys", metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    # When consent first ran with it as the current version (none for a version only retired here).
    sa.Column("made_current_at", UtcDateTime(), nullable=True),
    sa.Column("retired_at", UtcDateTime(), nullable=True),
)

# One row: when the migration that taught consent to confirm cases ran (0004). Cases opened
# before since + the grace period are never swept as orphans: during the rolling upgrade the
# previous release's consumers may have taken (and ignored) their RequestSubmitted. No row (a
# database made without the migrations, as in unit tests): no such limit.
orphan_sweep = sa.Table(
    "orphan_sweep", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("since", UtcDateTime(), nullable=False),
)

retention_policies = sa.Table(
    "retention_policies", metadata,
    sa.Column("tenant", sa.String(40), primary_key=True),
    sa.Column("type", sa.String(40), primary_key=True),
    sa.Column("grace_days_after_recommendations", sa.Integer, nullable=False),
    sa.Column("max_days_after_submission", sa.Integer, nullable=False),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("tenant", sa.String(40), primary_key=True),
    sa.Column("sequence", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("roles", sa.String(200), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("request_id", sa.String(36), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    # hash: the entry's HMAC-SHA256 under the audit key (plain SHA-256 for entries written before
    # the trail was keyed); prev_hash: the previous entry's.
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_request", "tenant", "request_id"),
)

audit_head = sa.Table(
    "audit_head", metadata,
    sa.Column("tenant", sa.String(40), primary_key=True),
    sa.Column("last_sequence", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    # The last sequence published as an anchor (see audit.Trail.anchor).
    sa.Column("anchored_sequence", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False,
              server_default="0"),
)

# Entries written but not yet linked into the chain (audit.Trail.append, Trail.chain): a writer
# adds one here in its own transaction without touching the head; the chainer moves them into
# audit_log in id order. `mac`: the entry's own HMAC under the audit key (audit.pending_mac), so a
# row changed or forged in the database is refused; `refused_at`: when the chainer refused it (it
# stays here, never chained, for verify and the investigation).
audit_pending = sa.Table(
    "audit_pending", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("roles", sa.String(200), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("request_id", sa.String(36), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
    sa.Column("refused_at", UtcDateTime(), nullable=True),
    sa.Index("ix_audit_pending_tenant", "tenant", "id"),
)

# Who may read a case besides its owner and the coordinators: the experts assigned to it now (from
# experts' events, each with the full set) and the group it is booked into now (from intake's
# status changes). One whole row per request, replaced by each event newer than it (`as_of`). No
# foreign key to cases: the events may come before consent knows the case (or for a request it
# never opened), and a row without its case gives nobody anything. Both go when the content is
# shredded.
expert_assignments = sa.Table(
    "expert_assignments", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("expert_ids", sa.JSON, nullable=False),
    sa.Column("as_of", UtcDateTime(), nullable=False),
)

group_bookings = sa.Table(
    "group_bookings", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("group_id", sa.String(80), nullable=True),
    sa.Column("answered_at", UtcDateTime(), nullable=True),
    sa.Column("as_of", UtcDateTime(), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


class ConsentRepository:
    def __init__(self, session: Session):
        self.session = session

    def case(self, request_id: str, tenant: str, for_update: bool = False) -> Case | None:
        q = sa.select(cases).where(cases.c.request_id == request_id, cases.c.tenant == tenant)
        row = self.session.execute(q.with_for_update() if for_update else q).mappings().first()
        return _case(row) if row else None

    def add_case_unless_present(self, case: Case) -> bool:
        """False when a case with the id exists (or is being written by another transaction, which
        this then waits for)."""
        return insert_unless_present(self.session, cases, **{**vars(case), "type": case.type.value})

    def save_case(self, case: Case) -> None:
        values = dict(vars(case))
        values.pop("request_id")
        values["type"] = case.type.value
        self.session.execute(cases.update().where(cases.c.request_id == case.request_id).values(**values))

    def versions(self, request_id: str) -> list[ConsentVersion]:
        rows = self.session.execute(sa.select(consent_versions).where(consent_versions.c.request_id == request_id)
                                    .order_by(consent_versions.c.version)).mappings()
        return [_version(r) for r in rows]

    def current(self, request_id: str) -> ConsentVersion | None:
        versions = self.versions(request_id)
        return versions[-1] if versions else None

    def add_version(self, v: ConsentVersion) -> None:
        self.session.execute(consent_versions.insert().values(
            request_id=v.request_id, version=v.version, form=v.form.value,
            given_by=v.given_by.value if v.given_by else None, child_capacity_assessed=v.child_capacity_assessed,
            scope=[{"kind": p.kind.value, "id": p.id} for p in v.scope], given_at=v.given_at,
            withdrawn=v.withdrawn, recorded_at=v.recorded_at, recorded_by=v.recorded_by))

    def wrapped_key(self, request_id: str) -> tuple[str, bytes] | None:
        """(master key version, wrapped key), or None once shredded."""
        row = self.session.execute(sa.select(data_keys.c.key_id, data_keys.c.wrapped_key)
                                   .where(data_keys.c.request_id == request_id)).first()
        return (row.key_id, row.wrapped_key) if row and row.wrapped_key is not None else None

    def add_key(self, request_id: str, key_id: str, wrapped: bytes, at) -> None:
        self.session.execute(data_keys.insert().values(request_id=request_id, key_id=key_id, wrapped_key=wrapped,
                                                       created_at=at))

    # --- master key versions ----------------------------------------------------------------
    def live_keys_by_version(self) -> dict[str, int]:
        """How many unshredded data keys each master key version wraps."""
        rows = self.session.execute(sa.select(data_keys.c.key_id, sa.func.count()).where(
            data_keys.c.wrapped_key.is_not(None)).group_by(data_keys.c.key_id))
        return {key_id: count for key_id, count in rows}

    def versions_ever_used(self) -> set[str]:
        """Every version that has been current or has wrapped a key (shredded rows keep theirs)."""
        used = set(self.session.execute(sa.select(data_keys.c.key_id).distinct()).scalars())
        return used | set(self.session.execute(sa.select(master_keys.c.key_id)).scalars())

    def sample_key(self, key_id: str) -> tuple[str, bytes] | None:
        row = self.session.execute(sa.select(data_keys.c.request_id, data_keys.c.wrapped_key).where(
            data_keys.c.key_id == key_id, data_keys.c.wrapped_key.is_not(None)).limit(1)).first()
        return (row.request_id, row.wrapped_key) if row else None

    def keys_not_under(self, key_id: str, limit: int) -> list:
        """Up to `limit` live data keys wrapped under another version than `key_id`, locked."""
        return self.session.execute(sa.select(data_keys.c.request_id, data_keys.c.key_id, data_keys.c.wrapped_key)
                                    .where(data_keys.c.wrapped_key.is_not(None), data_keys.c.key_id != key_id)
                                    .order_by(data_keys.c.request_id).limit(limit).with_for_update()).all()

    def rewrap(self, request_id: str, old_key_id: str, new_key_id: str, wrapped: bytes) -> None:
        self.session.execute(data_keys.update().where(data_keys.c.request_id == request_id,
                                                      data_keys.c.key_id == old_key_id,
                                                      data_keys.c.wrapped_key.is_not(None))
                             .values(key_id=new_key_id, wrapped_key=wrapped))

    def master_key(self, key_id: str, lock: str = ""):
        """The version's row; lock "share" while wrapping under it, "update" while retiring it."""
        q = sa.select(master_keys).where(master_keys.c.key_id == key_id)
        if lock:
            q = q.with_for_update(read=lock == "share")
        return self.session.execute(q).first()

    def master_key_rows(self) -> list:
        return self.session.execute(sa.select(master_keys)).all()

    def add_master_key(self, key_id: str, made_current_at, retired_at=None) -> None:
        self.session.execute(master_keys.insert().values(key_id=key_id, made_current_at=made_current_at,
                                                         retired_at=retired_at))

    def retire_master_key(self, key_id: str, at) -> None:
        self.session.execute(master_keys.update().where(master_keys.c.key_id == key_id).values(retired_at=at))

    def shred_key(self, request_id: str, at, reason: str) -> None:
        self.session.execute(data_keys.update().where(data_keys.c.request_id == request_id)
                             .values(wrapped_key=None, shredded_at=at, shred_reason=reason))

    def confirm(self, request_id: str, tenant: str, at) -> Case | None:
        """Mark the case confirmed (once); the case as it is now, or None when consent never saw it."""
        self.session.execute(cases.update().where(cases.c.request_id == request_id, cases.c.tenant == tenant,
                                                  cases.c.confirmed_at.is_(None)).values(confirmed_at=at))
        return self.case(request_id, tenant)

    def unconfirmed_cases(self, tenant: str) -> list[Case]:
        rows = self.session.execute(sa.select(cases).where(cases.c.tenant == tenant, cases.c.confirmed_at.is_(None),
                                                           cases.c.content_erased_at.is_(None))).mappings()
        return [_case(r) for r in rows]

    def latest_confirmed_opening(self, tenant: str):
        """When the newest case that intake has confirmed was opened (None: none confirmed yet)."""
        return self.session.execute(sa.select(sa.func.max(cases.c.opened_at)).where(
            cases.c.tenant == tenant, cases.c.confirmed_at.is_not(None))).scalar()

    def sweep_since(self):
        return self.session.execute(sa.select(orphan_sweep.c.since).where(orphan_sweep.c.id == 1)).scalar()

    def drop_versions(self, request_id: str) -> None:
        self.session.execute(consent_versions.delete().where(consent_versions.c.request_id == request_id))

    def open_cases(self, tenant: str) -> list[Case]:
        rows = self.session.execute(sa.select(cases).where(cases.c.tenant == tenant,
                                                           cases.c.content_erased_at.is_(None))).mappings()
        return [_case(r) for r in rows]

    # --- who else may read: assignments and bookings ----------------------------------------
    def assignment(self, request_id: str) -> Assignment | None:
        row = self.session.execute(sa.select(expert_assignments).where(
            expert_assignments.c.request_id == request_id)).mappings().first()
        return Assignment(row["request_id"], list(row["expert_ids"]), row["as_of"]) if row else None

    def save_assignment(self, a: Assignment, existed: bool) -> None:
        values = {"expert_ids": a.expert_ids, "as_of": a.as_of}
        if existed:
            self.session.execute(expert_assignments.update().where(
                expert_assignments.c.request_id == a.request_id).values(**values))
        else:
            self.session.execute(expert_assignments.insert().values(request_id=a.request_id, **values))

    def booking(self, request_id: str) -> Booking | None:
        row = self.session.execute(sa.select(group_bookings).where(
            group_bookings.c.request_id == request_id)).mappings().first()
        return Booking(row["request_id"], row["group_id"], row["answered_at"], row["as_of"]) if row else None

    def save_booking(self, b: Booking, existed: bool) -> None:
        values = {"group_id": b.group_id, "answered_at": b.answered_at, "as_of": b.as_of}
        if existed:
            self.session.execute(group_bookings.update().where(
                group_bookings.c.request_id == b.request_id).values(**values))
        else:
            self.session.execute(group_bookings.insert().values(request_id=b.request_id, **values))

    def forget_readers(self, request_id: str) -> None:
        """The content is gone: nobody's right to read it needs keeping."""
        self.session.execute(expert_assignments.delete().where(expert_assignments.c.request_id == request_id))
        self.session.execute(group_bookings.delete().where(group_bookings.c.request_id == request_id))

    def policy(self, tenant: str, type_: RequestType,
               defaults: dict[RequestType, RetentionPolicy] = DEFAULT_POLICIES) -> RetentionPolicy:
        row = self.session.execute(sa.select(retention_policies).where(
            retention_policies.c.tenant == tenant, retention_policies.c.type == type_.value)).mappings().first()
        if row is None:
            return defaults[type_]
        return RetentionPolicy(type_, row["grace_days_after_recommendations"], row["max_days_after_submission"])

    def set_policy(self, tenant: str, p: RetentionPolicy) -> None:
        self.session.execute(retention_policies.delete().where(retention_policies.c.tenant == tenant,
                                                               retention_policies.c.type == p.type.value))
        self.session.execute(retention_policies.insert().values(
            tenant=tenant, type=p.type.value, grace_days_after_recommendations=p.grace_days_after_recommendations,
            max_days_after_submission=p.max_days_after_submission))


def _case(row) -> Case:
    return Case(request_id=row["request_id"], tenant=row["tenant"], type=RequestType(row["type"]),
                owner_subject=row["owner_subject"], opened_at=row["opened_at"],
                recommendations_returned_at=row["recommendations_returned_at"], ended_at=row["ended_at"],
                content_erased_at=row["content_erased_at"], confirmed_at=row["confirmed_at"],
                abandoned_at=row["abandoned_at"])


def _version(r) -> ConsentVersion:
    return ConsentVersion(
        request_id=r["request_id"], version=r["version"], form=ConsentForm(r["form"]),
        given_by=ConsentGiver(r["given_by"]) if r["given_by"] else None,
        child_capacity_assessed=r["child_capacity_assessed"],
        scope=[Party(PartyKind(p["kind"]), p["id"]) for p in r["scope"]], given_at=r["given_at"],
        withdrawn=r["withdrawn"], recorded_at=r["recorded_at"], recorded_by=r["recorded_by"])
