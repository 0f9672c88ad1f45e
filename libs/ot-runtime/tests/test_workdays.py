from datetime import datetime, timezone

from ot_runtime.workdays import FINNISH_TIME, add_working_days, is_working_day, working_days_between


def fi(y, m, d, h=12):
    return datetime(y, m, d, h, tzinfo=FINNISH_TIME)


def test_weekends_and_finnish_public_holidays_are_not_working_days():
    assert is_working_day(fi(2026, 12, 23).date())
    assert not is_working_day(fi(2026, 12, 24).date())      # Christmas Eve
    assert not is_working_day(fi(2026, 12, 6).date())       # Independence Day (a Sunday too)
    assert not is_working_day(fi(2026, 6, 19).date())       # Midsummer Eve
    assert not is_working_day(fi(2026, 11, 28).date())      # Saturday


def test_working_days_between_counts_what_passed_after_the_start_date():
    assert working_days_between(fi(2026, 11, 27), fi(2026, 11, 27, 16)) == 0      # same day
    assert working_days_between(fi(2026, 11, 27), fi(2026, 11, 30)) == 1          # Friday -> Monday
    assert working_days_between(fi(2026, 12, 22), fi(2026, 12, 28)) == 2          # 23.12 and 28.12
    assert working_days_between(fi(2026, 12, 28), fi(2026, 12, 22)) == 0


def test_the_date_is_the_finnish_one():
    late_utc = datetime(2026, 11, 27, 23, 30, tzinfo=timezone.utc)   # already Saturday in Finland
    assert working_days_between(late_utc, fi(2026, 11, 30)) == 1


def test_add_working_days_skips_holidays_both_ways():
    due = add_working_days(fi(2026, 12, 21), 5)     # 22, 23, 28, 29, 30 December
    assert due.date() == fi(2026, 12, 30).date() and due.hour == 23
    assert add_working_days(fi(2026, 12, 28), -2).date() == fi(2026, 12, 22).date()
    assert add_working_days(fi(2026, 12, 28), 0).date() == fi(2026, 12, 28).date()
