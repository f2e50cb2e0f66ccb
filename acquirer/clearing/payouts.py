"""Payout instructions per settlement date, with balances carried forward.

On settlement date S each merchant is due the net (settlement amount) of
every clearing day whose settlement date is S, plus what was carried from
earlier dates. It is paid when that sum reaches the merchant's minimum
payout (and is above zero); otherwise all of it is carried to the next
settlement date -- a merchant whose refunds exceed its sales carries the
negative balance until sales cover it, and is never asked to pay in.

Paying posts, per settlement date, `payable:<mid>` -paid for every merchant
paid and `payout:<date>` +their sum: the funds sent to the merchants' banks
that day. What stays in `payable:<mid>` is then exactly the balance carried
forward (zero, below the minimum, or negative).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from acquirer.clearing.files import RecordFile
from acquirer.protocol.clearing_layouts import PAYOUT
from acquirer.clearing.terms import MerchantTerms

__all__ = ["PayoutLine", "payout_account", "payout_lines", "write_payouts"]


def payout_account(settlement_date: date) -> str:
    """The ledger account of the funds paid out on a settlement date (opened when it is paid)."""
    return f"payout:{settlement_date.isoformat()}"


@dataclass(frozen=True)
class PayoutLine:
    mid: str
    payout_account: str
    days: int          # clearing days settled on this date
    due: int           # their net
    carried_in: int
    paid: int
    carried_out: int


def payout_lines(dues: Mapping[str, tuple[int, int]], carried_in: Mapping[str, int],
                 terms: Mapping[str, MerchantTerms]) -> list[PayoutLine]:
    """`dues`: mid -> (days, net due); `carried_in`: mid -> balance carried in. Sorted by merchant."""
    lines = []
    for mid in sorted(set(dues) | {m for m, v in carried_in.items() if v}):
        days, due = dues.get(mid, (0, 0))
        carried = carried_in.get(mid, 0)
        total = due + carried
        t = terms[mid]
        paid = total if total > 0 and total >= t.min_payout_fen else 0
        lines.append(PayoutLine(mid, t.payout_account, days, due, carried, paid, total - paid))
    return lines


def write_payouts(sink: BinaryIO, acquirer: str, settlement_date: date, lines: Iterable[PayoutLine]) -> str:
    """The payout instruction file of one settlement date; returns its checksum."""
    f = RecordFile(sink, "PAYO", acquirer, acquirer, None, settlement_date)
    for p in lines:
        f.record(PAYOUT, ("P", p.mid, p.payout_account, p.days, p.due, p.carried_in, p.paid, p.carried_out),
                 (p.due, p.paid, p.carried_out))
    return f.close()
