"""Statistics: periods, tables with totals, and small-cell suppression. No I/O here.

The suppression rule (printed beside every table, and tested):

1. Primary: every count under 5, zero included, is shown as "<5".
2. Complementary: a table is read as lines (each row with its row total, each column with its
   column total). Where the total is shown, a reader can work out the sum of the hidden figures
   of that line (with one hidden figure, the figure itself). While that sum is 1-4, a small
   count of cases could be read off, so the smallest figure still shown in the line (a cell
   before a total; a total only when no cell is left) is hidden too, shown as "x" (it is 5 or
   more, but showing it would give a small one away). This repeats until no line allows it.
   A hidden sum of 0 is left alone: it tells that there were no cases, which identifies no one.

With a few cases a month every inner cell of a table is hidden; its totals may still show. Such a
table is then offered coarser too (`coarser`): by its rows only (all request types together) and
by request type only. Those figures are the finer table's own totals with the finer table's
suppression, not counted or suppressed anew, so the page gives nothing more away than before:
every figure it shows, alone or subtracted from the others, is 0 or at least 5. The longest period
with data (`whole_period`, period "all") is the page's default, so that the counts are as large as
they can be.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

THRESHOLD = 5
HIDDEN = "<5"
COMPLEMENTARY = "x"
TOTAL = "total"
ALL = "all"  # the period of all the area's records (whole_period)
LOCAL = ZoneInfo("Europe/Helsinki")

RULE_TEXT = ("Alle 5:n luvut (myös 0) näytetään muodossa \"<5\". Jos rivin tai sarakkeen piilotettujen lukujen "
             "summa (1–4) selviäisi yhteissummasta, myös sen pienin näkyvä luku piilotetaan ja merkitään "
             "\"x\". / Counts under 5 (zero included) show as \"<5\". "
             "Where the sum (1–4) of a row's or column's hidden figures could be worked out from its total, its "
             "smallest shown figure is hidden too, marked \"x\".")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # inclusive, UTC
    end: datetime    # exclusive, UTC


def _local(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=LOCAL).astimezone(timezone.utc)


# Years a report can be about: from the epoch (the edge's range for times) to 2199. Year 9999 has
# no next year to end at, and year 0 is no date at all.
FIRST_YEAR, LAST_YEAR = 1970, 2199


def parse_period(text: str) -> Period:
    """"2026" (year), "2026-Q2" (quarter), "2026-05" (month); boundaries in Finnish time."""
    text = (text or "").strip().upper()
    # [0-9], not \d: \d also takes other scripts' digits.
    m = re.fullmatch(r"([0-9]{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?", text)
    if not m:
        raise PeriodError("Anna jakso muodossa 2026, 2026-Q2 tai 2026-05. / "
                          "Give the period as 2026, 2026-Q2 or 2026-05.")
    y = int(m[1])
    if not FIRST_YEAR <= y <= LAST_YEAR:
        raise PeriodError(f"Vuoden pitää olla {FIRST_YEAR}–{LAST_YEAR}. / The year must be {FIRST_YEAR}–{LAST_YEAR}.")
    if m[2]:
        start_month = 3 * (int(m[2]) - 1) + 1
        return Period(text, _local(y, start_month), _local(y + 1, 1) if m[2] == "4" else _local(y, start_month + 3))
    if m[3]:
        mo = int(m[3])
        return Period(text, _local(y, mo), _local(y + 1, 1) if mo == 12 else _local(y, mo + 1))
    return Period(text, _local(y, 1), _local(y + 1, 1))


def whole_period(first: datetime | None, now: datetime) -> Period:
    """Period "all": from the first day (Finnish time) of the month of the area's first record to
    the end of the current month; only the current month when there is no record yet."""
    start = (first or now).astimezone(LOCAL)
    end = now.astimezone(LOCAL)
    return Period(ALL, _local(start.year, start.month),
                  _local(end.year + 1, 1) if end.month == 12 else _local(end.year, end.month + 1))


@dataclass
class Table:
    name: str
    title_fi: str
    title_en: str
    rows: list[str]
    columns: list[str]
    counts: dict[tuple[str, str], int]
    labels: dict[str, str] = field(default_factory=dict)
    # Filled by finish():
    shown_rows: list[str] = field(default_factory=list)
    shown_columns: list[str] = field(default_factory=list)
    values: dict[tuple[str, str], int] = field(default_factory=dict)
    hidden: set[tuple[str, str]] = field(default_factory=set)
    # Set on a coarser stand-in (see `coarser`): the name of the finer table it comes from.
    coarser_of: str = ""

    def finish(self) -> "Table":
        """Add the totals (a total column only when there are several columns) and suppress."""
        self.values = {(r, c): self.counts.get((r, c), 0) for r in self.rows for c in self.columns}
        self.shown_columns = list(self.columns)
        if len(self.columns) > 1:
            self.shown_columns.append(TOTAL)
            for r in self.rows:
                self.values[(r, TOTAL)] = sum(self.values[(r, c)] for c in self.columns)
        self.shown_rows = [*self.rows, TOTAL]
        for c in self.shown_columns:
            self.values[(TOTAL, c)] = sum(self.values[(r, c)] for r in self.rows)
        self.hidden = suppress(self.values, self.rows, self.columns, has_total_column=len(self.columns) > 1)
        return self

    def cell(self, row: str, column: str) -> str:
        if (row, column) not in self.hidden:
            return str(self.values[(row, column)])
        return HIDDEN if self.values[(row, column)] < THRESHOLD else COMPLEMENTARY

    def label(self, key: str) -> str:
        return self.labels.get(key, "yhteensä / total" if key == TOTAL else key)


def coarser(t: Table) -> list[Table]:
    """A finished table's coarser stand-ins, when every inner cell of it is hidden but some total
    besides the grand total shows: (1) by its rows only, all columns (request types) together: its
    total column; (2) by request type only: its total row, turned to rows. Each copies the finer
    table's figures and suppression marks as they are, so it reveals nothing the finer one did not
    (its one line, figures and their total, is a line of the finer table). [] otherwise."""
    inner = [(r, c) for r in t.rows for c in t.columns]
    margins = [(r, TOTAL) for r in t.rows] + [(TOTAL, c) for c in t.columns]
    if len(t.columns) < 2 or not t.rows or any(p not in t.hidden for p in inner) \
            or all(p in t.hidden for p in margins):
        return []

    def one_way(name: str, title_fi: str, title_en: str, keys: list[str], position) -> Table:
        rows = [*keys, TOTAL]
        out = Table(name, title_fi, title_en, list(keys), [TOTAL], {}, dict(t.labels), shown_rows=rows,
                    shown_columns=[TOTAL], coarser_of=t.name)
        out.values = {(k, TOTAL): t.values[position(k)] for k in rows}
        out.hidden = {(k, TOTAL) for k in rows if position(k) in t.hidden}
        return out

    return [one_way(f"{t.name}_all_types", f"{t.title_fi}, kaikki tyypit yhdessä",
                    f"{t.title_en}, all types together", t.rows, lambda k: (k, TOTAL)),
            one_way(f"{t.name}_by_type", f"{t.title_fi}, vain tyypeittäin", f"{t.title_en}, by type only",
                    t.columns, lambda k: (TOTAL, k))]


def suppress(values: dict[tuple[str, str], int], rows: list[str], columns: list[str],
             has_total_column: bool) -> set[tuple[str, str]]:
    """The set of positions to hide (see the module's rule). `values` holds cells and totals."""
    hidden = {pos for pos, v in values.items() if v < THRESHOLD}
    lines: list[tuple[list[tuple[str, str]], tuple[str, str]]] = []
    shown_columns = [*columns, TOTAL] if has_total_column else list(columns)
    # Rows (incl. the total row) with their row total, when there is a total column.
    if has_total_column:
        for r in [*rows, TOTAL]:
            lines.append(([(r, c) for c in columns], (r, TOTAL)))
    # Columns (incl. the total column) with their column total.
    for c in shown_columns:
        lines.append(([(r, c) for r in rows], (TOTAL, c)))
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            members = [*cells, total]
            if total in hidden:  # the line's sum is not shown: nothing to subtract from
                continue
            hidden_cells = [p for p in cells if p in hidden]
            if not 0 < sum(values[p] for p in hidden_cells) < THRESHOLD:
                continue
            candidates = [p for p in cells if p not in hidden] or [p for p in [total] if p not in hidden]
            if not candidates:  # a line of a total alone (no rows): nothing to recover it from
                continue
            pick = min(candidates, key=lambda p: (values[p], members.index(p)))
            hidden.add(pick)
            changed = True
    return hidden


# --- response times ------------------------------------------------------------------------------
def quarter_of(moment: datetime) -> str:
    local = moment.astimezone(LOCAL)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def quarters(period: Period) -> list[Period]:
    """The quarters the period touches, in order (a month's report shows its whole quarter)."""
    start = period.start.astimezone(LOCAL)
    year, q = start.year, (start.month - 1) // 3 + 1
    out = []
    while True:
        quarter = parse_period(f"{year}-Q{q}")
        if quarter.start >= period.end:
            return out
        out.append(quarter)
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)


def median(values: list[int]) -> str:
    ordered, n = sorted(values), len(values)
    middle = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return f"{middle:g}"


def percentile_90(values: list[int]) -> str:
    """The nearest-rank 90th percentile: a value some request really had, never an interpolation."""
    ordered = sorted(values)
    return str(ordered[-(-9 * len(ordered) // 10) - 1])  # ceil(0.9 n)-th, 1-based


@dataclass(frozen=True)
class ResponseTimes:
    """Working days for the requests of one type answered in one quarter. A figure is shown only
    when at least THRESHOLD requests stand behind it: the count shows "<5" below that, and the
    figures are blank."""
    type: str
    quarter: str
    requests: str
    first_response_median: str = ""
    first_response_p90: str = ""
    answer_median: str = ""
    answer_p90: str = ""


def response_times(answered: list[tuple[str, datetime, int | None, int | None]], quarter_periods: list[Period],
                   types: list[str]) -> list[ResponseTimes]:
    """`answered`: (type, answered_at, working days to the first response or None, working days to
    the answer or None), one per answered request. One row per quarter and type, in that order."""
    rows = []
    for q in quarter_periods:
        for t in types:
            mine = [a for a in answered if a[0] == t and q.start <= a[1] < q.end]
            if len(mine) < THRESHOLD:
                rows.append(ResponseTimes(t, q.label, HIDDEN))
                continue
            first = [a[2] for a in mine if a[2] is not None]
            answer = [a[3] for a in mine if a[3] is not None]
            enough = lambda xs: len(xs) >= THRESHOLD  # noqa: E731
            rows.append(ResponseTimes(
                t, q.label, str(len(mine)),
                first_response_median=median(first) if enough(first) else "",
                first_response_p90=percentile_90(first) if enough(first) else "",
                answer_median=median(answer) if enough(answer) else "",
                answer_p90=percentile_90(answer) if enough(answer) else ""))
    return rows
