"""One reconciliation, from inputs to report: what every face calls.

Inputs are values the face gathered: the terminal records (this till's
journal and the exports of the others), the statement bytes of each day
(read from files or fetched), the merchant's terms. Everything that makes the
reconciliation impossible -- a statement refused by its checks, a day
missing, a journal of another merchant -- is a `ReconcileError` (exit 4);
exceptions found are in the report (exit 1).
"""
from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from acquirer.protocol.errors import KIND_TABLE
from acquirer.protocol.statement import Statement, StatementError, read_statement
from pos.reconcile.errors import ReconcileError
from pos.reconcile.matching import match
from pos.reconcile.records import TerminalRecord
from pos.reconcile.report import Report, build_report
from pos.reconcile.terms import MerchantTerms

__all__ = ["EXIT_ALL_MATCHED", "EXIT_CANNOT_RECONCILE", "EXIT_EXCEPTIONS", "days_between", "exit_code",
           "read_statement_bytes", "read_statement_file", "reconcile", "without_cycle_collector"]

#: docs/reconcile.md: 0 every line matched, 1 exceptions found, 4 could not reconcile (the kind of `ReconcileError`)
EXIT_ALL_MATCHED, EXIT_EXCEPTIONS = 0, 1
EXIT_CANNOT_RECONCILE = KIND_TABLE[ReconcileError.kind].exit_code
MAX_DAYS = 366


@contextmanager
def without_cycle_collector() -> Iterator[None]:
    """Python's cycle collector paused while a reconciliation reads and matches.

    Why: reading, matching and reporting a day of 100,000 transactions makes over a million small objects
    (records, lines, tuples, dicts) that hold no reference cycles, and the collector would walk the growing
    heap again and again to find nothing -- about a second of CPU, a quarter of the whole. Reference
    counting still frees every one of them; the collector is restored as it was on the way out.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def days_between(first: date, last: date) -> list[date]:
    if last < first:
        raise ReconcileError(f"--from {first} is after --to {last}")
    if (last - first).days >= MAX_DAYS:
        raise ReconcileError(f"at most {MAX_DAYS} days at a time ({first} to {last} is more)")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def read_statement_bytes(data: bytes, merchant: str, source: str) -> Statement:
    try:
        return read_statement(data, merchant)
    except StatementError as e:
        raise ReconcileError(f"{source}: refused: {e}") from None


def read_statement_file(path: Path, merchant: str) -> Statement:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReconcileError(f"{path}: no such statement file") from None
    except OSError as e:
        raise ReconcileError(f"{path}: cannot read: {e.strerror}") from None
    return read_statement_bytes(data, merchant, str(path))


def reconcile(records: Iterable[TerminalRecord], statements: Sequence[Statement], first: date, last: date,
              terms: MerchantTerms) -> Report:
    """Match and report the days `first`..`last`; every day in the range needs its statement."""
    have = {s.clearing_date for s in statements}
    missing = [d for d in days_between(first, last) if d not in have]
    if missing:
        shown = ", ".join(str(d) for d in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ReconcileError(f"no statement for {shown}: give one per clearing day (--statement) or --fetch")
    for s in statements:
        if s.merchant != terms.merchant:
            raise ReconcileError(f"a statement of merchant {s.merchant} given for {terms.merchant}")
    mine = [r for r in records if r.merchant == terms.merchant]
    lines = match(mine, statements, first, last, terms.plan_at, terms.cutoff_time)
    return build_report(terms.merchant, first, last, lines, statements)


def exit_code(report: Report) -> int:
    return EXIT_ALL_MATCHED if report.all_matched else EXIT_EXCEPTIONS
