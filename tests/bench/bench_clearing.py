"""Clearing a generated day: 1,000,000 transactions over 1,000 merchants (targets < 60 s, < 400 MB).

The run is measured in a child process of its own, so its peak RSS is the
clearing's and not the benchmark runner's: events are generated on the fly
(merchant by merchant, in time order, as storage would stream them), cleared,
and every file is written to a temporary directory. Storage is not in this
figure yet (the acquirer's storage interface has not landed on this branch).
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from tests.bench import Row

DAY = date(2026, 12, 3)
SCHEMES = (("unionpay", "cup-bank", "D"), ("unionpay", "cup-bank", "C"), ("visa", "visa-bank", "F"),
           ("alipay", "wallet-alipay", "W"), ("wechat", "wallet-wechat", "W"))


def _config(merchants: int):
    from acquirer.clearing.terms import ClearingConfig
    return ClearingConfig.model_validate({
        "fees": {"foreign": {"visa": {"issuer_pct": "1.0", "network_pct": "0.1", "network_cap_fen": 500}},
                 "wallets": {"alipay": {"fee_pct": "0.38"}, "wechat": {"fee_pct": "0.38"}}},
        "rate_plan": [{"name": "standard", "acquirer_pct": "0.1"}],
        "merchant": [{"mid": f"8983100{m:08d}", "mcc": "5411", "rate_plan": "standard",
                      "payout_account": f"3100666320{m:08d}"} for m in range(merchants)]})


def _events(transactions: int, merchants: int) -> Iterator[object]:
    from acquirer.clearing.events import Channel, ClearingEvent, LineCode
    channels = {"D": Channel.DOMESTIC, "C": Channel.DOMESTIC, "F": Channel.FOREIGN, "W": Channel.WALLET}
    start = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)   # 23:00 Beijing the evening before
    per = transactions // merchants
    step = timedelta(seconds=86_000 / per)
    n = 0
    for m in range(merchants):
        mid = f"8983100{m:08d}"
        for i in range(per):
            n += 1
            scheme, institution, kind = SCHEMES[n % len(SCHEMES)]
            refund = n % 20 == 0
            code = LineCode.REFUND if refund else (LineCode.WALLET_SALE if kind == "W" else LineCode.SALE)
            amount = 100 + (n * 7919) % 500_000
            yield ClearingEvent("txn", n, code, start + step * i, f"{10000000 + m % 3:08d}", mid,
                                f"{n % 1_000_000:06d}", f"{n:012d}", f"{n % 1_000_000:06d}",
                                "621483******0015" if kind != "W" else "2088****1234", scheme, institution,
                                channels[kind], kind == "C", -amount if refund else amount,
                                DAY - timedelta(days=1) if refund else None)


def child(transactions: int, merchants: int) -> dict[str, float]:
    from acquirer.protocol.clock import DEFAULT_CUTOFF
    from acquirer.clearing.fees import FeeEngine
    from acquirer.clearing.run import clear_day
    from acquirer.clearing.terms import HolidaysFile

    engine = FeeEngine(_config(merchants))
    calendar = HolidaysFile().calendar()
    with tempfile.TemporaryDirectory() as out:
        def opener(name: str) -> BinaryIO:
            return open(Path(out) / name, "wb", buffering=1 << 16)

        begin = time.perf_counter()
        result = clear_day(DAY, _events(transactions, merchants), engine, calendar, "48990000", opener,
                           DEFAULT_CUTOFF)
        seconds = time.perf_counter() - begin
        size = sum(p.stat().st_size for p in Path(out).iterdir())
    return {"seconds": seconds, "lines": result.lines, "files": len(result.checksums),
            "postings": len(result.postings), "bytes": size,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "cpu": _cpu()}


def _cpu() -> float:
    """CPU seconds of this process (on a shared machine the wall time also counts others' work)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_TXN_COLUMNS = ("id, txn_type, tid, mid, batch, stan, local_date, amount, currency, card_token, masked_pan, scheme, "
                "issuer, entry_mode, status, response_code, rrn, auth_code, original_id, created_at")
Rows = tuple[tuple[object, ...], tuple[object, ...], tuple[object, ...], tuple[object, ...]]


def _cards_and_accounts(merchants: int) -> tuple[list[tuple[object, ...]], list[str]]:
    cards = [(f"tok{i}", "621483******0015", f"card{i}", inst, scheme, "credit" if kind == "C" else "debit")
             for i, (scheme, inst, kind) in enumerate(SCHEMES)]
    accounts = {f"merchant:8983100{m:08d}" for m in range(merchants)} | {
        f"issuer:{inst}" for _, inst, _ in SCHEMES} | {f"card:tok{i}" for i in range(len(SCHEMES))}
    return cards, sorted(accounts)


def _rows(transactions: int, merchants: int) -> Iterator[Rows]:
    """(transaction, posting, merchant leg, card leg) of each generated event."""
    for e in _events(transactions, merchants):
        n = e.source_id  # type: ignore[attr-defined]
        i = n % len(SCHEMES)
        scheme, inst, kind = SCHEMES[i]
        wallet = kind == "W"
        txn_type = "refund" if e.code.value == "RFD" else ("wallet_sale" if wallet else "sale")  # type: ignore[attr-defined]
        at = e.occurred_at.isoformat()  # type: ignore[attr-defined]
        yield ((n, txn_type, e.tid, e.mid, "000001", e.stan, "2026-12-03", abs(e.amount), "156",  # type: ignore[attr-defined]
                None if wallet else f"tok{i}", None if wallet else "621483******0015", scheme, inst, "07",
                "approved", "00", e.rrn, e.auth_code, None, at),  # type: ignore[attr-defined]
               (n, n, "wallet_payment" if wallet else txn_type, at),
               (n, f"merchant:{e.mid}", e.amount), (n, f"card:tok{i}", -e.amount))  # type: ignore[attr-defined]


def generate_database(path: Path, transactions: int, merchants: int) -> None:
    """A SQLite acquirer database holding a day of approved sales (and some refunds), written in bulk:
    what the host would have written, without spending the benchmark's time authorizing them."""
    from acquirer.storage import open_database
    conn = open_database(path).conn
    conn.execute("BEGIN")
    cards, accounts = _cards_and_accounts(merchants)
    conn.executemany("INSERT INTO cards (token, masked_pan, name, issuer, scheme, product) VALUES (?, ?, ?, ?, ?, ?)",
                     cards)
    conn.executemany("INSERT INTO accounts (id, kind, balance, may_go_negative) VALUES (?, 'merchant', 0, 1)",
                     [(a,) for a in accounts])
    batch: list[Rows] = []

    def flush() -> None:
        conn.executemany(f"INSERT INTO transactions ({_TXN_COLUMNS}) VALUES ({', '.join(['?'] * 20)})",
                         [b[0] for b in batch])
        conn.executemany("INSERT INTO postings (id, txn_id, kind, created_at) VALUES (?, ?, ?, ?)", [b[1] for b in batch])
        conn.executemany("INSERT INTO legs (posting_id, account_id, amount) VALUES (?, ?, ?)",
                         [leg for b in batch for leg in (b[2], b[3])])
        batch.clear()

    for row in _rows(transactions, merchants):
        batch.append(row)
        if len(batch) >= 20_000:
            flush()
    flush()
    conn.execute("COMMIT")
    conn.close()


def generate_postgres(url: str, transactions: int, merchants: int) -> None:
    """The same day in a PostgreSQL acquirer database, by COPY."""
    import psycopg

    from acquirer.storage.postgres import migrate_postgres
    migrate_postgres(url)
    cards, accounts = _cards_and_accounts(merchants)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY cards (token, masked_pan, name, issuer, scheme, product) FROM STDIN") as copy:
            for card in cards:
                copy.write_row(card)
        with cur.copy("COPY accounts (id, kind, balance, may_go_negative) FROM STDIN") as copy:
            for account in accounts:
                copy.write_row((account, "merchant", 0, 1))
        with cur.copy(f"COPY transactions ({_TXN_COLUMNS}) FROM STDIN") as copy:
            for row in _rows(transactions, merchants):
                copy.write_row(row[0])
        with cur.copy("COPY postings (id, txn_id, kind, created_at) FROM STDIN") as copy:
            for row in _rows(transactions, merchants):
                copy.write_row(row[1])
        with cur.copy("COPY legs (posting_id, account_id, amount) FROM STDIN") as copy:
            for row in _rows(transactions, merchants):
                copy.write_row(row[2])
                copy.write_row(row[3])
        cur.execute("SELECT setval(pg_get_serial_sequence('postings', 'id'), (SELECT MAX(id) FROM postings))")
        cur.execute("ANALYZE")


def child_storage(transactions: int, merchants: int, workdir: Path, target: str) -> dict[str, float]:
    """`Clearing.clear` of the generated day: events from the ledger, lines and postings stored."""
    from acquirer.clearing.service import Clearing
    from acquirer.clearing.terms import HolidaysFile
    from acquirer.storage import open_store

    store = open_store(target)
    clearing = Clearing(store, _config(merchants), HolidaysFile().calendar(), "48990000", workdir / "out",
                        clock=lambda: datetime(2026, 12, 4, 0, 0, tzinfo=UTC))
    begin = time.perf_counter()
    outcome = clearing.clear(DAY)
    seconds = time.perf_counter() - begin
    store.close()
    return {"seconds": seconds, "lines": outcome.lines,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "cpu": _cpu()}


def _child(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "tests.bench.bench_clearing", *args],
                         check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def run(quick: bool) -> list[Row]:
    transactions, merchants = (100_000, 100) if quick else (1_000_000, 1_000)
    r = _child("pure", str(transactions), str(merchants))
    rows = [Row(f"clearing: {transactions:,} transactions, {merchants:,} merchants (run + files, no storage)",
                f"{r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB",
                f"{r['cpu']:.1f} CPU s; {r['lines'] / r['seconds']:,.0f} lines/s; {r['files']} files, {r['bytes'] / 1e6:.0f} MB; "
                f"{r['postings']} postings", "< 60 s, < 400 MB")]
    with tempfile.TemporaryDirectory() as workdir:
        target = str(Path(workdir) / "bench.db")
        generate_database(Path(target), transactions, merchants)
        rows.append(_storage_row("SQLite", _child("storage", str(transactions), str(merchants), workdir, target),
                                 transactions, merchants))
    from tests.pgcluster import start_cluster
    cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            cluster.psql('CREATE DATABASE "bench"')
            target = cluster.url("bench")
            generate_postgres(target, transactions, merchants)
            rows.append(_storage_row("PostgreSQL", _child("storage", str(transactions), str(merchants), workdir,
                                                          target), transactions, merchants))
    finally:
        cluster.destroy()
    return rows


def _storage_row(backend: str, r: dict[str, float], transactions: int, merchants: int) -> Row:
    return Row(f"clearing on {backend}: {transactions:,} transactions, {merchants:,} merchants",
               f"{r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB",
               f"{r['cpu']:.1f} CPU s (client); {r['lines'] / r['seconds']:,.0f} lines/s; events from the ledger, "
               "lines, postings and files in one transaction", "< 60 s, < 400 MB")


if __name__ == "__main__":
    mode, count, merchants_arg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if mode == "pure":
        print(json.dumps(child(count, merchants_arg)))
    else:
        print(json.dumps(child_storage(count, merchants_arg, Path(sys.argv[4]), sys.argv[5])))
