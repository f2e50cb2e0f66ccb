"""The clearing day: which Asia/Shanghai business day a moment belongs to.

Why here: no shared business clock exists in `acquirer.protocol` yet (issue
10 moves the shared rules there); this is the one definition clearing uses.
Moments are stored in UTC; the clearing day is a Beijing-time notion. China
Standard Time is UTC+8 all year (no daylight saving since 1991), so a fixed
offset is exact and needs no tz database.

A clearing day D covers [D-1 at the cut-off, D at the cut-off) Beijing time:
with the default 23:00 cut-off a sale at 22:59:59.999 on 4 December belongs
to 4 December and one at 23:00:00 to 5 December.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

__all__ = ["DEFAULT_CUTOFF", "SHANGHAI", "clearing_date", "day_window", "parse_cutoff"]

#: China Standard Time: UTC+8 all year
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
DEFAULT_CUTOFF = time(23, 0)


def clearing_date(moment: datetime, cutoff: time = DEFAULT_CUTOFF) -> date:
    """The clearing day of an aware moment: its Beijing date, or the next one at or after the cut-off."""
    if moment.tzinfo is None:
        raise ValueError("clearing_date needs an aware datetime (UTC in storage), got a naive one")
    local = moment.astimezone(SHANGHAI)
    day = local.date()
    return day + timedelta(days=1) if local.time() >= cutoff else day


def day_window(day: date, cutoff: time = DEFAULT_CUTOFF) -> tuple[datetime, datetime]:
    """[start, end) of a clearing day as UTC moments."""
    end = datetime.combine(day, cutoff, SHANGHAI)
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
