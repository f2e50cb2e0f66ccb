"""The simulated ESC/POS printer for `[printer] connection = "sim"`: a network printer on a loopback port.

It runs in this process (`drivers.sim.printer`), interprets the bytes it is
sent back into lines, and is printed to like any network printer -- through
python-escpos's `Network` class -- so the receipt path is the real one.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from drivers.printer import NetworkConfig, SimConfig
from drivers.sim.printer import SimulatedPrinter


@contextmanager
def start_simulated_printer(settings: SimConfig) -> Iterator[tuple[SimulatedPrinter, NetworkConfig]]:
    """The running simulator and the network connection that reaches it."""
    with SimulatedPrinter() as simulator:
        host, port = simulator.serve_tcp(settings.port)
        yield simulator, NetworkConfig(host, port)
