"""The contactless reader as a payment source: wait for a tap, run the EMV kernel.

There is one way to read a card here: nfcpy (`drivers.nfc`) activates it and
`pos.sources.emv.ContactlessKernel` reads it into an online request whose field 55
the issuer checks. The reader is what `[nfc] reader` in pos.toml names:

- a real one (`tty:USB0:pn532`, `usb`, `usb:072f:2200`, a device path), on
  which the cardholder taps;
- `sim`: a simulated PN532 (`drivers.sim.pn532.SimulatedPN532`) in this
  process, answering nfcpy's unmodified pn532 driver on a pseudo-terminal.
  `Contactless.cards` then presents the test cards of `cards.toml` on it
  (`pos sale --card NAME`, the demo, tests, benchmarks), so a virtual card
  takes the very path of a real tap: UART frames, ISO-DEP blocks, kernel.

A tap that ends before an online request (a card's own decline, a card that
answers nonsense, one pulled away too soon, two cards in the field) raises
`pos.core.payment.ReadFailed` with what the cardholder is told: nothing is sent.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from acquirer.config import CARDS_FILE
from drivers.nfc import CardError, NfcReader, open_reader, wait_for_card
from drivers.sim.pn532 import SimulatedPN532
from pos.core.config import PosConfig
from pos.sources.emv import EMV_FILE, ContactlessKernel, Outcome, OutcomeKind, load_terminal_emv, outcome_for_card_error
from pos.core.payment import CardData, PaymentRequest, ReadFailed
from pos.simulated.virtual_card import ATC_DIR, VirtualCards


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
        propagate: they need a person to fix the set-up, not another tap.
        """
        try:
            card = await wait_for_card(self.reader)
        except CardError as error:   # two cards, or a tag that cannot pay
            raise _failed(outcome_for_card_error(error)) from None
        # the kernel's APDU exchanges block on the reader: keep them off the event loop
        result = await asyncio.to_thread(self.kernel.run, card, request)
        if result.outcome.kind is not OutcomeKind.ONLINE_REQUEST or result.card is None:
            raise _failed(result.outcome)
        return result.card


def _failed(outcome: Outcome) -> ReadFailed:
    return ReadFailed(outcome.kind.value, outcome.message, outcome.reason)


@dataclass(frozen=True)
class Contactless:
    """The open reader, and on the simulated one the test cards to tap on it."""

    reader: ContactlessReader
    cards: VirtualCards | None     # None on a real reader: real cards are tapped there


@contextmanager
def open_contactless(config: PosConfig) -> Iterator[Contactless]:
    """Open `[nfc] reader` with the kernel's parameters (`terminal-emv.toml`).

    Raises `drivers.nfc.ReaderError` (missing, busy, permission denied) or
    `pos.sources.emv.EmvConfigError`, each naming what to fix.
    """
    kernel = ContactlessKernel(load_terminal_emv(config.config_dir / EMV_FILE))
    with ExitStack() as stack:
        if not config.nfc.simulated:
            reader = stack.enter_context(open_reader(config.nfc.reader))
            yield Contactless(ContactlessReader(reader, kernel), None)
            return
        chip = stack.enter_context(SimulatedPN532())
        reader = stack.enter_context(open_reader(chip.path))
        source = ContactlessReader(reader, kernel, name=f"simulated PN532 {chip.path}")
        cards = VirtualCards(chip.field, source, config.config_dir / CARDS_FILE, config.state_dir / ATC_DIR)
        yield Contactless(source, cards)
