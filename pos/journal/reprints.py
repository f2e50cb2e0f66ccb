"""What `pos reprint --settlement|--report` and the TUI's report screen print again: the slip as first printed.

A settlement summary is kept in its batch's row when it prints, a report in
the journal's `reports` table; a reprint reads that, marks it REPRINT and
prints it, so it says what the first paper said (the same time, the same
totals), whatever happened in the journal since. A batch closed while no
printer was configured has no kept summary: it is built from the batch's row,
which a closed batch never changes.
"""
from __future__ import annotations

from pos.core.config import PosConfig
from pos.journal.receipts import SETTLEMENT_LINES, ReceiptNotFound, settlement_receipt
from pos.journal.store import Journal
from receipts import SettlementReceipt, ShiftReport, from_json, report_from_json

__all__ = ["last_report", "last_settlement", "report_name"]


def report_name(report: ShiftReport) -> str:
    """How the cashier (and the print queue's reference) names a report."""
    return f"{report.kind} report of batch {report.batch:06d}"


def last_report(journal: Journal) -> ShiftReport:
    """The X or Z report printed last, as printed."""
    kept = journal.last_report()
    if kept is None:
        raise ReceiptNotFound("no X or Z report printed yet (`pos report x` prints one)")
    return report_from_json(kept)


def last_settlement(journal: Journal, config: PosConfig) -> SettlementReceipt:
    """The summary of the batch closed last, as printed (or built from the closed batch's row)."""
    batch = journal.last_closed_batch()
    if batch is None:
        raise ReceiptNotFound("no batch settled yet: there is no settlement slip to reprint")
    row = journal.closed_batch(batch)
    if row.get("receipt"):
        kept = from_json(row["receipt"])
        assert isinstance(kept, SettlementReceipt)
        return kept
    return settlement_receipt(row, journal.type_totals(batch, SETTLEMENT_LINES), config)
