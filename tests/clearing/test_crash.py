"""`acquirer clear` killed with SIGKILL mid-run, then run again: the same files as an
uninterrupted run, the ledger balanced, nothing cleared twice (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acquirer.protocol.transactions import TxnType
from acquirer.storage import open_store
from tests.clearing.test_service import DAY, Day, files_of

SALES = 1_500


def populate(workdir: Path, target: str) -> Day:
    day = Day(workdir, target)
    terminals = [day.terminal(tid) for tid in ("10000001", "10000002", "10000003")]
    cards = [day.card(name) for name in ("unionpay-debit", "unionpay-credit", "visa")]
    for n in range(SALES):
        day.at(9 + n * 13 // SALES, (n * 7) % 60, n % 60)
        t = terminals[n % 3]
        request = t.request(TxnType.SALE, cards[n % 3], 1 + (n * 7919) % 300)
        assert t.send(request)["39"] == "00"
        if n % 10 == 0:
            assert t.reverse(request)["39"] == "00"
    return day


def clear(config: Path, db: Path | str, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TILLKIT_CONFIG": str(config)}
    return subprocess.Popen([sys.executable, "-m", "acquirer", "clear", "--date", DAY.isoformat(), "--db", str(db)],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def counts(db: Path | str) -> tuple[int, int, int]:
    store = open_store(db)
    try:
        return tuple(store._x(sql).fetchone()[0] for sql in (   # type: ignore[return-value]
            "SELECT COUNT(*) FROM clearing_lines", "SELECT COUNT(*) FROM postings WHERE kind = 'clearing'",
            "SELECT COUNT(*) FROM legs GROUP BY posting_id HAVING SUM(amount) <> 0 UNION ALL SELECT 0 LIMIT 1"))
    finally:
        store.close()


def balances(db: Path | str) -> list[tuple[str, int]]:
    """Every account's balance: a day cleared twice would show in payable, fee and merchant accounts."""
    store = open_store(db)
    try:
        return [(str(a), int(b)) for a, b in store._x("SELECT id, balance FROM accounts ORDER BY id").fetchall()]
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_mid_run_then_rerun_gives_the_same_files(tmp_path, request, backend):
    workdir = tmp_path / "a"
    if backend == "sqlite":
        db: Path | str = workdir / "acquirer.db"
    else:
        db = request.getfixturevalue("pg_url")
    day = populate(workdir, str(db))
    day.close()
    config = workdir / "config"
    # the reference: the same database cleared without interruption (clock: the CLI's, long after the day)
    reference = tmp_path / "reference"
    shutil.copytree(workdir, reference)
    (reference / "config" / "clearing.toml").write_text(
        (config / "clearing.toml").read_text().replace(str(workdir / "clearing"), str(reference / "clearing")))
    if backend == "sqlite":
        reference_db: Path | str = reference / "acquirer.db"
    else:   # a copy of the populated database (no connection is open on it now)
        reference_db = request.getfixturevalue("pg_cluster").create_database(template=str(db).rsplit("/", 1)[1])
    done = clear(reference / "config", reference_db, reference)
    assert done.wait(120) == 0, done.stderr.read() if done.stderr else ""
    expected = files_of(reference / "clearing" / DAY.isoformat())
    assert len(expected) > 5

    killed = 0
    for delay in (0.0, 0.05, 0.15, 0.3):
        run = clear(config, db, workdir)
        partial = workdir / "clearing" / f"{DAY.isoformat()}.partial"
        deadline = time.monotonic() + 60
        while not partial.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(delay)
        if run.poll() is None:
            run.send_signal(signal.SIGKILL)
            killed += 1
        run.wait(60)
        if run.returncode == 0:
            break
        assert run.returncode == -signal.SIGKILL
    assert killed >= 1
    again = clear(config, db, workdir)
    assert again.wait(120) == 0, again.stderr.read() if again.stderr else ""
    assert files_of(workdir / "clearing" / DAY.isoformat()) == expected
    assert counts(db) == counts(reference_db)
    assert counts(db)[2] == 0
    assert balances(db) == balances(reference_db)
    assert sum(balance for _, balance in balances(db)) == 0
