"""A simulated PN532 on its own pty per test, and nfcpy's real pn532 driver opened on it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.nfc import NfcReader, open_reader
from drivers.sim.pn532 import SimulatedPN532

REPO = Path(__file__).resolve().parents[2]
CARDS_FILE = REPO / "config" / "cards.toml"


@pytest.fixture
def sim() -> Iterator[SimulatedPN532]:
    with SimulatedPN532() as chip:
        yield chip


@pytest.fixture
def reader(sim: SimulatedPN532) -> Iterator[NfcReader]:
    with open_reader(sim.path) as opened:
        yield opened


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "sim"
