"""What the engine tells the faces while it works.

The engine knows no face (docs/architecture.md): the TUI, the daemon and the CLI learn
what is happening only from these events, delivered in order to every observer
registered (`Engine.add_observer`). Each is a frozen dataclass holding display-safe facts only
(masked PAN, never the full PAN), so a face may log or show any of them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base of every engine event."""


@dataclass(frozen=True)
class SigningOn(Event):
    address: str


@dataclass(frozen=True)
class SignedOn(Event):
    batch: str


@dataclass(frozen=True)
class HostUnreachable(Event):
    address: str
    error: str
    retry_in_s: float


@dataclass(frozen=True)
class WaitingForPayment(Event):
    kind: str                  # "sale", "refund", ...
    amount: int                # fen
    currency: str
    sources: tuple[str, ...]   # the payment sources armed, e.g. ("virtual",)


@dataclass(frozen=True)
class PinRequested(Event):
    """The card asks for its online PIN: the face's PIN pad is being asked (the card stays read)."""

    kind: str
    masked_pan: str


@dataclass(frozen=True)
class CardRead(Event):
    masked_pan: str
    scheme: str
    entry_mode: str            # field 22, e.g. "072"
    source: str                # "nfc", "virtual", "manual", ...
    label: str | None


@dataclass(frozen=True)
class WalletCodeRead(Event):
    """A customer's wallet payment code was scanned: it goes to the acquirer's wallet channel."""

    wallet: str                # "alipay", "wechat", "unionpay"
    masked_code: str           # first 4 and last 4 digits
    source: str                # the payment source, e.g. "camera"


@dataclass(frozen=True)
class SourceFailed(Event):
    """One armed payment source ended without a payment (a camera timed out); the others stay armed."""

    source: str
    reason: str


@dataclass(frozen=True)
class CustomerConfirming(Event):
    """The wallet answered "user paying": the customer confirms on the phone while the terminal polls."""

    wallet: str
    stan: str
    timeout_s: float           # the terminal waits this long before it reverses the order


@dataclass(frozen=True)
class ShowingCode(Event):
    """The terminal shows a merchant-presented code (EMVCo MPM) for the customer to scan and pay."""

    payload: str               # the code's text, to draw as a QR code
    amount: int                # fen
    stan: str
    bill: str                  # the bill number in the code (62.01): the order at the acquirer
    timeout_s: float           # not paid within this long: the order is cancelled (reversed)


@dataclass(frozen=True)
class PaymentCancelled(Event):
    """A face aborted the payment while the terminal waited for the customer."""

    kind: str


@dataclass(frozen=True)
class CardNotRead(Event):
    """The tap ended before an online request: nothing is sent."""

    kind: str
    outcome: str               # "declined", "try another interface", "present card again", "present one card"
    prompt: str                # what the cardholder is told, e.g. "Present card again"
    reason: str                # why, for the cashier (no card data)


@dataclass(frozen=True)
class Authorizing(Event):
    kind: str
    stan: str
    batch: str
    amount: int


@dataclass(frozen=True)
class Approved(Event):
    kind: str
    stan: str
    batch: str
    amount: int
    rrn: str
    auth_code: str
    masked_pan: str | None
    balance: int | None = None  # balance inquiry only: available balance in fen


@dataclass(frozen=True)
class Declined(Event):
    kind: str
    stan: str
    response_code: str
    reason: str                # the response code's English meaning (acquirer.protocol.codes)
    reason_zh: str             # and its Chinese one, from the same table


@dataclass(frozen=True)
class OutcomeUnknown(Event):
    """No trustworthy answer for a type that cannot be reversed: check with the acquirer before trying again."""

    kind: str
    stan: str
    reason: str                # why, for the log (the face words the outcome itself)


@dataclass(frozen=True)
class ReversalPending(Event):
    """The engine decided to reverse: no trustworthy answer came for this transaction."""

    kind: str
    stan: str
    reason_code: str           # field 39 of the reversal: "98" timeout, "96", "A0"
    reason: str


@dataclass(frozen=True)
class ReversalSent(Event):
    stan: str
    attempt: int


@dataclass(frozen=True)
class Reversed(Event):
    """The host acknowledged the reversal: no money was taken."""

    stan: str


@dataclass(frozen=True)
class Printing(Event):
    stan: str


@dataclass(frozen=True)
class ReceiptPrinted(Event):
    what: str                  # "receipt of trace 000123 (batch 000001)", "settlement of batch 000001", ...
    paper_near_end: bool = False


@dataclass(frozen=True)
class ReceiptQueued(Event):
    """The printer could not take it: the receipt waits in the print queue and prints when it is back."""

    what: str
    error: str                 # why, naming the printer (out of paper, cover open, offline, ...)


@dataclass(frozen=True)
class Settling(Event):
    batch: str
    debit_amount: int
    debit_count: int
    credit_amount: int
    credit_count: int


@dataclass(frozen=True)
class UploadingBatch(Event):
    batch: str
    count: int


@dataclass(frozen=True)
class Settled(Event):
    batch: str
    balanced: bool
    uploaded: int
    next_batch: str


Observer = Callable[[Event], None]
