"""Sending a journalled request and recording its answer: the part every payment flow shares.

The journal row and its armed reversal are committed before the request
leaves (`Journal.begin`, by the flow); `Authorizer.send` sends it and returns
the trusted reply, or -- with no trustworthy answer -- the outcome of the
reversal it decided. `record` commits the answer (clearing the reversal)
before the outcome is shown; an answer that comes after the reversal was
decided is only noted. A printer fault never undoes or hides anything.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from acquirer.protocol.codes import describe, describe_wallet
from acquirer.protocol.keys import WorkingKeys
from acquirer.protocol.messages import Reply
from acquirer.protocol.transactions import WALLET_TYPES, TxnType
from pos.core import events as ev
from pos.core.faults import fault_point
from pos.core.outcome import Outcome, Printer
from pos.core.response_words import code_words
from pos.core.reversals import Reversals
from pos.core.errors import SignOnFailed
from pos.core.session import REASON_TIMEOUT, SIGN_ON_AGAIN_CODES, HostSession, KeysRefused, Untrusted
from pos.hostlink.link import ConnectionLost, HostUnavailable
from pos.journal import store as j
from pos.journal.store import JournalError, Txn

log = logging.getLogger(__name__)

#: what a void of each transaction type is
VOID_OF = {TxnType.SALE: TxnType.VOID, TxnType.COMPLETION: TxnType.COMPLETION_VOID,
           TxnType.PREAUTH: TxnType.PREAUTH_VOID}
VOIDS = frozenset({*VOID_OF.values(), TxnType.WALLET_VOID})
#: builds a journalled request again under other working keys: (message, signed payload)
Resign = Callable[[WorkingKeys], tuple[dict[str, str], bytes]]


class Authorizer:
    def __init__(self, session: HostSession, reversals: Reversals, printer: Printer | None) -> None:
        self.session = session
        self.reversals = reversals
        self.journal = session.journal
        self.printer = printer

    async def send(self, txn: Txn, message: dict[str, str], payload: bytes,
                   resign: Resign | None = None) -> Reply | Outcome:
        """Send a journalled request: its trusted reply, or the `Outcome` of having none (reversal, unknown).

        `resign` builds the same request under other working keys. With it, a
        request made with keys taken back from the journal that the host
        refuses with "sign on again" (it forgot the session, or holds other
        keys) is sent once more, same trace, after a fresh sign-on: the host
        refused it before processing it.
        """
        resumed = self.session.resumed
        while True:
            try:
                answer = await self._send_once(txn, message, payload)
            except KeysRefused as e:
                if resign is None or not resumed or not await self._sign_on_again(txn):
                    return await self.reversals.no_answer(txn, e.reason, str(e))
            else:
                if (not isinstance(answer, Reply) or answer.response_code not in SIGN_ON_AGAIN_CODES
                        or resign is None or not resumed or not await self._sign_on_again(txn)):
                    return answer
            assert self.session.keys is not None and resign is not None
            message, payload = resign(self.session.keys)
            resumed = False

    async def _sign_on_again(self, txn: Txn) -> bool:
        """A fresh sign-on for a request refused under kept keys; False if it failed (the refusal stands)."""
        log.info("the host refused trace %s under the kept working keys: signing on again", txn.stan)
        try:
            await self.session.sign_on()
        except SignOnFailed as e:
            log.warning("signing on again for trace %s failed: %s", txn.stan, e)
            return False
        return True

    async def _send_once(self, txn: Txn, message: dict[str, str], payload: bytes) -> Reply | Outcome:
        key = (f"{int(message['t']) + 10:04d}", txn.stan)
        self.session.emit(ev.Authorizing(txn.type, txn.stan, txn.batch, txn.amount))
        fault_point("before_send")
        try:
            future = await self.session.link.send(payload, key)
        except HostUnavailable:
            self.journal.abandon(txn.id)   # no connection: not a byte left the terminal
            raise
        except ConnectionLost as e:
            return await self.reversals.no_answer(txn, REASON_TIMEOUT, str(e))
        fault_point("after_send")
        try:
            msg, raw = await self.session.await_reply(future, key)
        except TimeoutError:
            return await self.reversals.no_answer(txn, REASON_TIMEOUT,
                                                  f"no answer within {self.session.timeout_s:g} s")
        except ConnectionLost as e:
            return await self.reversals.no_answer(txn, REASON_TIMEOUT, str(e))
        fault_point("after_reply")
        try:
            return self.session.check_reply(message, msg, raw)
        except KeysRefused:
            raise
        except Untrusted as e:
            return await self.reversals.no_answer(txn, e.reason, str(e))

    def record(self, txn: Txn, txn_type: TxnType, reply: Reply, arpc_check: str | None = None) -> Outcome:
        approved = reply.approved
        icc = reply.icc.hex().upper() if reply.icc else None
        try:
            txn = self.journal.record_reply(
                txn.id, state=j.APPROVED if approved else j.DECLINED, response_code=reply.response_code,
                rrn=reply.rrn, auth_code=reply.auth_code, issuer_auth_data=icc, arpc_check=arpc_check,
                host_date=reply.local_date,
                original_becomes=j.VOIDED if txn_type in VOIDS else
                j.COMPLETED if txn_type == TxnType.COMPLETION else None)
        except JournalError:   # the reversal was decided meanwhile: this answer is late
            self.journal.note_late_reply(txn.id, reply.response_code)
            return Outcome(self.journal.get(txn.id), "answer came after the reversal was decided")
        finally:
            self.reversals.forget_pan(txn.id)
        balance = reply.balance.amount if reply.balance is not None else None
        wallet = txn_type in WALLET_TYPES
        if approved:
            self.session.emit(ev.Approved(txn.type, txn.stan, txn.batch, txn.amount, txn.rrn or "",
                                          txn.auth_code or "", txn.masked_pan, balance))
        else:
            en, zh = code_words(reply.response_code, wallet)
            self.session.emit(ev.Declined(txn.type, txn.stan, reply.response_code, en, zh))
        text = describe_wallet(reply.response_code) if wallet else describe(reply.response_code)
        return Outcome(txn, text, balance)

    async def print_receipt(self, outcome: Outcome) -> None:
        if self.printer is not None and outcome.state in (j.APPROVED, j.DECLINED):
            await self.print(f"receipt of trace {outcome.txn.stan}", self.printer.transaction(outcome.txn))

    @staticmethod
    async def print(what: str, job: Awaitable[object]) -> None:
        """Await a printer call; a printer fault must not undo or hide anything the engine did."""
        try:
            await job
        except Exception:
            log.exception("%s not printed", what)
