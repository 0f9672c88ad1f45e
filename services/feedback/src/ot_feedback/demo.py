"""`ot-feedback seed-demo`: a fictional year of statistics for `make run`.

Intake's demo has four requests, and with a few cases every figure of the statistics page is
"<5". So that a coordinator of the demo sees the page as an area with a year of work would, this
adds the counts of a made-up year to feedback's statistics facts: four requests a month over the
twelve months before this one (two OT-TUKI, one group consultation, one expert reinforcement),
each with a sector and a case category, the OT-TUKI ones answered with their working days.
Nothing else: no case, no person, no text, no follow-up or mail (the rows are facts only, written
directly, not through the event handlers that schedule mail). The ids are fixed (uuid5), so
running it again adds nothing. It refuses to run in a cluster: demo figures must never enter a
real area's statistics.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from ot_runtime.vocabulary import RequestStatus as Status

from .domain import Category, RequestType, Sector
from .stats import LOCAL, parse_period
from .store import request_facts

MONTHS = 12
_NAMESPACE = uuid.UUID("6f0c9e52-2a7d-4d4e-9d61-0c1f5b7a3e10")  # the demo's own: fixed ids, re-runs add nothing
# One month's requests: (type, sector, categories, working days to the first response and to the answer or None).
_MONTH = [
    (RequestType.OT_TUKI, Sector.SOCIAL, [Category.NEUROPSYCHIATRIC], (1, 6)),
    (RequestType.OT_TUKI, Sector.HEALTH, [Category.CHILD_PROTECTION_SPECIAL], (2, 9)),
    (RequestType.GROUP_CONSULTATION, Sector.SOCIAL, [Category.CHALLENGING_DIVORCE], None),
    (RequestType.EXPERT_REINFORCEMENT, Sector.EDUCATION, [Category.NEUROPSYCHIATRIC], None),
]


def months_before(now: datetime, count: int) -> list[str]:
    """The `count` months before the current one (Finnish time), oldest first, as YYYY-MM."""
    local = now.astimezone(LOCAL)
    year, month, out = local.year, local.month, []
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        out.append(f"{year:04d}-{month:02d}")
    return out[::-1]


def seed_demo(sessions: sessionmaker, tenant: str, now: datetime) -> int:
    """Add the demo year's facts that are not there yet; returns how many were added."""
    added = 0
    with sessions.begin() as s:
        for label in months_before(now, MONTHS):
            start = parse_period(label).start
            for i, (type_, sector, categories, times) in enumerate(_MONTH):
                request_id = str(uuid.uuid5(_NAMESPACE, f"{tenant}/{label}/{i}"))
                if s.execute(sa.select(request_facts.c.request_id)
                             .where(request_facts.c.request_id == request_id)).first():
                    continue
                submitted = start + timedelta(days=3 + 6 * i, hours=8)
                values = dict(request_id=request_id, tenant=tenant, type=type_.value,
                              categories=[c.value for c in categories], sector=sector.value,
                              status=Status.SUBMITTED.value, submitted_at=submitted, updated_at=now)
                if times:
                    first_days, answer_days = times
                    # Calendar days that are at least the working days; the counts are what is shown.
                    values.update(status=Status.CLOSED.value, first_response_at=submitted + timedelta(days=first_days),
                                  answered_at=submitted + timedelta(days=2 * answer_days),
                                  answer_working_days=answer_days)
                s.execute(request_facts.insert().values(**values))
                added += 1
    return added
