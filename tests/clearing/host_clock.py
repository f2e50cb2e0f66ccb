"""A clearing cut-off that comes a few seconds from now, for tests that watch `acquirer serve` clear by itself.

A cut-off is a whole minute ("HH:MM"), so waiting for the next one costs up to a minute more than the day's
traffic needs. The host's clock runs ahead instead (the test hook `acquirer.cli.CLOCK_OFFSET_ENV`), by the
part of a minute that makes its cut-off come exactly `lead_s` after now: the host clears when the test's
traffic is done, and everything on the host's side (its transactions, its clearing) happens by one clock.
A till's clock runs behind the host's by less than a minute, so the traffic is on the same clearing day
at both ends. A day that pays by wallet payment codes runs the host at most WALLET_CODES_AHEAD_S ahead
(else the test waits a little longer): a code, stamped by the phone's clock, is refused at the host
CODE_TTL_S after it was issued.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from acquirer.protocol.clock import CHINA
from acquirer.protocol.wallet_codes import CODE_TTL_S

#: how far the host's clock may run ahead of the machine's when a payment code must stay fresh at the host
WALLET_CODES_AHEAD_S = CODE_TTL_S - 20


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


def cutoff_in(lead_s: float, max_ahead_s: float = 60.0) -> HostCutoff:
    """A cut-off the host (clock run ahead by `.ahead`, at most `max_ahead_s`) reaches `lead_s` seconds
    from now, or up to 60 - `max_ahead_s` seconds later."""
    now = datetime.now(CHINA)
    at = (now + timedelta(seconds=lead_s)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    ahead = min(at - now - timedelta(seconds=lead_s), timedelta(seconds=max_ahead_s))
    return HostCutoff(at, f"{at.hour:02d}:{at.minute:02d}", ahead)
