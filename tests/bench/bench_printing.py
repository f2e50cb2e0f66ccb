"""Receipt printing: how big a job is, how long rendering takes, how fast the queue prints.

Job size decides printing time on slow links: a 9600-baud serial printer takes
about 1 ms per byte (8N1), so a raster QR or image-mode Chinese costs seconds
that a printer-native QR and a GB18030 font do not. Rows per shipped profile,
for one sale slip (merchant + cardholder copy, the job the terminal sends):
bytes and seconds at 9600 baud, target under 5 s. The queue row is the full path the terminal
uses: PrintQueue (SQLite, synchronous=FULL) -> python-escpos Network ->
simulated printer on loopback, with the status checks before and after a job.
The terminal row is what printing adds to a sale in the engine (slip built
from the journal, its JSON kept, rendered, queued and printed on the
in-process simulated printer): sales on the embedded host with pos.toml's
default printer against the same sales with `[printer] connection = "none"`.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from drivers.printer import NetworkConfig, PrinterConnection, PrintJob, PrintQueue
from drivers.sim.printer import SimulatedPrinter
from pos.core.config import load_config
from pos.devices.contactless import open_contactless
from pos.devices.terminal import open_terminal
from pos.core.printers_file import load_profiles
from receipts import render_copies, render_escpos
from tests.bench import Row
from tests.pos.printing_support import use_printer
from tests.pos.support import make_config
from tests.receipts import samples

BAUD = 9600
BITS_PER_BYTE = 10   # 8N1: a start bit, eight data bits, a stop bit


def _median_ms(function, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def run(quick: bool) -> list[Row]:
    profiles = load_profiles(samples.CONFIG / "printers.toml")
    repeat = 5 if quick else 40
    rows: list[Row] = []
    sale = samples.sale()
    for name, profile in profiles.items():
        job = render_copies(sale, profile)
        p50, p99 = _median_ms(lambda profile=profile: render_copies(sale, profile), repeat)
        qr = "native QR" if profile.native_qr else f"raster QR {profile.qr_module} dots/module"
        seconds = len(job) * BITS_PER_BYTE / BAUD
        rows.append(Row(f"printing: sale slip (2 copies) at 9600 baud, profile {name} "
                        f"({profile.chinese}, {profile.labels} labels, {qr})",
                        f"{seconds:.2f} s", f"{len(job):,} bytes; render p50 {p50:.1f} ms p99 {p99:.1f} ms",
                        "< 5 s at 9600 baud"))

    profile = profiles["80mm"]
    job = PrintJob(b"".join(render_escpos(copy, profile) for copy in sale.copies()), "000123")
    jobs = 10 if quick else 100
    with SimulatedPrinter() as sim, tempfile.TemporaryDirectory() as tmp:
        host, port = sim.serve_tcp()
        queue = PrintQueue(Path(tmp) / "q.db", PrinterConnection(NetworkConfig(host, port)))
        p50, p99 = _median_ms(lambda: queue.submit(job), jobs)
        queue.close()
        printed = sim.document.cuts // 2
    rows.append(Row("printing: queue submit -> Network -> simulated printer (80mm sale, 2 copies)",
                    f"{1000 / p50:,.0f} jobs/s", f"p50 {p50:.1f} ms p99 {p99:.1f} ms, {printed} jobs printed"))
    rows.append(_terminal_row(10 if quick else 100))
    return rows


async def _sale_times(config, count: int) -> list[float]:
    times = []
    with open_contactless(config) as contactless:
        async with open_terminal(config) as engine:
            for _ in range(count):
                card = contactless.cards.card("unionpay-debit")
                start = time.perf_counter()
                await engine.sale(1, [card])
                times.append((time.perf_counter() - start) * 1000)
    return times


def _terminal_row(count: int) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        printing = make_config(root / "printing")
        silent = make_config(root / "silent")
        use_printer(silent, "none")
        with_printer = statistics.median(asyncio.run(_sale_times(load_config(printing, state_dir=root / "a"), count)))
        without = statistics.median(asyncio.run(_sale_times(load_config(silent, state_dir=root / "b"), count)))
    return Row("printing: what a receipt adds to a sale (engine, embedded host, simulated printer, 80mm)",
               f"+{with_printer - without:.1f} ms", f"sale p50 {with_printer:.1f} ms printed, {without:.1f} ms "
               f"without a printer; {count} sales each")
