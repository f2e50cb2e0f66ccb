"""A clearing cut-off that comes a few seconds from now, for tests that watch `acquirer serve` clear by itself.

A cut-off is a whole minute ("HH:MM"), so waiting for the next one costs up to a minute more than the day's
traffic needs. The host's clock runs ahead instead (the test hook `acquirer.cli.CLOCK_OFFSET_ENV`), by the
part of a minute that makes its cut-off come exactly `lead_s` after now: the host clears when the test's
traffic is done, and everything on the host's side (its transactions, its clearing) happens by one clock.
A till's clock runs behind the host's by less than a minute, so the traffic is on the same clearing day
at both ends.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from acquirer.protocol.clock import CHINA


@dataclass(frozen=True)
class HostCutoff:
    at: datetime          # the cut-off by the host's clock (Beijing time)
    text: str             # as clearing.toml writes it, "HH:MM"
    ahead: timedelta      # how far the host's clock runs ahead of the machine's

    @property
    def offset_s(self) -> str:
        """The value for `CLOCK_OFFSET_ENV`."""
        return str(self.ahead.total_seconds())

    def host_now(self) -> datetime:
        """Now, by the host's clock."""
        return datetime.now(CHINA) + self.ahead


def cutoff_in(lead_s: float) -> HostCutoff:
    """A cut-off the host (clock run ahead by `.ahead`) reaches `lead_s` seconds from now."""
    now = datetime.now(CHINA)
    at = (now + timedelta(seconds=lead_s)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return HostCutoff(at, f"{at.hour:02d}:{at.minute:02d}", at - now - timedelta(seconds=lead_s))
