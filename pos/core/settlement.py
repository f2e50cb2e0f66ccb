"""Settlement: 0500 with the batch totals; when the host is out of balance, the batch upload (0320).

The batch closes on the host's figures when they differ (the answer to the
upload's end message carries them in field 48), else on the terminal's own.
A failure anywhere leaves the batch open: settle again.
"""
from __future__ import annotations

from acquirer.protocol import codec
from acquirer.protocol.codec import ProtocolError
from acquirer.protocol.codes import describe
from acquirer.protocol.fields import RESULT_BALANCED, CardTotals, SettlementTotals
from acquirer.protocol.messages import BatchUpload, BatchUploadEnd, Original, Reply, Settlement
from acquirer.protocol.transactions import TxnTable, TxnType
from pos.core import events as ev
from pos.core.errors import SettlementFailed
from pos.core.outcome import SettlementOutcome
from pos.core.recording import Authorizer
from pos.core.session import SIGN_ON_AGAIN_CODES
from pos.hostlink.link import ConnectionLost


def combined(totals: SettlementTotals) -> CardTotals:
    d, f = totals.domestic, totals.foreign
    return CardTotals(d.debit_amount + f.debit_amount, d.debit_count + f.debit_count,
                      d.credit_amount + f.credit_amount, d.credit_count + f.credit_count)


class BatchSettlement:
    def __init__(self, authorizer: Authorizer, table: TxnTable) -> None:
        self.authorizer = authorizer
        self.session = authorizer.session
        self.journal = authorizer.journal
        self.config = self.session.config
        self.table = table

    async def settle(self) -> SettlementOutcome:
        batch = self.journal.batch
        totals = self.journal.totals(batch)
        terminal_totals = SettlementTotals(
            domestic=CardTotals(totals.domestic_debit_amount, totals.domestic_debit_count,
                                totals.domestic_credit_amount, totals.domestic_credit_count),
            foreign=CardTotals(totals.foreign_debit_amount, totals.foreign_debit_count,
                               totals.foreign_credit_amount, totals.foreign_credit_count))
        self.session.emit(ev.Settling(batch, totals.domestic_debit_amount + totals.foreign_debit_amount,
                                      totals.domestic_debit_count + totals.foreign_debit_count,
                                      totals.domestic_credit_amount + totals.foreign_credit_amount,
                                      totals.domestic_credit_count + totals.foreign_credit_count))
        stan = self.journal.next_stan()
        request = Settlement(self.session.terminal, stan, batch, terminal_totals, self.config.terminal.currency,
                             self.config.terminal.operator.ljust(3))
        reply = await self._management(request.to_message(), "0510", stan, "settlement")
        if reply.totals is None:
            raise SettlementFailed("settlement reply carries no totals (field 48)", message_key="engine.settlement_no_totals")
        balanced = all(t.result == RESULT_BALANCED for t in (reply.totals.domestic, reply.totals.foreign))
        uploaded = 0
        closed_on = combined(terminal_totals)
        if not balanced:
            uploaded, host_figures = await self._upload_batch(batch)
            closed_on = host_figures or closed_on
        next_batch = self.journal.close_batch(
            balanced=balanced, uploaded=uploaded, debit_amount=closed_on.debit_amount,
            debit_count=closed_on.debit_count, credit_amount=closed_on.credit_amount,
            credit_count=closed_on.credit_count)
        self.session.emit(ev.Settled(batch, balanced, uploaded, next_batch))
        printer = self.authorizer.printer
        if printer is not None:
            await self.authorizer.print(f"settlement of batch {batch}", printer.settlement(batch))
        return SettlementOutcome(batch, balanced, uploaded, next_batch, terminal_totals, closed_on)

    async def _upload_batch(self, batch: str) -> tuple[int, CardTotals | None]:
        """0320 per counted transaction, then the end message; returns (count, host's figures)."""
        txns = self.journal.batch_transactions(batch)
        self.session.emit(ev.UploadingBatch(batch, len(txns)))
        terminal = self.session.terminal
        for txn in txns:
            stan = self.journal.next_stan()
            upload = BatchUpload(
                terminal=terminal, stan=stan, batch=batch, txn=TxnType(txn.type), pan=None,
                amount=txn.amount, entry_mode=txn.entry_mode or "", currency=txn.currency,
                original=Original(rrn=txn.rrn, auth_code=txn.auth_code, batch=txn.batch,
                                  stan=txn.stan, date=txn.txn_date),
                expiry=txn.expiry, psn=txn.psn)
            await self._management(upload.to_message(self.table), "0330", stan, f"upload of trace {txn.stan}")
        stan = self.journal.next_stan()
        end = BatchUploadEnd(terminal, stan, batch, len(txns))
        reply = await self._management(end.to_message(), "0330", stan, "batch upload end")
        return len(txns), combined(reply.totals) if reply.totals is not None else None

    async def _management(self, message: dict[str, str], reply_mti: str, stan: str, what: str) -> Reply:
        try:
            msg, _ = await self.session.exchange(codec.encode(message), (reply_mti, stan))
        except TimeoutError:
            raise SettlementFailed(f"{what}: no answer within {self.session.timeout_s:g} s; "
                                   f"the batch stays open, settle again", message_key="engine.settlement_no_answer",
                                   step=what) from None
        except ConnectionLost as e:
            raise SettlementFailed(f"{what}: {e}; the batch stays open, settle again",
                                   message_key="engine.settlement_no_answer", step=what) from None
        try:
            reply = Reply.from_message(msg)
        except ProtocolError as e:
            raise SettlementFailed(f"{what}: reply unreadable: {e}", step=what) from None
        if reply.response_code in SIGN_ON_AGAIN_CODES and self.session.resumed:
            # the host forgot the session whose keys were kept: sign on, then ask again (docs/terminal.md)
            await self.session.sign_on()
            return await self._management(message, reply_mti, stan, what)
        if reply.response_code != "00":
            raise SettlementFailed(f"{what} refused: {describe(reply.response_code)}",
                                   message_key="engine.settlement_refused", step=what, response_code=reply.response_code)
        return reply
