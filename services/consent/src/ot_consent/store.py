"""Consent's tables and repository (SQLAlchemy Core)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ot_runtime.db import UtcDateTime, inbox_table, outbox_table

from .domain import (Case, ConsentForm, ConsentGiver, ConsentVersion, DEFAULT_POLICIES, Party, PartyKind,
                     RequestType, RetentionPolicy)

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
data_keys = sa.Table(
    "data_keys", metadata,
    sa.Column("request_id", sa.String(36), sa.ForeignKey("cases.request_id"), primary_key=True),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("shredded_at", UtcDateTime(), nullable=True),
    sa.Column("shred_reason", sa.String(200), nullable=True),
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
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_request", "tenant", "request_id"),
)

audit_head = sa.Table(
    "audit_head", metadata,
    sa.Column("tenant", sa.String(40), primary_key=True),
    sa.Column("last_sequence", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
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

    def add_case(self, case: Case) -> None:
        self.session.execute(cases.insert().values(**{**vars(case), "type": case.type.value}))

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

    def wrapped_key(self, request_id: str) -> bytes | None:
        return self.session.execute(sa.select(data_keys.c.wrapped_key)
                                    .where(data_keys.c.request_id == request_id)).scalar_one_or_none()

    def add_key(self, request_id: str, wrapped: bytes, at) -> None:
        self.session.execute(data_keys.insert().values(request_id=request_id, wrapped_key=wrapped, created_at=at))

    def shred_key(self, request_id: str, at, reason: str) -> None:
        self.session.execute(data_keys.update().where(data_keys.c.request_id == request_id)
                             .values(wrapped_key=None, shredded_at=at, shred_reason=reason))

    def open_cases(self, tenant: str) -> list[Case]:
        rows = self.session.execute(sa.select(cases).where(cases.c.tenant == tenant,
                                                           cases.c.content_erased_at.is_(None))).mappings()
        return [_case(r) for r in rows]

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
                content_erased_at=row["content_erased_at"])


def _version(r) -> ConsentVersion:
    return ConsentVersion(
        request_id=r["request_id"], version=r["version"], form=ConsentForm(r["form"]),
        given_by=ConsentGiver(r["given_by"]) if r["given_by"] else None,
        child_capacity_assessed=r["child_capacity_assessed"],
        scope=[Party(PartyKind(p["kind"]), p["id"]) for p in r["scope"]], given_at=r["given_at"],
        withdrawn=r["withdrawn"], recorded_at=r["recorded_at"], recorded_by=r["recorded_by"])
