"""Intake's tables and repository (SQLAlchemy Core, the same on PostgreSQL and SQLite).

The repository works inside a session the caller owns, so a use case's changes and its outbox
events commit together (the unit of work is `sessions.begin()`).
"""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ot_runtime.db import UtcDateTime, inbox_table, outbox_table

from .domain import (Category, ClientFacts, Consent, ConsentGiver, ConsentNeed, ConsultationRequest, Gender,
                     Meeting, Professional, RequestType, Sector, Status)

metadata = sa.MetaData()

requests = sa.Table(
    "requests", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("owner_subject", sa.String(200), nullable=False),
    sa.Column("prof_name", sa.String(200), nullable=False),
    sa.Column("prof_phone", sa.String(50), nullable=False),
    sa.Column("prof_email", sa.String(200), nullable=False),
    sa.Column("profession", sa.String(200), nullable=False),
    sa.Column("organisation", sa.String(200), nullable=False),
    sa.Column("sector", sa.String(20), nullable=False),
    # Age and gender only (the texts are sealed); emptied when the request's key is shredded.
    sa.Column("client", sa.JSON, nullable=False),
    sa.Column("sealed_content", sa.LargeBinary, nullable=True),  # NULL once erased
    sa.Column("discussed_in_own_team", sa.Boolean, nullable=False),
    sa.Column("consent_need", sa.String(40), nullable=False),
    sa.Column("consent_given_by", sa.String(40), nullable=True),
    sa.Column("consent_child_capacity_assessed", sa.Boolean, nullable=False),
    sa.Column("anonymous", sa.Boolean, nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("screening_score", sa.Integer, nullable=False),
    sa.Column("sealed_triage_note", sa.LargeBinary, nullable=True),
    sa.Column("content_erased_at", UtcDateTime(), nullable=True),
    sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id"), nullable=True),
    sa.Column("expert_ids", sa.JSON, nullable=False),
    sa.Column("idempotency_key", sa.String(100), nullable=True),
    sa.UniqueConstraint("owner_subject", "idempotency_key", name="uq_requests_owner_idempotency"),
    sa.Index("ix_requests_tenant_submitted", "tenant", "submitted_at", "id"),
    sa.Index("ix_requests_tenant_status", "tenant", "status"),
)

# One row per category, so that "all requests in category X" is an indexed query.
request_categories = sa.Table(
    "request_categories", metadata,
    sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category", sa.String(40), primary_key=True),
    sa.Index("ix_request_categories_category", "category"),
)

meetings = sa.Table(
    "meetings", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("group_id", sa.String(64), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("booked", sa.Integer, nullable=False),
    sa.Column("booking_lead_days", sa.Integer, nullable=False),
    sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_meetings_booked_within_capacity"),
    sa.Index("ix_meetings_group_start", "tenant", "group_id", "starts_at"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


@dataclass(frozen=True)
class RequestFilter:
    status: Status | None = None
    category: Category | None = None
    type: RequestType | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    page_size: int = 20
    page_token: str = ""


def encode_page_token(submitted_at: datetime, request_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([submitted_at.isoformat(), request_id]).encode()).decode()


# The times a page can start from: those of any stored request (see fields' timestamp range).
_TOKEN_TIMES = (datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(2200, 1, 1, tzinfo=timezone.utc))


def decode_page_token(token: str) -> tuple[datetime, str]:
    """Raise ValueError for any token we did not make: not base64 JSON of [time, request id], a
    time without a zone (it cannot be compared with a stored time) or out of range, an id that
    is not a request id."""
    try:
        at, rid = json.loads(base64.urlsafe_b64decode(token.encode()))
        when = datetime.fromisoformat(at)
        rid = str(uuid.UUID(rid))
    except (TypeError, ValueError, AttributeError) as error:  # binascii.Error and JSON errors are ValueErrors
        raise ValueError("not a page token of this service") from error
    if when.tzinfo is None or not _TOKEN_TIMES[0] <= when < _TOKEN_TIMES[1]:
        raise ValueError("not a page token of this service")
    return when, rid


class IntakeRepository:
    def __init__(self, session: Session):
        self.session = session

    # --- requests -------------------------------------------------------------------------
    def add(self, r: ConsultationRequest) -> None:
        self.session.execute(requests.insert().values(**_request_row(r)))
        self.session.execute(request_categories.insert(), [{"request_id": r.id, "category": c.value}
                                                           for c in r.categories])

    def save(self, r: ConsultationRequest) -> None:
        """Store a lifecycle change. Content is never rewritten here: it is sealed, see set_triage_note."""
        self.session.execute(requests.update().where(requests.c.id == r.id).values(
            status=r.status.value, updated_at=r.updated_at, meeting_id=r.meeting_id or None,
            expert_ids=r.expert_ids))

    def set_sealed_content(self, request_id: str, sealed: bytes) -> None:
        self.session.execute(requests.update().where(requests.c.id == request_id).values(sealed_content=sealed))

    def set_triage_note(self, request_id: str, sealed: bytes | None) -> None:
        self.session.execute(requests.update().where(requests.c.id == request_id)
                             .values(sealed_triage_note=sealed))

    def erase_content(self, request_id: str, at: datetime) -> bool:
        """Drop the ciphertext (its key is already gone) and the client's age and gender; False
        when there is no such request."""
        result = self.session.execute(requests.update().where(requests.c.id == request_id).values(
            sealed_content=None, sealed_triage_note=None, client={}, content_erased_at=at))
        return result.rowcount == 1

    def get(self, request_id: str, tenant: str, *, for_update: bool = False) -> ConsultationRequest | None:
        query = sa.select(requests).where(requests.c.id == request_id, requests.c.tenant == tenant)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).mappings().first()
        return self._load(row) if row else None

    def find_by_idempotency_key(self, owner: str, key: str, tenant: str) -> ConsultationRequest | None:
        row = self.session.execute(sa.select(requests).where(
            requests.c.owner_subject == owner, requests.c.idempotency_key == key,
            requests.c.tenant == tenant)).mappings().first()
        return self._load(row) if row else None

    def list(self, tenant: str, f: RequestFilter) -> tuple[list[ConsultationRequest], str, int]:
        """A page of the area's requests, newest first, and the token of the next page."""
        conditions = [requests.c.tenant == tenant]
        if f.status:
            conditions.append(requests.c.status == f.status.value)
        if f.type:
            conditions.append(requests.c.type == f.type.value)
        if f.category:
            conditions.append(requests.c.id.in_(sa.select(request_categories.c.request_id)
                                                .where(request_categories.c.category == f.category.value)))
        if f.submitted_from:
            conditions.append(requests.c.submitted_at >= f.submitted_from)
        if f.submitted_to:
            conditions.append(requests.c.submitted_at < f.submitted_to)
        total = self.session.execute(sa.select(sa.func.count()).select_from(requests)
                                     .where(*conditions)).scalar_one()
        page = list(conditions)
        if f.page_token:
            at, rid = decode_page_token(f.page_token)
            page.append(sa.or_(requests.c.submitted_at < at,
                               sa.and_(requests.c.submitted_at == at, requests.c.id < rid)))
        rows = self.session.execute(sa.select(requests).where(*page)
                                    .order_by(requests.c.submitted_at.desc(), requests.c.id.desc())
                                    .limit(f.page_size + 1)).mappings().all()
        items = self._load_all(rows[:f.page_size])
        next_token = encode_page_token(items[-1].submitted_at, items[-1].id) if len(rows) > f.page_size else ""
        return items, next_token, total

    def _load_all(self, rows) -> list[ConsultationRequest]:
        """Many requests with their categories in one query (a list page must not cost a query a row)."""
        ids = [r["id"] for r in rows]
        by_request: dict[str, list[str]] = {i: [] for i in ids}
        if ids:
            for rid, cat in self.session.execute(
                    sa.select(request_categories.c.request_id, request_categories.c.category)
                    .where(request_categories.c.request_id.in_(ids)).order_by(request_categories.c.category)):
                by_request[rid].append(cat)
        return [self._load(r, by_request[r["id"]]) for r in rows]

    def _load(self, row, cats: list[str] | None = None) -> ConsultationRequest:
        if cats is None:
            return self._load_all([row])[0]
        client = row["client"]
        return ConsultationRequest(
            id=row["id"], tenant=row["tenant"], type=RequestType(row["type"]), status=Status(row["status"]),
            owner_subject=row["owner_subject"],
            professional=Professional(name=row["prof_name"], phone=row["prof_phone"], email=row["prof_email"],
                                      profession=row["profession"], organisation=row["organisation"],
                                      sector=Sector(row["sector"]), wellbeing_area=row["tenant"]),
            categories=[Category(c) for c in cats],
            client=ClientFacts(age_years=client.get("age_years"),
                               gender=Gender(client["gender"]) if client.get("gender") else None),
            question="", discussed_in_own_team=row["discussed_in_own_team"],
            consent=Consent(need=ConsentNeed(row["consent_need"]),
                            given_by=ConsentGiver(row["consent_given_by"]) if row["consent_given_by"] else None,
                            child_capacity_assessed=row["consent_child_capacity_assessed"]),
            anonymous=row["anonymous"], submitted_at=row["submitted_at"], updated_at=row["updated_at"],
            screening_score=row["screening_score"], meeting_id=row["meeting_id"] or "",
            expert_ids=list(row["expert_ids"] or []), idempotency_key=row["idempotency_key"] or "",
            content_included=False, content_erased=row["content_erased_at"] is not None,
            sealed_content=row["sealed_content"], sealed_triage_note=row["sealed_triage_note"])

    def owned_by(self, owner: str, tenant: str) -> list[ConsultationRequest]:
        rows = self.session.execute(sa.select(requests).where(requests.c.owner_subject == owner,
                                                              requests.c.tenant == tenant)
                                    .order_by(requests.c.submitted_at)).mappings().all()
        return self._load_all(rows)

    def erase_professional(self, owner: str, pseudonym: str, tenant: str) -> int:
        result = self.session.execute(requests.update().where(
            requests.c.owner_subject == owner, requests.c.tenant == tenant).values(
            owner_subject=pseudonym, prof_name="", prof_phone="", prof_email="", organisation=""))
        return result.rowcount

    # --- meetings -------------------------------------------------------------------------
    def add_meeting(self, m: Meeting) -> None:
        self.session.execute(meetings.insert().values(
            id=m.id, tenant=m.tenant, group_id=m.group_id, starts_at=m.starts_at, capacity=m.capacity,
            booked=m.booked, booking_lead_days=m.booking_lead_days))

    def get_meeting(self, meeting_id: str, tenant: str) -> Meeting | None:
        row = self.session.execute(sa.select(meetings).where(meetings.c.id == meeting_id,
                                                             meetings.c.tenant == tenant)).mappings().first()
        return _meeting(row) if row else None

    def list_meetings(self, tenant: str, group_id: str, start_from: datetime) -> list[Meeting]:
        q = sa.select(meetings).where(meetings.c.tenant == tenant, meetings.c.starts_at >= start_from)
        if group_id:
            q = q.where(meetings.c.group_id == group_id)
        return [_meeting(r) for r in self.session.execute(q.order_by(meetings.c.starts_at)).mappings()]

    def take_place(self, meeting_id: str) -> bool:
        """Take one place if one is free. One conditional UPDATE, so of two concurrent bookings
        for the last place exactly one succeeds (the row lock serialises them on PostgreSQL)."""
        result = self.session.execute(meetings.update().where(
            meetings.c.id == meeting_id, meetings.c.booked < meetings.c.capacity)
            .values(booked=meetings.c.booked + 1))
        return result.rowcount == 1

    def release_place(self, meeting_id: str) -> None:
        self.session.execute(meetings.update().where(meetings.c.id == meeting_id, meetings.c.booked > 0)
                             .values(booked=meetings.c.booked - 1))

    def next_meeting_with_room(self, tenant: str, group_id: str, now: datetime,
                               exclude: str = "") -> Meeting | None:
        for m in self.list_meetings(tenant, group_id, now):
            if m.id != exclude and m.open_for_booking(now):
                return m
        return None


def _request_row(r: ConsultationRequest) -> dict:
    return dict(
        id=r.id, tenant=r.tenant, type=r.type.value, status=r.status.value, owner_subject=r.owner_subject,
        prof_name=r.professional.name, prof_phone=r.professional.phone, prof_email=r.professional.email,
        profession=r.professional.profession, organisation=r.professional.organisation,
        sector=r.professional.sector.value,
        client={"age_years": r.client.age_years, "gender": r.client.gender.value if r.client.gender else None},
        sealed_content=r.sealed_content, discussed_in_own_team=r.discussed_in_own_team,
        consent_need=r.consent.need.value,
        consent_given_by=r.consent.given_by.value if r.consent.given_by else None,
        consent_child_capacity_assessed=r.consent.child_capacity_assessed, anonymous=r.anonymous,
        submitted_at=r.submitted_at, updated_at=r.updated_at, screening_score=r.screening_score,
        sealed_triage_note=r.sealed_triage_note, meeting_id=r.meeting_id or None, expert_ids=r.expert_ids,
        idempotency_key=r.idempotency_key or None)


def _meeting(row) -> Meeting:
    return Meeting(id=row["id"], tenant=row["tenant"], group_id=row["group_id"], starts_at=row["starts_at"],
                   capacity=row["capacity"], booked=row["booked"], booking_lead_days=row["booking_lead_days"])
