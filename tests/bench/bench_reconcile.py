"""Reconciling a merchant's day: 100,000 transactions over 3 terminals (target < 5 s), a 30-day range, and the
Rich summary of a day with tens of thousands of exceptions.

Set-up (not timed): three real terminal journals (the journal's own schema
and migrations; rows inserted in one SQLite transaction, since a sale's
fsync is not what is measured), two of them exported with the export
format; the acquirer's statement of each day written by the clearing run
from the same transactions, with a few lines changed so that every
exception category has work to do. Timed: what `pos reconcile` does --
read this till's journal and the exports, read and check every statement,
match, build the report, and render its JSON and CSV, with the cycle
collector paused as the command pauses it. The detail column gives the CPU
time beside the wall time: on a shared machine the CPU time is the figure to
compare.
"""
from __future__ import annotations

import io
import os
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.bench import Row

DAY = date(2026, 12, 3)
MID = "898310048990001"
TIDS = ("10000001", "10000002", "10000003")


def _journal(path: Path, tid: str, days: list[date], per_day: int) -> list[object]:
    """A journal of `per_day` sales a day on terminal `tid`; returns the acquirer's events for them."""
    from acquirer.clearing.events import Channel, ClearingEvent, LineCode
    from pos.journal.store import Journal

    Journal(path).close()   # the schema, by the journal's own migrations
    rows, events = [], []
    stan = 0
    for day in days:
        start = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)   # 09:00 Beijing
        for n in range(per_day):
            stan = stan % 999_999 + 1
            at = start + timedelta(seconds=n * 40_000 / per_day)
            amount = 100 + (n * 7919) % 500_000
            rrn = f"{tid[-2:]}{day.toordinal() % 10000:04d}{n:06d}"
            wallet = "alipay" if n % 5 == 0 else None
            rows.append(("wallet_sale" if wallet else "sale", "approved", amount, "156", f"{stan:06d}", "000001",
                         "0712", "621483******0015", wallet or "unionpay", wallet, rrn, "123456",
                         at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
            amount_cleared = amount + 1 if n == 17 else amount        # one amount differs per day
            if n != 23:                                              # one sale the host never saw
                events.append(ClearingEvent(
                    source="txn", source_id=len(events) + 1, code=LineCode.WALLET_SALE if wallet else LineCode.SALE,
                    occurred_at=at, tid=tid, mid=MID, stan=f"{stan:06d}", rrn=rrn, auth_code="123456",
                    masked_account="621483******0015", scheme=wallet or "unionpay",
                    institution=f"wallet-{wallet}" if wallet else "cup-bank",
                    channel=Channel.WALLET if wallet else Channel.DOMESTIC, credit=False, amount=amount_cleared))
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO transactions (type, state, amount, currency, stan, batch, entry_mode, masked_pan, scheme, "
            "wallet, rrn, auth_code, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()
    return events


def _scenario(directory: Path, days: list[date], per_terminal_day: int) -> tuple[Path, list[Path], list[Path]]:
    from acquirer.clearing.fees import FeeEngine
    from acquirer.clearing.run import clear_day
    from acquirer.clearing.terms import ClearingConfig, HolidaysFile
    from acquirer.protocol.clock import DEFAULT_CUTOFF, clearing_date
    from pos.journal.store import Journal
    from pos.reconcile.records import export_records, journal_records
    from tests.clearing.helpers import Files

    events = []
    journals = []
    for tid in TIDS:
        path = directory / f"journal-{tid}.db"
        events += _journal(path, tid, days, per_terminal_day)
        journals.append(path)
    exports = []
    for tid, path in zip(TIDS[1:], journals[1:], strict=True):
        journal = Journal(path)
        out = directory / f"{tid}.json"
        out.write_bytes(export_records(journal_records(journal, "", tid, MID), tid, MID))
        journal.close()
        exports.append(out)
    engine = FeeEngine(ClearingConfig.model_validate({
        "fees": {"wallets": {"alipay": {"fee_pct": "0.38"}}},
        "rate_plan": [{"name": "standard", "acquirer_pct": "0.1"}],
        "merchant": [{"mid": MID, "mcc": "5411", "rate_plan": "standard", "payout_account": "310066632018001234567"}]}))
    calendar = HolidaysFile().calendar()
    statements = []
    for day in days:
        mine = sorted((e for e in events if clearing_date(e.occurred_at) == day), key=lambda e: e.occurred_at)
        files = Files()
        clear_day(day, mine, engine, calendar, "48990000", files, DEFAULT_CUTOFF)
        path = directory / f"statement-{day}.txt"
        path.write_bytes(files.data[f"statement-{MID}.txt"])
        statements.append(path)
    return journals[0], exports, statements


def _summary(own: Path, statements: list[Path]) -> tuple[float, float, int]:
    """The Rich summary of a day whose other two tills' journals were left out: two thirds of the
    statement's lines are exceptions (acquirer only), each printed with what to do. Timed: the printing."""
    from rich.console import Console

    from pos.cli.reconcile import show
    from pos.journal.store import Journal
    from pos.reconcile.records import journal_records
    from pos.reconcile.service import read_statement_file, reconcile, without_cycle_collector
    from pos.reconcile.terms import MerchantTerms

    terms = MerchantTerms.model_validate({"merchant": MID, "plan": {"acquirer_pct": "0.1"}})
    with without_cycle_collector():
        journal = Journal(own)
        records = journal_records(journal, "", TIDS[0], MID)
        journal.close()
        report = reconcile(records, [read_statement_file(path, MID) for path in statements], DAY, DAY, terms)
        console = Console(file=io.StringIO(), width=120, highlight=False)
        began, cpu = time.perf_counter(), time.process_time()
        show(report, console)
    return time.perf_counter() - began, time.process_time() - cpu, len(report.exceptions)


def _reconcile(own: Path, exports: list[Path], statements: list[Path], first: date,
               last: date) -> tuple[float, float, int, int]:
    from pos.journal.store import Journal
    from pos.reconcile.records import journal_records, load_export
    from pos.reconcile.service import read_statement_file, reconcile, without_cycle_collector
    from pos.reconcile.terms import MerchantTerms

    terms = MerchantTerms.model_validate({"merchant": MID, "plan": {"acquirer_pct": "0.1"}})
    began, cpu = time.perf_counter(), time.process_time()
    with without_cycle_collector():   # as `pos reconcile` does
        journal = Journal(own)
        records = journal_records(journal, f"{first - timedelta(days=2):%Y-%m-%d}", TIDS[0], MID)
        journal.close()
        for path in exports:
            records += load_export(path, MID)
        read = [read_statement_file(path, MID) for path in statements]
        report = reconcile(records, read, first, last, terms)
        report.to_json()
        report.to_csv()
    return time.perf_counter() - began, time.process_time() - cpu, len(report.lines), len(report.exceptions)


def run(quick: bool = False) -> list[Row]:
    rows = []
    per_day = 33_334 if not quick else 1_000        # x 3 terminals: 100,002 transactions
    with tempfile.TemporaryDirectory() as tmp:
        own, exports, statements = _scenario(Path(tmp), [DAY], per_day)
        seconds, cpu, lines, exceptions = _reconcile(own, exports, statements, DAY, DAY)
        printed, printed_cpu, many = _summary(own, statements)
    rows.append(Row(f"reconcile: {per_day * 3:,} transactions, 3 terminals, 1 day", f"{seconds:.2f} s",
                    f"CPU {cpu:.2f} s (load average {os.getloadavg()[0]:.1f}); {lines:,} lines, {exceptions} "
                    f"exceptions; journals, exports, statement, match, JSON+CSV", "< 5 s for 100,000"))
    rows.append(Row(f"reconcile: the Rich summary of {many:,} exceptions", f"{printed:.2f} s",
                    f"CPU {printed_cpu:.2f} s; two tills' journals left out, every exception printed", "-"))
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(30 if not quick else 5)]   # 2027 has no calendar yet
    per_day = 1_000 if not quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        own, exports, statements = _scenario(Path(tmp), days, per_day)
        seconds, cpu, lines, exceptions = _reconcile(own, exports, statements, days[0], days[-1])
    rows.append(Row(f"reconcile: {len(days)}-day range, 3 terminals x {per_day:,} a day", f"{seconds:.2f} s",
                    f"CPU {cpu:.2f} s; {lines:,} lines, {exceptions} exceptions", "-"))
    return rows
