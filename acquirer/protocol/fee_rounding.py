"""The one rounding rule for fees, in integer fen.

Rule: a fee is computed on the absolute amount of its line as
`amount * rate / 1,000,000` (rates are held in parts per million: 0.35% is
3,500), rounded to a whole fen HALF UP (a remainder of exactly half a fen
rounds up), then capped, then given the line's sign. A refund or void of 1
fen therefore returns exactly the fee its sale took. Merchant terms may ask
for `down` (truncate: never charge a partial fen) for the acquirer's own fee,
the only fee the acquirer sets; issuer and network fees are always half up.

Totals are never rounded: every total is the sum of its lines, so no file or
posting can drift from the lines under it.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

__all__ = ["PPM", "Rounding", "fee_fen", "percent_to_ppm"]

PPM = 1_000_000
Rounding = Literal["half_up", "down"]


def fee_fen(amount: int, rate_ppm: int, cap: int | None = None, rounding: Rounding = "half_up") -> int:
    """The fee on a signed amount of fen at `rate_ppm`, capped at `cap` fen (None: no cap)."""
    quotient, remainder = divmod(abs(amount) * rate_ppm, PPM)
    if rounding == "half_up" and remainder * 2 >= PPM:
        quotient += 1
    if cap is not None and quotient > cap:
        quotient = cap
    return -quotient if amount < 0 else quotient


def percent_to_ppm(percent: Decimal) -> int:
    """0.0325 (%) -> 325 ppm; more than four decimals of a percent are refused."""
    ppm = percent * 10_000
    if ppm != ppm.to_integral_value():
        raise ValueError(f"a rate has at most 4 decimals of a percent (1 ppm), got {percent}%")
    return int(ppm)
