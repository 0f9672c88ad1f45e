"""Response-time statistics from intake's status events: working days to the first response and to
the answer per request type and quarter (the answer's), a figure only when at least 5 requests
stand behind it (over gRPC: Statistics.response_times)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from ot_feedback.domain import Category, RequestType, Status
from ot_feedback.stats import HIDDEN, ResponseTimes, median, parse_period, percentile_90, quarters, response_times

from feedback_testkit import TENANT

# Monday 2 February 2026, 10.00 Finnish time.
MONDAY = datetime(2026, 2, 2, 8, 0, tzinfo=timezone.utc)


def answered(handlers, *, submitted: datetime, first: datetime | None, answered_at: datetime, waited: int,
             type_: RequestType = RequestType.OT_TUKI) -> str:
    """A request's life as intake's status events bring it: submitted, then returned with its times."""
    rid = str(uuid.uuid4())
    with handlers.sessions.begin() as s:
        handlers.on_request_submitted(s, request_id=rid, type_=type_, categories=[Category.CHALLENGING_DIVORCE],
                                      sector=None, submitted_at=submitted)
        handlers.on_status_changed(s, request_id=rid, type_=type_, categories=[], to_status=Status.TRIAGED,
                                   changed_at=submitted, first_response_at=first)
        handlers.on_status_changed(s, request_id=rid, type_=type_, categories=[],
                                   to_status=Status.RECOMMENDATIONS_RETURNED, changed_at=answered_at,
                                   submitted_at=submitted, first_response_at=first, answered_at=answered_at,
                                   waiting_working_days=waited)
        # A later event without the times (closed) keeps them.
        handlers.on_status_changed(s, request_id=rid, type_=type_, categories=[], to_status=Status.CLOSED,
                                   changed_at=answered_at + timedelta(days=1))
    return rid


def test_median_and_nearest_rank_90th_percentile():
    assert median([3, 1, 2]) == "2" and median([1, 2, 3, 4]) == "2.5" and median([5, 5]) == "5"
    assert percentile_90([1, 2, 3, 4, 5]) == "5" and percentile_90(list(range(1, 11))) == "9"
    assert percentile_90(list(range(1, 21))) == "18"


def test_a_year_has_four_quarters_and_a_month_its_own():
    assert [q.label for q in quarters(parse_period("2026"))] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [q.label for q in quarters(parse_period("2026-05"))] == ["2026-Q2"]
    assert [q.label for q in quarters(parse_period("2026-Q4"))] == ["2026-Q4"]


def test_figures_need_five_requests_behind_them():
    q1 = parse_period("2026-Q1")
    at = datetime(2026, 2, 10, tzinfo=timezone.utc)
    four = [("ot_tuki", at, 1, 3)] * 4
    assert response_times(four, [q1], ["ot_tuki"]) == [ResponseTimes("ot_tuki", "2026-Q1", HIDDEN)]
    # Five answered, but only four with a first response known: that figure is blank, the answer's shown.
    five = four + [("ot_tuki", at, None, 7)]
    assert response_times(five, [q1], ["ot_tuki"]) == [
        ResponseTimes("ot_tuki", "2026-Q1", "5", "", "", "3", "7")]
    # Another quarter's answers do not count here.
    later = five + [("ot_tuki", datetime(2026, 4, 10, tzinfo=timezone.utc), 1, 1)] * 10
    assert response_times(later, [q1], ["ot_tuki"])[0].requests == "5"


def test_working_days_come_from_intakes_times_per_type_and_quarter(handlers):
    # Five OT-TUKI requests submitted on Monday 2 Feb: first responses after 1..5 working days
    # (Tuesday .. next Monday), answers with intake's own counts (the pauses already taken off).
    for i, waited in enumerate([4, 6, 6, 8, 12]):
        first = MONDAY + timedelta(days=[1, 2, 3, 4, 7][i])
        answered(handlers, submitted=MONDAY, first=first, answered_at=MONDAY + timedelta(days=20), waited=waited)
    # Four group consultations: too few to show anything.
    for _ in range(4):
        answered(handlers, submitted=MONDAY, first=MONDAY + timedelta(days=1), answered_at=MONDAY + timedelta(days=9),
                 waited=7, type_=RequestType.GROUP_CONSULTATION)
    # Not yet answered: not in the figures.
    with handlers.sessions.begin() as s:
        handlers.on_status_changed(s, request_id=str(uuid.uuid4()), type_=RequestType.OT_TUKI, categories=[],
                                   to_status=Status.TRIAGED, changed_at=MONDAY, submitted_at=MONDAY,
                                   first_response_at=MONDAY + timedelta(days=1))
    rows = {(r.type, r.quarter): r for r in handlers.response_times(parse_period("2026"), None)}
    assert len(rows) == 12  # three types, four quarters
    assert rows[("ot_tuki", "2026-Q1")] == ResponseTimes("ot_tuki", "2026-Q1", "5", "3", "5", "6", "12")
    assert rows[("group_consultation", "2026-Q1")] == ResponseTimes("group_consultation", "2026-Q1", HIDDEN)
    assert rows[("ot_tuki", "2026-Q2")].requests == HIDDEN  # zero is a small count too
    only = handlers.response_times(parse_period("2026-02"), RequestType.OT_TUKI)
    assert [(r.type, r.quarter, r.requests) for r in only] == [("ot_tuki", "2026-Q1", "5")]
