"""Benchmarks: `make bench` runs every `tests/bench/bench_*.py` and prints one table.

Each benchmark module exposes `run(quick: bool) -> list[Row]`. Speed and memory
targets live here, never as timed assertions in the test suite.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of the benchmark table."""

    name: str          # what was measured, e.g. "acquirer: 16 terminals, durable ledger"
    value: str         # the headline figure, e.g. "2,140 auth/s"
    detail: str = ""   # p50/p99, sample size, conditions
    target: str = ""   # the goal from the issue, e.g. ">= 2,000 auth/s"
