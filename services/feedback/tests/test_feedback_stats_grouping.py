"""Statistics that show numbers with a few cases a month: the longest period with data, and coarser
groupings where every finer cell is hidden; with no figure under 5 shown, alone or by subtraction."""
from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta, timezone

from ot_feedback.domain import Category, RequestType, Sector
from ot_feedback.grpc_api import table_to_proto
from ot_feedback.stats import ALL, COMPLEMENTARY, HIDDEN, TOTAL, Table, coarser, whole_period

from feedback_testkit import NOW


def table(counts: dict, rows=("social", "health", "education"), columns=("ot_tuki", "group")) -> Table:
    return Table("contacts_by_sector", "Yhteydenotot sektoreittain", "Contacts by sector", list(rows),
                 list(columns), counts).finish()


def shown(t: Table) -> dict[str, str]:
    return {r: t.cell(r, TOTAL) for r in t.shown_rows}


def assert_line_reveals_nothing(t: Table):
    """A one-way table is one line: its figures and their total. Subtracting the shown figures from a
    shown total must not leave a small hidden sum."""
    figures, total = [(r, TOTAL) for r in t.rows], (TOTAL, TOTAL)
    if total not in t.hidden:
        derived = sum(t.values[p] for p in figures if p in t.hidden)
        assert not 0 < derived < 5, f"{t.name}: the hidden figures add up to {derived}"
    for pos, value in t.values.items():
        assert (pos in t.hidden) == (t.cell(*pos) in (HIDDEN, COMPLEMENTARY))
        if value < 5:
            assert t.cell(*pos) == HIDDEN


def test_a_table_of_small_cells_is_offered_by_type_only_and_by_sector_only():
    fine = table({("social", "ot_tuki"): 4, ("social", "group"): 3, ("health", "ot_tuki"): 3,
                  ("health", "group"): 4, ("education", "ot_tuki"): 2, ("education", "group"): 4})
    assert all(fine.cell(r, c) == HIDDEN for r in fine.rows for c in fine.columns)  # the grid says nothing
    by_sector, by_type = coarser(fine)
    assert (by_sector.name, by_type.name) == ("contacts_by_sector_all_types", "contacts_by_sector_by_type")
    assert by_sector.coarser_of == by_type.coarser_of == "contacts_by_sector"
    assert shown(by_sector) == {"social": "7", "health": "7", "education": "6", TOTAL: "20"}
    assert shown(by_type) == {"ot_tuki": "9", "group": "11", TOTAL: "20"}
    assert "all types together" in by_sector.title_en and "kaikki tyypit yhdessä" in by_sector.title_fi
    assert "by type only" in by_type.title_en and "vain tyypeittäin" in by_type.title_fi


def test_a_coarser_table_hides_what_subtraction_from_its_total_would_give_away():
    # By sector: social 6, health 4, education 0, in total 10. Showing 6 and 10 would tell that
    # health (and education) had 4 contacts, so social is hidden too ("x": it is not small).
    fine = table({("social", "ot_tuki"): 3, ("social", "group"): 3, ("health", "ot_tuki"): 2,
                  ("health", "group"): 2})
    by_sector, by_type = coarser(fine)
    assert shown(by_sector) == {"social": COMPLEMENTARY, "health": HIDDEN, "education": HIDDEN, TOTAL: "10"}
    assert shown(by_type) == {"ot_tuki": "5", "group": "5", TOTAL: "10"}
    for t in (by_sector, by_type):
        assert_line_reveals_nothing(t)


def test_coarser_figures_are_the_finer_tables_totals_with_its_suppression():
    rng = random.Random(15)
    offered = 0
    for _ in range(400):
        rows = [f"r{i}" for i in range(rng.randint(1, 5))]
        columns = [f"c{i}" for i in range(rng.randint(2, 3))]
        counts = {p: rng.choice([0, 1, 2, 3, 4, 4, 5, 9]) for p in itertools.product(rows, columns)}
        fine = table(counts, rows, columns)
        for t in coarser(fine):
            offered += 1
            assert_line_reveals_nothing(t)
            for key in t.shown_rows:
                at = (key, TOTAL) if t.name.endswith("_all_types") else (TOTAL, key)
                # The same figure, hidden the same way: nothing the finer table did not show.
                assert (t.values[(key, TOTAL)], t.cell(key, TOTAL)) == (fine.values[at], fine.cell(*at))
    assert offered > 50  # the case this is about happened often enough to mean something


def test_nothing_coarser_is_offered_when_the_finer_table_shows_figures_or_no_total_would_show():
    readable = table({("social", "ot_tuki"): 9, ("social", "group"): 8, ("health", "ot_tuki"): 7,
                      ("health", "group"): 6, ("education", "ot_tuki"): 5, ("education", "group"): 5})
    assert coarser(readable) == []
    nothing_to_show = table({("social", "ot_tuki"): 1, ("health", "group"): 2})  # every total is small too
    assert coarser(nothing_to_show) == []
    one_type = table({("social", "ot_tuki"): 3, ("health", "ot_tuki"): 4}, columns=("ot_tuki",))
    assert coarser(one_type) == []  # already by sector only


def test_a_coarser_table_says_whose_stand_in_it_is_over_the_api():
    fine = table({("social", "ot_tuki"): 4, ("social", "group"): 3, ("health", "ot_tuki"): 3,
                  ("health", "group"): 4})
    by_sector, _ = coarser(fine)
    message = table_to_proto(by_sector)
    assert message.coarser_of == "contacts_by_sector" and list(message.columns) == [TOTAL]
    assert {c.row: c.value for c in message.cells} == {"social": "7", "health": "7", "education": HIDDEN,
                                                        TOTAL: "14"}
    assert table_to_proto(fine).coarser_of == ""


# --- the area's figures ------------------------------------------------------------------------
def submit(handlers, request_id: str, when: datetime, sector: Sector, type_: RequestType = RequestType.OT_TUKI):
    with handlers.sessions.begin() as s:
        handlers.on_request_submitted(s, request_id=request_id, type_=type_, categories=[Category.NEUROPSYCHIATRIC],
                                      sector=sector, submitted_at=when)


def cells(tables) -> dict[tuple[str, str, str], str]:
    return {(t.name, r, c): t.cell(r, c) for t in tables for r in t.shown_rows for c in t.shown_columns}


def test_a_few_cases_a_month_show_as_numbers_over_the_whole_period(handlers, clock):
    # Three months of a small area: 2-5 contacts a month, of two types and two sectors.
    plan = [(0, Sector.SOCIAL, RequestType.OT_TUKI), (1, Sector.HEALTH, RequestType.GROUP_CONSULTATION),
            (35, Sector.SOCIAL, RequestType.OT_TUKI), (36, Sector.SOCIAL, RequestType.GROUP_CONSULTATION),
            (40, Sector.HEALTH, RequestType.OT_TUKI), (64, Sector.SOCIAL, RequestType.OT_TUKI),
            (65, Sector.HEALTH, RequestType.GROUP_CONSULTATION), (66, Sector.SOCIAL, RequestType.OT_TUKI),
            (67, Sector.HEALTH, RequestType.GROUP_CONSULTATION), (68, Sector.SOCIAL, RequestType.GROUP_CONSULTATION),
            (69, Sector.HEALTH, RequestType.OT_TUKI)]
    for i, (day, sector, type_) in enumerate(plan):
        submit(handlers, f"r-{i}", NOW + timedelta(days=day), sector, type_)
    clock.set(NOW + timedelta(days=70))

    _, month, _ = handlers.statistics("2026-04")
    assert {v for (name, _, _), v in cells(month).items() if name == "contacts_by_sector"} == {HIDDEN}
    assert not [t for t in month if t.coarser_of]  # a month alone: nothing but "<5", coarser or not

    period, tables, _ = handlers.statistics(ALL)
    assert period.label == ALL
    assert (period.start, period.end) == (datetime(2026, 2, 28, 22, 0, tzinfo=timezone.utc),   # 1.3. Finnish time
                                          datetime(2026, 5, 31, 21, 0, tzinfo=timezone.utc))   # 1.6. (summer time)
    got = cells(tables)
    # Every sector-by-type cell is still under 5 ...
    assert {got[("contacts_by_sector", s.value, t.value)] for s in Sector for t in RequestType} == {HIDDEN}
    # ... but the coarser groupings show numbers, right after the finer table.
    names = [t.name for t in tables]
    assert names[names.index("contacts_by_sector") + 1:][:2] == ["contacts_by_sector_all_types",
                                                                 "contacts_by_sector_by_type"]
    assert {r: got[("contacts_by_sector_all_types", r, TOTAL)] for r in ("social", "health", "education", TOTAL)} \
        == {"social": "6", "health": "5", "education": HIDDEN, TOTAL: "11"}
    assert {r: got[("contacts_by_sector_by_type", r, TOTAL)]
            for r in ("ot_tuki", "group_consultation", "expert_reinforcement", TOTAL)} \
        == {"ot_tuki": "6", "group_consultation": "5", "expert_reinforcement": HIDDEN, TOTAL: "11"}
    for t in tables:
        if t.coarser_of:
            assert_line_reveals_nothing(t)


def test_the_whole_period_of_an_area_without_records_is_the_current_month(handlers, clock):
    period, tables, _ = handlers.statistics(" ALL ")
    assert (period.start, period.end) == (datetime(2026, 2, 28, 22, 0, tzinfo=timezone.utc),
                                          datetime(2026, 3, 31, 21, 0, tzinfo=timezone.utc))
    assert all(not t.coarser_of for t in tables)  # nothing to stand in for


def test_whole_period_runs_from_the_first_records_month_to_the_end_of_this_one():
    first = datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)  # 1.1.2026 01.30 Finnish time
    period = whole_period(first, datetime(2026, 12, 15, tzinfo=timezone.utc))
    assert (period.start, period.end) == (datetime(2025, 12, 31, 22, 0, tzinfo=timezone.utc),
                                          datetime(2026, 12, 31, 22, 0, tzinfo=timezone.utc))
