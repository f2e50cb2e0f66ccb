"""The daemon answers the register before the paper, and the paper still comes out, once."""
from __future__ import annotations

import sqlite3

from tests.daemon.support import Daemon, payment, queue, response_of


def test_each_approved_payment_prints_its_receipt_once_after_the_answer(tmp_path):
    daemon = Daemon(tmp_path / "state").start()
    try:
        for number in (1, 2):
            queue(daemon.state_dir, "card", "unionpay-debit")
            status, answer = daemon.post(payment("1.00", f"PAPER-{number}"))
            result = response_of(answer, "Payment")
            assert status == 200 and result["Response"]["Result"] == "Success"
    finally:
        assert daemon.stop() == 0, daemon.logs()[-2000:]
    with sqlite3.connect(daemon.state_dir / "print-queue.db") as db:
        jobs = db.execute("SELECT reference, kind, state FROM print_jobs ORDER BY id").fetchall()
    assert [(kind, state) for _, kind, state in jobs] == [("original", "printed")] * 2
    assert all(reference.startswith("receipt of trace ") for reference, _, _ in jobs)
    assert daemon.logs().count("ReceiptPrinted") == 2
