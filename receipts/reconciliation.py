"""The reconciliation slip: the merchant's end of day against the acquirer, compact enough for 58 mm paper.

Plain frozen data, checked on construction like every receipt: money in
integer fen, an aware time, at most the masked card number anywhere (an
exception line names a card only by its masked PAN). What goes on it is the
summary of `pos reconcile` -- gross, fees, net by channel, the expected
payout, the count of lines per category, and the first exceptions -- not
every line: the full report is on the screen and in the files.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from receipts.model import Merchant, ReceiptFieldError, check_masked_pan

__all__ = ["MAX_PRINTED_EXCEPTIONS", "ReconciliationChannel", "ReconciliationException", "ReconciliationSlip"]

MAX_PRINTED_EXCEPTIONS = 10


def _fen(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ReceiptFieldError(name, "must be integer fen")


@dataclass(frozen=True)
class ReconciliationChannel:
    channel: str          # "card unionpay", "wallet alipay", ...
    count: int
    gross: int
    fees: int
    net: int

    def __post_init__(self) -> None:
        for name in ("gross", "fees", "net"):
            _fen(f"channels.{name}", getattr(self, name))


@dataclass(frozen=True)
class ReconciliationException:
    category: str         # the category's title
    terminal: str
    trace: str
    amount: int           # fen, signed
    card: str | None      # masked PAN

    def __post_init__(self) -> None:
        _fen("exceptions.amount", self.amount)
        if self.card:
            check_masked_pan(self.card, "exceptions.card")


@dataclass(frozen=True)
class ReconciliationSlip:
    merchant: Merchant
    terminals: tuple[str, ...]
    first: date
    last: date
    when: datetime
    channels: tuple[ReconciliationChannel, ...]
    categories: tuple[tuple[str, int, int], ...]     # (title, lines, amount in fen)
    payouts: tuple[tuple[date | None, int], ...]    # (settlement date, net in fen)
    exceptions: tuple[ReconciliationException, ...]
    exception_count: int

    def __post_init__(self) -> None:
        if self.when.tzinfo is None:
            raise ReceiptFieldError("when", "must be timezone-aware")
        if len(self.exceptions) > MAX_PRINTED_EXCEPTIONS:
            raise ReceiptFieldError("exceptions", f"at most {MAX_PRINTED_EXCEPTIONS} are printed")

    @property
    def totals(self) -> tuple[int, int, int]:
        return (sum(c.gross for c in self.channels), sum(c.fees for c in self.channels),
                sum(c.net for c in self.channels))
