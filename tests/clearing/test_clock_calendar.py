"""The clearing day (cut-off in Beijing time) and the settlement calendar (T+1 working day)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from acquirer.protocol.clock import clearing_date, day_window, parse_cutoff
from acquirer.clearing.errors import UnknownYear
from acquirer.clearing.terms import HolidaysFile
from tests.clearing.helpers import beijing

CALENDAR = HolidaysFile().calendar()


def test_cutoff_splits_the_day_at_23_00_beijing():
    assert clearing_date(beijing(2026, 12, 4, 22, 59, 59, 999_000)) == date(2026, 12, 4)
    assert clearing_date(beijing(2026, 12, 4, 23, 0, 0)) == date(2026, 12, 5)
    assert clearing_date(beijing(2026, 12, 4, 0, 0, 0)) == date(2026, 12, 4)


def test_a_configured_cutoff():
    assert clearing_date(beijing(2026, 12, 4, 21, 30), time(21, 30)) == date(2026, 12, 5)
    assert clearing_date(beijing(2026, 12, 4, 21, 29, 59), time(21, 30)) == date(2026, 12, 4)


def test_across_midnight_utc():
    # 23:59:59 UTC on the 3rd is 07:59:59 on the 4th in Beijing; 00:00 UTC is 08:00
    assert clearing_date(datetime(2026, 12, 3, 23, 59, 59, tzinfo=UTC)) == date(2026, 12, 4)
    assert clearing_date(datetime(2026, 12, 4, 0, 0, 0, tzinfo=UTC)) == date(2026, 12, 4)
    # the cut-off is 15:00 UTC
    assert clearing_date(datetime(2026, 12, 4, 14, 59, 59, 999_999, tzinfo=UTC)) == date(2026, 12, 4)
    assert clearing_date(datetime(2026, 12, 4, 15, 0, tzinfo=UTC)) == date(2026, 12, 5)


def test_day_window_is_utc():
    start, end = day_window(date(2026, 12, 4))
    assert (start, end) == (datetime(2026, 12, 3, 15, tzinfo=UTC), datetime(2026, 12, 4, 15, tzinfo=UTC))


def test_naive_moments_and_bad_cutoffs_are_refused():
    with pytest.raises(ValueError, match="aware"):
        clearing_date(datetime(2026, 12, 4, 12))
    with pytest.raises(ValueError, match="HH:MM"):
        parse_cutoff("11pm")


def test_weekend_settles_on_monday():
    assert CALENDAR.settlement_date(date(2026, 12, 3)) == date(2026, 12, 4)   # Thu -> Fri
    for day in (date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 6)):   # Fri, Sat, Sun -> Mon
        assert CALENDAR.settlement_date(day) == date(2026, 12, 7)


def test_national_day_holiday_rolls_over():
    assert CALENDAR.settlement_date(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CALENDAR.settlement_date(date(2026, 10, 3)) == date(2026, 10, 8)


def test_make_up_working_days_are_paid_on():
    assert CALENDAR.settlement_date(date(2026, 10, 9)) == date(2026, 10, 10)   # Friday -> make-up Saturday
    assert CALENDAR.settlement_date(date(2026, 9, 19)) == date(2026, 9, 20)    # Saturday -> make-up Sunday


def test_cutoff_across_a_holiday_and_a_make_up_day():
    # 22:59:59.999 on 8 October clears on the 8th (paid the 9th); 23:00 clears on the 9th (paid Saturday the 10th)
    before = clearing_date(beijing(2026, 10, 8, 22, 59, 59, 999_000))
    after = clearing_date(beijing(2026, 10, 8, 23, 0, 0))
    assert (CALENDAR.settlement_date(before), CALENDAR.settlement_date(after)) == (date(2026, 10, 9),
                                                                                   date(2026, 10, 10))
    # a sale at 23:00 on 30 September clears on 1 October, a holiday: paid on the 8th like the day before
    assert clearing_date(beijing(2026, 9, 30, 23)) == date(2026, 10, 1)
    assert CALENDAR.settlement_date(date(2026, 10, 1)) == date(2026, 10, 8)


def test_a_year_nobody_knows_is_refused():
    with pytest.raises(UnknownYear, match="no holiday calendar for 2027"):
        CALENDAR.settlement_date(date(2026, 12, 31))


def test_the_holidays_file_adds_a_year():
    extra = HolidaysFile.model_validate({"year": [{"year": 2027, "holidays": ["2027-01-01"],
                                                   "workdays": ["2027-01-09"]}]}).calendar()
    assert extra.settlement_date(date(2026, 12, 31)) == date(2027, 1, 4)   # Fri 1 Jan off, then the weekend
    assert extra.settlement_date(date(2027, 1, 8)) == date(2027, 1, 9)     # the make-up Saturday
    with pytest.raises(UnknownYear):
        extra.settlement_date(date(2028, 6, 1))
