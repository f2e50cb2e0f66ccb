"""SIGKILL the `pos` process at any moment of a sale: no money moves without an approval.

Two terminals (TID 10000001 with the ECB MAC, 10000002 with X9.19) run sales
as separate `pos` processes against one real `acquirer serve`, side by side.
Each process is killed with SIGKILL at a chosen moment -- before the request
is sent, after it is sent, after the reply arrived, inside the journal write
of the outcome, after a recovered reversal was sent (the `TILLKIT_FAULT`
crash points) -- or at a random time from outside, or left alone. The next
process starts on the same state directory, as a restarted terminal would.

At the end (one clean `pos signon` per terminal to send what is still due):
every sale is approved in both the journal and the acquirer's records or
reversed in both, and every card's balance is its opening balance less
exactly the approved sales.
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from pos.journal import store as j
from tests.pos.support import (
    BIN,
    AcquirerServer,
    HostLedger,
    disagreements,
    make_config,
    run_pos,
    test_cards,
)

SALES_PER_TERMINAL = {"sqlite": 50, "postgresql": 20, "postgresql-3": 20}   # every moment at least twice each
CRASH_POINTS = ("before_send", "after_send", "after_reply", "journal_write", "after_reversal_send")
MOMENTS = (*CRASH_POINTS, "random", "random", "none")
TERMINALS = {
    "10000001": ({}, ("unionpay-debit", "visa", "unionpay-credit")),
    "10000002": ({"tid": "10000002", "tmk": "FB85C77E77D76EF8E5264E9111EC77D8", "mac": "x919"},
                 ("mastercard", "mastercard-2series")),
}


def journal_rows(state: Path) -> list[dict]:
    conn = sqlite3.connect(state / "journal.db")
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM transactions ORDER BY id")]
    conn.close()
    return rows


def run_terminal(config_dir: Path, state: Path, address: str, cards: tuple[str, ...], seed: int, sales: int,
                 killed: Counter[str], failures: list[BaseException]) -> None:
    """One terminal's sales; a failure is handed to the test's thread (a thread's
    own assertion error would only be a warning)."""
    try:
        _sell_and_crash(config_dir, state, address, cards, seed, sales, killed)
    except BaseException as failure:  # noqa: BLE001 - re-raised by the test
        failures.append(failure)


def _sell_and_crash(config_dir: Path, state: Path, address: str, cards: tuple[str, ...], seed: int, sales: int,
                    killed: Counter[str]) -> None:
    rng = random.Random(seed)
    base = [str(BIN / "pos"), "--config", str(config_dir), "--state-dir", str(state), "--host", address]
    moments = [MOMENTS[i % len(MOMENTS)] for i in range(sales)]   # every moment, in a random order
    rng.shuffle(moments)
    for moment in moments:
        fen = rng.randint(1, 3000)
        command = [*base, "sale", f"{fen // 100}.{fen % 100:02d}", "--card", rng.choice(cards)]
        if moment == "random":
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 1.3))   # anywhere from start-up to the end of the sale
            process.send_signal(signal.SIGKILL)
            if process.wait() == -signal.SIGKILL:
                killed[moment] += 1
            continue
        env = {"TILLKIT_FAULT": moment} if moment != "none" else {}
        done = subprocess.run(command, capture_output=True, text=True, timeout=60,
                              env={**os.environ, **env})
        if done.returncode == -signal.SIGKILL:
            killed[moment] += 1
        else:
            assert done.returncode in (0, 3), done.stderr   # approved, or reversed on its own


@pytest.mark.slow
@pytest.mark.timeout(900)   # a `pos` process per sale: minutes on a busy 2-CPU machine
@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "postgresql-3"])
def test_sigkill_at_any_moment_never_takes_money_without_an_approval(tmp_path, backend, request):
    """On SQLite, and on PostgreSQL with 1 and with 3 host processes."""
    db = tmp_path / "acquirer.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    configs = {tid: make_config(tmp_path / tid, pos={"timeout_s": 5.0, **settings})
               for tid, (settings, _) in TERMINALS.items()}
    opening = {name: card.get("balance", card.get("credit_limit")) for name, card in test_cards().items()}
    killed: Counter[str] = Counter()
    failures: list[BaseException] = []
    with AcquirerServer(configs["10000001"], db, processes=3 if backend == "postgresql-3" else 1) as server:
        workers = [threading.Thread(target=run_terminal, args=(
            configs[tid], tmp_path / tid / "state", server.address, cards, index, SALES_PER_TERMINAL[backend],
            killed, failures))
            for index, (tid, (_, cards)) in enumerate(TERMINALS.items())]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if failures:
            raise failures[0]
        for tid in TERMINALS:   # a clean restart sends whatever is still due
            done = run_pos(configs[tid], tmp_path / tid / "state", "signon", host=server.address)
            assert done.returncode == 0, done.stderr

    assert set(killed) == {*CRASH_POINTS, "random"}, killed   # every kind of crash happened
    host = HostLedger(db)
    cards = test_cards()
    taken: Counter[str] = Counter()
    for tid, (_, names) in TERMINALS.items():
        rows = journal_rows(tmp_path / tid / "state")
        assert {r["state"] for r in rows} <= {j.APPROVED, j.REVERSED}, Counter(r["state"] for r in rows)
        assert sum(r["state"] == j.REVERSED for r in rows) >= len(CRASH_POINTS)
        assert disagreements(rows, host.transactions(tid)) == []
        for row in rows:
            if row["state"] == j.APPROVED:
                [name] = [n for n in names if cards[n]["pan"][-4:] == row["masked_pan"][-4:]]
                taken[name] += row["amount"]
    for name in (n for _, names in TERMINALS.values() for n in names):
        assert host.balance(name) == opening[name] - taken[name], name
    assert sum(killed.values()) >= SALES_PER_TERMINAL[backend]   # half the sales, on two terminals
    assert host.unbalanced_postings() == 0
