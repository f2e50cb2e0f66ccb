"""SIGKILL `pos refund` of wallet payments at any moment: every refund is done on both sides or on neither.

One terminal pays a few Alipay and WeChat sales by payment code against a
real `acquirer serve`, then refunds each (part or all) through the wallet
channel, each `pos refund` killed at a chosen moment -- the `TILLKIT_FAULT`
crash points, or from outside at a random time -- or left alone. A clean
`pos signon` at the end sends whatever reversal is still due (as
tests/e2e/test_crash.py does for card sales).

Then every refund is approved in both the journal and the acquirer's
records, or reversed in both, and each wallet account holds its opening
balance less the sales plus exactly the refunds the journal approved.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
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
    invoke_pos,
    make_config,
    run_pos,
)

CRASH_POINTS = ("before_send", "after_send", "after_reply", "journal_write", "after_reversal_send")
MOMENTS = (*CRASH_POINTS, "random", "none")
SALES = 7           # one of each moment
OPENING = 500000


def journal_rows(state: Path) -> list[dict]:
    conn = sqlite3.connect(state / "journal.db")
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM transactions ORDER BY id")]
    conn.close()
    return rows


def wallet_balance(db: Path, kind: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT balance FROM accounts WHERE id = ?", (f"wallet:{kind}:001",)).fetchone()[0]


@pytest.mark.slow
def test_sigkill_during_wallet_refunds_gives_back_on_both_sides_or_neither(tmp_path):
    config = make_config(tmp_path, pos={"timeout_s": 3.0})
    state = tmp_path / "state"
    rng = random.Random(11)
    killed: Counter[str] = Counter()
    with AcquirerServer(config, tmp_path / "acquirer.db") as server:
        base = [str(BIN / "pos"), "--config", str(config), "--state-dir", str(state), "--host", server.address]
        sales = []
        for index in range(SALES):
            kind = ("alipay", "wechat")[index % 2]
            picture = tmp_path / f"{index}.png"
            # the sales are not killed: they run in this process (tests.pos.support.invoke_pos), the refunds below
            # each in a `pos` process of its own
            made = invoke_pos(config, state, "sim", "wallet-code", kind, "--out", str(picture), host=server.address)
            assert made.returncode == 0, made.stderr
            done = invoke_pos(config, state, "sale", f"{rng.randint(2, 60)}.00", "--camera", str(picture), "--json",
                              host=server.address)
            assert done.returncode == 0, done.stderr
            sales.append(json.loads(done.stdout))
        for index, sale in enumerate(sales):
            moment = MOMENTS[index % len(MOMENTS)]
            fen = rng.randint(1, sale["amount"])
            command = [*base, "refund", sale["rrn"], f"{fen // 100}.{fen % 100:02d}"]
            if moment == "random":
                process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.3, 1.2))
                process.send_signal(signal.SIGKILL)
                if process.wait() == -signal.SIGKILL:
                    killed[moment] += 1
                continue
            env = {"TILLKIT_FAULT": moment} if moment != "none" else {}
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, env={**os.environ, **env})
            if done.returncode == -signal.SIGKILL:
                killed[moment] += 1
            else:
                assert done.returncode in (0, 3), done.stderr   # given back, or reversed on its own
        finished = run_pos(config, state, "signon", host=server.address)
        assert finished.returncode == 0, finished.stderr

    assert set(CRASH_POINTS) <= set(killed), killed
    rows = journal_rows(state)
    refunds = [r for r in rows if r["type"] == "wallet_refund"]
    # a process killed while it sent the previous refund's reversal, or early from outside, journalled none
    assert len(refunds) >= SALES - 2 and {r["state"] for r in refunds} <= {j.APPROVED, j.REVERSED}, refunds
    assert sum(r["state"] == j.REVERSED for r in refunds) >= 3   # killed before, after sending, before the journal write
    host = HostLedger(tmp_path / "acquirer.db", config)
    assert disagreements(rows, host.transactions()) == []
    assert host.unbalanced_postings() == 0
    for kind in ("alipay", "wechat"):
        paid = sum(r["amount"] for r in rows if r["type"] == "wallet_sale" and r["wallet"] == kind)
        given = sum(r["amount"] for r in refunds if r["state"] == j.APPROVED and r["wallet"] == kind)
        assert wallet_balance(tmp_path / "acquirer.db", kind) == OPENING - paid + given, kind
