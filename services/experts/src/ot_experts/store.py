"""Experts' tables and repository (SQLAlchemy Core, the same on PostgreSQL and SQLite).

- `experts`: the catalogue copy. Rows of origin "catalogue" are written only by the versioned
  seed dataset (`ot-experts seed`); rows of origin "area" by this area's coordinators.
- `expert_overlays`: what this area keeps of its own about any expert (availability, local
  note, active, retired). The dataset never touches it.
- `agreements`, `groups`: seed data (the areas' agreements and the OT service map).
- `case_requests`: what experts knows of intake's requests: id, type, categories, status and the
  trace of the case. Never contact data or free text (intake's events carry none). A row whose
  status is NOT_ANNOUNCED only remembers a consent withdrawal that arrived before intake's
  submission: no use case sees it until intake's event fills it in.
- `proposal_sets` / `proposals`: the explained ranking computed for a request.
- `assignments`: one row per expert per request, kept after removal (history).
The repository works inside a session the caller owns (unit of work = `sessions.begin()`).
"""
from __future__ import annotations

import base64
import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ot_runtime.db import UtcDateTime, inbox_table, outbox_table

from .domain import (Agreement, Availability, Category, Contact, Cost, Expert, Group, Modality, NetworkStatus,
                     Overlay, RequestStatus, RequestType)

metadata = sa.MetaData()

experts = sa.Table(
    "experts", metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("origin", sa.String(20), nullable=False),
    sa.Column("origin_area", sa.String(40), nullable=False, server_default=""),
    sa.Column("dataset_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name_fi", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("organisation", sa.String(200), nullable=False),
    sa.Column("description_fi", sa.Text, nullable=False),
    sa.Column("description_en", sa.Text, nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("competences", sa.JSON, nullable=False),
    sa.Column("cost", sa.String(10), nullable=False),
    sa.Column("price_note", sa.Text, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("modalities", sa.JSON, nullable=False),
    sa.Column("network_status", sa.String(30), nullable=False),
    sa.Column("contact_name", sa.String(200), nullable=False),
    sa.Column("contact_role", sa.String(200), nullable=False),
    sa.Column("contact_email", sa.String(200), nullable=False),
    sa.Column("user_subject", sa.String(200), nullable=False, server_default=""),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_experts_user_subject", "user_subject"),
)

expert_overlays = sa.Table(
    "expert_overlays", metadata,
    sa.Column("tenant", sa.String(40), primary_key=True),
    sa.Column("expert_id", sa.String(80), sa.ForeignKey("experts.id"), primary_key=True),
    sa.Column("availability", sa.String(20), nullable=False),
    sa.Column("local_note", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("retired_at", UtcDateTime(), nullable=True),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

agreements = sa.Table(
    "agreements", metadata,
    sa.Column("area", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("signed", sa.String(100), nullable=False),
    sa.Column("expert_ids", sa.JSON, nullable=False),
    sa.Column("note_fi", sa.Text, nullable=False),
    sa.Column("note_en", sa.Text, nullable=False),
    sa.Column("dataset_version", sa.Integer, nullable=False),
)

groups = sa.Table(
    "service_groups", metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("area", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("name_fi", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("meeting_rhythm_fi", sa.Text, nullable=False),
    sa.Column("meeting_rhythm_en", sa.Text, nullable=False),
    sa.Column("booking_lead_days", sa.Integer, nullable=False),
    sa.Column("member_fields", sa.JSON, nullable=False),
    sa.Column("client_may_attend", sa.Boolean, nullable=False),
    sa.Column("contact_role", sa.String(200), nullable=False),
    sa.Column("location", sa.String(100), nullable=False),
    sa.Column("dataset_version", sa.Integer, nullable=False),
    sa.Index("ix_groups_area", "area", "kind"),
)

# Which dataset versions this database has loaded (the seed is idempotent per version).
datasets = sa.Table(
    "datasets", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("loaded_at", UtcDateTime(), nullable=False),
)

case_requests = sa.Table(
    "case_requests", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("status", sa.String(40), nullable=False),
    # W3C traceparent of the event that introduced the request: assignments continue that trace.
    sa.Column("traceparent", sa.String(100), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # Set when the consent service reports the client's consent withdrawn: the case is offered no more.
    sa.Column("consent_withdrawn_at", UtcDateTime(), nullable=True),
)

proposal_sets = sa.Table(
    "proposal_sets", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("case_requests.id"), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("trigger", sa.String(20), nullable=False),
    sa.Column("source_event_id", sa.String(100), nullable=False),
    sa.Column("computed_at", UtcDateTime(), nullable=False),
    sa.Column("dropped_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("request_id", "revision", name="uq_proposal_sets_request_revision"),
)

proposals = sa.Table(
    "proposals", metadata,
    sa.Column("set_id", sa.String(36), sa.ForeignKey("proposal_sets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("rank", sa.Integer, primary_key=True),
    sa.Column("expert_id", sa.String(80), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
)

assignments = sa.Table(
    "assignments", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("case_requests.id"), nullable=False),
    sa.Column("expert_id", sa.String(80), sa.ForeignKey("experts.id"), nullable=False),
    sa.Column("assigned_by", sa.String(200), nullable=False),
    sa.Column("assigned_at", UtcDateTime(), nullable=False),
    sa.Column("cost_approved", sa.Boolean, nullable=False),
    sa.Column("unassigned_at", UtcDateTime(), nullable=True),
    sa.Column("unassigned_by", sa.String(200), nullable=True),
    sa.Column("unassign_reason", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_assignments_request", "tenant", "request_id"),
    sa.Index("ix_assignments_expert", "tenant", "expert_id", "unassigned_at"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


# The status of a request row that consent's withdrawal created before intake announced the request.
NOT_ANNOUNCED = ""


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def decode_page_token(token: str) -> int:
    """Raise ValueError for a token we did not make."""
    offset = json.loads(base64.urlsafe_b64decode(token.encode()))["o"]
    if not isinstance(offset, int) or offset < 0:
        raise ValueError("bad offset")
    return offset


def expert_row(e: Expert, now: datetime) -> dict:
    return dict(
        id=e.id, origin=e.origin, origin_area=e.origin_area, dataset_version=e.dataset_version, kind=e.kind,
        name_fi=e.name_fi, name_en=e.name_en, organisation=e.organisation, description_fi=e.description_fi,
        description_en=e.description_en, categories=[c.value for c in e.categories],
        competences=list(e.competences), cost=e.cost.value, price_note=e.price_note,
        languages=list(e.languages), modalities=[m.value for m in e.modalities],
        network_status=e.network_status.value, contact_name=e.contact.name, contact_role=e.contact.role,
        contact_email=e.contact.email, user_subject=e.user_subject, updated_at=now)


def _expert(row, overlay_row) -> Expert:
    overlay = Overlay()
    if overlay_row is not None:
        overlay = Overlay(availability=Availability(overlay_row["availability"]), local_note=overlay_row["local_note"],
                          active=overlay_row["active"], retired_at=overlay_row["retired_at"])
    return Expert(
        id=row["id"], kind=row["kind"], name_fi=row["name_fi"], name_en=row["name_en"],
        organisation=row["organisation"], description_fi=row["description_fi"],
        description_en=row["description_en"], categories=tuple(Category(c) for c in row["categories"]),
        competences=tuple(row["competences"]), cost=Cost(row["cost"]), price_note=row["price_note"],
        languages=tuple(row["languages"]), modalities=tuple(Modality(m) for m in row["modalities"]),
        network_status=NetworkStatus(row["network_status"]),
        contact=Contact(row["contact_name"], row["contact_role"], row["contact_email"]),
        user_subject=row["user_subject"], origin=row["origin"], origin_area=row["origin_area"],
        dataset_version=row["dataset_version"], overlay=overlay)


class ExpertsRepository:
    def __init__(self, session: Session, tenant: str):
        self.session = session
        self.tenant = tenant

    # --- catalogue ------------------------------------------------------------------------
    def _overlays(self, ids: list[str] | None = None) -> dict[str, dict]:
        q = sa.select(expert_overlays).where(expert_overlays.c.tenant == self.tenant)
        if ids is not None:
            q = q.where(expert_overlays.c.expert_id.in_(ids))
        return {r["expert_id"]: r for r in self.session.execute(q).mappings()}

    def get_expert(self, expert_id: str) -> Expert | None:
        row = self.session.execute(sa.select(experts).where(experts.c.id == expert_id)).mappings().first()
        if row is None or (row["origin"] == "area" and row["origin_area"] != self.tenant):
            return None  # another area's own experts are not in this area's catalogue
        return _expert(row, self._overlays([expert_id]).get(expert_id))

    def all_experts(self) -> list[Expert]:
        """The catalogue with this area's overlay, by Finnish name. A few dozen rows: filtered in
        Python (the Finnish text match is not SQL)."""
        rows = self.session.execute(sa.select(experts).where(
            sa.or_(experts.c.origin == "catalogue", experts.c.origin_area == self.tenant))
            .order_by(experts.c.name_fi, experts.c.id)).mappings().all()
        overlays = self._overlays()
        return [_expert(r, overlays.get(r["id"])) for r in rows]

    def get_expert_row_exists(self, expert_id: str) -> bool:
        """Whether the id is taken by any expert, another area's own ones included."""
        return self.session.execute(sa.select(experts.c.id).where(experts.c.id == expert_id)).first() is not None

    def experts_for_subject(self, subject: str, *, everywhere: bool = False) -> list[str]:
        """The experts linked to a login subject: those of this area's catalogue, or (everywhere)
        any row of the database, other areas' own experts included."""
        q = sa.select(experts.c.id).where(experts.c.user_subject == subject)
        if not everywhere:
            q = q.where(sa.or_(experts.c.origin == "catalogue", experts.c.origin_area == self.tenant))
        return list(self.session.execute(q.order_by(experts.c.id)).scalars())

    def add_expert(self, e: Expert, now: datetime) -> None:
        self.session.execute(experts.insert().values(**expert_row(e, now)))

    def save_expert(self, e: Expert, now: datetime) -> None:
        row = expert_row(e, now)
        del row["id"]
        self.session.execute(experts.update().where(experts.c.id == e.id).values(**row))

    def save_overlay(self, expert_id: str, o: Overlay, by: str, now: datetime) -> None:
        values = dict(availability=o.availability.value, local_note=o.local_note, active=o.active,
                      retired_at=o.retired_at, updated_by=by, updated_at=now)
        done = self.session.execute(expert_overlays.update().where(
            expert_overlays.c.tenant == self.tenant, expert_overlays.c.expert_id == expert_id).values(**values))
        if done.rowcount == 0:
            self.session.execute(expert_overlays.insert().values(tenant=self.tenant, expert_id=expert_id, **values))

    # --- agreements and groups ------------------------------------------------------------
    def agreement(self, area: str) -> Agreement | None:
        row = self.session.execute(sa.select(agreements).where(agreements.c.area == area)).mappings().first()
        return _agreement(row) if row else None

    def list_agreements(self, area: str = "") -> list[Agreement]:
        q = sa.select(agreements).order_by(agreements.c.area)
        if area:
            q = q.where(agreements.c.area == area)
        return [_agreement(r) for r in self.session.execute(q).mappings()]

    def list_groups(self, area: str, kind: str = "") -> list[Group]:
        q = sa.select(groups).where(groups.c.area == area).order_by(groups.c.kind, groups.c.id)
        if kind:
            q = q.where(groups.c.kind == kind)
        return [Group(id=r["id"], area=r["area"], kind=r["kind"], name_fi=r["name_fi"], name_en=r["name_en"],
                      meeting_rhythm_fi=r["meeting_rhythm_fi"], meeting_rhythm_en=r["meeting_rhythm_en"],
                      booking_lead_days=r["booking_lead_days"], member_fields=tuple(r["member_fields"]),
                      client_may_attend=r["client_may_attend"], contact_role=r["contact_role"],
                      location=r["location"]) for r in self.session.execute(q).mappings()]

    # --- requests and proposals -----------------------------------------------------------
    def get_request(self, request_id: str, *, for_update: bool = False, include_unannounced: bool = False):
        """The request as intake announced it; None when unknown (or only known from consent's
        withdrawal, unless `include_unannounced`)."""
        q = sa.select(case_requests).where(case_requests.c.id == request_id, case_requests.c.tenant == self.tenant)
        if not include_unannounced:
            q = q.where(case_requests.c.status != NOT_ANNOUNCED)
        if for_update:
            q = q.with_for_update()
        return self.session.execute(q).mappings().first()

    def upsert_request(self, request_id: str, type_: RequestType | None, categories: list[Category],
                       status: RequestStatus, traceparent: str | None, now: datetime) -> dict:
        """Record what intake announced; returns the row as it now is (saves reading it back)."""
        existing = self.get_request(request_id, for_update=True, include_unannounced=True)
        values = dict(type=type_.value if type_ else "", categories=[c.value for c in categories],
                      status=status.value, updated_at=now)
        if existing is None:
            row = dict(id=request_id, tenant=self.tenant, traceparent=traceparent, consent_withdrawn_at=None, **values)
            self.session.execute(case_requests.insert().values(**row))
            return row
        else:
            # An event that leaves something out keeps what is known; a row that only remembered a
            # withdrawal gets the case's trace from intake's event.
            if not categories:
                values.pop("categories")
            if not type_:
                values.pop("type")
            if existing["traceparent"] is None:
                values["traceparent"] = traceparent
            self.session.execute(case_requests.update().where(case_requests.c.id == request_id,
                                                              case_requests.c.tenant == self.tenant).values(**values))
            return {**existing, **values}

    def mark_consent_withdrawn(self, request_id: str, now: datetime) -> None:
        if self.get_request(request_id, for_update=True, include_unannounced=True) is None:
            # Consent's event came first: remember it for when intake's event arrives (NOT_ANNOUNCED
            # keeps the row out of every use case until then).
            self.session.execute(case_requests.insert().values(
                id=request_id, tenant=self.tenant, type="", categories=[], status=NOT_ANNOUNCED, updated_at=now,
                consent_withdrawn_at=now))
        else:
            self.session.execute(case_requests.update().where(case_requests.c.id == request_id,
                                                              case_requests.c.tenant == self.tenant)
                                 .values(consent_withdrawn_at=now, updated_at=now))

    def latest_set(self, request_id: str):
        return self.session.execute(sa.select(proposal_sets).where(
            proposal_sets.c.request_id == request_id, proposal_sets.c.tenant == self.tenant)
            .order_by(proposal_sets.c.revision.desc()).limit(1)).mappings().first()

    def add_set(self, set_id: str, request_id: str, revision: int, trigger: str, event_id: str, now: datetime,
                items: list) -> None:
        self.session.execute(proposal_sets.insert().values(
            id=set_id, tenant=self.tenant, request_id=request_id, revision=revision, trigger=trigger,
            source_event_id=event_id, computed_at=now))
        if items:
            self.session.execute(proposals.insert(), [
                {"set_id": set_id, "rank": p.rank, "expert_id": p.expert_id, "score": p.score,
                 "reasons": [{"code": r.code, "points": r.points, "fi": r.fi, "en": r.en} for r in p.reasons]}
                for p in items])

    def drop_open_sets(self, request_id: str, now: datetime) -> int:
        return self.session.execute(proposal_sets.update().where(
            proposal_sets.c.request_id == request_id, proposal_sets.c.tenant == self.tenant,
            proposal_sets.c.dropped_at.is_(None)).values(dropped_at=now)).rowcount

    def proposals_of(self, set_id: str) -> list[dict]:
        return list(self.session.execute(sa.select(proposals).where(proposals.c.set_id == set_id)
                                         .order_by(proposals.c.rank)).mappings())

    # --- assignments ----------------------------------------------------------------------
    def open_load(self) -> dict[str, int]:
        rows = self.session.execute(sa.select(assignments.c.expert_id, sa.func.count()).where(
            assignments.c.tenant == self.tenant, assignments.c.unassigned_at.is_(None))
            .group_by(assignments.c.expert_id)).all()
        return {eid: n for eid, n in rows}

    def assignments_of(self, request_id: str) -> list[dict]:
        return list(self.session.execute(sa.select(assignments).where(
            assignments.c.tenant == self.tenant, assignments.c.request_id == request_id)
            .order_by(assignments.c.unassigned_at.is_not(None), assignments.c.assigned_at, assignments.c.expert_id))
            .mappings())

    def active_assignments_of_experts(self, expert_ids: list[str]) -> list[dict]:
        if not expert_ids:
            return []
        return list(self.session.execute(sa.select(assignments).where(
            assignments.c.tenant == self.tenant, assignments.c.expert_id.in_(expert_ids),
            assignments.c.unassigned_at.is_(None)).order_by(assignments.c.assigned_at.desc())).mappings())

    def add_assignment(self, **values) -> None:
        self.session.execute(assignments.insert().values(tenant=self.tenant, **values))

    def end_assignment(self, assignment_id: str, by: str, reason: str, now: datetime) -> None:
        self.session.execute(assignments.update().where(assignments.c.id == assignment_id)
                             .values(unassigned_at=now, unassigned_by=by, unassign_reason=reason))


def _agreement(row) -> Agreement:
    return Agreement(area=row["area"], kind=row["kind"], signed=row["signed"], expert_ids=tuple(row["expert_ids"]),
                     note_fi=row["note_fi"], note_en=row["note_en"])
