"""What a payment source hands the engine.

Every card source (the contactless reader with its EMV kernel -- real cards
and the simulator's virtual ones alike --, a CPM QR code, manual entry)
produces a `CardData`; wallet payment codes (Alipay,
WeChat Pay, UnionPay app) produce a `WalletCode`, which goes through the
acquirer's wallet channel instead of the card network. Keeping one shape per
kind lets the engine treat every source alike.

These objects hold the full PAN and track 2 in memory for the authorization
only: nothing here is ever written to disk or logged (use `masked_pan`).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from acquirer.protocol.cardholder import mask_pan
from acquirer.protocol.wallet_codes import mask_code


@dataclass(frozen=True)
class CardData:
    """Card data for an online authorization, from any card-like source."""

    pan: str                      # full PAN: memory only, never persisted or logged
    expiry: str                   # YYMM
    scheme: str                   # "unionpay", "visa", "mastercard"
    entry_mode: str               # field 22 first two digits: "07" contactless, "01" manual, "03" QR
    source: str                   # "nfc", "qr-cpm", "manual"
    psn: str | None = None        # PAN sequence number (5F34), two digits
    track2: str | None = None     # track 2 equivalent: digits with 'D' separator
    icc_data: bytes | None = None  # field 55 TLV, ready to send
    aid: str | None = None        # application identifier (hex)
    label: str | None = None      # application label (50) for the receipt
    pin_required: bool = False    # the CVM asks for online PIN
    cardholder_verified: bool = False  # verified on the device (CDCVM), no PIN needed
    extra: dict[str, str] = field(default_factory=dict)  # source-specific, non-sensitive facts

    @property
    def masked_pan(self) -> str:
        return mask_pan(self.pan)

    def __repr__(self) -> str:  # never let a full PAN reach a log through repr()
        return f"CardData({self.scheme} {self.masked_pan} via {self.source}, entry {self.entry_mode})"


@dataclass(frozen=True)
class WalletCode:
    """A customer's wallet payment code (digits shown as a barcode or QR)."""

    kind: str                     # "alipay", "wechat", "unionpay"
    code: str                     # the digits, as scanned: memory only (a bearer credential while fresh)

    @property
    def masked_code(self) -> str:
        """First 4 and last 4 digits: what the journal, screens and logs show."""
        return mask_code(self.code)

    def __repr__(self) -> str:
        return f"WalletCode({self.kind} {self.masked_code})"


#: EMV transaction type (tag 9C) per engine transaction kind
EMV_TRANSACTION_TYPES = {"sale": "00", "preauth": "00", "completion": "00", "void": "20",
                         "preauth_void": "20", "completion_void": "20", "refund": "20",
                         "balance": "31"}


@dataclass(frozen=True)
class PaymentRequest:
    """What the engine asks a source for: the terminal side of the card's cryptogram.

    A card kernel puts these into the GENERATE AC data (9F02 amount, 5F2A
    currency, 9A date, 9C type, 9F37 unpredictable number) so the ARQC binds
    the card to this amount at this terminal now.
    """

    kind: str                     # engine transaction kind: "sale", "refund", ...
    amount: int                   # fen
    currency: str = "156"         # ISO 4217 numeric
    country: str = "156"          # terminal country code (9F1A), ISO 3166 numeric
    transaction_date: str = field(default_factory=lambda: date.today().strftime("%y%m%d"))
    unpredictable_number: bytes = field(default_factory=lambda: secrets.token_bytes(4))

    @property
    def emv_transaction_type(self) -> str:
        return EMV_TRANSACTION_TYPES[self.kind]


class ReadFailed(Exception):
    """A source met a card or phone but has no card data to send: the tap ended early.

    `outcome` is what happens next for the cardholder ("declined", "try another
    interface", "present card again", "present one card": the contactless
    kernel's outcome names), `prompt` the message they are shown, `reason` why
    (for the cashier; never card data). Nothing goes to the host.
    """

    def __init__(self, outcome: str, prompt: str, reason: str) -> None:
        super().__init__(f"{prompt} ({reason})")
        self.outcome = outcome
        self.prompt = prompt
        self.reason = reason


class PaymentSource(Protocol):
    """Anything that can produce a card or a payment code for a request.

    The engine arms every source it has at once and takes the first result;
    the others are cancelled (`asyncio.CancelledError` inside `read`), so a
    source must stop its device cleanly when cancelled. A card that cannot be
    read raises `ReadFailed`.
    """

    name: str

    async def read(self, request: PaymentRequest) -> CardData | WalletCode: ...
