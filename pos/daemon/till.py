"""The daemon's one way into the terminal engine: payments, reversals, aborts, totals.

Both wire protocols (nexo, Concert) call this module and nothing else of the
engine, so a change of the engine's API is a change of this file. It adds
what a register needs on top of the engine:

- one payment at a time: a second request while one runs is answered `Busy`;
- exactly once: a payment is written to the ECR log (`pos.daemon.ecr_log`)
  before the engine may send anything, linked to the journal row when the
  engine journals it, and finished with its verdict; a repeated request with
  the same register transaction id gets that verdict again;
- Abort: before a card or code is presented the payment is cancelled and
  nothing is sent; after, the engine's rules run to the end (a request in
  flight is answered or reversed by the engine) and the answer says what
  happened; no card within `payment_timeout_s` ends the payment the same way;
- after a crash, `resolve_interrupted` settles what the log left running
  from the journal the engine recovered at start (reversed, or answered).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from acquirer.protocol.errors import ErrorKind
from pos.core import events as ev
from pos.core.engine import Engine
from pos.core.errors import Busy, CardNotRead, OriginalNotFound
from pos.core.outcome import Outcome, SettlementOutcome
from pos.core.payment import CardData, PaymentRequest, PaymentSource, ReadFailed, WalletCode
from acquirer.protocol.cardholder import pan_token
from pos.daemon import conditions as c
from pos.daemon.conditions import Verdict
from pos.daemon.ecr_log import RUNNING, Duplicate, EcrLog, EcrRequest
from pos.journal import store as j
from pos.journal.store import Txn

log = logging.getLogger(__name__)

WAITING, PRESENTED = "waiting", "presented"


class Sources(Protocol):
    """Where cards come from: the reader (the cardholder taps) or the simulated customer."""

    def for_payment(self) -> Sequence[PaymentSource]: ...

    def for_original(self, original: Txn) -> Sequence[PaymentSource]: ...


@dataclass
class _Running:
    request: EcrRequest | None
    task: asyncio.Task[Verdict] | None = None
    phase: str = "starting"
    abort_reason: str | None = None
    own_read: bool = False        # the till reads the card itself (an unreferenced refund), not the engine
    service_id: str | None = None
    sale_id: str | None = None


@dataclass(frozen=True)
class Answer:
    """A finished (or repeated) payment: what the register is told, with the journal row."""

    verdict: Verdict
    txn: Txn | None
    request: EcrRequest | None
    repeated: bool = False


class _Presented:
    """A source handing over a card already read (an unreferenced refund reads it first)."""

    name = "card presented"

    def __init__(self, card: CardData | WalletCode) -> None:
        self.card = card

    async def read(self, request: PaymentRequest) -> CardData | WalletCode:
        return self.card


class Till:
    def __init__(self, engine: Engine, ecr_log: EcrLog, sources: Sources, *, payment_timeout_s: float = 120.0) -> None:
        self.engine = engine
        self.log = ecr_log
        self.sources = sources
        self.payment_timeout_s = payment_timeout_s
        self._running: _Running | None = None

    # --- state ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._running is not None

    def observe(self, event: ev.Event) -> None:
        """The engine's events, in order (registered by the daemon's observer)."""
        running = self._running
        if running is None:
            return
        if isinstance(event, ev.WaitingForPayment):
            running.phase = WAITING
            if running.abort_reason is not None:
                self._abort_wait(running)
        elif isinstance(event, (ev.CardRead, ev.WalletCodeRead)):
            running.phase = PRESENTED
        elif isinstance(event, ev.Authorizing) and running.request is not None:
            self.log.link(running.request.id, event.stan, event.batch)   # committed before the send

    def abort(self, sale_id: str | None, service_id: str | None, reason: str) -> str:
        """Abort the running payment (if it is the one named); returns what happened, in words."""
        running = self._running
        if running is None:
            return "nothing to abort: no payment is running"
        if service_id is not None and running.service_id not in (None, service_id):
            return f"nothing to abort: the running payment is {running.service_id!r}, not {service_id!r}"
        if running.phase == PRESENTED:
            return "too late to abort: the card was presented, the payment runs to its end"
        running.abort_reason = reason
        if running.phase == WAITING:
            self._abort_wait(running)
        return "aborted before a card was presented: nothing was sent"

    def _abort_wait(self, running: _Running) -> None:
        """The engine's abort ends its wait with Cancelled; our own card read (a refund's) is cancelled."""
        if not self.engine.abort() and running.own_read and running.task is not None:
            running.task.cancel()

    # --- payments ---------------------------------------------------------------

    async def pay(self, *, channel: str, sale_id: str, sale_txn_id: str, service_id: str | None,
                  kind: str, amount: int) -> Answer:
        """A sale or unreferenced refund, exactly once per (register, transaction id)."""
        existing = self.log.find(channel, sale_id, sale_txn_id)
        if existing is not None:
            return self._repeat(existing)
        if self._running is not None:
            raise Busy("a payment is running on this terminal", running="payment", requested=kind)
        running = self._running = _Running(None, service_id=service_id, sale_id=sale_id)
        try:
            try:
                request = self.log.begin(channel=channel, sale_id=sale_id, sale_txn_id=sale_txn_id,
                                         service_id=service_id, kind=kind, amount=amount)
            except Duplicate as e:
                return self._repeat(e.existing)
            running.request = request
            running.own_read = kind == "refund"
            work = self._sale(amount) if kind == "sale" else self._refund(running, amount)
            verdict = await self._run(running, work)
            finished = self.log.finish(request.id, verdict.to_record(), verdict.txn_id)
            return Answer(verdict, self._txn(verdict.txn_id), finished)
        finally:
            self._running = None

    async def reverse(self, poi_txn: str, amount: int | None) -> Answer:
        """Void (open batch) or refund (closed batch) of an earlier payment named by its POITransactionID."""
        if self._running is not None:
            raise Busy("a payment is running on this terminal", running="payment", requested="reversal")
        running = self._running = _Running(None)
        try:
            original = self.find_poi_txn(poi_txn)
            if original is None or original.state != j.APPROVED or original.type != "sale":
                return Answer(c.of_error(OriginalNotFound(f"no approved sale {poi_txn!r} to reverse",
                                                      message_key="engine.no_trace", trace=poi_txn, batch="")),
                              None, None)
            if original.batch == self.engine.journal.batch:
                work = self.engine.void(original.stan, self.sources.for_original(original))
            else:
                work = self.engine.refund(original.rrn or "", amount or original.amount,
                                          self.sources.for_original(original))
            verdict = await self._run(running, _verdict_of(work))
            return Answer(verdict, self._txn(verdict.txn_id), None)
        finally:
            self._running = None

    async def _run(self, running: _Running, work: Coroutine[Any, Any, Verdict]) -> Verdict:
        task: asyncio.Task[Verdict] = asyncio.ensure_future(work)
        running.task = task
        timer = asyncio.get_running_loop().call_later(
            self.payment_timeout_s, lambda: self.abort(running.sale_id, running.service_id,
                                                       f"no card presented within {self.payment_timeout_s:g} s"))
        try:
            return await task
        except asyncio.CancelledError:
            if running.abort_reason is None or not task.cancelled():
                raise   # the daemon itself is stopping
            return c.of_kind(ErrorKind.CANCELLED, running.abort_reason)
        finally:
            timer.cancel()

    async def _sale(self, amount: int) -> Verdict:
        try:
            return c.of_outcome(await self.engine.sale(amount, self.sources.for_payment()))
        except asyncio.CancelledError:
            raise
        except Exception as e:
            return c.of_error(e)

    async def _refund(self, running: _Running, amount: int) -> Verdict:
        """An unreferenced refund: the card is read first, the refund goes against its latest approved sale."""
        try:
            presented = await self._read(self.sources.for_payment(), amount)
            running.own_read = False
            if isinstance(presented, WalletCode):
                return c.of_kind(ErrorKind.REFUSED, "a wallet code cannot be refunded here: present the card")
            token = pan_token(self.engine.config.terminal.token_key, presented.pan)
            original = self._refundable(token, amount)
            if original is None:
                raise OriginalNotFound(f"no approved sale of at least {amount} fen with card "
                                       f"{presented.masked_pan} in this terminal's journal",
                                       message_key="engine.no_rrn", rrn="")
            outcome = await self.engine.refund(original.rrn or "", amount, [_Presented(presented)])
            return c.of_outcome(outcome)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            return c.of_error(e)

    async def _read(self, sources: Sequence[PaymentSource], amount: int) -> CardData | WalletCode:
        request = PaymentRequest("refund", amount, currency=self.engine.config.terminal.currency)
        self.observe(ev.WaitingForPayment("refund", amount, request.currency, tuple(s.name for s in sources)))
        tasks = [asyncio.ensure_future(s.read(request)) for s in sources]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            try:
                return next(iter(done)).result()
            except ReadFailed as failure:   # the tap gave no card data: as the engine reports it
                raise CardNotRead(failure) from None
        finally:
            for task in tasks:
                task.cancel()

    def _refundable(self, token: str, amount: int) -> Txn | None:
        for txn in self.engine.journal.history(500):
            if txn.type == "sale" and txn.state == j.APPROVED and txn.pan_token == token and txn.amount >= amount:
                return txn
        return None

    # --- repeats, crashes and lookups ---------------------------------------------------

    def _repeat(self, request: EcrRequest) -> Answer:
        if request.state == RUNNING:
            if self._running is not None and self._running.request is not None \
                    and self._running.request.id == request.id:
                raise Busy("this payment is still running", running="payment", requested="payment")
            request = self._resolve(request)
        assert request.outcome is not None
        verdict = Verdict.from_record(request.outcome)
        return Answer(verdict, self._txn(verdict.txn_id), request, repeated=True)

    def resolve_interrupted(self) -> int:
        """Settle the payments a crash left running (after the engine recovered its journal)."""
        count = 0
        for request in self.log.running():
            if self._running is not None and self._running.request is not None \
                    and self._running.request.id == request.id:
                continue
            self._resolve(request)
            count += 1
        return count

    def _resolve(self, request: EcrRequest) -> EcrRequest:
        txn = self.engine.journal.find_by_stan(request.stan, request.batch) if request.stan else None
        if txn is None:
            verdict = c.of_kind(ErrorKind.TERMINAL, "interrupted by a restart before anything was sent: "
                                                    "no money taken")
        elif txn.state == j.APPROVED:
            verdict = Verdict(c.SUCCESS, None, "approved (answered after a restart)", txn.id)
        elif txn.state == j.DECLINED:
            verdict = c.of_kind(ErrorKind.DECLINED, "declined (answered after a restart)", txn.id)
        else:
            verdict = c.of_kind(ErrorKind.NO_ANSWER, f"interrupted by a restart: the engine's reversal rules "
                                                     f"apply, transaction {txn.state}: no money taken", txn.id)
        log.warning("payment %s of register %s interrupted by a restart: %s",
                    request.sale_txn_id, request.sale_id, verdict.message)
        return self.log.finish(request.id, verdict.to_record(), verdict.txn_id)

    def _txn(self, txn_id: int | None) -> Txn | None:
        return self.engine.journal.get(txn_id) if txn_id is not None else None

    def find_poi_txn(self, poi_txn: str) -> Txn | None:
        batch, _, stan = poi_txn.partition(".")
        if not (batch.isdigit() and stan.isdigit()):
            return None
        return self.engine.journal.find_by_stan(stan.zfill(6), batch.zfill(6))

    def status(self, channel: str, sale_id: str | None, service_id: str | None) -> EcrRequest | None:
        """The payment a TransactionStatus names (by its ServiceID), else the last one."""
        if sale_id is not None and service_id is not None:
            return self.log.find_by_service(channel, sale_id, service_id)
        return self.log.last(channel)

    def running_service(self) -> tuple[str | None, str | None] | None:
        running = self._running
        return (running.sale_id, running.service_id) if running is not None else None

    def answer_of(self, request: EcrRequest) -> Answer:
        assert request.outcome is not None
        verdict = Verdict.from_record(request.outcome)
        return Answer(verdict, self._txn(verdict.txn_id), request, repeated=True)

    # --- totals ---------------------------------------------------------------------

    def batch_transactions(self, batch: str | None = None) -> tuple[str, list[Txn]]:
        batch = batch or self.engine.journal.batch
        return batch, self.engine.journal.batch_transactions(batch)

    async def settle(self) -> SettlementOutcome:
        if self._running is not None:
            raise Busy("a payment is running on this terminal", running="payment", requested="settlement")
        self._running = _Running(None)
        try:
            return await self.engine.settle()
        finally:
            self._running = None


async def _verdict_of(work: Awaitable[Outcome]) -> Verdict:
    try:
        return c.of_outcome(await work)
    except asyncio.CancelledError:
        raise
    except Exception as e:
        return c.of_error(e)
