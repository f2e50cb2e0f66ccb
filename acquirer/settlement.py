"""Terminal settlement (0500) and batch upload (0320): closing a terminal's batch.

Decisions (docs/acquirer.md, "Settlement"):

- The host's totals for a batch count the transactions of that terminal and
  batch by the rule the terminal uses too (`acquirer.protocol.settlement_rules`):
  approved sales and completions are debits, approved refunds credits;
  UnionPay is domestic, every other scheme foreign.
- Each half of field 48 is compared on amount and count: flag 1 balanced,
  2 out of balance. The 0510 answers 39 = 00 with the terminal's totals and
  the host's flags (an out-of-balance batch is not an error of the message;
  the terminal then uploads the batch). 95 is not used.
- Settlement closes the batch either way: it is recorded as settled with
  both sides' totals, and the terminal's open batch moves to the next number
  (the terminal does the same). A repeated 0500 for a batch already settled is
  answered again from the host's figures, without moving the batch further; a
  0500 for any other batch is 77 (sign on to learn the host's batch).
- Batch upload (0320, 60.3 201/203) records each uploaded transaction in
  `batch_uploads`, matched to the host's record by RRN (37). Batch-upload end
  (60.3 202/207) records the count the terminal announced and answers the
  host's totals for the batch in field 48 (62 digits, flags 0): the batch
  stays closed on those figures, uploads never change the ledger.
"""
from __future__ import annotations

import sqlite3

from acquirer.config import Terminal
from acquirer.decline import Decline
from acquirer.ledger import utc_now
from acquirer.protocol.cardholder import mask_pan
from acquirer.protocol.fields import (
    RESULT_BALANCED,
    RESULT_OUT_OF_BALANCE,
    CardTotals,
    SettlementTotals,
)
from acquirer.protocol.messages import BatchUpload, BatchUploadEnd, Settlement
from acquirer.protocol.settlement_rules import COUNTED_TYPES, region_of, side_of
from acquirer.sessions import Sessions

__all__ = ["Settlements", "compare"]


def compare(terminal: SettlementTotals, host: SettlementTotals) -> SettlementTotals:
    """The terminal's totals with the host's flag in each half (1 balanced, 2 out of balance)."""
    def flagged(theirs: CardTotals, ours: CardTotals) -> CardTotals:
        same = ((theirs.debit_amount, theirs.debit_count, theirs.credit_amount, theirs.credit_count)
                == (ours.debit_amount, ours.debit_count, ours.credit_amount, ours.credit_count))
        return CardTotals(theirs.debit_amount, theirs.debit_count, theirs.credit_amount,
                          theirs.credit_count, RESULT_BALANCED if same else RESULT_OUT_OF_BALANCE)
    return SettlementTotals(flagged(terminal.domestic, host.domestic),
                            flagged(terminal.foreign, host.foreign))


class Settlements:
    """Batch totals, settlement and batch upload on the host's writer connection."""

    def __init__(self, conn: sqlite3.Connection, sessions: Sessions) -> None:
        self.conn = conn
        self.sessions = sessions

    def host_totals(self, tid: str, mid: str, batch: str) -> SettlementTotals:
        """The host's figures for a terminal's batch (flags 0)."""
        marks = ", ".join("?" for _ in COUNTED_TYPES)
        sums: dict[tuple[str, str | None], tuple[int, int]] = {}
        for scheme, txn_type, amount, count in self.conn.execute(
                "SELECT scheme, txn_type, SUM(amount), COUNT(*) FROM transactions "
                "WHERE tid = ? AND mid = ? AND batch = ? AND status = 'approved' "
                f"AND txn_type IN ({marks}) GROUP BY 1, 2", (tid, mid, batch, *COUNTED_TYPES)):
            key = (region_of(scheme), side_of(txn_type))   # the one rule: acquirer.protocol.settlement_rules
            total, number = sums.get(key, (0, 0))
            sums[key] = (total + amount, number + count)

        def half(region: str) -> CardTotals:
            debit = sums.get((region, "debit"), (0, 0))
            credit = sums.get((region, "credit"), (0, 0))
            return CardTotals(debit[0], debit[1], credit[0], credit[1])
        return SettlementTotals(half("domestic"), half("foreign"))

    def settle(self, terminal: Terminal, req: Settlement) -> tuple[SettlementTotals, str | None]:
        """Compare and close the batch (inside a unit).

        Returns the 0510's field 48 and the terminal's next batch (None when
        this 0500 repeats one for a batch already settled). Raises `Decline`
        77 for a batch that is neither open nor settled.
        """
        host = self.host_totals(terminal.tid, terminal.mid, req.batch)
        answer = compare(req.totals, host)
        settled = self.conn.execute(
            "SELECT 1 FROM batches WHERE tid = ? AND mid = ? AND batch = ? AND status = 'settled'",
            (terminal.tid, terminal.mid, req.batch)).fetchone()
        if settled:
            return answer, None
        self.sessions.check_batch(terminal, req.batch)
        balanced = int(answer.domestic.result == answer.foreign.result == RESULT_BALANCED)
        self.conn.execute(
            "INSERT INTO batches (tid, mid, batch, status, terminal_totals, host_totals, balanced, "
            "settled_at) VALUES (?, ?, ?, 'settled', ?, ?, ?, ?) "
            "ON CONFLICT (tid, mid, batch) DO UPDATE SET status = 'settled', "
            "terminal_totals = excluded.terminal_totals, host_totals = excluded.host_totals, "
            "balanced = excluded.balanced, settled_at = excluded.settled_at",
            (terminal.tid, terminal.mid, req.batch, req.totals.encode(), host.encode(), balanced,
             utc_now()))
        return answer, self.sessions.advance_batch(terminal, req.batch)

    def upload(self, terminal: Terminal, req: BatchUpload) -> None:
        """Record one uploaded transaction (inside a unit), matched to the host's
        record by its RRN (37); the masked PAN comes from field 2 when sent, else
        from the matched record (a terminal keeps no PAN after authorization)."""
        self._require_settled(terminal, req.batch)
        original = req.original
        matched = self.conn.execute(
            "SELECT id, masked_pan FROM transactions WHERE rrn = ? AND tid = ? AND mid = ?",
            (original.rrn, terminal.tid, terminal.mid)).fetchone()
        masked = mask_pan(req.pan) if req.pan else (matched[1] if matched else None)
        self.conn.execute(
            "INSERT INTO batch_uploads (tid, mid, batch, stan, txn_type, amount, masked_pan, "
            "matched_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (terminal.tid, terminal.mid, req.batch, original.stan or req.stan, req.txn.value,
             req.amount, masked, matched[0] if matched else None, utc_now()))
        self.conn.execute("UPDATE batches SET uploaded = uploaded + 1 WHERE tid = ? AND mid = ? AND batch = ?",
                          (terminal.tid, terminal.mid, req.batch))

    def upload_end(self, terminal: Terminal, req: BatchUploadEnd) -> SettlementTotals:
        """Record the end of a batch upload (inside a unit); returns the host's totals
        for the batch, which the 0330 carries in field 48 (flags 0): the batch is
        closed on these figures."""
        self._require_settled(terminal, req.batch)
        self.conn.execute("UPDATE batches SET upload_ended_count = ? WHERE tid = ? AND mid = ? AND batch = ?",
                          (req.count, terminal.tid, terminal.mid, req.batch))
        return self.host_totals(terminal.tid, terminal.mid, req.batch)

    def _require_settled(self, terminal: Terminal, batch: str) -> None:
        row = self.conn.execute("SELECT 1 FROM batches WHERE tid = ? AND mid = ? AND batch = ?",
                                (terminal.tid, terminal.mid, batch)).fetchone()
        if row is None:
            raise Decline("12", f"batch {batch} of terminal {terminal.tid} has not been settled")
