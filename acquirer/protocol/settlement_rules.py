"""Which transactions count in a batch's settlement totals, and on which side: one rule for terminal and host.

Field 48 of a settlement (0500) carries two halves, domestic and foreign,
each with a debit and a credit amount and count (docs/protocol.md). A
transaction counts when it **stands** (approved, and not voided or reversed
since -- a voided or reversed transaction is in neither total):

- **debits**: sales and pre-auth completions;
- **credits**: refunds;
- neither: voids themselves, pre-auths (a hold, not a debit), balance
  inquiries, declines. A refunded sale still counts as a debit; its refund
  is the credit.

Domestic means a UnionPay card (内卡); every other scheme is foreign (外卡).
The terminal applies this to its journal, the host to its records (the host's
query takes its type lists from here).
"""
from __future__ import annotations

from typing import Literal

DEBIT_TYPES: tuple[str, ...] = ("sale", "completion")
CREDIT_TYPES: tuple[str, ...] = ("refund",)
COUNTED_TYPES: tuple[str, ...] = DEBIT_TYPES + CREDIT_TYPES
#: schemes settled as domestic (内卡); every other scheme is foreign (外卡)
DOMESTIC_SCHEMES = frozenset({"unionpay"})

Side = Literal["debit", "credit"]
Region = Literal["domestic", "foreign"]


def side_of(txn_type: str) -> Side | None:
    """"debit", "credit", or None for a type that counts in neither total."""
    if txn_type in DEBIT_TYPES:
        return "debit"
    if txn_type in CREDIT_TYPES:
        return "credit"
    return None


def region_of(scheme: str | None) -> Region:
    return "domestic" if scheme in DOMESTIC_SCHEMES else "foreign"
