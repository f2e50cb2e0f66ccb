"""What a reconciliation reads, for every face: the merchant's terms, this till's journal, the statements.

The command line and the checkout screen both gather their inputs here, so
`pos reconcile --fetch` and the screen's reconciliation read the same
things the same way. HTTP code (`pos.reconcile.fetch`) is imported only when
a statement is fetched.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from acquirer.protocol.clock import clearing_date
from acquirer.protocol.statement import Statement
from pos.core.config import PosConfig
from pos.journal.store import Journal
from pos.reconcile.errors import ReconcileError
from pos.reconcile.records import TerminalRecord, journal_records
from pos.reconcile.service import days_between, read_statement_bytes, read_statement_file
from pos.reconcile.terms import MerchantTerms, load_terms

__all__ = ["TERMS_FILE", "gather_statements", "last_complete_day", "own_records", "terms_of"]

TERMS_FILE = "reconcile.toml"


def last_complete_day(cutoff: time, now: datetime | None = None) -> date:
    """The latest clearing day that is over (the default day to reconcile)."""
    return clearing_date(now or datetime.now(UTC), cutoff) - timedelta(days=1)


def terms_of(config: PosConfig) -> MerchantTerms:
    """`reconcile.toml` of the configuration directory; its merchant must be this terminal's."""
    terms = load_terms(config.config_dir / TERMS_FILE)
    if terms.merchant != config.terminal.mid:
        raise ReconcileError(f"{TERMS_FILE}: merchant: {terms.merchant} is not this terminal's merchant "
                             f"({config.terminal.mid}, pos.toml [terminal] mid)")
    return terms


def own_records(config: PosConfig, since: date | None = None) -> list[TerminalRecord]:
    """This till's journal from two days before clearing day `since` (all of it without), read only;
    an absent journal is an empty one."""
    if not config.journal_path.exists():
        return []
    start = "" if since is None else f"{since - timedelta(days=2):%Y-%m-%d}"
    journal = Journal(config.journal_path)
    try:
        return journal_records(journal, start, config.terminal.tid, config.terminal.mid)
    finally:
        journal.close()


def gather_statements(terms: MerchantTerms, files: tuple[Path, ...], fetch: bool, first: date,
                      last: date) -> list[Statement]:
    """The statements of `first`..`last`: from files, or fetched (with the neighbouring days when cleared)."""
    if files and fetch:
        raise ReconcileError("give --statement files or --fetch, not both")
    if files:
        return [read_statement_file(path, terms.merchant) for path in files]
    if not fetch:
        raise ReconcileError("no statement: give --statement FILE (one per clearing day) or --fetch")
    if not terms.acquirer_url:
        raise ReconcileError(f"--fetch needs acquirer_url in {TERMS_FILE}")
    from pos.reconcile.fetch import fetch_statement  # HTTP code loads only for --fetch

    out = []
    for day in days_between(first, last):
        data = fetch_statement(terms.acquirer_url, terms.merchant, terms.api_key, day)
        out.append(read_statement_bytes(data, terms.merchant, f"the acquirer's statement of {day}"))
    for neighbour in (first - timedelta(days=1), last + timedelta(days=1)):   # for the cut-off category
        try:
            data = fetch_statement(terms.acquirer_url, terms.merchant, terms.api_key, neighbour)
            out.append(read_statement_bytes(data, terms.merchant, f"the acquirer's statement of {neighbour}"))
        except ReconcileError:
            continue   # not cleared (yet): what is near the edge stays in its own day
    return out
