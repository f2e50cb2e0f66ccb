"""What a receipt says: transaction slips and the settlement summary.

The model is plain, frozen data that validates itself on construction, so a
receipt that exists is one that may be printed. In particular it REFUSES a full
PAN: `masked_pan` may show at most the first 6 and the last 4 digits (docs/payment-standards.md,
"Cardholder data"). Because nothing else on a receipt can carry card data,
a receipt (or its JSON, `to_json`) can be stored and printed again.

Money is integer fen (`amount_fen`, always the magnitude); whether it shows as
negative (money back to the cardholder: void, refund) follows from the
transaction type. Times are timezone-aware and printed in China time.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "CNY",
    "CardDetails",
    "Copy",
    "Cvm",
    "EntryMode",
    "Merchant",
    "Outcome",
    "Receipt",
    "ReceiptFieldError",
    "SettlementReceipt",
    "SettlementTotal",
    "TransactionType",
    "UnmaskedPanError",
    "check_masked_pan",
    "from_json",
    "to_json",
]

CNY = 156  # ISO 4217 numeric; the only currency the kit's receipts print


class ReceiptFieldError(ValueError):
    """A receipt field is missing or malformed; the message names the field."""

    def __init__(self, field_name: str, problem: str) -> None:
        self.field = field_name
        super().__init__(f"receipt field {field_name!r}: {problem}")


class UnmaskedPanError(ReceiptFieldError):
    """More of the card number is visible than a receipt may show.

    The message never repeats the value: it may be a full PAN.
    """


class TransactionType(StrEnum):
    SALE = "sale"
    VOID = "void"
    REFUND = "refund"
    PRE_AUTH = "pre_auth"
    PRE_AUTH_VOID = "pre_auth_void"
    COMPLETION = "completion"
    COMPLETION_VOID = "completion_void"
    BALANCE = "balance"

    @property
    def returns_money(self) -> bool:
        """Money (or a hold) goes back to the cardholder: the amount prints negative."""
        return self in (TransactionType.VOID, TransactionType.REFUND, TransactionType.PRE_AUTH_VOID,
                        TransactionType.COMPLETION_VOID)


class EntryMode(StrEnum):
    """How the card reached the terminal: field 22's first two digits."""

    MANUAL = "01"
    SWIPE = "02"
    QR = "03"
    CHIP = "05"
    CONTACTLESS = "07"


class Cvm(StrEnum):
    """How the cardholder was verified, which decides the signature line."""

    PIN = "pin"                  # online PIN: no signature
    CDCVM = "cdcvm"              # verified on the phone or watch: no signature
    NO_CVM = "no_cvm"            # under the no-CVM limit: no signature
    SIGNATURE = "signature"      # the merchant copy carries a signature line


class Copy(StrEnum):
    MERCHANT = "merchant"
    CARDHOLDER = "cardholder"


def _text(name: str, value: object, *, max_len: int, pattern: str | None = None) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ReceiptFieldError(name, "must be a non-empty string")
    if len(value) > max_len:
        raise ReceiptFieldError(name, f"is {len(value)} characters long, at most {max_len} allowed")
    if pattern is not None and re.fullmatch(pattern, value) is None:
        raise ReceiptFieldError(name, f"{value!r} does not match {pattern}")


def _counter(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 999_999:
        raise ReceiptFieldError(name, f"must be an integer 0..999999, got {value!r}")


def _fen(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ReceiptFieldError(name, f"must be integer fen, got {type(value).__name__}")
    if value < 0:
        raise ReceiptFieldError(name, f"must not be negative (the sign follows the transaction type), got {value}")


def _aware(name: str, value: object) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ReceiptFieldError(name, "must be a timezone-aware datetime")


def check_masked_pan(value: object, field_name: str = "masked_pan") -> None:
    """At most the first 6 and last 4 digits in clear, the rest '*'.

    Wallet payment codes (up to 24 digits) follow the same rule.
    """
    if not isinstance(value, str):
        raise UnmaskedPanError(field_name, "must be a string of digits and '*'")
    if not 8 <= len(value) <= 24 or re.fullmatch(r"[0-9*]+", value) is None:
        raise UnmaskedPanError(field_name, f"must be 8..24 characters of digits and '*', got {len(value)} characters")
    match = re.fullmatch(r"([0-9]{0,6})\*+([0-9]{0,4})", value)
    if match is None:
        shown = sum(c.isdigit() for c in value)
        raise UnmaskedPanError(
            field_name,
            f"shows {shown} digits in clear; at most the first 6 and last 4 may show "
            "(mask the PAN before building a receipt: a full PAN never goes on paper)")


@dataclass(frozen=True)
class Merchant:
    name_zh: str
    name_en: str
    mid: str          # merchant number, field 42 (15 characters)

    def __post_init__(self) -> None:
        _text("merchant.name_zh", self.name_zh, max_len=40)
        _text("merchant.name_en", self.name_en, max_len=80)
        _text("merchant.mid", self.mid, max_len=15, pattern=r"[0-9A-Za-z]{15}")


@dataclass(frozen=True)
class CardDetails:
    """The card (or wallet) as a receipt may show it."""

    scheme: str                          # "unionpay", "visa", "mastercard", "alipay", "wechat", ...
    masked_pan: str                      # e.g. "622588******1234"
    entry_mode: EntryMode
    aid: str | None = None               # chip: application identifier, hex
    app_label: str | None = None         # chip: application label (tag 50)
    cryptogram: str | None = None        # chip: TC or ARQC, 16 hex digits
    cryptogram_kind: str | None = None   # "TC", "ARQC" or "AAC"

    def __post_init__(self) -> None:
        _text("card.scheme", self.scheme, max_len=20, pattern=r"[a-z_]+")
        check_masked_pan(self.masked_pan, "card.masked_pan")
        object.__setattr__(self, "entry_mode", EntryMode(self.entry_mode))
        if self.aid is not None:
            _text("card.aid", self.aid, max_len=32, pattern=r"[0-9A-F]{10,32}")
        if self.app_label is not None:
            _text("card.app_label", self.app_label, max_len=16)
        if (self.cryptogram is None) != (self.cryptogram_kind is None):
            raise ReceiptFieldError("card.cryptogram", "cryptogram and cryptogram_kind come together")
        if self.cryptogram is not None:
            _text("card.cryptogram", self.cryptogram, max_len=16, pattern=r"[0-9A-F]{16}")
            if self.cryptogram_kind not in ("TC", "ARQC", "AAC"):
                raise ReceiptFieldError("card.cryptogram_kind", f"must be TC, ARQC or AAC, got {self.cryptogram_kind!r}")


@dataclass(frozen=True)
class Outcome:
    """The host's answer: approved, or declined with the response code and why."""

    approved: bool
    response_code: str           # field 39, e.g. "00", "51"
    reason: str = ""             # the code's text, e.g. "余额不足 Insufficient funds"

    def __post_init__(self) -> None:
        _text("outcome.response_code", self.response_code, max_len=2, pattern=r"[0-9A-Z]{2}")
        if not self.approved and not self.reason.strip():
            raise ReceiptFieldError("outcome.reason", "a declined outcome needs its reason text")


@dataclass(frozen=True)
class Receipt:
    """One transaction slip (one copy; `copies()` gives both)."""

    merchant: Merchant
    terminal_id: str             # field 41, 8 characters
    operator: str                # cashier number
    batch: int                   # field 60.2
    trace: int                   # STAN, field 11 ("voucher number" on the slip)
    when: datetime               # timezone-aware
    transaction: TransactionType
    amount_fen: int              # magnitude; refunds and voids print negative
    card: CardDetails
    outcome: Outcome
    cvm: Cvm
    copy: Copy = Copy.CARDHOLDER
    rrn: str | None = None       # field 37, 12 characters
    auth_code: str | None = None  # field 38, 6 characters
    currency: int = CNY
    reprint: bool = False
    e_receipt_url: str | None = None
    original_trace: int | None = None   # void / refund / completion: the original's voucher number
    wallet_order: str | None = None     # a wallet payment: its order number (the card is the payer's masked account)

    def __post_init__(self) -> None:
        if not isinstance(self.merchant, Merchant):
            raise ReceiptFieldError("merchant", "must be a Merchant")
        if not isinstance(self.card, CardDetails):
            raise ReceiptFieldError("card", "must be CardDetails")
        if not isinstance(self.outcome, Outcome):
            raise ReceiptFieldError("outcome", "must be an Outcome")
        _text("terminal_id", self.terminal_id, max_len=8, pattern=r"[0-9A-Za-z]{8}")
        _text("operator", self.operator, max_len=10)
        _counter("batch", self.batch)
        _counter("trace", self.trace)
        _aware("when", self.when)
        object.__setattr__(self, "transaction", TransactionType(self.transaction))
        object.__setattr__(self, "cvm", Cvm(self.cvm))
        object.__setattr__(self, "copy", Copy(self.copy))
        _fen("amount_fen", self.amount_fen)
        if self.currency != CNY:
            raise ReceiptFieldError("currency", f"only CNY ({CNY}) receipts are printed, got {self.currency}")
        if self.rrn is not None:
            _text("rrn", self.rrn, max_len=12, pattern=r"[0-9A-Za-z]{12}")
        if self.auth_code is not None:
            _text("auth_code", self.auth_code, max_len=6, pattern=r"[0-9A-Za-z ]{6}")
        if self.e_receipt_url is not None:
            _text("e_receipt_url", self.e_receipt_url, max_len=300, pattern=r"https?://\S+")
        if self.original_trace is not None:
            _counter("original_trace", self.original_trace)
        if self.wallet_order is not None:
            _text("wallet_order", self.wallet_order, max_len=32, pattern=r"[0-9A-Za-z]+")

    @property
    def signed_amount_fen(self) -> int:
        return -self.amount_fen if self.transaction.returns_money else self.amount_fen

    @property
    def needs_signature(self) -> bool:
        return self.outcome.approved and self.cvm is Cvm.SIGNATURE

    def copies(self) -> tuple[Receipt, Receipt]:
        """Merchant copy then cardholder copy, in printing order."""
        return replace(self, copy=Copy.MERCHANT), replace(self, copy=Copy.CARDHOLDER)

    def as_reprint(self) -> Receipt:
        return replace(self, reprint=True)


@dataclass(frozen=True)
class SettlementTotal:
    """One line of the settlement: a transaction type, how many, how much."""

    transaction: TransactionType
    count: int
    amount_fen: int              # magnitude; refunds and voids print negative

    def __post_init__(self) -> None:
        object.__setattr__(self, "transaction", TransactionType(self.transaction))
        _counter("totals.count", self.count)
        _fen("totals.amount_fen", self.amount_fen)

    @property
    def signed_amount_fen(self) -> int:
        return -self.amount_fen if self.transaction.returns_money else self.amount_fen


@dataclass(frozen=True)
class SettlementReceipt:
    """The end-of-day summary of one batch."""

    merchant: Merchant
    terminal_id: str
    operator: str
    batch: int
    when: datetime
    totals: tuple[SettlementTotal, ...]
    balanced: bool               # the host's answer to the 0500: 1 balanced, 2 out of balance
    reprint: bool = False
    currency: int = CNY

    def __post_init__(self) -> None:
        if not isinstance(self.merchant, Merchant):
            raise ReceiptFieldError("merchant", "must be a Merchant")
        _text("terminal_id", self.terminal_id, max_len=8, pattern=r"[0-9A-Za-z]{8}")
        _text("operator", self.operator, max_len=10)
        _counter("batch", self.batch)
        _aware("when", self.when)
        object.__setattr__(self, "totals", tuple(self.totals))
        if not all(isinstance(t, SettlementTotal) for t in self.totals):
            raise ReceiptFieldError("totals", "must be SettlementTotal items")
        kinds = [t.transaction for t in self.totals]
        if len(set(kinds)) != len(kinds):
            raise ReceiptFieldError("totals", "lists a transaction type twice")
        if self.currency != CNY:
            raise ReceiptFieldError("currency", f"only CNY ({CNY}) receipts are printed, got {self.currency}")

    @property
    def net_fen(self) -> int:
        """Sales and completions minus refunds and their voids (pre-auths and balance enquiries hold no money)."""
        counted = (TransactionType.SALE, TransactionType.COMPLETION, TransactionType.REFUND, TransactionType.VOID,
                   TransactionType.COMPLETION_VOID)
        return sum(t.signed_amount_fen for t in self.totals if t.transaction in counted)

    def as_reprint(self) -> SettlementReceipt:
        return replace(self, reprint=True)


# --- JSON, for a journal that keeps what it printed -------------------------

def to_json(document: Receipt | SettlementReceipt) -> str:
    """A receipt as JSON (no card data beyond the masked PAN can be in it)."""
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, (Merchant, CardDetails, Outcome, SettlementTotal)):
            return {k: plain(v) for k, v in value.__dict__.items()}
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value

    kind = "receipt" if isinstance(document, Receipt) else "settlement"
    body = {k: plain(v) for k, v in document.__dict__.items()}
    return json.dumps({"kind": kind, **body}, ensure_ascii=False, sort_keys=True)


def from_json(text: str) -> Receipt | SettlementReceipt:
    data = json.loads(text)
    kind = data.pop("kind", None)
    data["merchant"] = Merchant(**data["merchant"])
    data["when"] = datetime.fromisoformat(data["when"])
    if kind == "receipt":
        data["card"] = CardDetails(**data["card"])
        data["outcome"] = Outcome(**data["outcome"])
        return Receipt(**data)
    if kind == "settlement":
        data["totals"] = tuple(SettlementTotal(**t) for t in data["totals"])
        return SettlementReceipt(**data)
    raise ReceiptFieldError("kind", f"must be 'receipt' or 'settlement', got {kind!r}")
