"""Working days in Finland: Monday to Friday without Finnish public holidays (from the maintained
`holidays` package, not a hand-typed list), counted on dates in Finnish time. Used for response
targets and reminders ("five working days", "two working days before the deadline")."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

FINNISH_TIME = ZoneInfo("Europe/Helsinki")


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Finland(years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def local_date(moment: datetime) -> date:
    return moment.astimezone(FINNISH_TIME).date()


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days after `start`'s date up to and including `end`'s date (0 on the same
    day, 1 from a Friday to the next Monday)."""
    first, last = local_date(start), local_date(end)
    if last <= first:
        return 0
    return sum(1 for n in range(1, (last - first).days + 1) if is_working_day(first + timedelta(days=n)))


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59.999 Finnish time) of the `days`-th working day after `start`'s date; with
    a negative `days`, before it. 0 gives the end of `start`'s own date."""
    day = local_date(start)
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return datetime.combine(day, time.max, FINNISH_TIME)
