"""When merchants are paid: T+1 on the next Chinese working day.

Why `chinesecalendar`: China's public holidays move every year (lunar dates)
and come with make-up working days on weekends, announced by the State
Council; the package tracks those announcements. For a year it does not cover
yet (each year's schedule is published in the autumn before), the operator
adds the year to the holidays file (`config/holidays.toml`): its holidays and
its make-up working days. A date in a year known to neither is refused with
`UnknownYear`, never guessed -- paying a merchant on a holiday, or a day late,
is worse than stopping the run.

Settlement date of clearing day D: the first working day after D. Several
non-working days (Friday's, Saturday's and Sunday's clearing) therefore all
settle on Monday, or on the make-up Saturday when that is the next working day.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar  # the package ships no type hints

from acquirer.clearing.errors import UnknownYear

__all__ = ["ExtraYear", "SettlementCalendar"]


@dataclass(frozen=True)
class ExtraYear:
    """A year the package does not cover (or corrections to one it does)."""

    holidays: frozenset[date]
    workdays: frozenset[date]   # make-up working days (on a weekend)


def _package_years() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


class SettlementCalendar:
    def __init__(self, extra: Mapping[int, ExtraYear] | None = None) -> None:
        self.extra = dict(extra or {})
        self._first, self._last = _package_years()

    def covered(self) -> str:
        extra = "".join(f", {y}" for y in sorted(self.extra) if not self._first <= y <= self._last)
        return f"{self._first}-{self._last}{extra}"

    def is_working_day(self, day: date) -> bool:
        year = self.extra.get(day.year)
        if year is not None:
            if day in year.workdays:
                return True
            if day in year.holidays:
                return False
        if self._first <= day.year <= self._last:
            return bool(chinese_calendar.is_workday(day))
        if year is not None:
            return day.weekday() < 5
        raise UnknownYear(day.year, self.covered())

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        candidate = day + timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def settlement_date(self, clearing_day: date) -> date:
        """T+1: the merchant's funds for `clearing_day` are paid on this date."""
        return self.next_working_day(clearing_day)
