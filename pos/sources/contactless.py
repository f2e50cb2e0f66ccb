"""The contactless reader as a payment source: wait for a tap, run the EMV kernel.

There is one way to read a card here: nfcpy (`drivers.nfc`) activates it and
`pos.sources.emv.ContactlessKernel` reads it into an online request whose field 55
the issuer checks. Which reader -- a real one or the simulated PN532 -- is
the device assembly's choice (`pos.devices.contactless.open_contactless`);
this source reads the same way from either.

A tap that ends before an online request (a card's own decline, a card that
answers nonsense, one pulled away too soon, two cards in the field) raises
`pos.core.payment.ReadFailed` with what the cardholder is told: nothing is sent.
"""
from __future__ import annotations

import asyncio

from drivers.nfc import CardError, NfcReader, ReaderError, wait_for_card
from pos.core.errors import DeviceFailed
from pos.core.payment import CardData, PaymentRequest, ReadFailed
from pos.sources.emv import ContactlessKernel, Outcome, OutcomeKind, outcome_for_card_error


class ContactlessReader:
    """A `PaymentSource`: the next card tapped on `reader`, read by the kernel."""

    source = "nfc"

    def __init__(self, reader: NfcReader, kernel: ContactlessKernel, *, name: str | None = None) -> None:
        self.reader = reader
        self.kernel = kernel
        self.name = name or f"contactless reader {reader.path}"

    async def read(self, request: PaymentRequest) -> CardData:
        """Wait for a tap and read it; `ReadFailed` when the tap gives no online request.

        The reader's own failures (`drivers.nfc.ReaderError`: unplugged, gone)
        end it as `DeviceFailed` (kind "terminal"): they need a person to fix
        the set-up, not another tap.
        """
        try:
            card = await wait_for_card(self.reader)
        except CardError as error:   # two cards, or a tag that cannot pay
            raise _failed(outcome_for_card_error(error)) from None
        except ReaderError as error:
            raise DeviceFailed(str(error), message_key="device.reader", device="reader", error=str(error)) from None
        # the kernel's APDU exchanges block on the reader: keep them off the event loop
        result = await asyncio.to_thread(self.kernel.run, card, request)
        if result.outcome.kind is not OutcomeKind.ONLINE_REQUEST or result.card is None:
            raise _failed(result.outcome)
        return result.card


def _failed(outcome: Outcome) -> ReadFailed:
    return ReadFailed(outcome.kind.value, outcome.message, outcome.reason)
