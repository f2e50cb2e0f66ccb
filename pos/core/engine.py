"""The transaction engine: sale, void, refund, pre-auth, completion, balance inquiry, settlement.

Every transaction runs the same state machine (DESIGN.md, "A sale, as data flows"):

    waiting for payment -> card read -> [journal: pending + armed reversal]
      -> authorizing -> approved | declined
                     -> no trustworthy answer -> reversal due -> reversed

The journal row and its reversal record are committed before the request
leaves; the answer is committed (clearing the reversal) before the outcome is
shown. Anything else -- a timeout, a lost connection, a reply with a bad MAC
or one that does not answer what was asked, a crash -- leaves the reversal
due, and due reversals are sent until the host acknowledges them, before any
new transaction (also after a restart: `start` turns armed reversals due).
A reply that arrives after the reversal was decided is only noted: the
reversal still goes, so no money is taken.

The engine knows no face: it reports progress through `pos.core.events` to one
observer, and imports nothing of Textual, HTTP or the terminal's screen.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from acquirer.protocol import codec
from acquirer.protocol.codec import ProtocolError
from acquirer.protocol.codes import WALLET_MEANINGS, UnknownResponseCode, describe, describe_wallet, lookup
from acquirer.protocol.fields import (
    RESULT_BALANCED,
    CardTotals,
    SettlementTotals,
)
from acquirer.protocol.keys import KeyCheckError, KeyFormatError, WorkingKeys, unpack_field62
from acquirer.protocol.messages import (
    BatchUpload,
    BatchUploadEnd,
    CardInput,
    FinancialRequest,
    Original,
    Reply,
    Settlement,
    SignOn,
    Terminal,
)
from acquirer.protocol.pinblock import encrypt_pin
from acquirer.protocol.transactions import DEFAULT_TABLE, WALLET_TYPES, TxnTable, TxnType
from pos.core import events as ev
from pos.journal import store as j
from pos.core.config import PosConfig
from pos.sources.emv import complete_online
from pos.core.faults import fault_point
from pos.hostlink.link import ConnectionLost, HostLink, HostUnavailable, Received, ReplyKey
from pos.journal.store import Journal, JournalError, Txn
from pos.core.payment import CardData, PaymentRequest, PaymentSource, ReadFailed, WalletCode
from pos.journal.receipts import card_columns
from pos.core.tokens import pan_token
from pos.core.wallet import WalletPayments

log = logging.getLogger(__name__)

#: field 39 of a reversal, by why the terminal reverses
REASON_TIMEOUT = "98"        # no answer in time, or the connection dropped while waiting
REASON_MALFUNCTION = "96"    # the terminal restarted (crash) or got an answer it cannot trust
REASON_MAC = "A0"            # the answer's MAC is wrong or missing on an approval
#: answers after which the host wants a fresh sign-on
SIGN_ON_AGAIN_CODES = frozenset({"A0", "77"})
SIGN_ON_AGAIN_REQUIREMENT = "3"   # header processing requirement "sign on again"
DUPLICATE = "94"
#: what a void of each transaction type is
VOID_OF = {TxnType.SALE: TxnType.VOID, TxnType.COMPLETION: TxnType.COMPLETION_VOID,
           TxnType.PREAUTH: TxnType.PREAUTH_VOID}
VOIDS = frozenset(VOID_OF.values())


class EngineError(Exception):
    """A transaction the engine cannot start; the message says why (nothing was sent)."""


class SignOnFailed(EngineError):
    pass


class ReversalOutstanding(EngineError):
    """A reversal is still unacknowledged: no new transaction until the host acknowledges it."""


class PinRequired(EngineError):
    """The card's CVM is online PIN and no PIN was given (nothing was sent)."""


class CardNotRead(EngineError):
    """The tap ended before an online request (nothing was sent); `prompt` is what the cardholder saw.

    `outcome`: "declined" (the card itself refused, AAC), "try another interface",
    "present card again" or "present one card".
    """

    def __init__(self, failure: ReadFailed) -> None:
        super().__init__(str(failure))
        self.outcome = failure.outcome
        self.prompt = failure.prompt
        self.reason = failure.reason

    @property
    def declined(self) -> bool:
        return self.outcome == "declined"


class OriginalNotFound(EngineError):
    pass


class CardMismatch(EngineError):
    pass


class SettlementFailed(EngineError):
    pass


@dataclass(frozen=True)
class Outcome:
    """How a transaction ended, for the face to show."""

    txn: Txn
    message: str
    balance: int | None = None

    @property
    def state(self) -> str:
        return self.txn.state

    @property
    def approved(self) -> bool:
        return self.txn.state == j.APPROVED


@dataclass(frozen=True)
class SettlementOutcome:
    batch: str
    balanced: bool
    uploaded: int
    next_batch: str
    totals: SettlementTotals          # what the terminal counted
    closed_on: CardTotals             # the figures the batch was closed on (the host's)


class Printer(Protocol):
    """Prints receipts (`pos.devices.printing.ReceiptPrinter`); a printer fault never changes what the engine did."""

    async def start(self) -> object:
        """At start: print what is still queued."""

    async def transaction(self, txn: Txn) -> object:
        """The receipt of an answered transaction (approved or declined)."""

    async def settlement(self, batch: str) -> object:
        """The summary of a batch just closed."""


class _Untrusted(Exception):
    """The reply cannot be taken as the answer: reverse with `reason`."""

    def __init__(self, reason: str, why: str) -> None:
        super().__init__(why)
        self.reason = reason


class Engine(WalletPayments):
    """One terminal's engine over a journal and a host link. One transaction at a time.

    `clock` (Unix time) and `sleep` pace what waits on the wall clock -- polling a
    wallet order, holding its reversal until 15 s after creation; tests pass a
    clock they move.
    """

    def __init__(self, config: PosConfig, journal: Journal, link: HostLink, *,
                 observer: ev.Observer | None = None, printer: Printer | None = None,
                 table: TxnTable = DEFAULT_TABLE, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self.printer = printer
        self.journal = journal
        self.link = link
        self.table = table
        self._observer = observer
        self._keys: WorkingKeys | None = None
        self._pans: dict[int, str] = {}   # txn id -> PAN, memory only, for reversals in this run
        t = config.terminal
        self.terminal = Terminal(t.tid, t.mid)
        link.on_unmatched = self._late_reply

    # --- life cycle ---------------------------------------------------------------

    def emit(self, event: ev.Event) -> None:
        if self._observer is not None:
            self._observer(event)

    async def start(self) -> int:
        """After a (re)start: armed reversals become due, then sign on. Returns reversals recovered."""
        recovered = self.journal.recover()
        await self.sign_on()
        if self.printer is not None:
            await self._print("queued receipts", self.printer.start())
        return recovered

    async def sign_on(self) -> str:
        """0800/0810: fresh working keys under the TMK (KCVs checked); returns the batch."""
        self._keys = None
        self.emit(ev.SigningOn(self.link.address))
        stan = self.journal.next_stan()
        request = SignOn(self.terminal, stan, self.journal.batch, key_mode="003",
                         operator=self.config.terminal.operator.ljust(3))
        try:
            msg, _ = await self._exchange(codec.encode(request.to_message()), ("0810", stan))
        except TimeoutError:
            raise SignOnFailed(f"sign-on: no answer within {self.config.host.timeout_s:g} s") from None
        except ConnectionLost as e:
            raise SignOnFailed(f"sign-on: {e}") from None
        try:
            reply = Reply.from_message(msg)
        except ProtocolError as e:
            raise SignOnFailed(f"sign-on reply unreadable: {e}") from None
        if reply.response_code != "00":
            raise SignOnFailed(f"sign-on refused: {describe(reply.response_code)}")
        if reply.field62 is None:
            raise SignOnFailed("sign-on reply carries no working keys (field 62)")
        try:
            self._keys = unpack_field62(self.config.terminal.tmk, reply.field62)
        except (KeyCheckError, KeyFormatError) as e:
            raise SignOnFailed(f"sign-on reply keys rejected: {e}") from None
        if reply.field60 is not None:
            closed = self.journal.follow_host_batch(reply.field60.batch)
            if closed is not None:
                log.warning("batch %s was settled on the host: closed here too", closed)
        self.emit(ev.SignedOn(self.journal.batch))
        return self.journal.batch

    async def _ready(self) -> WorkingKeys:
        """Signed on, and every due reversal acknowledged; else `ReversalOutstanding`."""
        if self._keys is None:
            await self.sign_on()
        await self.flush_reversals()
        assert self._keys is not None
        return self._keys

    # --- the link -----------------------------------------------------------------

    async def _exchange(self, payload: bytes, key: ReplyKey) -> Received:
        """Send and wait for the matching reply (raises TimeoutError / ConnectionLost / HostUnavailable)."""
        future = await self.link.send(payload, key)
        return await self._await_reply(future, key)

    async def _await_reply(self, future: asyncio.Future[Received], key: ReplyKey) -> Received:
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.config.host.timeout_s)
        except TimeoutError:
            self.link.forget(key)
            raise

    def _late_reply(self, msg: dict[str, str]) -> None:
        """An answer nobody waits for: note it on its transaction (it changes nothing)."""
        stan, code = msg.get("11"), msg.get("39", "")
        txn = self.journal.find_by_stan(stan) if stan else None
        log.info("late or duplicate reply %s STAN %s code %s ignored", msg.get("t"), stan, code)
        if txn is not None and txn.state in (j.REVERSAL_DUE, j.REVERSED) and msg.get("t") != "0410":
            self.journal.note_late_reply(txn.id, code)

    def _check_reply(self, request: dict[str, str], msg: dict[str, str], payload: bytes) -> Reply:
        """The reply as the answer to `request`, or `_Untrusted` with the reversal reason."""
        assert self._keys is not None
        for field in ("3", "4", "11", "41", "42"):
            if field in request and msg.get(field) != request[field]:
                raise _Untrusted(REASON_MALFUNCTION, f"reply field {field} {msg.get(field)!r} does not "
                                                     f"echo the request's {request[field]!r}")
        code = msg.get("39", "")
        if codec.has_mac(payload):
            if not codec.verify(payload, self.config.terminal.mac, self._keys.mac):
                raise _Untrusted(REASON_MAC, "reply MAC (field 64) is wrong")
        elif code == "00":
            raise _Untrusted(REASON_MAC, "approval without a MAC (field 64)")
        if code == DUPLICATE:
            raise _Untrusted(REASON_MALFUNCTION, "host reports a duplicate: the outcome is unknown")
        _, header = codec.split_h(msg["h"])
        if code in SIGN_ON_AGAIN_CODES or header.processing_requirement == SIGN_ON_AGAIN_REQUIREMENT:
            self._keys = None   # the host asks for a fresh sign-on before the next message
        try:
            return Reply.from_message(msg)
        except ProtocolError as e:
            raise _Untrusted(REASON_MALFUNCTION, f"reply unreadable: {e}") from None

    # --- payment sources --------------------------------------------------------------

    async def _read_payment(self, request: PaymentRequest,
                            sources: Sequence[PaymentSource]) -> CardData | WalletCode:
        """Arm every source; the first card or code wins and the others are disarmed.

        A source that ends without a payment (a tap that gave no card data, a
        camera that timed out) is disarmed alone (`SourceFailed`) while others
        still wait. When the last one fails the wait ends: with `CardNotRead`
        if a card was met, else with the last source's error.
        """
        if not sources:
            raise EngineError("no payment source to read a card from")
        self.emit(ev.WaitingForPayment(request.kind, request.amount, request.currency,
                                       tuple(s.name for s in sources)))
        armed = {asyncio.create_task(s.read(request)): s for s in sources}
        failures: list[BaseException] = []
        try:
            while armed:
                done, _ = await asyncio.wait(armed, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda t: t.exception() is not None):   # a payment first
                    source = armed.pop(task)
                    error = task.exception()
                    if error is None:
                        return task.result()
                    failures.append(error)
                    if armed:
                        self.emit(ev.SourceFailed(source.name, str(error)))
        finally:
            for task in armed:
                task.cancel()
        failure = next((f for f in failures if isinstance(f, ReadFailed)), failures[-1])
        if isinstance(failure, ReadFailed):
            self.emit(ev.CardNotRead(request.kind, failure.outcome, failure.prompt, failure.reason))
            raise CardNotRead(failure) from None
        raise failure

    # --- financial transactions -------------------------------------------------------

    async def sale(self, amount: int, sources: Sequence[PaymentSource], *, pin: str | None = None) -> Outcome:
        return await self._run(TxnType.SALE, amount, sources, pin=pin)

    async def preauth(self, amount: int, sources: Sequence[PaymentSource], *,
                      pin: str | None = None) -> Outcome:
        return await self._run(TxnType.PREAUTH, amount, sources, pin=pin)

    async def balance(self, sources: Sequence[PaymentSource], *, pin: str | None = None) -> Outcome:
        return await self._run(TxnType.BALANCE, None, sources, pin=pin)

    async def void(self, stan: str, sources: Sequence[PaymentSource]) -> Outcome:
        """Void an approved sale, completion or pre-auth of the open batch by its trace number."""
        stan = stan.zfill(6)
        original = self.journal.find_by_stan(stan)
        if original is None:
            raise OriginalNotFound(f"no transaction with trace {stan} in the open batch "
                                   f"{self.journal.batch}")
        voidable = {t.value: v for t, v in VOID_OF.items()}
        if original.type not in voidable:
            raise EngineError(f"trace {stan} is a {original.type}: only sales, completions and "
                              f"pre-auths can be voided")
        if original.state != j.APPROVED:
            raise EngineError(f"trace {stan} is {original.state}: only an approved transaction can be voided")
        return await self._run(voidable[original.type], original.amount, sources, original=original)

    async def refund(self, rrn: str, amount: int, sources: Sequence[PaymentSource]) -> Outcome:
        """Refund (part of) an approved sale or completion found by its RRN, in any batch."""
        original = self.journal.find_by_rrn(rrn, ("sale", "completion"))
        if original is None or original.state not in (j.APPROVED, j.VOIDED):
            raise OriginalNotFound(f"no approved sale or completion with RRN {rrn} in this "
                                   f"terminal's journal")
        return await self._run(TxnType.REFUND, amount, sources, original=original)

    async def complete(self, preauth_stan: str, amount: int, sources: Sequence[PaymentSource]) -> Outcome:
        """Complete an approved pre-auth (found by its trace number, latest first) for `amount`."""
        stan = preauth_stan.zfill(6)
        original = self.journal.find_preauth(stan)
        if original is None or original.state != j.APPROVED:
            raise OriginalNotFound(f"no approved pre-auth with trace {stan} in this terminal's journal")
        return await self._run(TxnType.COMPLETION, amount, sources, original=original)

    async def _run(self, txn_type: TxnType, amount: int | None, sources: Sequence[PaymentSource], *,
                   original: Txn | None = None, pin: str | None = None) -> Outcome:
        keys = await self._ready()
        request = PaymentRequest(txn_type.value, amount or 0, currency=self.config.terminal.currency)
        card = await self._read_payment(request, sources)
        if isinstance(card, WalletCode):
            if txn_type is not TxnType.SALE or amount is None:
                raise EngineError(f"a wallet payment code pays a sale, not a {txn_type.value}: present the card")
            return await self._wallet_sale(card, amount)
        token = pan_token(self.config.terminal.token_key, card.pan)
        if original is not None and original.pan_token != token:
            raise CardMismatch(f"this card ({card.masked_pan}) is not the card of the original "
                               f"transaction ({original.masked_pan})")
        if card.pin_required and not pin and not card.cardholder_verified:
            raise PinRequired(f"the card {card.masked_pan} asks for its online PIN: enter the PIN and "
                              f"present it again")
        entry_mode = card.entry_mode + ("1" if pin else "2")
        self.emit(ev.CardRead(card.masked_pan, card.scheme, entry_mode, card.source, card.label))
        return await self._authorize(txn_type, amount, card, keys, entry_mode, original, pin)

    def _card_input(self, card: CardData, entry_mode: str, keys: WorkingKeys, pin: str | None,
                    with_icc: bool) -> CardInput:
        return CardInput(
            entry_mode=entry_mode,
            pan=None if card.track2 else card.pan,
            track2=card.track2,
            expiry=card.expiry,
            psn=card.psn.zfill(3) if card.psn else None,
            icc=card.icc_data if with_icc else None,
            pin_block=encrypt_pin(keys.pin, pin, card.pan) if pin else None,
        )

    async def _authorize(self, txn_type: TxnType, amount: int | None, card: CardData, keys: WorkingKeys,
                         entry_mode: str, original: Txn | None, pin: str | None) -> Outcome:
        d = self.table[txn_type]
        with_icc = txn_type in (TxnType.SALE, TxnType.PREAUTH, TxnType.BALANCE) and card.icc_data is not None
        card_input = self._card_input(card, entry_mode, keys, pin, with_icc)
        txn = self.journal.begin(
            type=txn_type.value, amount=amount or 0, currency=self.config.terminal.currency,
            processing_code=d.processing_code, condition_code=d.condition_code, reversible=d.reversible,
            entry_mode=entry_mode, masked_pan=card.masked_pan,
            pan_token=pan_token(self.config.terminal.token_key, card.pan), scheme=card.scheme,
            expiry=card.expiry, psn=card_input.psn, aid=card.aid, app_label=card.label,
            cryptogram="ARQC" if with_icc else None,
            txn_date=datetime.now().strftime("%m%d"),
            **self._original_columns(original),
            **card_columns(card, pin, with_icc),
        )
        self._pans[txn.id] = card.pan
        try:
            message = FinancialRequest(
                txn=txn_type, terminal=self.terminal, stan=txn.stan, batch=txn.batch, card=card_input,
                amount=amount, currency=txn.currency, original=self._original(txn),
            ).to_message(self.table)
            payload = codec.sign(message, self.config.terminal.mac, keys.mac)
        except Exception:
            self.journal.abandon(txn.id)
            raise
        answer = await self._send_journalled(txn, message, payload)
        if isinstance(answer, Outcome):
            return answer
        reply = answer
        arpc_check = _arpc_check(card, reply) if with_icc and "cryptogram" in card.extra else None
        outcome = self._record(txn, txn_type, reply, arpc_check)
        if self.printer is not None and outcome.state in (j.APPROVED, j.DECLINED):
            await self._print(f"receipt of trace {outcome.txn.stan}", self.printer.transaction(outcome.txn))
        return outcome

    async def _send_journalled(self, txn: Txn, message: dict[str, str], payload: bytes) -> Reply | Outcome:
        """Send a journalled request: its trusted reply, or the `Outcome` of having none (reversal, unknown)."""
        key = (f"{int(message['t']) + 10:04d}", txn.stan)
        self.emit(ev.Authorizing(txn.type, txn.stan, txn.batch, txn.amount))
        fault_point("before_send")
        try:
            future = await self.link.send(payload, key)
        except HostUnavailable:
            self.journal.abandon(txn.id)   # no connection: not a byte left the terminal
            raise
        except ConnectionLost as e:
            return await self._no_answer(txn, REASON_TIMEOUT, str(e))
        fault_point("after_send")
        try:
            msg, raw = await self._await_reply(future, key)
        except TimeoutError:
            return await self._no_answer(txn, REASON_TIMEOUT,
                                         f"no answer within {self.config.host.timeout_s:g} s")
        except ConnectionLost as e:
            return await self._no_answer(txn, REASON_TIMEOUT, str(e))
        fault_point("after_reply")
        try:
            return self._check_reply(message, msg, raw)
        except _Untrusted as e:
            return await self._no_answer(txn, e.reason, str(e))

    async def _print(self, what: str, job: Awaitable[object]) -> None:
        """Await a printer call; a printer fault must not undo or hide anything the engine did."""
        try:
            await job
        except Exception:
            log.exception("%s not printed", what)

    def _original_columns(self, original: Txn | None) -> dict[str, object]:
        if original is None:
            return {}
        return {"original_id": original.id, "original_rrn": original.rrn,
                "original_auth_code": original.auth_code, "original_stan": original.stan,
                "original_batch": original.batch, "original_date": original.txn_date}

    def _original(self, txn: Txn) -> Original | None:
        """Fields 37/38/61 a void, refund or completion carries, from the journal row."""
        if txn.original_id is None:
            return None
        kind = TxnType(txn.type)
        rrn = txn.original_rrn if kind in (TxnType.VOID, TxnType.COMPLETION_VOID, TxnType.REFUND,
                                           TxnType.PREAUTH_VOID, TxnType.COMPLETION) else None
        auth = txn.original_auth_code if kind != TxnType.REFUND else None
        date = txn.original_date if kind == TxnType.REFUND else None
        return Original(rrn=rrn, auth_code=auth, batch=txn.original_batch, stan=txn.original_stan,
                        date=date)

    def _record(self, txn: Txn, txn_type: TxnType, reply: Reply, arpc_check: str | None = None) -> Outcome:
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
            self._pans.pop(txn.id, None)
        balance = reply.balance.amount if reply.balance is not None else None
        wallet = txn_type in WALLET_TYPES
        if approved:
            self.emit(ev.Approved(txn.type, txn.stan, txn.batch, txn.amount, txn.rrn or "",
                                  txn.auth_code or "", txn.masked_pan, balance))
        else:
            code = _code_text(reply.response_code, wallet)
            self.emit(ev.Declined(txn.type, txn.stan, reply.response_code, code[0], code[1]))
        text = describe_wallet(reply.response_code) if wallet else describe(reply.response_code)
        return Outcome(txn, text, balance)

    async def _no_answer(self, txn: Txn, reason: str, why: str) -> Outcome:
        """No trustworthy answer: reverse (reversible types) or mark the outcome unknown."""
        if not self.table[TxnType(txn.type)].reversible:
            txn = self.journal.mark_unknown(txn.id)
            self._pans.pop(txn.id, None)
            self.emit(ev.Declined(txn.type, txn.stan, "", f"{why}: outcome unknown, check with the "
                                                          f"acquirer before trying again", "结果未知"))
            return Outcome(txn, f"{why}; outcome unknown (a {txn.type} is not reversible)")
        txn = self.journal.decide_reversal(txn.id, reason)
        self.emit(ev.ReversalPending(txn.type, txn.stan, reason, why))
        try:
            await self.flush_reversals()
        except (ReversalOutstanding, HostUnavailable, SignOnFailed) as e:
            log.warning("reversal of STAN %s still due: %s", txn.stan, e)
        txn = self.journal.get(txn.id)
        if txn.state == j.REVERSED:
            return Outcome(txn, f"{why}; reversed, no money taken")
        return Outcome(txn, f"{why}; reversal due, it is sent before the next transaction")

    # --- reversals ----------------------------------------------------------------------

    async def flush_reversals(self) -> int:
        """Send every due reversal until acknowledged; `ReversalOutstanding` if any remain."""
        sent = 0
        for reversal in self.journal.due_reversals():
            await self._hold_until(reversal.not_before)
            for attempt in range(1, self.config.host.reversal_attempts + 1):
                if await self._send_reversal(reversal.txn, reversal.reason or REASON_MALFUNCTION, attempt):
                    sent += 1
                    break
            else:
                raise ReversalOutstanding(
                    f"the reversal of trace {reversal.txn.stan} (batch {reversal.txn.batch}) is not "
                    f"acknowledged after {self.config.host.reversal_attempts} attempts: no new "
                    f"transaction until it is")
        return sent

    async def _send_reversal(self, txn: Txn, reason: str, attempt: int) -> bool:
        if self._keys is None:
            await self.sign_on()
        assert self._keys is not None
        request = FinancialRequest(
            txn=TxnType(txn.type), terminal=self.terminal, stan=txn.stan, batch=txn.batch,
            card=CardInput(entry_mode=txn.entry_mode or "", pan=self._pans.get(txn.id),
                           expiry=txn.expiry, psn=txn.psn),
            amount=txn.amount if txn.type != TxnType.BALANCE.value else None, currency=txn.currency,
            original=self._original(txn), reversal_reason=reason,
        ).to_message(self.table)
        payload = codec.sign(request, self.config.terminal.mac, self._keys.mac)
        self.journal.count_reversal_attempt(txn.id)
        self.emit(ev.ReversalSent(txn.stan, attempt))
        try:
            future = await self.link.send(payload, ("0410", txn.stan))
            fault_point("after_reversal_send")
            msg, raw = await self._await_reply(future, ("0410", txn.stan))
            reply = self._check_reply(request, msg, raw)
        except (TimeoutError, ConnectionLost, _Untrusted) as e:
            log.warning("reversal of STAN %s, attempt %d: %s", txn.stan, attempt, str(e) or "no answer")
            await asyncio.sleep(min(self.config.host.backoff_initial_s * 2 ** (attempt - 1),
                                    self.config.host.backoff_max_s))
            return False
        if reply.response_code != "00":
            log.warning("reversal of STAN %s refused: %s", txn.stan, describe(reply.response_code))
            return False
        self.journal.reversal_acknowledged(txn.id)
        self._pans.pop(txn.id, None)
        self.emit(ev.Reversed(txn.stan))
        return True

    # --- settlement -----------------------------------------------------------------------

    async def settle(self) -> SettlementOutcome:
        """0500 with the batch totals; out of balance: upload the batch, close on the host's figures."""
        await self._ready()
        batch = self.journal.batch
        totals = self.journal.totals(batch)
        terminal_totals = SettlementTotals(
            domestic=CardTotals(totals.domestic_debit_amount, totals.domestic_debit_count,
                                totals.domestic_credit_amount, totals.domestic_credit_count),
            foreign=CardTotals(totals.foreign_debit_amount, totals.foreign_debit_count,
                               totals.foreign_credit_amount, totals.foreign_credit_count))
        self.emit(ev.Settling(batch, totals.domestic_debit_amount + totals.foreign_debit_amount,
                              totals.domestic_debit_count + totals.foreign_debit_count,
                              totals.domestic_credit_amount + totals.foreign_credit_amount,
                              totals.domestic_credit_count + totals.foreign_credit_count))
        stan = self.journal.next_stan()
        request = Settlement(self.terminal, stan, batch, terminal_totals, self.config.terminal.currency,
                             self.config.terminal.operator.ljust(3))
        reply = await self._management(request.to_message(), "0510", stan, "settlement")
        if reply.totals is None:
            raise SettlementFailed("settlement reply carries no totals (field 48)")
        balanced = all(t.result == RESULT_BALANCED for t in (reply.totals.domestic, reply.totals.foreign))
        uploaded = 0
        closed_on = self._combined(terminal_totals)
        if not balanced:
            uploaded, host_figures = await self._upload_batch(batch)
            closed_on = host_figures or closed_on
        next_batch = self.journal.close_batch(
            balanced=balanced, uploaded=uploaded, debit_amount=closed_on.debit_amount,
            debit_count=closed_on.debit_count, credit_amount=closed_on.credit_amount,
            credit_count=closed_on.credit_count)
        self.emit(ev.Settled(batch, balanced, uploaded, next_batch))
        if self.printer is not None:
            await self._print(f"settlement of batch {batch}", self.printer.settlement(batch))
        return SettlementOutcome(batch, balanced, uploaded, next_batch, terminal_totals, closed_on)

    @staticmethod
    def _combined(totals: SettlementTotals) -> CardTotals:
        d, f = totals.domestic, totals.foreign
        return CardTotals(d.debit_amount + f.debit_amount, d.debit_count + f.debit_count,
                          d.credit_amount + f.credit_amount, d.credit_count + f.credit_count)

    async def _upload_batch(self, batch: str) -> tuple[int, CardTotals | None]:
        """0320 per counted transaction, then the end message; returns (count, host's figures).

        The host's figures come in field 48 of the answer to the end message;
        a host that sends none leaves the batch to close on the terminal's own.
        """
        txns = self.journal.batch_transactions(batch)
        self.emit(ev.UploadingBatch(batch, len(txns)))
        for txn in txns:
            stan = self.journal.next_stan()
            upload = BatchUpload(
                terminal=self.terminal, stan=stan, batch=batch, txn=TxnType(txn.type), pan=None,
                amount=txn.amount, entry_mode=txn.entry_mode or "", currency=txn.currency,
                original=Original(rrn=txn.rrn, auth_code=txn.auth_code, batch=txn.batch,
                                  stan=txn.stan, date=txn.txn_date),
                expiry=txn.expiry, psn=txn.psn)
            await self._management(upload.to_message(self.table), "0330", stan, f"upload of trace {txn.stan}")
        stan = self.journal.next_stan()
        end = BatchUploadEnd(self.terminal, stan, batch, len(txns))
        reply = await self._management(end.to_message(), "0330", stan, "batch upload end")
        return len(txns), self._combined(reply.totals) if reply.totals is not None else None

    async def _management(self, message: dict[str, str], reply_mti: str, stan: str, what: str) -> Reply:
        try:
            msg, _ = await self._exchange(codec.encode(message), (reply_mti, stan))
        except TimeoutError:
            raise SettlementFailed(f"{what}: no answer within {self.config.host.timeout_s:g} s; "
                                   f"the batch stays open, settle again") from None
        except ConnectionLost as e:
            raise SettlementFailed(f"{what}: {e}; the batch stays open, settle again") from None
        try:
            reply = Reply.from_message(msg)
        except ProtocolError as e:
            raise SettlementFailed(f"{what}: reply unreadable: {e}") from None
        if reply.response_code != "00":
            raise SettlementFailed(f"{what} refused: {describe(reply.response_code)}")
        return reply


def _arpc_check(card: CardData, reply: Reply) -> str:
    """The journal's line on the issuer's answer to the ARQC (tag 91, `pos.sources.emv.complete_online`).

    The terminal holds no issuer key, so it checks the form of tag 91 and that
    its ARC (or CSU) agrees with field 39; a problem is recorded, and the
    MAC'd response code still decides the outcome.
    """
    auth = complete_online(card, reply.response_code, reply.icc).issuer_authentication
    if auth.problems:
        return "failed: " + "; ".join(auth.problems)
    if not auth.present:
        return "absent"
    if auth.method == 2:
        return f"ok (method 2, CSU {auth.csu.hex().upper() if auth.csu else ''})"
    return f"ok (method 1, ARC {auth.arc})"


def _code_text(code: str, wallet: bool = False) -> tuple[str, str]:
    """English and Chinese words for a response code (the wallet channel's meaning for a wallet payment)."""
    if wallet and code in WALLET_MEANINGS:
        return WALLET_MEANINGS[code]
    try:
        entry = lookup(code)
    except UnknownResponseCode:
        return f"unknown response code {code}", "未知应答码"
    return entry.en, entry.zh
