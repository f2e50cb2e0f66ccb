"""The merchant's fee terms as the merchant holds them, and the check of a statement line's fees.

Why the merchant needs its own copy: reconciliation asks whether the acquirer
charged what was agreed, so the agreement cannot come from the acquirer's
configuration. The terminal reads `reconcile.toml` beside `pos.toml`:

```toml
merchant = "898310048990001"        # the merchant ID the statements must name
acquirer_url = "http://127.0.0.1:8584"   # `--fetch`: the acquirer's statement endpoint (loopback)
api_key = "TEST-KEY-..."            # TEST KEY: the merchant's key for that endpoint
cutoff = "23:00"                    # the acquirer's clearing cut-off, Beijing time
[plan]                              # the acquirer's own fee, as contracted
acquirer_pct = 0.1
acquirer_cap_fen = 500              # optional
fee_rounding = "half_up"            # or "down"
[[plan_change]]                     # optional: the contract changed; from this moment on
from = 2026-12-03T14:00:00+08:00
acquirer_pct = 0.05
```

What is checked on each line (docs/reconcile.md): the acquirer's fee equals
the plan's (the one fee the contract sets, with the one rounding rule of
`acquirer.protocol.fee_rounding`); a domestic card's issuer and network fees
stay within the regulated maxima; disputes carry no fee. Without a `[plan]`
no fee is checked.
"""
from __future__ import annotations

import functools
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field, field_validator

from acquirer.protocol.clock import CutoffText, parse_cutoff
from acquirer.protocol.fee_rounding import Rounding, fee_fen, percent_to_ppm
from acquirer.protocol.settings_file import SettingsModel, load_settings
from acquirer.protocol.statement import StatementLine

__all__ = ["FeePlan", "MerchantTerms", "PlanChange", "fee_problem", "load_terms"]

#: regulated maxima for domestic cards (docs/clearing.md section 3): rate ppm, cap fen
ISSUER_DEBIT_MAX = (3500, 1300)
ISSUER_CREDIT_MAX = (4500, None)
NETWORK_MAX = (325, 325)
DISPUTES = frozenset({"CHB", "REP"})


class FeePlan(SettingsModel):
    acquirer_pct: Annotated[Decimal, Field(ge=0, le=100, strict=False)]   # TOML writes it as a float
    acquirer_cap_fen: Annotated[int, Field(ge=0, strict=True)] | None = None
    fee_rounding: Rounding = "half_up"

    @field_validator("acquirer_pct")
    @classmethod
    def _four_decimals(cls, v: Decimal) -> Decimal:
        percent_to_ppm(v)
        return v

    @functools.cached_property
    def acquirer_ppm(self) -> int:
        """Once, not once per line (Decimal is slow); a cached property lives in the instance's dict, read as
        fast as a field (a private attribute goes through pydantic's `__getattr__` at every line)."""
        return percent_to_ppm(self.acquirer_pct)

    def acquirer_fee(self, amount: int) -> int:
        return fee_fen(amount, self.acquirer_ppm, self.acquirer_cap_fen, self.fee_rounding)


class PlanChange(FeePlan):
    """A new plan from a moment on (a contract changed mid-day applies to what was taken after it)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)
    from_: AwareDatetime = Field(alias="from")


class MerchantTerms(SettingsModel):
    merchant: str = Field(pattern=r"^[0-9A-Za-z]{15}$")
    acquirer_url: str | None = None
    api_key: str | None = Field(default=None, min_length=16)   # TEST KEY in the shipped config
    cutoff: CutoffText = "23:00"
    plan: FeePlan | None = None
    plan_change: list[PlanChange] = []

    @field_validator("plan_change")
    @classmethod
    def _in_order(cls, v: list[PlanChange]) -> list[PlanChange]:
        if any(a.from_ >= b.from_ for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("plan changes must be in time order")
        return v

    def plan_at(self, moment: datetime) -> FeePlan | None:
        """The plan in force at `moment`: the latest change made by then, else `[plan]`."""
        current: FeePlan | None = self.plan
        for change in self.plan_change:
            if change.from_ <= moment:
                current = change
        return current

    @property
    def cutoff_time(self) -> time:
        return parse_cutoff(self.cutoff)


def load_terms(path: Path) -> MerchantTerms:
    """`reconcile.toml`, through the kit's one settings loader (`SettingsError`: one line `file: key: reason`)."""
    return load_settings(path, MerchantTerms)


def fee_problem(line: StatementLine, plan: FeePlan | None) -> str | None:
    """What is wrong with the line's fees against the merchant's terms, in plain words; None if nothing."""
    if line.code in DISPUTES:
        if line.mdr != 0:
            return f"a dispute line carries no fee, this one {line.mdr} fen"
        return None
    if plan is None:
        return None
    expected = fee_fen(line.amount, plan.acquirer_ppm, plan.acquirer_cap_fen, plan.fee_rounding)
    if line.acquirer_fee != expected:
        return (f"acquirer fee {line.acquirer_fee} fen, the plan ({plan.acquirer_pct}%"
                f"{f' capped at {plan.acquirer_cap_fen}' if plan.acquirer_cap_fen is not None else ''}) "
                f"gives {expected} fen")
    if line.scheme == "unionpay" and line.card_type in ("D", "C"):
        rate, cap = ISSUER_DEBIT_MAX if line.card_type == "D" else ISSUER_CREDIT_MAX
        return _above("issuer", line.issuer_fee, line.amount, rate, cap) or \
            _above("network", line.network_fee, line.amount, *NETWORK_MAX)
    return None


def _above(name: str, fee: int, amount: int, rate_ppm: int, cap: int | None) -> str | None:
    """Why `fee` is above the regulated maximum on `amount`; None when it is not."""
    if _surely_within(fee, amount, rate_ppm, cap):
        return None
    ceiling = abs(fee_fen(amount, rate_ppm, cap))
    return f"{name} fee {fee} fen is above the regulated maximum ({ceiling} fen)" if abs(fee) > ceiling else None


def _surely_within(fee: int, amount: int, rate_ppm: int, cap: int | None) -> bool:
    """True when `fee` cannot exceed the ceiling (at most the unrounded rate and the cap); the exact
    ceiling (`fee_fen`, the one rounding rule) is computed only when this cannot tell."""
    fee = abs(fee)
    return (cap is None or fee <= cap) and fee * 1_000_000 <= abs(amount) * rate_ppm
