"""The printed reconciliation: the report cut down to a receipt (`receipts.ReconciliationSlip`)."""
from __future__ import annotations

from datetime import datetime

from pos.reconcile.categories import INFO
from pos.reconcile.report import Report
from receipts import Merchant, ReconciliationChannel, ReconciliationException, ReconciliationSlip
from receipts.reconciliation import MAX_PRINTED_EXCEPTIONS

__all__ = ["reconciliation_slip"]


def reconciliation_slip(report: Report, merchant: Merchant, when: datetime) -> ReconciliationSlip:
    """Channels (entry modes folded together), categories that have lines, the first exceptions."""
    channels: dict[str, list[int]] = {}
    for c in report.channels:
        row = channels.setdefault(c.channel, [0, 0, 0, 0])
        row[0] += c.count
        row[1] += c.gross
        row[2] += c.fees
        row[3] += c.net
    exceptions = [ReconciliationException(
        INFO[line.category].title,
        line.record.terminal if line.record else line.line.terminal if line.line else "",
        line.record.stan if line.record else line.line.stan if line.line else "",
        (line.acquirer_amount if line.acquirer_amount is not None else line.terminal_amount) or 0,
        (line.line.account if line.line else None) or (line.record.masked_pan if line.record else None))
        for line in report.exceptions[:MAX_PRINTED_EXCEPTIONS]]
    return ReconciliationSlip(
        merchant=merchant, terminals=report.terminals, first=report.first, last=report.last, when=when,
        channels=tuple(ReconciliationChannel(name, *figures) for name, figures in sorted(channels.items())),
        categories=tuple((INFO[c].title, n, amount) for c, n, amount in report.by_category() if n),
        payouts=tuple((p.settlement_date, p.net) for p in report.payouts),
        exceptions=tuple(exceptions), exception_count=len(report.exceptions))
