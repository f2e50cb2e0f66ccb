"""The contactless reader `[nfc] reader` names, opened with the kernel's parameters: real or simulated.

- a real reader (`tty:USB0:pn532`, `usb`, `usb:072f:2200`, a device path),
  on which the cardholder taps;
- `sim`: the simulated PN532 in this process (`pos.simulated.contactless`),
  answering nfcpy's unmodified pn532 driver on a pseudo-terminal, with the
  test cards of `cards.toml` to tap on it (`Contactless.cards`).

Both faces open the reader here; the simulator loads only when the
configuration names it.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.nfc import open_reader
from pos.core.config import PosConfig
from pos.sources.contactless import ContactlessReader
from pos.sources.emv import EMV_FILE, ContactlessKernel, load_terminal_emv

if TYPE_CHECKING:
    from pos.simulated.virtual_card import VirtualCards


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
    if config.nfc.simulated:
        from pos.simulated.contactless import open_simulated_reader  # the simulator loads only for "sim"

        with open_simulated_reader(config, kernel) as (reader, cards):
            yield Contactless(reader, cards)
        return
    with open_reader(config.nfc.reader) as device:
        yield Contactless(ContactlessReader(device, kernel), None)
