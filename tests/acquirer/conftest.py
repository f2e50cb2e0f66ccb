"""Fixtures: a real `acquirer serve` subprocess on an ephemeral loopback port with a temp database."""
from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from acquirer.config import AcquirerConfig, load_config
from acquirer.protocol.cardholder import pan_token
from tests.acquirer.terminal import SHANGHAI, TestCard, TestTerminal
from tests.pos.support import copy_wallets

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"

def make_config(directory: Path, *, acquirer_extra: str = "", cards_extra: str = "",
                replace: dict[str, str] | None = None,
                issuers: dict[str, tuple[str, int]] | None = None) -> Path:
    """A copy of the repository's configuration with text appended or replaced,
    and issuers set to (mode, delay_ms)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("acquirer.toml", "cards.toml"):
        shutil.copy(REPO_CONFIG / name, directory / name)
    copy_wallets(directory)
    text = (directory / "acquirer.toml").read_text()
    for old, new in (replace or {}).items():
        assert old in text, f"{old!r} not in acquirer.toml"
        text = text.replace(old, new)
    for name, (mode, delay_ms) in (issuers or {}).items():
        text, count = re.subn(rf'(name = "{name}"[^\[]*?)mode = "\w+"\ndelay_ms = \d+',
                              rf'\g<1>mode = "{mode}"\ndelay_ms = {delay_ms}', text, flags=re.S)
        assert count == 1, f"issuer {name} not found in acquirer.toml"
    (directory / "acquirer.toml").write_text(text + acquirer_extra)
    with (directory / "cards.toml").open("a") as f:
        f.write(cards_extra)
    return directory


@dataclass
class RunningHost:
    """An `acquirer serve` process and what a test needs to talk to it and to read its DB."""

    process: subprocess.Popen
    address: tuple[str, int]
    db_path: Path
    config: AcquirerConfig
    config_dir: Path
    log_path: Path
    # shared by every test on this host: a card's ATC must keep rising and a
    # terminal's STANs must not repeat, whichever test object sends them
    _cards: dict[str, TestCard] = field(default_factory=dict)
    _stans: dict[str, itertools.count] = field(default_factory=dict)

    def terminal(self, tid: str = "10000001", sign_on: bool = True) -> TestTerminal:
        t = next(t for (tid_, _), t in self.config.terminals.items() if tid_ == tid)
        terminal = TestTerminal(self.address, t.tid, t.mid, t.tmk, t.mac,
                                stans=self._stans.setdefault(tid, itertools.count(1)))
        if sign_on:
            assert terminal.sign_on()["39"] == "00"
        return terminal

    def card(self, name: str) -> TestCard:
        if name not in self._cards:
            self._cards[name] = TestCard(next(c for c in self.config.cards if c.name == name))
        return self._cards[name]

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)

    def token(self, card: TestCard) -> str:
        return pan_token(self.config.host.token_key, card.pan)

    def balance(self, account: str) -> int:
        with self.db() as conn:
            return conn.execute("SELECT balance FROM accounts WHERE id = ?", (account,)).fetchone()[0]

    def available(self, card: TestCard) -> int:
        return self.balance(f"card:{self.token(card)}")

    def held(self, card: TestCard) -> int:
        return self.balance(f"hold:{self.token(card)}")

    def merchant(self, mid: str = "898310048990001") -> int:
        return self.balance(f"merchant:{mid}")

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_host(config_dir: Path, workdir: Path) -> RunningHost:
    """Start `python -m acquirer serve --port 0` and wait for its listening line."""
    db_path = workdir / "acquirer.db"
    log_path = workdir / "acquirer.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "acquirer", "serve", "--port", "0", "--db", str(db_path),
             "--config", str(config_dir)],
            stdout=subprocess.PIPE, stderr=log, text=True, cwd=workdir)
    line = process.stdout.readline()
    if not line.startswith("acquirer listening on "):
        process.kill()
        raise RuntimeError(f"acquirer serve did not start: {line!r}\n{log_path.read_text()}")
    host, port = line.rsplit(" ", 1)[1].strip().rsplit(":", 1)
    return RunningHost(process, (host, int(port)), db_path, load_config(config_dir), config_dir, log_path)


@pytest.fixture(scope="module")
def acquirer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """One host per test module on the repository's configuration.

    Tests sharing it use their own cards or compare balances before and after.
    """
    workdir = tmp_path_factory.mktemp("acquirer")
    running = start_host(make_config(workdir / "config"), workdir)
    yield running
    running.stop()


def assert_ledger_consistent(host: RunningHost) -> None:
    """Every posting balances, and every account's balance is the sum of its legs."""
    with host.db() as conn:
        unbalanced = conn.execute(
            "SELECT posting_id, SUM(amount) FROM legs GROUP BY posting_id HAVING SUM(amount) != 0").fetchall()
        assert unbalanced == []
        drift = conn.execute(
            "SELECT a.id, a.balance, COALESCE(SUM(l.amount), 0) FROM accounts a "
            "LEFT JOIN legs l ON l.account_id = a.id GROUP BY a.id "
            "HAVING a.balance != COALESCE(SUM(l.amount), 0)").fetchall()
        assert drift == []
        negative = conn.execute(
            "SELECT id, balance FROM accounts WHERE kind IN ('cardholder', 'hold') AND balance < 0").fetchall()
        assert negative == []
        assert conn.execute("SELECT SUM(balance) FROM accounts").fetchone()[0] == 0
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


class EmbeddedHost:
    """`Host` in the test process (no TCP), on its own event loop and a clock the test moves."""

    def __init__(self, config_dir: Path, workdir: Path, now: datetime) -> None:
        from acquirer.host import Host
        from acquirer.storage import open_database

        self.now = now
        self.config = load_config(config_dir)
        self.db_path = workdir / "embedded.db"
        self.loop = asyncio.new_event_loop()
        self.host = Host(self.config, open_database(self.db_path), clock=lambda: self.now)
        self._cards: dict[str, TestCard] = {}
        self._stans: dict[str, itertools.count] = {}

    def handle(self, payload: bytes) -> bytes:
        answer = self.loop.run_until_complete(self.host.handle(payload))
        assert answer is not None
        return answer

    def terminal(self, tid: str = "10000001") -> TestTerminal:
        t = next(t for (tid_, _), t in self.config.terminals.items() if tid_ == tid)
        terminal = TestTerminal(None, t.tid, t.mid, t.tmk, t.mac, transport=self.handle,
                                stans=self._stans.setdefault(tid, itertools.count(1)))
        assert terminal.sign_on()["39"] == "00"
        return terminal

    def card(self, name: str) -> TestCard:
        if name not in self._cards:
            self._cards[name] = TestCard(next(c for c in self.config.cards if c.name == name))
        return self._cards[name]

    def available(self, card: TestCard) -> int:
        token = pan_token(self.config.host.token_key, card.pan)
        return self.host.ledger.balance(f"card:{token}")

    def close(self) -> None:
        self.loop.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedHost]:
    host = EmbeddedHost(make_config(tmp_path / "config"), tmp_path,
                        datetime(2026, 3, 14, 12, 0, tzinfo=SHANGHAI))
    yield host
    host.close()
