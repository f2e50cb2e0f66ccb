"""The transaction engine: one terminal's sale, void, refund, pre-auth, completion, balance, wallet and settlement.

Every transaction runs the same state machine (docs/architecture.md, "A sale"):

    waiting for payment -> card read -> [journal: pending + armed reversal]
      -> authorizing -> approved | declined
                     -> no trustworthy answer -> reversal due -> reversed

The journal row and its reversal record are committed before the request
leaves; the answer is committed (clearing the reversal) before the outcome is
shown. Anything else -- a timeout, a lost connection, a reply with a bad MAC
or one that does not answer what was asked, a crash -- leaves the reversal
due, and due reversals are sent until the host acknowledges them, before any
new transaction (also after a restart: `start` turns armed reversals due).

`Engine` is a facade over composed parts, each in its own module:
`HostSession` (sign-on, keys, replies), `Reversals`, `Authorizer` (send a
journalled request, record its answer), `CardPayments`, `WalletPayments`,
`BatchSettlement`, `TransactionGuard` (one at a time, abort) and `Observers`.
It serves several faces at once: each adds its observer; a second operation
while one runs gets `Busy` at once; `abort()` ends a payment that waits for
the customer; the PIN pad is the face's. The engine knows no face: it emits
events and raises `TillkitError`s with kinds and message keys, never UI text.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from acquirer.protocol.transactions import DEFAULT_TABLE, TxnTable, TxnType
from pos.core import events as ev
from pos.core.cards import CardPayments
from pos.core.config import PosConfig
from pos.core.errors import NotVoidable, OriginalNotFound, WrongPaymentKind
from pos.core.guard import TransactionGuard
from pos.core.observers import Observers
from pos.core.outcome import Outcome, Printer, SettlementOutcome
from pos.core.payment import PaymentRequest, PaymentSource, WalletCode
from pos.core.pinpad import NoPinPad, PinPad
from pos.core.reading import read_payment
from pos.core.recording import VOID_OF, Authorizer
from pos.core.reversals import Reversals
from pos.core.session import HostSession
from pos.core.settlement import BatchSettlement
from pos.core.wallet import WalletPayments
from pos.hostlink.link import HostLink
from pos.journal import store as j
from pos.journal.store import Journal, Txn

#: journal types of a wallet payment that can be given back (wallet void, wallet refund)
WALLET_ORDERS = (TxnType.WALLET_SALE.value, TxnType.MPM_SALE.value)

__all__ = ["Engine", "Outcome", "SettlementOutcome", "Printer"]


class Engine:
    """One terminal's engine over a journal and a host link. One transaction at a time.

    `observer` is a first observer; `observers` a list shared with the devices
    (the printer reports through it). `pinpad`: asked when a card wants its online PIN (default: none, the card is
    refused). `clock` (Unix time) and `sleep` pace what waits on the wall clock
    -- polling a wallet order, holding its reversal until 15 s after creation;
    tests pass a clock they move.
    """

    def __init__(self, config: PosConfig, journal: Journal, link: HostLink, *,
                 observer: ev.Observer | None = None, observers: Observers | None = None,
                 printer: Printer | None = None,
                 pinpad: PinPad | None = None, table: TxnTable = DEFAULT_TABLE,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.config = config
        self.journal = journal
        self.link = link
        self.printer = printer
        self.pinpad: PinPad = pinpad or NoPinPad()
        self.observers = observers if observers is not None else Observers()
        if observer is not None:
            self.observers.add(observer)
        self.guard = TransactionGuard()
        self.session = HostSession(config, journal, link, self.observers)
        self.reversals = Reversals(self.session, table, clock, sleep)
        self.authorizer = Authorizer(self.session, self.reversals, printer)
        self.cards = CardPayments(self.authorizer, table)
        self.wallets = WalletPayments(self.authorizer, table, clock, sleep)
        self.settlement = BatchSettlement(self.authorizer, table)

    # --- faces ---------------------------------------------------------------------

    def add_observer(self, observer: ev.Observer) -> None:
        self.observers.add(observer)

    def remove_observer(self, observer: ev.Observer) -> None:
        self.observers.remove(observer)

    def emit(self, event: ev.Event) -> None:
        self.observers(event)

    def abort(self) -> bool:
        """End the running payment if it waits for the customer (card, code, phone); False otherwise."""
        return self.guard.abort()

    @property
    def busy(self) -> bool:
        return self.guard.running is not None

    @property
    def signed_on(self) -> bool:
        return self.session.keys is not None

    # --- life cycle ----------------------------------------------------------------

    async def start(self, resume: bool = False) -> int:
        """After a (re)start: armed reversals become due, then sign on. Returns reversals recovered.

        `resume`: take back the working keys the journal kept from the last
        sign-on when they are still good (`HostSession.resume`) instead of
        signing on -- what a command line run once per transaction wants.
        """
        with self.guard.hold("start"):
            recovered = self.journal.recover()
            if not (resume and self.session.resume()):
                await self.session.sign_on()
            if self.printer is not None:
                await self.authorizer.print("queued receipts", self.printer.start())
            return recovered

    async def sign_on(self) -> str:
        """0800/0810: fresh working keys under the TMK (KCVs checked); returns the batch."""
        with self.guard.hold("sign-on"):
            return await self.session.sign_on()

    async def flush_reversals(self) -> int:
        """Send every due reversal until acknowledged; `ReversalOutstanding` if any remain."""
        with self.guard.hold("reversal"):
            await self.session.working_keys()
            return await self.reversals.flush()

    async def _ready(self) -> None:
        """Signed on, and every due reversal acknowledged; else `ReversalOutstanding`."""
        await self.session.working_keys()
        await self.reversals.flush()

    # --- financial transactions ------------------------------------------------------

    async def sale(self, amount: int, sources: Sequence[PaymentSource]) -> Outcome:
        return await self._pay(TxnType.SALE, amount, sources)

    async def preauth(self, amount: int, sources: Sequence[PaymentSource]) -> Outcome:
        return await self._pay(TxnType.PREAUTH, amount, sources)

    async def balance(self, sources: Sequence[PaymentSource]) -> Outcome:
        return await self._pay(TxnType.BALANCE, None, sources)

    async def void(self, stan: str, sources: Sequence[PaymentSource]) -> Outcome:
        """Void an approved sale, completion or pre-auth of the open batch by its trace number."""
        stan = stan.zfill(6)
        original = self.journal.find_by_stan(stan)
        if original is None:
            raise OriginalNotFound(f"no transaction with trace {stan} in the open batch {self.journal.batch}",
                                   message_key="engine.no_trace", trace=stan, batch=self.journal.batch)
        voidable = {t.value: v for t, v in VOID_OF.items()}
        voidable.update({t: TxnType.WALLET_VOID for t in WALLET_ORDERS})
        if original.type not in voidable:
            raise NotVoidable(f"trace {stan} is a {original.type}: only sales, completions and "
                              f"pre-auths can be voided", trace=stan, txn_kind=original.type)
        if original.state != j.APPROVED:
            raise NotVoidable(f"trace {stan} is {original.state}: only an approved transaction can be voided",
                              message_key="engine.not_approved", trace=stan, state=original.state)
        if original.type in WALLET_ORDERS:
            return await self._give_back(TxnType.WALLET_VOID, original, original.amount)
        return await self._pay(voidable[original.type], original.amount, sources, original=original)

    async def refund(self, rrn: str, amount: int, sources: Sequence[PaymentSource]) -> Outcome:
        """Refund (part of) an approved sale or completion found by its RRN, in any batch."""
        original = self.journal.find_by_rrn(rrn, ("sale", "completion", *WALLET_ORDERS))
        if original is None or original.state not in (j.APPROVED, j.VOIDED):
            raise OriginalNotFound(f"no approved sale or completion with RRN {rrn} in this "
                                   f"terminal's journal", message_key="engine.no_rrn", rrn=rrn)
        if original.type in WALLET_ORDERS:   # back to the wallet that paid: no card to present
            return await self._give_back(TxnType.WALLET_REFUND, original, amount)
        return await self._pay(TxnType.REFUND, amount, sources, original=original)

    async def complete(self, preauth_stan: str, amount: int, sources: Sequence[PaymentSource]) -> Outcome:
        """Complete an approved pre-auth (found by its trace number, latest first) for `amount`."""
        stan = preauth_stan.zfill(6)
        original = self.journal.find_preauth(stan)
        if original is None or original.state != j.APPROVED:
            raise OriginalNotFound(f"no approved pre-auth with trace {stan} in this terminal's journal",
                                   message_key="engine.no_preauth", trace=stan)
        return await self._pay(TxnType.COMPLETION, amount, sources, original=original)

    async def _give_back(self, txn_type: TxnType, original: Txn, amount: int) -> Outcome:
        with self.guard.hold(txn_type.value):
            await self._ready()
            return await self.wallets.give_back(txn_type, original, amount)

    async def mpm_sale(self, amount: int) -> Outcome:
        """Show a merchant-presented code for `amount` fen and wait, polling, until the customer pays it."""
        with self.guard.hold(TxnType.MPM_SALE.value):
            await self._ready()
            with self.guard.abortable() as abort:
                return await self.wallets.mpm_sale(amount, abort)

    async def _pay(self, txn_type: TxnType, amount: int | None, sources: Sequence[PaymentSource], *,
                   original: Txn | None = None) -> Outcome:
        with self.guard.hold(txn_type.value):
            await self._ready()
            request = PaymentRequest(txn_type.value, amount or 0, currency=self.config.terminal.currency)
            with self.guard.abortable() as abort:
                payment = await read_payment(request, sources, self.observers, abort)
            if isinstance(payment, WalletCode):
                if txn_type is not TxnType.SALE or amount is None:
                    raise WrongPaymentKind(f"a wallet payment code pays a sale, not a {txn_type.value}: "
                                           f"present the card", txn_kind=txn_type.value)
                with self.guard.abortable() as abort:
                    return await self.wallets.code_sale(payment, amount, abort)
            return await self.cards.pay(txn_type, amount, payment, original, self.pinpad)

    # --- settlement --------------------------------------------------------------------

    async def settle(self) -> SettlementOutcome:
        """0500 with the batch totals; out of balance: upload the batch, close on the host's figures."""
        with self.guard.hold("settlement"):
            await self._ready()
            return await self.settlement.settle()
