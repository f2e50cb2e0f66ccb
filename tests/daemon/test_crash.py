"""SIGKILL `pos daemon` at random moments while a register takes 100 payments: each charged at most once.

A supervisor restarts the daemon whenever it dies (as systemd's
Restart=on-failure would); the register retries each payment with the same
SaleTransactionID until it gets an answer, as a register does after a
timeout. The acquirer is a real `acquirer serve` on loopback. At the end the
register's view, the terminal journal and the acquirer's ledger must agree:
every payment the register saw approved is exactly one approved journal row
and one approved host transaction; every other one took no money.
"""
from __future__ import annotations

import http.client
import random
import signal
import sqlite3
import ssl
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pos.journal import store as j
from tests.daemon.support import Daemon, payment, response_of
from tests.pos.support import AcquirerServer, HostLedger, disagreements, make_config, run_pos, test_cards

PAYMENTS = 100
KILLS = 25          # then the payments left run to their end
KILL_AFTER_S = (0.1, 1.2)   # a daemon that serves is killed this long (uniform) after it began to
CUSTOMER_DELAY_S = 0.1      # the simulated customer presents the card this long after a payment starts
CARD = "unionpay-debit"


class Supervisor:
    """Keeps one daemon running; a killer thread SIGKILLs it at random moments."""

    def __init__(self, daemon: Daemon, seed: int) -> None:
        self.daemon = daemon
        self.rng = random.Random(seed)
        self.kills = 0
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._supervise), threading.Thread(target=self._kill)]

    def start(self) -> None:
        self.daemon.start()
        for thread in self.threads:
            thread.start()

    def _supervise(self) -> None:
        while not self.done.is_set():
            with self.lock:
                proc = self.daemon.proc
                if proc is not None and proc.poll() is not None:
                    self.daemon.start()
            time.sleep(0.05)

    def _kill(self) -> None:
        """Once the daemon serves, SIGKILL it at a random moment (a kill during start-up would starve it)."""
        while not self.done.is_set():
            if not (self.daemon.state_dir / "daemon.addr").exists():
                time.sleep(0.05)
                continue
            if self.kills >= KILLS or self.done.wait(self.rng.uniform(*KILL_AFTER_S)):
                return
            with self.lock:
                proc = self.daemon.proc
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    self.kills += 1

    def stop(self) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join()


def register_pays(daemon: Daemon, number: int, fen: int) -> dict[str, Any]:
    """One payment as a register makes it: repeated with the same id until answered."""
    message = payment(f"{fen // 100}.{fen % 100:02d}", f"ECR-{number:04d}")
    while True:
        try:
            status, answer = daemon.post(message, timeout_s=20)
        except (OSError, http.client.HTTPException, ssl.SSLError, ValueError):
            time.sleep(0.2)   # daemon down or restarting: try again with the same id
            continue
        if status != 200:
            time.sleep(0.2)
            continue
        body = response_of(answer, "Payment")
        if body["Response"].get("ErrorCondition") == "Busy":
            time.sleep(0.2)
            continue
        return body


@pytest.mark.slow
@pytest.mark.timeout(1200)   # 100 payments and dozens of restarts on a loaded 2-CPU machine
def test_sigkill_during_register_payments_charges_each_at_most_once(tmp_path: Path) -> None:
    config = make_config(tmp_path / "config", pos={"timeout_s": 5.0})
    # a payment takes about CUSTOMER_DELAY_S + 0.1 s, and a daemon serves a few before it is killed: the
    # KILLS kills come while the payments run (some while the daemon waits for the card, some online)
    (config / "daemon.toml").write_text(f"[daemon]\ncustomer_delay_s = {CUSTOMER_DELAY_S}\n")
    opening = test_cards()[CARD]["balance"]
    rng = random.Random(16)
    with AcquirerServer(config, tmp_path / "acquirer.db") as server:
        daemon = Daemon(tmp_path / "state", config_dir=config, host=server.address)
        supervisor = Supervisor(daemon, seed=16)
        supervisor.start()
        seen: dict[str, dict[str, Any]] = {}
        try:
            for number in range(PAYMENTS):
                seen[f"ECR-{number:04d}"] = register_pays(daemon, number, rng.randint(100, 3000))
        finally:
            supervisor.stop()
            daemon.stop()
        # the register asks again for every payment after the last restart: the same answers
        restarted = daemon.start()
        try:
            for number in rng.sample(range(PAYMENTS), 10):
                again = register_pays(restarted, number, 100)
                assert again["Response"] == seen[f"ECR-{number:04d}"]["Response"]
        finally:
            assert restarted.stop() == 0
        done = run_pos(config, tmp_path / "state", "signon", host=server.address)   # sends what is still due
        assert done.returncode == 0, done.stderr

    assert supervisor.kills >= 10, supervisor.kills
    conn = sqlite3.connect(tmp_path / "state" / "journal.db")
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM transactions ORDER BY id")]
    conn.close()
    assert {r["state"] for r in rows} <= {j.APPROVED, j.REVERSED, j.DECLINED}, Counter(r["state"] for r in rows)
    approved = {f"{r['batch']}.{r['stan']}": r for r in rows if r["state"] == j.APPROVED}
    register_approved = {body["POIData"]["POITransactionID"]["TransactionID"]: sale_id
                         for sale_id, body in seen.items() if body["Response"]["Result"] == "Success"}
    assert set(register_approved) == set(approved)            # no charge the register does not know of
    assert len(register_approved) == len(set(register_approved.values()))   # one charge per payment
    for poi_id, sale_id in register_approved.items():
        authorized = seen[sale_id]["PaymentResult"]["AmountsResp"]["AuthorizedAmount"]
        assert round(authorized * 100) == approved[poi_id]["amount"]
    host = HostLedger(tmp_path / "acquirer.db")
    assert disagreements(rows, host.transactions("10000001")) == []
    assert host.balance(CARD) == opening - sum(r["amount"] for r in approved.values())
    assert host.unbalanced_postings() == 0
