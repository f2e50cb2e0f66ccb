"""Why a scanned code cannot be paid, in words for the cashier and the customer.

Every error carries `message` (what the screen says: short, no jargon, tells
what to do) and the technical reason in `str(error)` (for the log, naming the
tag, field or offset). A payload that raises one of these is never sent to the
host.
"""
from __future__ import annotations

from acquirer.protocol.errors import ErrorKind, TillkitError


class QrPayloadError(TillkitError, ValueError):
    """A scanned payload that cannot be used for a payment."""

    kind = ErrorKind.REFUSED
    message_key = "qr.refused"

    message = "This code cannot be used for payment. Please show your payment code again."

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if message is not None:
            self.message = message


class UnknownPayload(QrPayloadError):
    """Not a payment code of any kind the terminal accepts (a web link, a product barcode, ...)."""

    message = "This is not a payment code. Please open the payment code in your wallet app."


class MerchantCodeScanned(QrPayloadError):
    """The camera saw a merchant-presented code (a shop's code), not the customer's."""

    message = "This is a shop's payment code. Please show the payment code from your wallet app."


class MalformedCpm(QrPayloadError):
    """An EMVCo consumer-presented code whose content is broken or incomplete."""

    message = "This payment code could not be read. Please refresh the code in your app and try again."


class UnsupportedApplication(QrPayloadError):
    """A well-formed consumer-presented code for no card scheme this terminal accepts."""

    message = "This card is not accepted here. Please choose another card in your wallet app."
