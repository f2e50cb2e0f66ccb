"""The checkout screen as a cashier meets it: how long `pos` takes to show a usable screen, and its memory.

The real command runs in an 80x24 tmux pane on a fresh state directory
(embedded acquirer, simulated PN532 and printer, as `make demo`). Time to
the first usable screen: from starting the process to the sign-on form on
screen, polled with capture-pane every 10 ms (so the figure includes up to
~10 ms of polling and tmux's own redraw). Then the operator signs on and one
sale by virtual card goes through; peak memory is the process's VmHWM after
that sale.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from tests.bench import Row
from tests.tui.tmux import TmuxPos


def _one_run(state: Path) -> tuple[float, float, int]:
    """(seconds to the sign-on screen, seconds to the signed-on amount screen, peak KiB after a sale)."""
    with TmuxPos(["--state-dir", str(state)]) as pos:
        pos.wait_for("Operator sign-on", "Password")
        first_screen = time.perf_counter() - pos.started_at
        pos.type("0000")
        pos.keys("Enter")
        pos.wait_for("Host online", "¥0.00")
        signed_on = time.perf_counter() - pos.started_at
        pos.type("1234")
        pos.keys("Enter")
        pos.wait_for("Tap, insert or show your code")
        pos.keys("F6")
        pos.wait_for("Simulator: what does the customer present?")
        pos.keys("Enter")
        pos.wait_for("APPROVED")
        peak = pos.peak_memory_kib()
        pos.keys("C-q")
        pos.wait_exit()
    return first_screen, signed_on, peak


def run(quick: bool) -> list[Row]:
    runs = 2 if quick else 5
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(runs):
            results.append(_one_run(Path(tmp) / f"state-{index}"))
    first = [r[0] for r in results]
    signed = [r[1] for r in results]
    peaks = [r[2] for r in results]
    return [
        Row("tui: `pos` start to the first usable screen (sign-on form)",
            f"{statistics.median(first) * 1000:,.0f} ms",
            f"median of {runs} fresh starts in tmux 80x24; min {min(first) * 1000:,.0f} ms, "
            f"max {max(first) * 1000:,.0f} ms"),
        Row("tui: `pos` start to signed on (operator + 0800/0810)",
            f"{statistics.median(signed) * 1000:,.0f} ms",
            f"median of {runs}; embedded acquirer, simulated devices, includes typing the password"),
        Row("tui: peak memory after one sale",
            f"{max(peaks) / 1024:,.1f} MiB", f"VmHWM of the pos process, max of {runs} runs"),
    ]
