"""Manual key entry: a card number and expiry typed in (field 22 = 012, card not present).

A fallback for when no card can be read, where the acquirer allows it (the
terminal's allowed transactions on the host decide; a refusal comes back as
a response code). The typed values are checked here first (Luhn, a real
month) so an obvious typo is refused before anything is sent.
"""
from __future__ import annotations

from acquirer.protocol.errors import ErrorKind, TillkitError
from pos.core.payment import CardData, PaymentRequest


class ManualEntryError(TillkitError, ValueError):
    """The typed card number or expiry cannot be a card's."""

    kind = ErrorKind.REFUSED
    message_key = "manual.invalid"


def luhn_ok(pan: str) -> bool:
    total = 0
    for index, digit in enumerate(reversed(pan)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def scheme_of(pan: str) -> str:
    """The card scheme by BIN: UnionPay 62, Visa 4, Mastercard 51-55 and 2221-2720."""
    if pan.startswith("62"):
        return "unionpay"
    if pan.startswith("4"):
        return "visa"
    if "51" <= pan[:2] <= "55" or "2221" <= pan[:4] <= "2720":
        return "mastercard"
    return "other"


def check_manual_card(pan: str, expiry: str) -> tuple[str, str]:
    """The cleaned (PAN, expiry YYMM); raises ManualEntryError saying what is wrong."""
    pan = pan.replace(" ", "")
    if not pan.isdigit() or not 12 <= len(pan) <= 19:
        raise ManualEntryError("card number must be 12 to 19 digits")
    if not luhn_ok(pan):
        raise ManualEntryError("card number fails its check digit (Luhn): check for a typo")
    expiry = expiry.replace("/", "")
    if not (len(expiry) == 4 and expiry.isdigit() and 1 <= int(expiry[2:]) <= 12):
        raise ManualEntryError(f"expiry must be YYMM with a month 01-12, got {expiry!r}")
    return pan, expiry


class ManualEntry:
    """A `PaymentSource` for a card number and expiry the cashier typed."""

    name = "manual entry"

    def __init__(self, pan: str, expiry: str) -> None:
        self._pan, self._expiry = check_manual_card(pan, expiry)

    async def read(self, request: PaymentRequest) -> CardData:
        return CardData(pan=self._pan, expiry=self._expiry, scheme=scheme_of(self._pan),
                        entry_mode="01", source="manual")

    def __repr__(self) -> str:
        return "ManualEntry(…)"
