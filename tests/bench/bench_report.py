"""X/Z reports: building the Z report of a batch of 10,000 transactions from the journal.

What `pos report z` does once the host has closed the batch: read every row
of the batch from the journal (SQLite), count it into the totals by channel,
entry mode and operator, and render the slip (text and ESC/POS) and the
JSON. The settlement round trip itself is the host's and is not in the
figure. The rows are a mix of card schemes and wallets, voids, refunds and
reversals, written straight into a fresh journal.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pos.core.config import load_config
from pos.journal.report import shift_report
from pos.journal.store import Journal
from pos.core.printers_file import load_profiles
from receipts import render_escpos, render_text, report_to_dict
from tests.bench import Row
from tests.pos.support import make_config

TRANSACTIONS = 10_000
TARGET = "< 1 s for 10,000 transactions"
_MIX = (("sale", "approved", "unionpay", None, "071"), ("sale", "approved", "visa", None, "072"),
        ("wallet_sale", "approved", None, "alipay", "030"), ("wallet_sale", "approved", None, "wechat", "030"),
        ("void", "approved", "unionpay", None, "071"), ("refund", "approved", None, "alipay", "030"),
        ("sale", "reversed", "mastercard", None, "071"), ("sale", "declined", "unionpay", None, "071"))


def _fill(journal: Journal, batch: str, count: int) -> None:
    now = datetime.now(UTC).isoformat()
    rows = []
    for n in range(count):
        kind, state, scheme, wallet, entry = _MIX[n % len(_MIX)]
        rows.append({"type": kind, "state": state, "amount": 100 + n % 5000, "currency": "156",
                     "stan": f"{n % 999999 + 1:06d}", "batch": batch, "entry_mode": entry, "scheme": scheme,
                     "wallet": wallet, "created_at": now, "updated_at": now})
    journal.db["transactions"].insert_all(rows)


def run(quick: bool) -> list[Row]:
    repeat = 3 if quick else 10
    with tempfile.TemporaryDirectory(prefix="tillkit-bench-") as tmp:
        root = Path(tmp)
        config = load_config(make_config(root), state_dir=root / "state")
        config.state_dir.mkdir(parents=True)
        journal = Journal(config.journal_path)
        batch = journal.batch
        _fill(journal, batch, TRANSACTIONS)
        profile = load_profiles(config.config_dir / "printers.toml")["80mm"]
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            report = shift_report(journal, config, "z", batch, datetime.now(UTC), balanced=True)
            render_text(report, 48)
            render_escpos(report, profile)
            report_to_dict(report)
            times.append(time.perf_counter() - start)
        counted = len(report.transactions)
        journal.close()
    p50 = statistics.median(times)
    return [Row(f"report: Z report of {TRANSACTIONS:,} journal rows (read, total, text + ESC/POS + JSON)",
                f"{p50 * 1000:.0f} ms", f"max {max(times) * 1000:.0f} ms, {counted:,} rows counted, n={repeat}",
                TARGET)]
