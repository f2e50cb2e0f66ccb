"""Events and configuration for clearing tests (values a storage layer would hand over)."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import count

from acquirer.clearing.events import Channel, ClearingEvent, Fees, LineCode
from acquirer.clearing.terms import ClearingConfig

BEIJING = timezone(timedelta(hours=8))
MID_A, MID_B, MID_DOWN = "898310048990001", "898310048990002", "898310048990003"

CONFIG = {
    "fees": {"foreign": {"visa": {"issuer_pct": "1.0", "network_pct": "0.1", "network_cap_fen": 500}},
             "wallets": {"alipay": {"fee_pct": "0.38"}, "unionpay": {"fee_pct": "0.3"}}},
    "rate_plan": [{"name": "standard", "acquirer_pct": "0.1"},
                  {"name": "small", "acquirer_pct": "0.05", "acquirer_cap_fen": 500}],
    "merchant": [
        {"mid": MID_A, "mcc": "5411", "rate_plan": "standard", "payout_account": "310066632018001234567",
         "min_payout_fen": 100},
        {"mid": MID_B, "mcc": "5812", "rate_plan": "small", "payout_account": "310066632018007654321",
         "min_payout_fen": 50_000},
        {"mid": MID_DOWN, "mcc": "5999", "rate_plan": "standard", "payout_account": "310066632018000000003",
         "fee_rounding": "down"},
    ],
}


def config(**changes: object) -> ClearingConfig:
    return ClearingConfig.model_validate({**CONFIG, **changes})


_ids = count(1)


def beijing(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, BEIJING).astimezone(UTC)


def event(amount: int, *, code: LineCode = LineCode.SALE, mid: str = MID_A, at: datetime | None = None,
          channel: Channel = Channel.DOMESTIC, credit: bool = False, scheme: str = "unionpay",
          institution: str = "cup-bank", original_date: date | None = None,
          original_fees: Fees | None = None, source: str = "txn") -> ClearingEvent:
    n = next(_ids)
    return ClearingEvent(
        source=source, source_id=n, code=code, occurred_at=at or beijing(2026, 12, 3, 12),
        tid="10000001", mid=mid, stan=f"{n % 1_000_000:06d}", rrn=f"{n:012d}", auth_code="123456",
        masked_account="621483******0015", scheme=scheme, institution=institution, channel=channel,
        credit=credit, amount=amount, original_date=original_date, original_fees=original_fees)


class Files:
    """An opener that keeps each file's bytes in memory."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def __call__(self, name: str) -> io.BytesIO:
        files = self

        class Sink(io.BytesIO):
            def close(self) -> None:
                if not self.closed:
                    files.data[name] = self.getvalue()
                super().close()

            def __exit__(self, *exc: object) -> None:
                self.close()

        return Sink()


#: acquirer.toml rows of the second merchant of the day tests (a noodle bar with terminal 10000003)
SECOND_MERCHANT = """
[[merchant]]
mid = "898310048990002"
name_zh = "小面馆"
name_en = "Noodle Bar"
mcc = "5812"
city = "Shanghai"

[[terminal]]
tid = "10000003"
mid = "898310048990002"
tmk = "0123456789ABCDEFFEDCBA9876543210"   # TEST KEY
mac = "ecb"
"""

#: its clearing.toml terms (small-business plan); the served-statement test adds its API key
SECOND_MERCHANT_TERMS = """
[[merchant]]
mid = "898310048990002"
mcc = "5812"
rate_plan = "small-business"
payout_account = "310066632018007654321"
min_payout_fen = 0
"""
