"""The engine's errors, each a `TillkitError` with its kind and message key (docs/errors.md).

The engine raises these before or instead of an outcome; it never words
them for a screen. `str(error)` is the English sentence for logs and the
command line; a face shows `key` with `data` in the cashier's language
(`pos.messages`).
"""
from __future__ import annotations

from acquirer.protocol.errors import ErrorKind, TillkitError
from pos.core.payment import ReadFailed


class EngineError(TillkitError):
    """A transaction the engine refuses to start; nothing was sent."""

    kind = ErrorKind.REFUSED
    message_key = "engine.refused"


class Busy(TillkitError):
    """Another transaction is running on this terminal: one at a time, the second is refused at once."""

    kind = ErrorKind.BUSY
    message_key = "engine.busy"


class Cancelled(TillkitError):
    """The payment was aborted (by any face) while waiting for the card or code: nothing was sent."""

    kind = ErrorKind.CANCELLED
    message_key = "engine.cancelled"


class SignOnFailed(TillkitError):
    kind = ErrorKind.TERMINAL
    message_key = "engine.sign_on_failed"


class ReversalOutstanding(TillkitError):
    """A reversal is still unacknowledged: no new transaction until the host acknowledges it."""

    kind = ErrorKind.TERMINAL
    message_key = "engine.reversal_outstanding"


class SettlementFailed(TillkitError):
    kind = ErrorKind.TERMINAL
    message_key = "engine.settlement_failed"


class PinNotEntered(EngineError):
    """The card's CVM is online PIN and the PIN pad gave none (the cardholder cancelled): nothing was sent."""

    message_key = "engine.pin_not_entered"


class OriginalNotFound(EngineError):
    message_key = "engine.original_not_found"


class NotVoidable(EngineError):
    message_key = "engine.not_voidable"


class CardMismatch(EngineError):
    message_key = "engine.card_mismatch"


class WrongPaymentKind(EngineError):
    """A wallet code presented for something only a card can do (a void, a refund, a pre-auth)."""

    message_key = "engine.wallet_code_not_for"


class NoPaymentSource(EngineError):
    message_key = "engine.no_payment_source"


class CardNotRead(EngineError):
    """The tap ended before an online request (nothing was sent); `prompt` is what the cardholder saw.

    `outcome`: "declined" (the card itself refused, AAC: kind declined),
    "try another interface", "present card again" or "present one card" (kind refused).
    """

    message_key = "engine.card_not_read"

    def __init__(self, failure: ReadFailed) -> None:
        super().__init__(str(failure), kind=ErrorKind.DECLINED if failure.outcome == "declined" else None,
                         outcome=failure.outcome, prompt=failure.prompt, reason=failure.reason)
        self.outcome = failure.outcome
        self.prompt = failure.prompt
        self.reason = failure.reason

    @property
    def declined(self) -> bool:
        return self.outcome == "declined"


class DeviceFailed(TillkitError):
    """A device (reader, camera) failed: the terminal cannot work until someone fixes it; named in the message."""

    kind = ErrorKind.TERMINAL
    message_key = "device.failed"
