"""Amounts typed by a person, turned into integer fen (and back into `¥12.34`).

Why by hand: the rules are the terminal's own (yuan with at most two decimals,
positive, under the configured maximum) and must give a message a cashier
understands; `decimal` would accept exponents, signs and NaN that we refuse.
Money never passes through a float.

The display form is `receipts.format_amount`, re-exported here: screens and
paper show money through the one formatter (receipts may not import pos).
"""
from __future__ import annotations

import re

from acquirer.protocol.errors import ErrorKind, TillkitError
from receipts import format_amount

__all__ = ["AmountError", "format_amount", "parse_amount"]

_AMOUNT = re.compile(r"(?P<yuan>[0-9]+)(?:\.(?P<fen>[0-9]{1,2}))?")


class AmountError(TillkitError, ValueError):
    """The typed amount cannot be charged; the message says why."""

    kind = ErrorKind.REFUSED
    message_key = "amount.invalid"


def parse_amount(text: str, *, max_fen: int) -> int:
    """"12.34" -> 1234, "12" -> 1200, "0.01" -> 1; anything else raises AmountError."""
    raw = text.strip()
    if not raw:
        raise AmountError("amount is empty: type an amount in yuan such as 12.34", message_key="amount.empty")
    if raw.startswith("-"):
        raise AmountError(f"amount {_shorten(raw)} is negative: amounts must be greater than zero",
                          message_key="amount.negative", amount=_shorten(raw))
    match = _AMOUNT.fullmatch(raw)
    if match is None:
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", raw):
            raise AmountError(f"amount {_shorten(raw)} has more than two decimals: fen is the smallest unit",
                              message_key="amount.decimals", amount=_shorten(raw))
        raise AmountError(f"amount {_shorten(raw)} is not a number: type yuan such as 12.34",
                          message_key="amount.not_a_number", amount=_shorten(raw))
    yuan = match["yuan"].lstrip("0") or "0"
    if len(yuan) > len(str(max_fen)):   # far over any maximum: never build a 5,000-digit integer
        raise AmountError(f"amount {_shorten(raw)} is over this terminal's maximum of {format_amount(max_fen)}",
                          message_key="amount.over_maximum", amount=_shorten(raw), maximum=format_amount(max_fen))
    fen = int(yuan) * 100 + int((match["fen"] or "0").ljust(2, "0"))
    if fen == 0:
        raise AmountError(f"amount {_shorten(raw)} is zero: amounts must be greater than zero",
                          message_key="amount.zero", amount=_shorten(raw))
    if fen > max_fen:
        raise AmountError(f"amount {format_amount(fen)} is over this terminal's maximum of {format_amount(max_fen)}",
                          message_key="amount.over_maximum", amount=format_amount(fen), maximum=format_amount(max_fen))
    return fen


def _shorten(raw: str, limit: int = 24) -> str:
    """The typed text quoted for a message, cut in the middle when it is long (a pasted 5,000 digits)."""
    if len(raw) <= limit:
        return repr(raw)
    return repr(f"{raw[:10]}...{raw[-10:]}") + f" ({len(raw)} characters)"
