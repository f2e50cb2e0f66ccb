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

from datetime import date, datetime, UTC
from zoneinfo import ZoneInfo

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
