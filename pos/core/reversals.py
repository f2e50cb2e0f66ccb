"""Reversals: deciding one when no trustworthy answer came, and sending every due one until acknowledged.

A reversible transaction without a trustworthy answer (timeout, lost
connection, a reply with a bad MAC or one that does not echo the request)
gets its reversal decided in the journal, then sent (0400) until the host
acknowledges it (0410 00), with back-off between attempts. Due reversals go
before any new transaction, also after a restart. A wallet order's reversal
is held until 15 s after the order was created (docs/payment-standards.md, "Wallet
orders"). A type that cannot be reversed is marked "outcome unknown".
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from acquirer.protocol import codec
from acquirer.protocol.codes import describe
from acquirer.protocol.messages import CardInput, FinancialRequest, Original
from acquirer.protocol.transactions import TxnTable, TxnType
from pos.core import events as ev
from pos.core.errors import ReversalOutstanding, SignOnFailed
from pos.core.faults import fault_point
from pos.core.outcome import Outcome
from pos.core.session import REASON_MALFUNCTION, HostSession, Untrusted
from pos.hostlink.link import ConnectionLost, HostUnavailable
from pos.journal import store as j
from pos.journal.store import Txn

log = logging.getLogger(__name__)

#: a wallet payment given back through the wallet channel: no auth code, the order by RRN, batch and STAN
GIVE_BACK_WALLET = (TxnType.WALLET_VOID, TxnType.WALLET_REFUND)


def original_fields(txn: Txn) -> Original | None:
    """Fields 37/38/61 a void, refund or completion carries, from the journal row."""
    if txn.original_id is None:
        return None
    kind = TxnType(txn.type)
    rrn = txn.original_rrn if kind in (TxnType.VOID, TxnType.COMPLETION_VOID, TxnType.REFUND,
                                       TxnType.PREAUTH_VOID, TxnType.COMPLETION,
                                       TxnType.WALLET_VOID, TxnType.WALLET_REFUND) else None
    auth = txn.original_auth_code if kind not in (TxnType.REFUND, *GIVE_BACK_WALLET) else None
    date = txn.original_date if kind == TxnType.REFUND else None
    return Original(rrn=rrn, auth_code=auth, batch=txn.original_batch, stan=txn.original_stan, date=date)


class Reversals:
    """Decides and sends reversals; holds the PANs of this run's transactions in memory for them."""

    def __init__(self, session: HostSession, table: TxnTable, clock: Callable[[], float],
                 sleep: Callable[[float], Awaitable[None]]) -> None:
        self.session = session
        self.journal = session.journal
        self.config = session.config
        self.table = table
        self._clock = clock
        self._sleep = sleep
        self._pans: dict[int, str] = {}   # txn id -> PAN, memory only, for reversals in this run

    def remember_pan(self, txn_id: int, pan: str) -> None:
        self._pans[txn_id] = pan

    def forget_pan(self, txn_id: int) -> None:
        self._pans.pop(txn_id, None)

    async def no_answer(self, txn: Txn, reason: str, why: str) -> Outcome:
        """No trustworthy answer: reverse (reversible types) or mark the outcome unknown."""
        if not self.table[TxnType(txn.type)].reversible:
            txn = self.journal.mark_unknown(txn.id)
            self.forget_pan(txn.id)
            self.session.emit(ev.OutcomeUnknown(txn.type, txn.stan, why))
            return Outcome(txn, f"{why}; outcome unknown (a {txn.type} is not reversible)")
        txn = self.journal.decide_reversal(txn.id, reason)
        self.session.emit(ev.ReversalPending(txn.type, txn.stan, reason, why))
        try:
            await self.flush()
        except (ReversalOutstanding, HostUnavailable, SignOnFailed) as e:
            log.warning("reversal of STAN %s still due: %s", txn.stan, e)
        txn = self.journal.get(txn.id)
        if txn.state == j.REVERSED:
            return Outcome(txn, f"{why}; reversed, no money taken")
        return Outcome(txn, f"{why}; reversal due, it is sent before the next transaction")

    async def flush(self) -> int:
        """Send every due reversal until acknowledged; `ReversalOutstanding` if any remain."""
        sent = 0
        attempts = self.config.host.reversal_attempts
        for reversal in self.journal.due_reversals():
            await self._hold_until(reversal.not_before)
            for attempt in range(1, attempts + 1):
                if await self._send(reversal.txn, reversal.reason or REASON_MALFUNCTION, attempt):
                    sent += 1
                    break
            else:
                raise ReversalOutstanding(
                    f"the reversal of trace {reversal.txn.stan} (batch {reversal.txn.batch}) is not "
                    f"acknowledged after {attempts} attempts: no new transaction until it is",
                    stan=reversal.txn.stan, batch=reversal.txn.batch, attempts=attempts)
        return sent

    async def _hold_until(self, moment: float | None) -> None:
        """Wait until `moment` (Unix time) before a held reversal goes; no wait for a card's reversal."""
        if moment is not None and (delay := moment - self._clock()) > 0:
            log.info("reversal held %.1f s: a wallet order is reversed 15 s after creation at the earliest", delay)
            await self._sleep(delay)

    async def _send(self, txn: Txn, reason: str, attempt: int) -> bool:
        keys = await self.session.working_keys()
        request = FinancialRequest(
            txn=TxnType(txn.type), terminal=self.session.terminal, stan=txn.stan, batch=txn.batch,
            card=CardInput(entry_mode=txn.entry_mode or "", pan=self._pans.get(txn.id),
                           expiry=txn.expiry, psn=txn.psn),
            amount=txn.amount if txn.type != TxnType.BALANCE.value else None, currency=txn.currency,
            original=original_fields(txn), reversal_reason=reason,
        ).to_message(self.table)
        payload = codec.sign(request, self.config.terminal.mac, keys.mac)
        self.journal.count_reversal_attempt(txn.id)
        self.session.emit(ev.ReversalSent(txn.stan, attempt))
        try:
            future = await self.session.link.send(payload, ("0410", txn.stan))
            fault_point("after_reversal_send")
            msg, raw = await self.session.await_reply(future, ("0410", txn.stan))
            reply = self.session.check_reply(request, msg, raw)
        except (TimeoutError, ConnectionLost, Untrusted) as e:
            log.warning("reversal of STAN %s, attempt %d: %s", txn.stan, attempt, str(e) or "no answer")
            host = self.config.host
            await asyncio.sleep(min(host.backoff_initial_s * 2 ** (attempt - 1), host.backoff_max_s))
            return False
        if reply.response_code != "00":
            log.warning("reversal of STAN %s refused: %s", txn.stan, describe(reply.response_code))
            return False
        self.journal.reversal_acknowledged(txn.id)
        self.forget_pan(txn.id)
        self.session.emit(ev.Reversed(txn.stan))
        return True
