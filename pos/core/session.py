"""The terminal's session with its acquirer: sign-on, working keys, request and reply, trust in a reply.

`HostSession` owns what every flow needs to talk to the host: the working
keys from the last sign-on (0800/0810, KCVs checked), the exchange of one
request for its matching reply within `[host] timeout_s`, and the checks
that make a reply the answer to what was asked (echoed fields, MAC). A reply
that fails them raises `Untrusted` with the field 39 reason the reversal
will carry; the flows decide what that means for their transaction.

Working keys outlive the process (docs/terminal.md, "Working keys between
commands"): every sign-on keeps field 62 exactly as the host sent it -- the
keys under the terminal master key, with their check values -- in the
journal, never the clear keys. `resume` takes them back (decrypted with the
TMK, KCVs checked) when they came from the terminal's host, for the open
batch, on today's China business date; anything else signs on afresh. Keys
taken back are unconfirmed until the host answers a request made with them:
a host that forgot the session (77, or A0 because it holds other keys) gets a
fresh sign-on and the same request again (`Authorizer.send`), since it
refused the request before processing it.
"""
from __future__ import annotations

import asyncio
import logging

from acquirer.protocol import codec
from acquirer.protocol.codec import ProtocolError
from acquirer.protocol.clock import business_date
from acquirer.protocol.codes import describe
from acquirer.protocol.keys import KeyCheckError, KeyFormatError, WorkingKeys, unpack_field62
from acquirer.protocol.messages import Reply, SignOn, Terminal
from pos.core import events as ev
from pos.core.config import PosConfig
from pos.core.errors import SignOnFailed
from pos.core.observers import Observers
from pos.hostlink.link import ConnectionLost, HostLink, Received, ReplyKey
from pos.journal import store as j
from pos.journal.store import Journal, StoredSession

log = logging.getLogger(__name__)

#: field 39 of a reversal, by why the terminal reverses
REASON_TIMEOUT = "98"        # no answer in time, or the connection dropped while waiting
REASON_MALFUNCTION = "96"    # the terminal restarted (crash) or got an answer it cannot trust
REASON_MAC = "A0"            # the answer's MAC is wrong or missing on an approval
#: answers after which the host wants a fresh sign-on
SIGN_ON_AGAIN_CODES = frozenset({"A0", "77"})
SIGN_ON_AGAIN_REQUIREMENT = "3"   # header processing requirement "sign on again"
DUPLICATE = "94"


class Untrusted(Exception):
    """The reply cannot be taken as the answer: reverse with `reason` (internal to the core)."""

    def __init__(self, reason: str, why: str) -> None:
        super().__init__(why)
        self.reason = reason


class KeysRefused(Untrusted):
    """The host answered "sign on again" (77/A0) under a MAC this terminal cannot check: it holds other keys."""


class HostSession:
    """Sign-on state and the exchange of messages with the acquirer host."""

    def __init__(self, config: PosConfig, journal: Journal, link: HostLink, emit: Observers) -> None:
        self.config = config
        self.journal = journal
        self.link = link
        self.emit = emit
        self.keys: WorkingKeys | None = None
        self.resumed = False   # the keys came from the journal and no reply has confirmed them yet
        t = config.terminal
        self.terminal = Terminal(t.tid, t.mid)
        link.on_unmatched = self._late_reply

    @property
    def timeout_s(self) -> float:
        return self.config.host.timeout_s

    async def sign_on(self) -> str:
        """0800/0810: fresh working keys under the TMK (KCVs checked), kept as received; returns the batch."""
        self._drop_keys()
        self.emit(ev.SigningOn(self.link.address))
        stan = self.journal.next_stan()
        request = SignOn(self.terminal, stan, self.journal.batch, key_mode="003",
                         operator=self.config.terminal.operator.ljust(3))
        try:
            msg, _ = await self.exchange(codec.encode(request.to_message()), ("0810", stan))
        except TimeoutError:
            raise SignOnFailed(f"sign-on: no answer within {self.timeout_s:g} s",
                               message_key="engine.sign_on_no_answer", timeout_s=self.timeout_s) from None
        except ConnectionLost as e:
            raise SignOnFailed(f"sign-on: {e}", message_key="engine.sign_on_connection_lost", error=str(e)) from None
        try:
            reply = Reply.from_message(msg)
        except ProtocolError as e:
            raise SignOnFailed(f"sign-on reply unreadable: {e}", message_key="engine.sign_on_unreadable",
                               error=str(e)) from None
        if reply.response_code != "00":
            raise SignOnFailed(f"sign-on refused: {describe(reply.response_code)}", message_key="engine.sign_on_refused",
                               response_code=reply.response_code)
        if reply.field62 is None:
            raise SignOnFailed("sign-on reply carries no working keys (field 62)", message_key="engine.sign_on_no_keys")
        try:
            self.keys = unpack_field62(self.config.terminal.tmk, reply.field62)
        except (KeyCheckError, KeyFormatError) as e:
            raise SignOnFailed(f"sign-on reply keys rejected: {e}", message_key="engine.sign_on_bad_keys",
                               error=str(e)) from None
        if reply.field60 is not None:
            closed = self.journal.follow_host_batch(reply.field60.batch)
            if closed is not None:
                log.warning("batch %s was settled on the host: closed here too", closed)
        self.journal.keep_host_session(StoredSession(self.config.host.address, reply.field62, self.journal.batch,
                                                     business_date().isoformat()))
        self.emit(ev.SignedOn(self.journal.batch))
        return self.journal.batch

    def resume(self) -> bool:
        """Take back the working keys of the last sign-on kept in the journal; False when they will not do.

        They do when they came from this terminal's host, for the open batch,
        on today's China business date (a terminal signs on each day and after
        each settlement), and decrypt under the TMK to keys whose KCVs match.
        """
        kept = self.journal.host_session()
        if kept is None:
            return False
        reason = None
        if kept.host != self.config.host.address:
            reason = f"they came from {kept.host}"
        elif kept.batch != self.journal.batch:
            reason = f"they were issued for batch {kept.batch}"
        elif kept.business_date != business_date().isoformat():
            reason = f"they are of {kept.business_date}"
        else:
            try:
                self.keys = unpack_field62(self.config.terminal.tmk, kept.field62)
            except (KeyCheckError, KeyFormatError) as e:
                reason = f"they fail their check ({e})"
        if reason is not None:
            log.info("kept working keys not used: %s; signing on", reason)
            self._drop_keys()
            return False
        self.resumed = True
        return True

    def _drop_keys(self) -> None:
        self.keys = None
        self.resumed = False
        self.journal.forget_host_session()

    async def working_keys(self) -> WorkingKeys:
        """The current working keys, signing on first when there are none."""
        if self.keys is None:
            await self.sign_on()
        assert self.keys is not None
        return self.keys

    async def exchange(self, payload: bytes, key: ReplyKey) -> Received:
        """Send and wait for the matching reply (raises TimeoutError / ConnectionLost / HostUnavailable)."""
        future = await self.link.send(payload, key)
        return await self.await_reply(future, key)

    async def await_reply(self, future: asyncio.Future[Received], key: ReplyKey) -> Received:
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
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

    def check_reply(self, request: dict[str, str], msg: dict[str, str], payload: bytes) -> Reply:
        """The reply as the answer to `request`, or `Untrusted` with the reversal reason."""
        assert self.keys is not None
        for field in ("3", "4", "11", "41", "42"):
            if field in request and msg.get(field) != request[field]:
                raise Untrusted(REASON_MALFUNCTION, f"reply field {field} {msg.get(field)!r} does not "
                                                    f"echo the request's {request[field]!r}")
        code = msg.get("39", "")
        if codec.has_mac(payload):
            if not codec.verify(payload, self.config.terminal.mac, self.keys.mac):
                if code in SIGN_ON_AGAIN_CODES:
                    self._drop_keys()
                    raise KeysRefused(REASON_MAC, f"the host answers {code} under keys this terminal does not hold")
                raise Untrusted(REASON_MAC, "reply MAC (field 64) is wrong")
            self.resumed = False   # the host MACed its answer with these keys: they are its keys
        elif code == "00":
            raise Untrusted(REASON_MAC, "approval without a MAC (field 64)")
        if code == DUPLICATE:
            raise Untrusted(REASON_MALFUNCTION, "host reports a duplicate: the outcome is unknown")
        _, header = codec.split_h(msg["h"])
        if code in SIGN_ON_AGAIN_CODES or header.processing_requirement == SIGN_ON_AGAIN_REQUIREMENT:
            self._drop_keys()   # the host asks for a fresh sign-on before the next message
        try:
            return Reply.from_message(msg)
        except ProtocolError as e:
            raise Untrusted(REASON_MALFUNCTION, f"reply unreadable: {e}") from None
