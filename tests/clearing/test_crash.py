"""`acquirer clear` killed with SIGKILL mid-run, then run again: the same files as an
uninterrupted run, the ledger balanced, nothing cleared twice (SQLite)."""
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


def populate(workdir: Path) -> Day:
    day = Day(workdir, str(workdir / "acquirer.db"))
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


def clear(config: Path, db: Path, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TILLKIT_CONFIG": str(config)}
    return subprocess.Popen([sys.executable, "-m", "acquirer", "clear", "--date", DAY.isoformat(), "--db", str(db)],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def counts(db: Path) -> tuple[int, int, int]:
    store = open_store(db)
    try:
        return tuple(store._x(sql).fetchone()[0] for sql in (   # type: ignore[return-value]
            "SELECT COUNT(*) FROM clearing_lines", "SELECT COUNT(*) FROM postings WHERE kind = 'clearing'",
            "SELECT COUNT(*) FROM legs GROUP BY posting_id HAVING SUM(amount) <> 0 UNION ALL SELECT 0 LIMIT 1"))
    finally:
        store.close()


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_gives_the_same_files(tmp_path):
    day = populate(tmp_path / "a")
    day.close()
    config, db = tmp_path / "a" / "config", tmp_path / "a" / "acquirer.db"
    # the reference: the same database cleared without interruption (clock: the CLI's, long after the day)
    reference = tmp_path / "reference"
    shutil.copytree(tmp_path / "a", reference)
    (reference / "config" / "clearing.toml").write_text(
        (config / "clearing.toml").read_text().replace(str(tmp_path / "a" / "clearing"), str(reference / "clearing")))
    done = clear(reference / "config", reference / "acquirer.db", reference)
    assert done.wait(120) == 0, done.stderr.read() if done.stderr else ""
    expected = files_of(reference / "clearing" / DAY.isoformat())
    assert len(expected) > 5

    killed = 0
    for delay in (0.0, 0.05, 0.15, 0.3):
        run = clear(config, db, tmp_path / "a")
        partial = tmp_path / "a" / "clearing" / f"{DAY.isoformat()}.partial"
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
    again = clear(config, db, tmp_path / "a")
    assert again.wait(120) == 0, again.stderr.read() if again.stderr else ""
    assert files_of(tmp_path / "a" / "clearing" / DAY.isoformat()) == expected
    assert counts(db) == counts(reference / "acquirer.db")
    assert counts(db)[2] == 0
