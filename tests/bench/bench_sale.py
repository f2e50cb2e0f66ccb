"""Software time per sale: virtual card tapped on the simulated PN532 (nfcpy, kernel, real ARQC),
journal (WAL, synchronous=FULL), MAC, host round trip.

One terminal engine in this process sells to a real `acquirer serve` on
loopback, one sale after another, and the time of each `engine.sale` call is
taken from the card's tap to the recorded outcome -- everything a sale costs
in software when no person is waiting (the radio's air time is not in it). The same run against
the embedded (in-process) host is shown beside it.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from pos.core.config import PosConfig, load_config
from pos.devices.contactless import open_contactless
from pos.devices.terminal import open_terminal
from tests.bench import Row
from tests.pos.support import AcquirerServer, make_config

CARDS = ("unionpay-debit", "visa", "mastercard", "unionpay-credit")


async def _sales(config: PosConfig, count: int) -> list[float]:
    times = []
    with open_contactless(config) as contactless:
        async with open_terminal(config) as engine:
            for index in range(count):
                card = contactless.cards.card(CARDS[index % len(CARDS)])
                start = time.perf_counter()
                outcome = await engine.sale(1, [card])
                times.append(time.perf_counter() - start)
                if not outcome.approved:
                    raise RuntimeError(f"benchmark sale not approved: {outcome.message}")
    return times


def _row(name: str, times: list[float]) -> Row:
    ms = sorted(t * 1000 for t in times)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return Row(name, f"{p50:.1f} ms p50", f"p99 {p99:.1f} ms, {len(ms)} sales, {1000 / p50:.0f} sales/s at p50",
               "")


def run(quick: bool) -> list[Row]:
    count = 40 if quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config_dir = make_config(root)
        with AcquirerServer(config_dir, root / "acquirer.db") as server:
            tcp = load_config(config_dir, state_dir=root / "tcp", host_address=server.address)
            tcp_times = asyncio.run(_sales(tcp, count))
        embedded = load_config(config_dir, state_dir=root / "embedded")
        embedded_times = asyncio.run(_sales(embedded, count))
    return [_row("pos sale: virtual card, loopback acquirer serve", tcp_times),
            _row("pos sale: virtual card, embedded host", embedded_times)]
