"""Test support for the terminal: configuration copies, a real `acquirer serve`, the host's ledger.

Everything here drives or reads the real components: the configuration is
the shipped one with named edits, the acquirer is the real server process,
and the ledger is read from the acquirer's own database.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acquirer.ledger import card_account
from acquirer.protocol.cardholder import pan_token as host_token

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
BIN = Path(sys.executable).parent


def make_config(tmp_path: Path, *, pos: dict[str, Any] | None = None,
                issuers: dict[str, tuple[str, int]] | None = None) -> Path:
    """A copy of config/ with `pos.toml` keys replaced (`{"timeout_s": 0.5}`) and
    issuer links set (`{"cup-bank": ("slow", 800)}`)."""
    directory = tmp_path / "config"
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("pos.toml", "printers.toml", "acquirer.toml", "cards.toml", "terminal-emv.toml"):
        shutil.copy(CONFIG / name, directory / name)
    copy_wallets(directory)
    if pos:
        set_pos(directory, **pos)
    for issuer, (mode, delay_ms) in (issuers or {}).items():
        set_issuer(directory, issuer, mode, delay_ms)
    return directory


def copy_wallets(directory: Path) -> None:
    """wallets.toml, its wallet apps' endpoint on any free port (tests run side by side)."""
    text = (CONFIG / "wallets.toml").read_text()
    text, count = re.subn(r"(?m)^port = \d+", "port = 0", text)
    assert count == 1, "wallets.toml has no single [apps] port"
    (directory / "wallets.toml").write_text(text)


def _toml_value(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def set_pos(config_dir: Path, **values: Any) -> None:
    path = config_dir / "pos.toml"
    text = path.read_text()
    for key, value in values.items():
        text, count = re.subn(rf"(?m)^{key} = [^#\n]*", f"{key} = {_toml_value(value)}  ", text)
        assert count == 1, f"pos.toml has no single key {key}"
    path.write_text(text)


def set_issuer(config_dir: Path, issuer: str, mode: str, delay_ms: int) -> None:
    """Rewrite one [[issuer]] block's mode and delay (the server re-reads them on SIGHUP)."""
    path = config_dir / "acquirer.toml"
    text = path.read_text()
    pattern = rf'(name = "{issuer}"\n(?:[^\[]*?\n)*?)mode = "\w+"\ndelay_ms = \d+'
    text, count = re.subn(pattern, rf'\1mode = "{mode}"\ndelay_ms = {delay_ms}', text)
    assert count == 1, f"acquirer.toml has no issuer {issuer}"
    path.write_text(text)


def test_cards(config_dir: Path = CONFIG) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in tomllib.loads((config_dir / "cards.toml").read_text())["card"]}


test_cards.__test__ = False  # a helper, not a test


class AcquirerServer:
    """A real `acquirer serve` subprocess on an ephemeral loopback port."""

    def __init__(self, config_dir: Path, db: Path, port: int = 0) -> None:
        self.config_dir, self.db = config_dir, db
        self.process: subprocess.Popen[str] | None = None
        self.port = port
        self.wallet_apps: str | None = None   # HOST:PORT of the wallet apps' endpoint

    def start(self) -> AcquirerServer:
        self.process = subprocess.Popen(
            [str(BIN / "acquirer"), "serve", "--port", str(self.port), "--db", str(self.db),
             "--config", str(self.config_dir), "--log-level", "WARNING"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"listening on ([\d.]+):(\d+)", line)
        assert match, f"acquirer serve did not start: {line!r}"
        self.port = int(match[2])
        if (self.config_dir / "wallets.toml").exists():   # then the wallet apps' endpoint
            line = self.process.stdout.readline()
            match = re.search(r"wallet apps listening on ([\d.]+:\d+)", line)
            assert match, f"acquirer serve did not open the wallet apps' endpoint: {line!r}"
            self.wallet_apps = match[1]
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def reload(self) -> None:
        """SIGHUP: re-read the issuers' modes from acquirer.toml."""
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> AcquirerServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_pos(config_dir: Path, state_dir: Path, *args: str, host: str | None = None,
            env: dict[str, str] | None = None, input: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """One `pos` process, as a cashier or script would run it."""
    command = [str(BIN / "pos"), "--config", str(config_dir), "--state-dir", str(state_dir)]
    if host:
        command += ["--host", host]
    return subprocess.run([*command, *args], capture_output=True, text=True, input=input,
                          timeout=timeout, env={**os.environ, **(env or {})})


@dataclass(frozen=True)
class PosResult:
    returncode: int
    stdout: str
    stderr: str


def invoke_pos(config_dir: Path, state_dir: Path, *args: str, host: str | None = None,
               input: str | None = None) -> PosResult:
    """The `pos` command line run in this process (click's runner): same code, no start-up cost."""
    from click.testing import CliRunner

    from pos.cli.main import main

    command = ["--config", str(config_dir), "--state-dir", str(state_dir)]
    if host:
        command += ["--host", host]
    result = CliRunner().invoke(main, [*command, *args], input=input, catch_exceptions=False)
    return PosResult(result.exit_code, result.stdout, result.stderr)


@dataclass(frozen=True)
class HostTxn:
    txn_type: str
    batch: str
    stan: str
    amount: int
    status: str
    response_code: str | None
    rrn: str | None
    auth_code: str | None
    masked_pan: str | None


class HostLedger:
    """The acquirer's database, read the way an auditor would (a separate connection)."""

    def __init__(self, db: Path, config_dir: Path = CONFIG) -> None:
        self.db = db
        acquirer = tomllib.loads((config_dir / "acquirer.toml").read_text())
        self.token_key = bytes.fromhex(acquirer["host"]["token_key"])
        self.cards = test_cards(config_dir)

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def balance(self, card_name: str) -> int:
        """The card account's balance (fen): available funds, or remaining credit."""
        account = card_account(host_token(self.token_key, self.cards[card_name]["pan"]))
        [(balance,)] = self._query("SELECT balance FROM accounts WHERE id = ?", (account,))
        return balance

    def transactions(self, tid: str = "10000001") -> dict[tuple[str, str], HostTxn]:
        rows = self._query(
            "SELECT txn_type, batch, stan, amount, status, response_code, rrn, auth_code, masked_pan "
            "FROM transactions WHERE tid = ?", (tid,))
        return {(r[1], r[2]): HostTxn(*r) for r in rows}

    def unbalanced_postings(self) -> int:
        return len(self._query("SELECT posting_id FROM legs GROUP BY posting_id HAVING SUM(amount) != 0"))


#: journal state -> the host statuses that agree with it
AGREEING = {
    "approved": {"approved"},
    "voided": {"voided"},
    "completed": {"completed"},
    "declined": {"declined"},
    "reversed": {"reversed", "tombstone", None},
    "not_sent": {None},
}


def disagreements(journal_rows: list[dict[str, Any]], host: dict[tuple[str, str], HostTxn]) -> list[str]:
    """Where the terminal's journal and the acquirer's records differ, transaction by transaction."""
    problems = []
    for row in journal_rows:
        theirs = host.get((row["batch"], row["stan"]))
        status = theirs.status if theirs else None
        if status not in AGREEING.get(row["state"], set()):
            problems.append(f"trace {row['stan']} batch {row['batch']} {row['type']}: journal "
                            f"{row['state']}, host {status}")
            continue
        if theirs is not None and row["state"] in ("approved", "voided", "completed"):
            mine = (row["type"], row["amount"], row["rrn"], row["auth_code"], row["masked_pan"])
            host_side = (theirs.txn_type, theirs.amount, theirs.rrn, theirs.auth_code, theirs.masked_pan)
            if mine != host_side:
                problems.append(f"trace {row['stan']}: journal {mine} != host {host_side}")
    journal_keys = {(r["batch"], r["stan"]) for r in journal_rows}
    for key, theirs in host.items():
        if key not in journal_keys and theirs.status not in ("tombstone", "reversed"):
            problems.append(f"host has trace {key[1]} batch {key[0]} ({theirs.status}) the journal lacks")
    return problems
