"""Wallet payments on the terminal: a customer's payment code, and a merchant-presented code.

Both go to the acquirer's wallet channel (docs/protocol.md section 11), not
to a card issuer, and follow the wallets' rules (docs/payment-standards.md, "Wallet orders"):

- **A customer's code** (Alipay, WeChat Pay, UnionPay app digits, scanned by
  the camera): a wallet sale carrying the code in field 63. The wallet pays
  at once (00), declines (the code expired, was used, is not one it issued;
  the account lacks the money), or answers 09 "user paying": the customer
  confirms on the phone. The terminal then queries the order (wallet query,
  every `[qr] poll_interval_s`) until it is paid or fails; after
  `user_paying_timeout_s` the outcome is unknown and the order is reversed.
- **A merchant-presented code** (`mpm_sale`): the terminal opens an order
  (MPM sale, answered 09), shows a dynamic EMVCo code for the amount with the
  order's bill number (`ShowingCode`), and polls the same way until the
  customer's wallet has paid it; after `mpm_timeout_s` it cancels the order
  by reversal.

- **Giving it back** (`give_back`): a wallet void (the whole order, same
  batch) or wallet refund (part or all, any later day) goes through the
  wallet channel too, naming the order by RRN, batch and STAN; no code is
  scanned -- the money returns to the account that paid. Journalled with its
  reversal armed before it leaves, like the card void, so a crash or a lost
  answer ends with the reversal: given back on both sides or on neither.

Either way the order is journalled -- pending, with its reversal armed --
before the request leaves, like every transaction. A wallet order's reversal
is never sent earlier than 15 s after the order was created (the wallets'
rule: an order younger than that may still be completing); it is held until
then, and, like every due reversal, sent before the next transaction.

`WalletPayments` is composed over the same `Authorizer` (journal, session,
reversals, recording) as card payments, so a wallet payment shares every
safety rule of a card payment. While the customer confirms on the phone (or
has yet to pay a shown code) the wait is abortable: an abort ends it by
reversing the order, like a timeout.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from acquirer.protocol import codec
from acquirer.protocol.clock import mmdd
from acquirer.protocol.keys import WorkingKeys
from acquirer.protocol.messages import CardInput, FinancialRequest, Original, Reply
from acquirer.protocol.mpm import build_dynamic_mpm
from acquirer.protocol.transactions import TxnTable, TxnType
from pos.core import events as ev
from pos.core.errors import SignOnFailed
from pos.core.outcome import Outcome
from pos.core.payment import WalletCode
from pos.core.cards import original_columns
from pos.core.recording import Authorizer
from pos.core.reversals import original_fields
from pos.core.session import REASON_TIMEOUT, Untrusted
from pos.hostlink.link import ConnectionLost, HostUnavailable
from pos.journal.store import Txn

log = logging.getLogger(__name__)

REVERSE_NOT_BEFORE_S = 15.0   # a wallet order is reversed no earlier than this after its creation
ENTRY_MODE_QR = "032"         # field 22: QR code, no PIN
USER_PAYING = "09"


class WalletPayments:
    """The wallet flows (see the module docstring)."""

    def __init__(self, authorizer: Authorizer, table: TxnTable, clock: Callable[[], float],
                 sleep: Callable[[float], Awaitable[None]]) -> None:
        self.authorizer = authorizer
        self.session = authorizer.session
        self.journal = authorizer.journal
        self.config = self.session.config
        self.table = table
        self._clock = clock
        self._sleep = sleep

    async def give_back(self, txn_type: TxnType, original: Txn, amount: int) -> Outcome:
        """A wallet void or refund of a paid wallet or MPM sale of this terminal's journal."""
        d = self.table[txn_type]
        link: dict[str, Any] = original_columns(original)
        txn = self.journal.begin(
            type=txn_type.value, amount=amount, currency=original.currency,
            processing_code=d.processing_code, condition_code=d.condition_code, reversible=d.reversible,
            entry_mode=ENTRY_MODE_QR, scheme=original.scheme, wallet=original.wallet,
            wallet_code=original.wallet_code, txn_date=mmdd(), **link)

        answer = await self._send(txn, lambda: FinancialRequest(
            txn=txn_type, terminal=self.session.terminal, stan=txn.stan, batch=txn.batch,
            card=CardInput(ENTRY_MODE_QR), amount=amount, currency=txn.currency,
            original=original_fields(txn)))
        if not isinstance(answer, Reply):   # no trustworthy answer: reversed (or due)
            return answer
        return await self._finish(txn, answer)

    async def mpm_sale(self, amount: int, abort: asyncio.Event) -> Outcome:
        """Show a merchant-presented code for `amount` fen and wait, polling, until the customer pays it."""
        terminal = self.session.terminal
        created = self._clock()
        txn = self._begin_order(TxnType.MPM_SALE, amount, created, None)
        bill = f"{terminal.tid}{txn.batch}{txn.stan}"
        answer = await self._send_order(txn, bill)
        if answer is not None:
            return answer
        qr = self.config.qr
        # no template 64 (the name in Chinese): its UTF-8 bytes push the code from version 6 to 8,
        # 49 modules, which no longer fits the 24 rows of the till's screen (docs/tui.md); the wallet
        # app shows the merchant's registered name anyway
        payload = build_dynamic_mpm(
            amount_fen=amount, merchant_id=terminal.mid, terminal_id=terminal.tid,
            merchant_name=self.config.receipt.merchant_name_en, merchant_city=qr.merchant_city, mcc=qr.mcc,
            bill_number=bill, currency=self.config.terminal.currency)
        self.session.emit(ev.ShowingCode(payload, amount, txn.stan, bill, qr.mpm_timeout_s))
        return await self._wait_for_customer(txn, created + qr.mpm_timeout_s, abort,
                                             f"the merchant code was not paid within {qr.mpm_timeout_s:g} s")

    async def code_sale(self, code: WalletCode, amount: int, abort: asyncio.Event) -> Outcome:
        """Pay a sale with a customer's wallet code; poll while the customer confirms on the phone."""
        self.session.emit(ev.WalletCodeRead(code.kind, code.masked_code, "camera"))   # codes come from a camera only
        created = self._clock()
        txn = self._begin_order(TxnType.WALLET_SALE, amount, created, code)
        answer = await self._send_order(txn, code.code)
        if answer is not None:
            return answer
        timeout = self.config.qr.user_paying_timeout_s
        self.session.emit(ev.CustomerConfirming(code.kind, txn.stan, timeout))
        return await self._wait_for_customer(txn, created + timeout, abort,
                                             f"the customer did not confirm on the phone within {timeout:g} s")

    def _begin_order(self, txn_type: TxnType, amount: int, created: float, code: WalletCode | None) -> Txn:
        d = self.table[txn_type]
        return self.journal.begin(
            type=txn_type.value, amount=amount, currency=self.config.terminal.currency,
            processing_code=d.processing_code, condition_code=d.condition_code, reversible=d.reversible,
            reverse_not_before=created + REVERSE_NOT_BEFORE_S, entry_mode=ENTRY_MODE_QR,
            scheme=code.kind if code else None, wallet=code.kind if code else None,
            wallet_code=code.masked_code if code else None, txn_date=mmdd())

    async def _send_order(self, txn: Txn, wallet_data: str) -> Outcome | None:
        """The wallet or MPM sale: its final outcome, or None when the customer has yet to pay (09)."""

        answer = await self._send(txn, lambda: FinancialRequest(
            txn=TxnType(txn.type), terminal=self.session.terminal, stan=txn.stan, batch=txn.batch,
            card=CardInput(ENTRY_MODE_QR), amount=txn.amount, currency=txn.currency,
            wallet_data=wallet_data))
        if not isinstance(answer, Reply):   # no trustworthy answer: reversed (or due)
            return answer
        if answer.response_code == USER_PAYING:
            return None
        return await self._finish(txn, answer)

    async def _send(self, txn: Txn, request: Callable[[], FinancialRequest]) -> Reply | Outcome:
        """The request of journalled `txn`, MACed under the working keys (again under new ones
        when the host asks for a sign-on); a row whose request cannot be built is abandoned.
        The answer, or the outcome when no trustworthy answer came (reversed or due)."""

        def request_under(keys: WorkingKeys) -> tuple[dict[str, str], bytes]:
            message = request().to_message(self.table)
            return message, codec.sign(message, self.config.terminal.mac, keys.mac)

        try:
            message, payload = request_under(await self.session.working_keys())
        except Exception:
            self.journal.abandon(txn.id)
            raise
        return await self.authorizer.send(txn, message, payload, request_under)

    async def _wait_for_customer(self, txn: Txn, deadline: float, abort: asyncio.Event, why: str) -> Outcome:
        """Query the order every poll interval until it is paid or fails; at the deadline or an abort, reverse it."""
        while (remaining := deadline - self._clock()) > 0:
            if await self._pause(min(self.config.qr.poll_interval_s, remaining), abort):
                self.session.emit(ev.PaymentCancelled(txn.type))
                return await self.authorizer.reversals.no_answer(
                    txn, REASON_TIMEOUT, "cancelled at the terminal while the customer was paying")
            reply = await self._query(txn)
            if reply is not None and reply.response_code != USER_PAYING:
                return await self._finish(txn, reply)
        return await self.authorizer.reversals.no_answer(txn, REASON_TIMEOUT, why)

    async def _pause(self, seconds: float, abort: asyncio.Event) -> bool:
        """Sleep (the injected clock's sleep) unless aborted first; True when aborted."""
        if abort.is_set():
            return True
        sleeping = asyncio.ensure_future(self._sleep(seconds))
        aborted = asyncio.ensure_future(abort.wait())
        try:
            await asyncio.wait([sleeping, aborted], return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            aborted.cancel()
        return abort.is_set()

    async def _query(self, txn: Txn) -> Reply | None:
        """One wallet query for the order; None when no trustworthy answer came (poll again)."""
        try:
            keys = await self.session.working_keys()
            stan = self.journal.next_stan()
            message = FinancialRequest(
                txn=TxnType.WALLET_QUERY, terminal=self.session.terminal, stan=stan, batch=txn.batch,
                card=CardInput(ENTRY_MODE_QR), amount=txn.amount, currency=txn.currency,
                original=Original(batch=txn.batch, stan=txn.stan)).to_message(self.table)
            payload = codec.sign(message, self.config.terminal.mac, keys.mac)
            msg, raw = await self.session.exchange(payload, ("0210", stan))
            return self.session.check_reply(message, msg, raw)
        except (TimeoutError, ConnectionLost, HostUnavailable, Untrusted, SignOnFailed) as e:
            log.info("wallet query for trace %s: %s", txn.stan, str(e) or "no answer")   # ask again
            return None

    async def _finish(self, txn: Txn, reply: Reply) -> Outcome:
        outcome = self.authorizer.record(txn, TxnType(txn.type), reply)
        await self.authorizer.print_receipt(outcome)
        return outcome
