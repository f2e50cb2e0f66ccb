"""500 taps on fresh simulated readers while neighbour `pos` processes are SIGKILLed.

Each tap does what a `pos sale` process does with its reader: a new
simulated PN532 on a new pty, nfcpy's pn532 driver opened on it (line test,
SAM configuration, the baud-rate probe through `stty`), a card polled,
activated and read by the EMV kernel up to the online request. Meanwhile
neighbour `pos sale` processes start, open their own simulated readers and
are killed with SIGKILL a few hundred milliseconds later, so ptys are freed
and reused and the machine is loaded, as on a till whose other terminals
crash. Before the fix this failed about one sale in twenty: nfcpy read an
answer the simulated chip sent for a command it had already given up on.
"""
from __future__ import annotations

import random
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from drivers.nfc import open_reader
from drivers.sim.contactless import virtual_card
from drivers.sim.pn532 import SimulatedPN532
from pos.core.payment import PaymentRequest
from pos.sources.emv import ContactlessKernel, OutcomeKind, load_terminal_emv
from tests.pos.support import BIN, make_config

REPO = Path(__file__).resolve().parents[2]
SALES = 500
CARDS = ("unionpay-debit", "visa", "mastercard", "unionpay-credit")


def kill_neighbours(config_dir: Path, state: Path, seed: int, stop: threading.Event, killed: list[int]) -> None:
    """Start `pos sale` processes (their host is a closed loopback port, so each one opens its
    reader and then waits on the sign-on) and SIGKILL each after 0.1-0.6 s."""
    rng = random.Random(seed)
    command = [str(BIN / "pos"), "--config", str(config_dir), "--state-dir", str(state),
               "--host", "127.0.0.1:9", "sale", "1.00", "--card", "visa"]
    while not stop.is_set():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stop.wait(rng.uniform(0.1, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed.append(process.pid)


@pytest.mark.slow
def test_500_taps_while_neighbours_are_killed_never_lose_the_reader(tmp_path):
    config_dir = make_config(tmp_path)
    kernel = ContactlessKernel(load_terminal_emv(REPO / "config" / "terminal-emv.toml"))
    stop, killed = threading.Event(), []
    neighbours = [threading.Thread(target=kill_neighbours, args=(config_dir, tmp_path / f"n{i}", i, stop, killed))
                  for i in range(2)]
    for neighbour in neighbours:
        neighbour.start()
    outcomes: list[str] = []
    try:
        for sale in range(SALES):
            with SimulatedPN532() as sim, open_reader(sim.path) as reader:
                sim.field.present(virtual_card(CARDS[sale % 4], cards_file=config_dir / "cards.toml",
                                               state_dir=tmp_path / "atc"))
                card = reader.poll(threading.Event())
                assert card is not None
                result = kernel.run(card, PaymentRequest(kind="sale", amount=100 + sale))
                outcomes.append(result.outcome.kind.value)
                assert result.outcome.kind is OutcomeKind.ONLINE_REQUEST, (sale, result.outcome)
    finally:
        stop.set()
        for neighbour in neighbours:
            neighbour.join()
    assert outcomes == [OutcomeKind.ONLINE_REQUEST.value] * SALES
    assert len(killed) >= SALES // 10     # the neighbours really were killed all along
