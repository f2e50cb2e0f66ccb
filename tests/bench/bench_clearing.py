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
    from acquirer.protocol.clearing_clock import DEFAULT_CUTOFF
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
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(quick: bool) -> list[Row]:
    transactions, merchants = (100_000, 100) if quick else (1_000_000, 1_000)
    out = subprocess.run([sys.executable, "-m", "tests.bench.bench_clearing", str(transactions), str(merchants)],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return [Row(f"clearing: {transactions:,} transactions, {merchants:,} merchants (pure run + files)",
                f"{r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB",
                f"{r['lines'] / r['seconds']:,.0f} lines/s; {r['files']} files, {r['bytes'] / 1e6:.0f} MB; "
                f"{r['postings']} postings; storage not included", "< 60 s, < 400 MB")]


if __name__ == "__main__":
    print(json.dumps(child(int(sys.argv[1]), int(sys.argv[2]))))
