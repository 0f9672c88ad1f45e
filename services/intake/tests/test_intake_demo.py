"""`ot-intake seed-demo` (demo.py) on SQLite with a fake consent: one request of each type at a
different stage with its conversation, every text accepted by the guard, and a second run that
adds nothing (not even a read at consent)."""
from datetime import timedelta

import sqlalchemy as sa

from ot_guard import scan
from ot_runtime.clock import FixedClock
from ot_intake.demo import ENTRIES, QUESTIONS, Demo
from ot_intake.domain import RequestType, Status
from ot_intake.store import RequestFilter, entries, meetings, outbox, requests

from intake_testkit import COORDINATOR, NOW, TENANT, make_handlers


def counts(engine) -> dict:
    with engine.connect() as c:
        return {t.name: c.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (requests, entries, meetings, outbox)}


def run(engine, vault):
    clock = FixedClock(NOW)
    return Demo(make_handlers(engine, clock, vault), clock, lambda who: "unused-by-the-fake", TENANT).run(NOW)


def test_every_demo_text_passes_the_guard():
    texts = list(QUESTIONS.values()) + [text for items in ENTRIES.values() for _, _, text in items]
    assert all(scan(text) == [] for text in texts)


def test_one_request_of_each_type_at_a_different_stage_with_a_conversation(engine, vault):
    lines = run(engine, vault)
    assert len(lines) == 5  # the meetings and four requests
    h = make_handlers(engine, FixedClock(NOW), vault)
    listed, _, total = h.list(COORDINATOR, RequestFilter())
    assert total == 4
    assert {r.type for r in listed} == set(RequestType)
    assert sorted(r.status for r in listed) == sorted([Status.AWAITING_INFORMATION, Status.RECOMMENDATIONS_RETURNED,
                                                       Status.SCHEDULED, Status.TRIAGED])
    counted = {r.id: v.entries for r, v in zip(listed, h.views(COORDINATOR, listed))}
    assert all(n >= 1 for n in counted.values())
    by_status = {r.status: r for r in listed}
    assert by_status[Status.TRIAGED].past_target(NOW)  # the worklist shows one late
    assert not by_status[Status.AWAITING_INFORMATION].past_target(NOW)
    assert by_status[Status.RECOMMENDATIONS_RETURNED].answered_at is not None
    with engine.connect() as c:
        assert set(c.execute(sa.select(meetings.c.location)).scalars()) >= {"Perheneuvola, neuvotteluhuone 2"}
        stored = repr(c.execute(sa.select(entries.c.sealed_text)).all())
    assert "vuorotellen" not in stored  # sealed like every conversation


def test_a_second_run_adds_nothing(engine, vault):
    run(engine, vault)
    before, reads = counts(engine), len(vault.reads)
    assert run(engine, vault) == []
    assert counts(engine) == before and len(vault.reads) == reads


def test_a_run_weeks_later_publishes_meetings_that_can_still_be_booked_and_nothing_else(engine, vault):
    run(engine, vault)
    before = counts(engine)
    clock = FixedClock(NOW + timedelta(days=40))  # every demo meeting's booking deadline has passed
    lines = Demo(make_handlers(engine, clock, vault), clock, lambda who: "", TENANT).run(clock.now())
    assert lines == ["published 3 demo meetings in group haastavat-erot-pohjois-savo"]
    after = counts(engine)
    assert after["meetings"] == before["meetings"] + 3
    assert (after["requests"], after["entries"]) == (before["requests"], before["entries"])
