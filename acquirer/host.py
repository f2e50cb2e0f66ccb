"""The terminal host: one request payload in, one reply payload out.

`Host.handle(payload) -> bytes | None` is the whole host behind the link; the
TCP server (`server`) and an embedded, in-process mode (tests, the demo) both
call it. It never raises: a malformed message gets 30 where a reply is
possible, `None` (close the connection) where it is not, and a defect is
logged and answered 96.

Order of the checks (the first failing one answers):

1. Decode (pyiso8583 + the codec's checks). Undecodable with a readable TPDU
   and request MTI: **30**, echoing 11/41/42 when they decoded; otherwise
   no reply (`None`): the server closes that connection only. A TPDU no reply
   can be addressed to (id other than 60, non-BCD addresses) is not processed
   at all: `None` too.
2. Message kind by MTI, 60.3 and, for financial ones, 3/25/60.1: an unknown
   financial combination is **12**, any other unknown message **30**.
3. Registry: 41/42 missing **30**; unknown MID **03**; unknown TID **97**.
4. Sign-on (0800) and echo (0820/301) need nothing more. Everything else
   needs a current sign-on: **77** otherwise (see `sessions`).
5. MAC: financial requests (0100/0200/0220) and reversals (0400) must carry
   field 64 and it must verify with the terminal's algorithm (`ecb` or
   `x919`) under the MAC key of its working keys or of a pending sign-on
   (which then becomes the working keys: `sessions`): **A0** otherwise.
   The reply is MACed with the key that verified the request.
6. Layout (`messages.check_layout`) and sub-field formats: **30**.
7. Financial requests: 60.2 must be the host's open batch (**77**), the type
   must be permitted to the terminal (`transactions` in its configuration,
   **58**), then `processing` (duplicates **94**, switch **91**/**98**,
   issuer and original-transaction codes), or for the wallet channel's
   requests (wallet sale, MPM sale, wallet query) `wallet`.

Replies: MTI + 10, TPDU addresses swapped, 3/4/11/41/42/60 echoed, 12/13 the
host's local time. Replies to financial requests and reversals carry field
64 whenever the host has the terminal's MAC key (every code except 97, 03,
77 and 30 before the terminal is known); 08xx, 05xx and 03xx carry none.

A reply is sent only after the request's database work is committed
(`GroupCommit.durable`), so an approval is never lost by a crash.

The pure protocol work of the hot path -- decoding requests, checking
ARQCs, signing the replies to financial requests and reversals -- goes
through `Host.protocol`: in this process (`ProtocolWork`), or in worker
processes beside it (`ProtocolWorkers`, what `acquirer serve` uses on a
machine with a second CPU) with the same results and errors.

Logs name the message kind, TID, STAN, response code and a reason; never the
PAN, track 2, PIN block or field 55.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from acquirer.commit import CommitFailed, CommitOutcomeUnknown, GroupCommit
from acquirer.config import AcquirerConfig, Terminal
from acquirer.decline import Decline
from acquirer.issuer import Issuer
from acquirer.ledger import Ledger, merchant_account
from acquirer.metrics import (
    AUTHORIZATIONS,
    DATABASE_ERRORS,
    FINANCIAL_MTIS,
    REQUEST_SECONDS,
)
from acquirer.processing import Outcome, Processor
from acquirer.protocol.clock import CHINA
from acquirer.protocol import codec
from acquirer.protocol.codec import ProtocolError, reply_h
from acquirer.protocol.fields import BalanceAmount
from acquirer.protocol.messages import (
    LAYOUTS,
    BatchUpload,
    BatchUploadEnd,
    FinancialRequest,
    MessageKind,
    Settlement,
    SignOn,
    classify,
    financial_reply,
    parse_request,
    reply,
    reply_mti,
    settlement_reply,
    sign_on_reply,
)
from acquirer.protocol.transactions import WALLET_TYPES, UnknownTransaction
from acquirer.protocol_workers import ProtocolWork
from acquirer.records import Records
from acquirer.sessions import Session, Sessions
from acquirer.settlement import Settlements
from acquirer.storage.store import StorageUnavailable, Store
from acquirer.switch import Switch
from acquirer.wallet import WalletChannel

__all__ = ["Host"]

log = logging.getLogger("acquirer.host")

#: message kinds whose requests and replies carry a MAC
MACED = frozenset(kind for kind, layout in LAYOUTS.items() if layout.mac)
#: message kinds served without a current sign-on
NO_SESSION = frozenset({MessageKind.SIGN_ON, MessageKind.ECHO})


class Host:
    """The acquirer's terminal host over one database (see the module docstring)."""

    def __init__(self, config: AcquirerConfig, db: Store,
                 clock: Callable[[], datetime] = lambda: datetime.now(CHINA),
                 protocol: ProtocolWork | None = None) -> None:
        """`clock` gives the host's local time (Asia/Shanghai); tests move it to other days.

        `protocol` decodes requests, checks ARQCs and signs the replies to
        financial requests and reversals (the bulk of the work):
        `ProtocolWorkers` in worker processes, the default `ProtocolWork` here,
        with the same results.
        """
        self.config = config
        self.clock = clock
        self.protocol = protocol or ProtocolWork()
        self.db = db
        self.store = GroupCommit(self.db, config.database.commit_interval_ms / 1000)
        self.ledger = Ledger(self.db)
        self.records = Records(self.db)
        self.switch = Switch(config.bins, config.issuers.values(), config.host.switch_timeout_ms)
        self.issuers = {
            name: Issuer(settings, config.cards, config.host.token_key, self.ledger,
                         config.host.pin_try_limit)
            for name, settings in config.issuers.items()}
        self.protocol.know_cards({pan: (card.version, card.icc_mk)
                                  for issuer in self.issuers.values() for pan, card in issuer.cards.items()})
        self.sessions = Sessions(config.terminals, self.db, config.host.signon_ttl_s,
                                 pending=config.host.signon_pending)
        self.processor = Processor(self.store, self.ledger, self.records, self.switch, self.issuers,
                                   self.sessions, config.host.token_key, self.protocol)
        self.settlements = Settlements(self.db, self.sessions)
        self.wallet = WalletChannel(config.wallets, config.merchants, self.ledger, self.records,
                                    config.host.token_key)
        self.table = config.txn_table
        self._seed()

    def _seed(self) -> None:
        """Accounts for fees, merchants and every card of the card file (first start only)."""
        with self.store.unit():
            self.ledger.open_fee_accounts()
            for mid in self.config.merchants:
                self.ledger.open_account(merchant_account(mid), "merchant")
            for issuer in self.issuers.values():
                issuer.seed()
            self.wallet.seed()
        self.store.commit_now()

    # --- entry point -----------------------------------------------------------------

    async def handle(self, payload: bytes, refused: Callable[[str], None] | None = None) -> bytes | None:
        """The reply to one request payload; None when no reply is possible.

        `refused` is told the response code of every request refused before
        processing (decode, registry, sign-on, MAC, layout): the server counts
        the format and MAC errors against the connection.
        """
        started = time.perf_counter()
        try:
            msg = await self.protocol.decode(payload)
        except codec.DecodeError as e:
            log.warning("undecodable message: %s", e)
            if refused is not None:
                refused("30")
            return self._format_error(payload, e.partial)
        try:
            return await self._dispatch(msg, payload, refused)
        except CommitOutcomeUnknown as e:   # no answer: the terminal reverses, whichever it was
            DATABASE_ERRORS.labels("outcome_unknown").inc()
            log.error("no answer to %s from terminal %s STAN %s: %s", msg.get("t"), msg.get("41"), msg.get("11"), e)
            return None
        except (StorageUnavailable, CommitFailed) as e:
            DATABASE_ERRORS.labels("commit_failed" if isinstance(e, CommitFailed) else "unavailable").inc()
            log.warning("database unavailable for %s from terminal %s STAN %s: %s",
                        msg.get("t"), msg.get("41"), msg.get("11"), e)
            _count(msg, "96")
            return self._answer(msg, None, "96")
        except Exception:
            log.exception("defect while handling %s from terminal %s STAN %s",
                          msg.get("t"), msg.get("41"), msg.get("11"))
            _count(msg, "96")
            return self._answer(msg, None, "96")
        finally:
            REQUEST_SECONDS.observe(time.perf_counter() - started)

    async def _dispatch(self, msg: dict[str, str], payload: bytes,
                        refused: Callable[[str], None] | None) -> bytes | None:
        terminal: Terminal | None = None
        session: Session | None = None
        kind: MessageKind | None = None
        self.sessions.new_request()
        try:
            reply_h(msg["h"])
        except ProtocolError as e:   # no reply could be addressed: do nothing, close
            log.warning("unanswerable TPDU: %s", e)
            return None
        try:
            try:
                kind = classify(msg, self.table)
            except UnknownTransaction as e:
                raise Decline("12", str(e)) from None
            except ProtocolError as e:   # UnknownMessage and any other unreadable kind
                raise Decline("30", str(e)) from None
            if "41" not in msg or "42" not in msg:
                raise Decline("30", "field 41 or 42 missing")
            terminal = self.sessions.identify(msg["41"], msg["42"])
            if kind not in NO_SESSION:
                session = self.sessions.current(terminal)
            if kind in MACED:
                signed = self.sessions.signed_with(
                    terminal, lambda keys: codec.verify(payload, terminal.mac, keys.mac))
                if signed is None:
                    raise Decline("A0", "MAC missing or wrong")
                if self.sessions.is_pending(signed):   # proof of the TMK: its keys take over
                    with self.store.unit():
                        self.sessions.use(signed)
                session = signed
            try:
                request = parse_request(msg, self.table, kind=kind)
            except ProtocolError as e:
                raise Decline("30", str(e)) from None
            return await self._serve(kind, request, msg, terminal, session)
        except Decline as d:
            log.debug("%s from %s STAN %s: %s", kind.value if kind else msg.get("t"), msg.get("41"),
                     msg.get("11"), d)
            if refused is not None:
                refused(d.code)
            _count(msg, d.code)
            return self._answer(msg, session if kind in MACED else None, d.code)

    async def _serve(self, kind: MessageKind, request: object, msg: dict[str, str],
                     terminal: Terminal, session: Session | None) -> bytes:
        now = self.clock()
        if kind is MessageKind.SIGN_ON:
            assert isinstance(request, SignOn)
            with self.store.unit():
                new, batch, field62 = self.sessions.sign_on(terminal, request.batch, request.key_mode)
            await self.store.durable()
            self.sessions.activate(new, batch)
            log.info("sign-on of terminal %s, batch %s (keys pending until a request is MACed with them)",
                     terminal.tid, batch)
            return codec.encode(sign_on_reply(msg, "00", field62=field62, batch=batch, when=now))
        if kind is MessageKind.ECHO:
            return codec.encode(reply(msg, "00"))
        if kind is MessageKind.SIGN_OFF:
            with self.store.unit():
                self.sessions.sign_off(terminal)
            await self.store.durable()
            self.sessions.deactivate(terminal)
            return codec.encode(reply(msg, "00"))
        if kind is MessageKind.SETTLEMENT:
            assert isinstance(request, Settlement)
            with self.store.unit():
                totals, next_batch = self.settlements.settle(terminal, request)
            await self.store.durable()
            if next_batch is not None:
                self.sessions.set_batch(terminal, next_batch)
            log.info("settlement of terminal %s batch %s: %s", terminal.tid, request.batch, totals.encode()[-32:])
            return codec.encode(settlement_reply(msg, "00", totals, when=now))
        if kind is MessageKind.BATCH_UPLOAD:
            assert isinstance(request, BatchUpload)
            with self.store.unit():
                self.settlements.upload(terminal, request)
            await self.store.durable()
            return codec.encode(reply(msg, "00"))
        if kind is MessageKind.BATCH_UPLOAD_END:
            assert isinstance(request, BatchUploadEnd)
            with self.store.unit():
                totals = self.settlements.upload_end(terminal, request)
            await self.store.durable()
            return codec.encode(settlement_reply(msg, "00", totals, when=now))
        assert isinstance(request, FinancialRequest) and session is not None
        if kind is MessageKind.REVERSAL:
            with self.store.unit():
                if request.txn in WALLET_TYPES:
                    self.wallet.before_reversal(request, terminal, now)
                outcome = self.processor.reversal(request, terminal, now)
            await self.store.durable()
            log.info("reversal from %s STAN %s: %s", terminal.tid, request.stan, outcome)
            return await self.protocol.sign(self._financial_reply(msg, Outcome("00"), now),
                                            terminal.mac, session.keys.mac)
        self.sessions.check_batch(terminal, request.batch)
        if terminal.transactions is not None and request.txn not in terminal.transactions:
            raise Decline("58", f"{request.txn.value} is not permitted to terminal {terminal.tid}")
        if request.txn in WALLET_TYPES:   # the wallet channel: no card, no switch
            with self.store.unit():
                result = self.wallet.request(request, terminal, now)
            await self.store.durable()
        else:   # durable when it returns
            result = await self.processor.financial(request, terminal, session.keys, now)
        log.debug("%s from %s STAN %s: %s %s", request.txn.value, terminal.tid, request.stan,
                 result.code, result.reason)
        _count(msg, result.code)
        return await self.protocol.sign(self._financial_reply(msg, result, now), terminal.mac,
                                        session.keys.mac)

    # --- replies --------------------------------------------------------------------

    @staticmethod
    def _financial_reply(msg: Mapping[str, str], result: Outcome, now: datetime) -> dict[str, str]:
        balance = (BalanceAmount(result.balance, msg.get("49", "156"))
                   if result.balance is not None else None)
        answer = financial_reply(msg, result.code, rrn=result.rrn, auth_code=result.auth_code,
                                 icc=result.icc, balance=balance)
        answer["12"] = f"{now.hour:02d}{now.minute:02d}{now.second:02d}"   # f-strings: cheaper than strftime
        answer["13"] = f"{now.month:02d}{now.day:02d}"
        return answer

    def _answer(self, msg: Mapping[str, str], session: Session | None, code: str) -> bytes | None:
        """A bare reply with `code`, signed when a session is known; None if it cannot be built."""
        try:
            answer = reply(msg, code)
        except ProtocolError:
            return None  # not a request MTI: nothing to answer
        try:
            if session is not None:
                return codec.sign(answer, session.terminal.mac, session.keys.mac)
            return codec.encode(answer)
        except ProtocolError:
            return None

    def _format_error(self, payload: bytes, partial: Mapping[str, str]) -> bytes | None:
        """30 to an undecodable request whose TPDU and MTI are readable, echoing the
        11/41/42 that decoded before the error (`DecodeError.partial`)."""
        try:
            request = {"h": payload[:11].hex().upper(), "t": payload[11:13].hex()}
            reply_mti(request["t"])
        except (ProtocolError, ValueError):
            return None
        for key in ("11", "41", "42"):
            if key in partial:
                request[key] = partial[key]
        for attempt in (request, {"h": request["h"], "t": request["t"]}):
            try:
                return codec.encode(reply(attempt, "30"))
            except ProtocolError:
                continue
        return None


def _count(msg: Mapping[str, str], code: str) -> None:
    """An authorization's response code, for `acquirer_authorizations_total`."""
    mti = msg.get("t", "")
    if mti in FINANCIAL_MTIS:
        AUTHORIZATIONS.labels(mti, code).inc()
