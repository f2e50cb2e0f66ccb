"""The journal's batch as an X or Z report (`receipts.report`): which rows count, and as what.

A row counts once it was approved: approved, or approved and since voided or
completed (the void or completion is its own row). A row the host
acknowledged a reversal for is a reversal: approved or unanswered, it moved no
money. Declined, refused, never-sent and still-unknown rows are not in a
report. Wallet rows (`wallet_sale`, ...) count as the transaction they are,
in the wallet's channel; card rows in their scheme's. Each row counts for the
cashier it names (`operator`, `pos.journal.operators`); the report is taken
by the cashier signed on now.
"""
from __future__ import annotations

from datetime import datetime

from pos.core.config import PosConfig
from pos.journal import store as j
from pos.journal.operators import OperatorRegistry
from pos.journal.receipts import merchant_of
from receipts import EntryMode, ReportTransaction, ShiftReport, TransactionType

__all__ = ["report_transactions", "shift_report"]

_TYPES = {
    "sale": TransactionType.SALE, "void": TransactionType.VOID, "refund": TransactionType.REFUND,
    "preauth": TransactionType.PRE_AUTH, "preauth_void": TransactionType.PRE_AUTH_VOID,
    "completion": TransactionType.COMPLETION, "completion_void": TransactionType.COMPLETION_VOID,
    "balance": TransactionType.BALANCE,
}
_COUNTED = (j.APPROVED, j.VOIDED, j.COMPLETED)
_ENTRY_MODES = {mode.value: mode for mode in EntryMode}


def _kind(journal_type: str) -> TransactionType | None:
    for prefix in ("wallet_", "mpm_"):
        journal_type = journal_type.removeprefix(prefix)
    return _TYPES.get(journal_type)


def report_transactions(rows: list[j.ReportRow], operator: str) -> list[ReportTransaction]:
    """The rows that count in a report, as report lines; a row that names no cashier (written before
    operators were journalled) counts for `operator`."""
    lines = []
    for row in rows:
        kind = _kind(row.type)
        if kind is None or row.state not in (*_COUNTED, j.REVERSED):
            continue
        wallet = row.wallet is not None or row.type.startswith(("wallet_", "mpm_"))
        channel = row.wallet or row.scheme or ("wallet" if wallet else "card")
        entry = _ENTRY_MODES.get((row.entry_mode or "")[:2], EntryMode.QR if wallet else EntryMode.MANUAL)
        lines.append(ReportTransaction(kind, row.amount, channel, wallet, entry, row.operator or operator,
                                       reversed=row.state == j.REVERSED))
    return lines


def shift_report(journal: j.Journal, config: PosConfig, kind: str, batch: str, when: datetime,
                 balanced: bool | None = None) -> ShiftReport:
    """The X report of the open batch, or (with the host's `balanced`) the Z report of a closed one."""
    lines = report_transactions(journal.report_rows(batch), config.terminal.operator)
    return ShiftReport("X" if kind == "x" else "Z", merchant_of(config), config.terminal.tid, int(batch), when,
                       journal.operator or config.terminal.operator, tuple(lines), balanced=balanced,
                       operator_names=tuple(OperatorRegistry(journal).names().items()))
