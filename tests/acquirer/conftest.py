"""Fixtures: a real `acquirer serve` subprocess on an ephemeral loopback port with a temp database."""
from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Self

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
                              rf'\g<1>mode = "{mode}"\ndelay_ms = {delay_ms}', text, flags=re.DOTALL)
        assert count == 1, f"issuer {name} not found in acquirer.toml"
    (directory / "acquirer.toml").write_text(text + acquirer_extra)
    with (directory / "cards.toml").open("a") as f:
        f.write(cards_extra)
    return directory


#: the backends every black-box test runs on: SQLite, PostgreSQL with 1 and with 3 host processes
BACKENDS = ("sqlite", "postgresql", "postgresql-3")


class PgReader:
    """A test's read connection to a PostgreSQL host database, taking the tests' `?` placeholders."""

    def __init__(self, url: str) -> None:
        import psycopg
        self.conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: tuple = ()):
        return self.conn.execute(sql.replace("?", "%s"), params)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def table_names(db: sqlite3.Connection | PgReader) -> list[str]:
    if isinstance(db, PgReader):
        return [r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


def backend_target(backend: str, workdir: Path, request: pytest.FixtureRequest) -> tuple[str, int]:
    """(--db, --processes) for a backend name of `BACKENDS`."""
    if backend == "sqlite":
        return str(workdir / "acquirer.db"), 1
    cluster = request.getfixturevalue("pg_cluster")
    from tests.conftest import PG_TEMPLATE
    return cluster.create_database(template=PG_TEMPLATE), int(backend.partition("-")[2] or 1)


@dataclass
class RunningHost:
    """An `acquirer serve` process and what a test needs to talk to it and to read its DB."""

    process: subprocess.Popen
    address: tuple[str, int]
    db_path: Path | str   # the SQLite file, or the PostgreSQL URL
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

    @property
    def postgres(self) -> bool:
        return str(self.db_path).startswith("postgresql://")

    def db(self) -> sqlite3.Connection | PgReader:
        if self.postgres:
            return PgReader(str(self.db_path))
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
        """SIGTERM, as systemd stops it; no process of the host may outlive it (a host process
        that missed the signal would go on serving terminals with nobody to stop it)."""
        if self.process.poll() is None:
            processes = _descendants(self.process.pid)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            left = _still_running(processes, within=5.0)
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            assert not left, f"host processes {left} still ran after `acquirer serve` stopped"


def _descendants(pid: int) -> list[int]:
    """A process's children and theirs (Linux's /proc; none where there is no /proc)."""
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [p for child in children for p in (child, *_descendants(child))]


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"   # not a zombie
    except OSError:
        return False


def _still_running(pids: list[int], within: float) -> list[int]:
    """Which of `pids` have not ended `within` seconds from now."""
    deadline = time.monotonic() + within
    while True:
        left = [pid for pid in pids if _running(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def start_host(config_dir: Path, workdir: Path, db: str | Path | None = None, processes: int = 1,
               port: int = 0, extra: tuple[str, ...] = ()) -> RunningHost:
    """Start `python -m acquirer serve --port 0` and wait for its listening line.

    `db`: the SQLite file (default `workdir/acquirer.db`) or a PostgreSQL URL.
    """
    db_path = db or workdir / "acquirer.db"
    log_path = workdir / "acquirer.log"
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "acquirer", "serve", "--port", str(port), "--db", str(db_path),
             "--processes", str(processes), "--config", str(config_dir), *extra],
            stdout=subprocess.PIPE, stderr=log, text=True, cwd=workdir)
    line = process.stdout.readline()
    if not line.startswith("acquirer listening on "):
        process.kill()
        raise RuntimeError(f"acquirer serve did not start: {line!r}\n{log_path.read_text()}")
    host, port = line.rsplit(" ", 1)[1].strip().rsplit(":", 1)
    return RunningHost(process, (host, int(port)), db_path, load_config(config_dir), config_dir, log_path)


@pytest.fixture(scope="module", params=BACKENDS)
def acquirer(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[RunningHost]:
    """One host per test module and backend on the repository's configuration.

    Tests sharing it use their own cards or compare balances before and after.
    """
    workdir = tmp_path_factory.mktemp("acquirer")
    db, processes = backend_target(request.param, workdir, request)
    running = start_host(make_config(workdir / "config"), workdir, db, processes)
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
        if not host.postgres:   # PostgreSQL checks every foreign key itself
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


class EmbeddedHost:
    """`Host` in the test process (no TCP), on its own event loop and a clock the test moves."""

    def __init__(self, config_dir: Path, workdir: Path, now: datetime, db: str | None = None) -> None:
        from acquirer.host import Host
        from acquirer.storage import open_store

        self.now = now
        self.config = load_config(config_dir)
        self.db_path = db or str(workdir / "embedded.db")
        self.loop = asyncio.new_event_loop()
        self.host = Host(self.config, open_store(self.db_path), clock=lambda: self.now)
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

    @property
    def postgres(self) -> bool:
        return self.db_path.startswith("postgresql://")

    def db(self) -> sqlite3.Connection | PgReader:
        """A read connection of the test's own (committed rows only)."""
        return PgReader(self.db_path) if self.postgres else sqlite3.connect(self.db_path)

    def close(self) -> None:
        self.host.db.close()
        self.loop.close()


@pytest.fixture(params=("sqlite", "postgresql"))
def embedded(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[EmbeddedHost]:
    """`Host` in the test process, on SQLite and on PostgreSQL."""
    db = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    host = EmbeddedHost(make_config(tmp_path / "config"), tmp_path,
                        datetime(2026, 3, 14, 12, 0, tzinfo=SHANGHAI), db)
    yield host
    host.close()


@pytest.fixture
def embedded_sqlite(tmp_path: Path) -> Iterator[EmbeddedHost]:
    """`Host` in the test process on SQLite only (tests of SQLite's own locking)."""
    host = EmbeddedHost(make_config(tmp_path / "config"), tmp_path,
                        datetime(2026, 3, 14, 12, 0, tzinfo=SHANGHAI))
    yield host
    host.close()
