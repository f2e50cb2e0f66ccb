"""Contactless: software time from card activation to field 55 ready, and to approval, p50/p99.

Over the simulated PN532 on a pty with nfcpy's real pn532 driver, so the
figure includes every host-chip frame, the ISO-DEP blocks and the kernel; the
radio's own air time (a few ms at 106 kbps on a real reader) is not in it.
Measured per scheme flow (qPBOC, qVSDC, M/Chip) and in-process (the kernel
on the virtual card's application, no radio) to show what the link costs.
The approval row runs whole sales through the terminal engine (the reader
source of `pos.sources.contactless`, journal, MAC) against a real `acquirer serve`
on loopback, timed from the moment the reader activated the card to the
engine's `Approved` event (the approval journalled and shown; the receipt
prints after it). A contactless card may stay in the field only ~500 ms;
the target is p99 under 150 ms of software time.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

from drivers.nfc import IsoDepCard, NfcReader, open_reader
from drivers.sim.contactless import virtual_application, virtual_card
from drivers.sim.pn532 import SimulatedPN532
from pos.core import events as ev
from pos.core.config import load_config
from pos.core.payment import PaymentRequest
from pos.devices.terminal import open_terminal
from pos.simulated.virtual_card import ATC_DIR, VirtualCards
from pos.sources.contactless import ContactlessReader
from pos.sources.emv import ContactlessKernel, OutcomeKind, load_terminal_emv
from tests.bench import Row
from tests.pos.support import AcquirerServer, make_config

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "config" / "cards.toml"
TARGET = "p99 < 150 ms"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def _row(name: str, samples: list[float], extra: str = "") -> Row:
    p50, p99 = _percentiles(samples)
    detail = f"p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, n={len(samples)}" + (f"; {extra}" if extra else "")
    return Row(name, f"{p99 * 1e3:.1f} ms p99", detail, TARGET)


def _over_pn532(kernel: ContactlessKernel, card_name: str, taps: int, state_dir: Path) -> tuple[list[float], list[float]]:
    """(activation -> field 55 ready, poll -> activated) per tap."""
    to_field55, activation = [], []
    with SimulatedPN532() as sim, open_reader(sim.path) as reader:
        for _ in range(taps):
            card = virtual_card(card_name, cards_file=CARDS, state_dir=state_dir)
            sim.field.present(card)
            polled = time.perf_counter()
            iso_dep = reader.poll(threading.Event())
            activated = time.perf_counter()
            result = kernel.run(iso_dep, PaymentRequest(kind="sale", amount=1234))
            done = time.perf_counter()
            if result.outcome.kind is not OutcomeKind.ONLINE_REQUEST:
                raise RuntimeError(f"{card_name}: {result.outcome.reason}")
            to_field55.append(done - activated)
            activation.append(activated - polled)
            sim.field.remove(card)
    return to_field55, activation


class _ActivationClock:
    """The reader as the source polls it, noting when each poll returned an activated card."""

    def __init__(self, reader: NfcReader) -> None:
        self._reader = reader
        self.path = reader.path
        self.activated = 0.0

    def poll(self, cancel: threading.Event) -> IsoDepCard | None:
        card = self._reader.poll(cancel)
        self.activated = time.perf_counter()
        return card


def _to_approval(kernel: ContactlessKernel, sales: int, root: Path) -> list[float]:
    """Activation -> approval recorded, per sale, through the engine and a loopback `acquirer serve`."""
    config_dir = make_config(root)
    samples: list[float] = []
    with AcquirerServer(config_dir, root / "acquirer.db") as server:
        config = load_config(config_dir, state_dir=root / "terminal", host_address=server.address)
        with SimulatedPN532() as sim, open_reader(sim.path) as reader:
            clock = _ActivationClock(reader)
            source = ContactlessReader(clock, kernel)   # type: ignore[arg-type]  # polls like the reader
            cards = VirtualCards(sim.field, source, config_dir / "cards.toml", config.state_dir / ATC_DIR)

            def on_event(event: ev.Event) -> None:   # approval shown: the receipt prints after it
                if isinstance(event, ev.Approved):
                    samples.append(time.perf_counter() - clock.activated)

            async def business() -> None:
                async with open_terminal(config, on_event) as engine:
                    for index in range(sales):
                        name = ("unionpay-debit", "visa", "mastercard", "unionpay-credit")[index % 4]
                        outcome = await engine.sale(1, [cards.card(name)])
                        if not outcome.approved:
                            raise RuntimeError(f"{name}: {outcome.message}")

            asyncio.run(business())
    return samples


def run(quick: bool) -> list[Row]:
    taps = 20 if quick else 200
    kernel = ContactlessKernel(load_terminal_emv(REPO / "config" / "terminal-emv.toml"))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tillkit-bench-") as tmp:
        state_dir = Path(tmp)
        every: list[float] = []
        for name, flow in (("unionpay-debit", "qPBOC"), ("visa", "qVSDC"), ("mastercard", "M/Chip"),
                           ("unionpay-wearable", "qPBOC, 32-byte frames")):
            samples, activation = _over_pn532(kernel, name, taps, state_dir)
            every += samples
            rows.append(_row(f"contactless: activation -> field 55, {name} ({flow}), sim PN532",
                             samples, f"activation itself p50 {statistics.median(activation) * 1e3:.1f} ms"))
        rows.insert(0, _row("contactless: activation -> field 55, all cards, sim PN532 + nfcpy", every))
        in_process = []
        for _ in range(taps):
            card = virtual_application("unionpay-debit", cards_file=CARDS, state_dir=state_dir)
            started = time.perf_counter()
            kernel.run(card, PaymentRequest(kind="sale", amount=1234))
            in_process.append(time.perf_counter() - started)
        rows.append(_row("contactless: kernel in-process (virtual card, no radio)", in_process))
        rows.append(_row("contactless: card activation -> approval, loopback acquirer serve",
                         _to_approval(kernel, taps, state_dir / "sales"),
                         "sim PN532 + nfcpy, kernel, journal (2 fsyncs), MAC, TCP host"))
    return rows
