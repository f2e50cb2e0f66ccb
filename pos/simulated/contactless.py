"""The simulated PN532 with the test cards to tap on it, for `[nfc] reader = "sim"`.

A `drivers.sim.pn532.SimulatedPN532` in this process answers nfcpy's
unmodified pn532 driver on a pseudo-terminal; `VirtualCards` presents the
test cards of `cards.toml` in its field (`pos sale --card NAME`, the demo,
the checkout screen's simulator, tests, benchmarks), so a virtual card takes
the very path of a real tap: UART frames, ISO-DEP blocks, the kernel.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from acquirer.config import CARDS_FILE
from drivers.nfc import open_reader
from drivers.sim.pn532 import SimulatedPN532
from pos.core.config import PosConfig
from pos.simulated.virtual_card import ATC_DIR, VirtualCards
from pos.sources.contactless import ContactlessReader
from pos.sources.emv import ContactlessKernel


@contextmanager
def open_simulated_reader(config: PosConfig,
                          kernel: ContactlessKernel) -> Iterator[tuple[ContactlessReader, VirtualCards]]:
    with ExitStack() as stack:
        chip = stack.enter_context(SimulatedPN532())
        device = stack.enter_context(open_reader(chip.path))
        reader = ContactlessReader(device, kernel, name=f"simulated PN532 {chip.path}")
        yield reader, VirtualCards(chip.field, reader, config.config_dir / CARDS_FILE, config.state_dir / ATC_DIR)
