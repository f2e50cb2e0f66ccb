"""The clearing clock: UTC in storage, Asia/Shanghai (China Standard Time) for display and business dates.

Every stored timestamp is UTC (ISO 8601 with `Z`), so records from machines
in any zone sort and compare. What a person reads -- a receipt's date and
time, the history on screen -- and every business date -- the MMDD of
field 13 a terminal sends, the day a host's transaction belongs to -- are in
China Standard Time, UTC+8 all year (China has no daylight saving time), so
a sale at 00:30 in Shanghai is on that Shanghai day although it is still the
day before in UTC. The zone is the IANA `Asia/Shanghai` (from the system's
tz database, or the `tzdata` package).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

CHINA = ZoneInfo("Asia/Shanghai")


def now_utc() -> datetime:
    return datetime.now(UTC)


def utc_stamp(moment: datetime | None = None) -> str:
    """`2026-12-04T08:30:00.123456Z`: how storage writes a moment."""
    return (moment or now_utc()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def china_time(moment: datetime | None = None) -> datetime:
    """The moment in China Standard Time (naive moments are taken as UTC)."""
    moment = moment or now_utc()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA)


def business_date(moment: datetime | None = None) -> date:
    """The China calendar date of a moment (now by default)."""
    return china_time(moment).date()


def mmdd(moment: datetime | None = None) -> str:
    """Field 13 style MMDD of the China business date."""
    return business_date(moment).strftime("%m%d")


# --- the clearing day ------------------------------------------------------------------
#
# A clearing day D covers [D-1 at the cut-off, D at the cut-off) Beijing time: with the
# default 23:00 cut-off a sale at 22:59:59.999 on 4 December belongs to 4 December and one
# at 23:00:00 to 5 December (docs/clearing.md, "The clearing day").

DEFAULT_CUTOFF = time(23, 0)


def clearing_date(moment: datetime, cutoff: time = DEFAULT_CUTOFF) -> date:
    """The clearing day of an aware moment: its Beijing date, or the next one at or after the cut-off."""
    if moment.tzinfo is None:
        raise ValueError("clearing_date needs an aware datetime (UTC in storage), got a naive one")
    local = moment.astimezone(CHINA)
    day = local.date()
    return day + timedelta(days=1) if local.time() >= cutoff else day


def day_window(day: date, cutoff: time = DEFAULT_CUTOFF) -> tuple[datetime, datetime]:
    """[start, end) of a clearing day as UTC moments."""
    end = datetime.combine(day, cutoff, CHINA)
    start = end - timedelta(days=1)
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_cutoff(text: str) -> time:
    """`HH:MM` (Beijing time) -> time; a clear error for anything else."""
    try:
        hours, minutes = text.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"cut-off must be HH:MM (Beijing time), got {text!r}") from None


def _checked_cutoff(text: str) -> str:
    parse_cutoff(text)
    return text


#: a cut-off as settings files write it ("23:00", Beijing time), refused when not HH:MM
CutoffText = Annotated[str, AfterValidator(_checked_cutoff)]
