"""A simulated printer per test, reached through python-escpos's real Network and Serial classes."""
from __future__ import annotations

import re

import pytest

from drivers.printer import NetworkConfig, PrinterConnection, PrintJob, PrintQueue, SerialConfig
from drivers.sim.printer import SimulatedPrinter
from receipts import Receipt, SettlementReceipt, render_copies
from tests.receipts.conftest import profiles  # noqa: F401  (the shipped printer profiles, as a fixture)


@pytest.fixture
def sim():
    printer = SimulatedPrinter()
    yield printer
    printer.close()


@pytest.fixture
def network(sim):
    host, port = sim.serve_tcp(port=0)
    return PrinterConnection(NetworkConfig(host, port, timeout_s=2.0))


@pytest.fixture
def serial(sim):
    return PrinterConnection(SerialConfig(sim.open_pty(), baudrate=115200, timeout_s=0.15))


@pytest.fixture
def queue(tmp_path, network):
    q = PrintQueue(tmp_path / "print-queue.db", network)
    yield q
    q.close()


@pytest.fixture
def serial_queue(tmp_path, serial):
    q = PrintQueue(tmp_path / "serial-queue.db", serial)
    yield q
    q.close()


def job_for(document: Receipt | SettlementReceipt, profile, reference: str = "") -> PrintJob:
    """What the engine queues: every copy of the document, and its REPRINT rendition for `reprint`."""
    return PrintJob(render_copies(document, profile), reference, render_copies(document.as_reprint(), profile))


def card_numbers(text: str) -> list[str]:
    """Every run of 8+ digits and '*' on the paper: where a card number could show."""
    return re.findall(r"[0-9*]{8,}", text)
