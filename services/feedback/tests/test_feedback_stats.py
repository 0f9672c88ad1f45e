"""Periods and small-cell suppression: no hidden count can be seen or worked out from the totals."""
from __future__ import annotations

import itertools
import random
from datetime import datetime, timezone

import pytest

from ot_feedback.stats import HIDDEN, TOTAL, PeriodError, Table, parse_period


def test_periods_are_months_quarters_and_years_in_finnish_time():
    q = parse_period("2026-q2")
    assert q.label == "2026-Q2"
    assert q.start == datetime(2026, 3, 31, 21, 0, tzinfo=timezone.utc)  # 1.4. 00:00 in Helsinki (summer time)
    assert q.end == datetime(2026, 6, 30, 21, 0, tzinfo=timezone.utc)
    assert parse_period("2026-12").end == datetime(2026, 12, 31, 22, 0, tzinfo=timezone.utc)
    assert parse_period("2026").start == datetime(2025, 12, 31, 22, 0, tzinfo=timezone.utc)
    for bad in ("", "2026-13", "2026-Q5", "last year"):
        with pytest.raises(PeriodError):
            parse_period(bad)


def table(counts: dict, rows=("a", "b", "c"), columns=("x", "y")) -> Table:
    return Table("t", "t", "t", list(rows), list(columns), counts).finish()


def test_every_count_under_five_shows_as_less_than_five_zero_included():
    t = table({("a", "x"): 12, ("a", "y"): 4, ("b", "x"): 7, ("b", "y"): 0, ("c", "x"): 9, ("c", "y"): 8})
    assert t.cell("a", "y") == HIDDEN and t.cell("b", "y") == HIDDEN
    assert t.cell("c", "x") == "9" and t.cell(TOTAL, "x") == "28" and t.cell(TOTAL, TOTAL) == "40"


def test_a_single_hidden_cell_in_a_row_hides_the_rows_next_smallest_too():
    # Row a: 12 and 3 with total 15: showing 12 and 15 would give the 3 away.
    t = table({("a", "x"): 12, ("a", "y"): 3, ("b", "x"): 20, ("b", "y"): 9, ("c", "x"): 30, ("c", "y"): 6})
    assert t.cell("a", "y") == HIDDEN
    assert t.cell("a", "x") == "x"
    # ... and then column x has one hidden cell, so its smallest other cell goes too, and so on.
    assert_no_line_reveals(t)


def assert_no_line_reveals(t: Table):
    """Each row and column with its total: a reader subtracting the shown figures from a shown
    total must not get one hidden figure, nor a hidden sum under 5."""
    lines = [([(r, c) for c in t.columns], (r, TOTAL)) for r in t.shown_rows] if TOTAL in t.shown_columns else []
    lines += [([(r, c) for r in t.rows], (TOTAL, c)) for c in t.shown_columns]
    for cells, total in lines:
        hidden = [p for p in cells if p in t.hidden]
        if total in t.hidden or not hidden:
            continue
        derived = sum(t.values[p] for p in hidden)  # = the total minus the shown figures
        assert not 0 < derived < 5, f"the hidden figures of {cells} add up to {derived}: a small count shows"
    for pos, value in t.values.items():
        if value < 5:
            assert pos in t.hidden and t.cell(*pos) == HIDDEN
        elif pos in t.hidden:
            assert t.cell(*pos) == "x"


def test_random_tables_never_leave_a_recoverable_cell():
    rng = random.Random(7)
    for _ in range(300):
        rows = [f"r{i}" for i in range(rng.randint(0, 5))]
        cols = [f"c{i}" for i in range(rng.randint(1, 4))]
        counts = {(r, c): rng.choice([0, 1, 3, 4, 5, 6, 9, 14, 30]) for r, c in itertools.product(rows, cols)}
        assert_no_line_reveals(table(counts, rows, cols))


def test_large_counts_stay_visible():
    t = table({("a", "x"): 10, ("a", "y"): 11, ("b", "x"): 12, ("b", "y"): 13, ("c", "x"): 14, ("c", "y"): 15})
    assert not t.hidden
    assert t.cell(TOTAL, TOTAL) == "75"


def test_the_areas_figures_hide_a_small_count_and_what_would_give_it_away(handlers):
    # (Was the /stats.csv page's test; the figures are GetStatistics' and the portal shows them.)
    from datetime import timedelta

    from ot_feedback.domain import Category, RequestType, Sector
    from feedback_testkit import NOW
    for i in range(7):
        with handlers.sessions.begin() as s:
            handlers.on_request_submitted(s, request_id=f"s-{i}", type_=RequestType.OT_TUKI,
                                          categories=[Category.NEUROPSYCHIATRIC],
                                          sector=Sector.HEALTH if i < 6 else Sector.EDUCATION,
                                          submitted_at=NOW + timedelta(days=i))
    _, tables, _ = handlers.statistics("2026-03", RequestType.OT_TUKI)
    cells = {(t.name, r, c): t.cell(r, c) for t in tables for r in t.shown_rows for c in t.shown_columns}
    # Social 0 and education 1 add up to 1: from the total 7 and health 6 a reader would know that
    # one education contact exists, so health is hidden too (marked x: it is not small).
    assert cells[("contacts_by_sector", "health", "ot_tuki")] == "x"
    assert cells[("contacts_by_sector", "education", "ot_tuki")] == HIDDEN
    assert cells[("contacts_by_sector", "total", "ot_tuki")] == "7"
    assert cells[("requests_by_category", "neuropsychiatric", "ot_tuki")] == "7"
