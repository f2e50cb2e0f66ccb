"""The clearing configuration: fee schedule, rate plans and merchants' terms (`clearing.toml`),
and extra holidays (`holidays.toml`), as pydantic v2 models.

Why pydantic: unknown keys, wrong types and out-of-range values are refused
at load with `file: key: reason`, and the frozen models are what the code
reads. Rates are written as percentages (`0.35` is 0.35%) with at most four
decimals and held as parts per million (`money.percent_to_ppm`). The
domestic card fees are capped by regulation (issuer: debit 0.35% up to 13
CNY, credit 0.45%; network: 0.0325% per side up to 3.25 CNY): a schedule
above those maxima is refused. Foreign schemes and wallets have their own
rates because those are contracts, not regulation.
"""
from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    model_validator,
)

from acquirer.protocol.clock import CutoffText, parse_cutoff
from acquirer.protocol.settings_file import SettingsModel, load_settings
from acquirer.protocol.fee_rounding import Rounding, percent_to_ppm
from acquirer.clearing.settlement_calendar import ExtraYear, SettlementCalendar

__all__ = [
    "CLEARING_FILE",
    "HOLIDAYS_FILE",
    "ClearingConfig",
    "ClearingSettings",
    "FeeSchedule",
    "HolidaysFile",
    "MerchantTerms",
    "RatePlan",
    "SchemeRates",
    "WalletRates",
    "load_clearing",
]

CLEARING_FILE = "clearing.toml"
HOLIDAYS_FILE = "holidays.toml"

#: maxima of the 2016 bank card fee reform (docs/clearing.md)
MAX_ISSUER_DEBIT_PPM, MAX_ISSUER_DEBIT_CAP = 3500, 1300
MAX_ISSUER_CREDIT_PPM = 4500
MAX_NETWORK_PPM, MAX_NETWORK_CAP = 325, 325

def _rate(value: Decimal) -> Decimal:
    percent_to_ppm(value)   # refuses more than 4 decimals
    return value


Percent = Annotated[Decimal, Field(ge=0, le=100), AfterValidator(_rate)]
Fen = Annotated[int, Field(ge=0, strict=True)]


class _Model(SettingsModel):
    """Settings sections of the clearing files: rates are written as TOML decimals
    (0.35), so values are converted (to `Decimal`) rather than taken strictly."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def _ppm(value: Decimal) -> int:
    return percent_to_ppm(value)


class SchemeRates(_Model):
    """A foreign scheme's contract: issuer (interchange) and network fee per side."""

    issuer_pct: Percent
    issuer_cap_fen: Fen | None = None
    network_pct: Percent
    network_cap_fen: Fen | None = None

    @property
    def issuer_ppm(self) -> int:
        return _ppm(self.issuer_pct)

    @property
    def network_ppm(self) -> int:
        return _ppm(self.network_pct)


class WalletRates(_Model):
    """A wallet's channel fee, charged to the acquirer (it takes the issuer fee's place)."""

    fee_pct: Percent
    fee_cap_fen: Fen | None = None

    @property
    def fee_ppm(self) -> int:
        return _ppm(self.fee_pct)


class FeeSchedule(_Model):
    issuer_debit_pct: Percent = Decimal("0.35")
    issuer_debit_cap_fen: Fen = 1300
    issuer_credit_pct: Percent = Decimal("0.45")
    network_pct: Percent = Decimal("0.0325")
    network_cap_fen: Fen = 325
    foreign: dict[str, SchemeRates] = {}
    wallets: dict[str, WalletRates] = {}

    @model_validator(mode="after")
    def _within_regulation(self) -> FeeSchedule:
        if self.issuer_debit_ppm > MAX_ISSUER_DEBIT_PPM or self.issuer_debit_cap_fen > MAX_ISSUER_DEBIT_CAP:
            raise ValueError("issuer debit fee is at most 0.35% and capped at 1300 fen (13 CNY)")
        if self.issuer_credit_ppm > MAX_ISSUER_CREDIT_PPM:
            raise ValueError("issuer credit fee is at most 0.45%")
        if self.network_ppm > MAX_NETWORK_PPM or self.network_cap_fen > MAX_NETWORK_CAP:
            raise ValueError("network fee is at most 0.0325% per side, capped at 325 fen (3.25 CNY)")
        return self

    @property
    def issuer_debit_ppm(self) -> int:
        return _ppm(self.issuer_debit_pct)

    @property
    def issuer_credit_ppm(self) -> int:
        return _ppm(self.issuer_credit_pct)

    @property
    def network_ppm(self) -> int:
        return _ppm(self.network_pct)


class RatePlan(_Model):
    """The acquirer's own fee, set by the market per plan."""

    name: str = Field(min_length=1, max_length=16)
    acquirer_pct: Percent
    acquirer_cap_fen: Fen | None = None

    @property
    def acquirer_ppm(self) -> int:
        return _ppm(self.acquirer_pct)


class MerchantTerms(_Model):
    mid: str = Field(pattern=r"^[0-9A-Za-z]{15}$")
    mcc: str = Field(pattern=r"^[0-9]{4}$")
    rate_plan: str
    payout_account: str = Field(pattern=r"^[0-9]{8,30}$")   # the merchant's bank account (not card data)
    min_payout_fen: Fen = 0
    fee_rounding: Rounding = "half_up"
    api_key: str | None = Field(default=None, min_length=16)   # TEST KEY: the statement endpoint's key


class ClearingSettings(_Model):
    cutoff: CutoffText = "23:00"                 # Beijing time, HH:MM
    holidays_file: str = HOLIDAYS_FILE    # relative to the configuration directory
    output_dir: str = "var/clearing"      # clearing files; relative to the working directory
    auto_clear: bool = True               # `acquirer serve` clears each day after its cut-off
    auto_clear_grace_s: Annotated[int, Field(ge=0)] = 60   # ... this long after it (late group commits)
    statement_host: str = "127.0.0.1"     # the statement endpoint: loopback unless set otherwise
    statement_port: Annotated[int, Field(ge=0, le=65535)] | None = 8586   # 0: any free port; none: off

    @property
    def cutoff_time(self) -> time:
        return parse_cutoff(self.cutoff)


class ClearingConfig(_Model):
    clearing: ClearingSettings = ClearingSettings()
    fees: FeeSchedule = FeeSchedule()
    rate_plan: list[RatePlan] = Field(min_length=1)
    merchant: list[MerchantTerms] = []

    @model_validator(mode="after")
    def _references(self) -> ClearingConfig:
        plans = {p.name for p in self.rate_plan}
        if len(plans) != len(self.rate_plan):
            raise ValueError("rate plan names must be unique")
        mids: set[str] = set()
        for m in self.merchant:
            if m.rate_plan not in plans:
                raise ValueError(f"merchant {m.mid}: unknown rate plan {m.rate_plan!r} "
                                 f"(known: {', '.join(sorted(plans))})")
            if m.mid in mids:
                raise ValueError(f"merchant {m.mid} appears twice")
            mids.add(m.mid)
        return self

    @property
    def plans(self) -> dict[str, RatePlan]:
        return {p.name: p for p in self.rate_plan}

    @property
    def merchants(self) -> dict[str, MerchantTerms]:
        return {m.mid: m for m in self.merchant}


class HolidayYear(_Model):
    year: Annotated[int, Field(ge=2000, le=2100)]
    holidays: list[date] = []
    workdays: list[date] = []   # make-up working days

    @model_validator(mode="after")
    def _in_year(self) -> HolidayYear:
        for d in (*self.holidays, *self.workdays):
            if d.year != self.year:
                raise ValueError(f"{d} is not in {self.year}")
        if set(self.holidays) & set(self.workdays):
            raise ValueError("a date cannot be both a holiday and a working day")
        return self


class HolidaysFile(_Model):
    year: list[HolidayYear] = []

    def calendar(self) -> SettlementCalendar:
        return SettlementCalendar({y.year: ExtraYear(frozenset(y.holidays), frozenset(y.workdays))
                                   for y in self.year})


def load_clearing(config_dir: Path) -> tuple[ClearingConfig, SettlementCalendar]:
    """`clearing.toml` and the holidays file it names, from one configuration directory."""
    config = load_settings(config_dir / CLEARING_FILE, ClearingConfig)
    holidays = load_settings(config_dir / config.clearing.holidays_file, HolidaysFile)
    return config, holidays.calendar()
