"""The other side of the link for the host tests: test cards that compute real ARQCs, and a terminal.

Built only from the card file (`config/cards.toml` through `acquirer.config`)
and the protocol layer (`acquirer.protocol`), the way any third-party
terminal would talk to the host: it never imports the host's own modules.
"""
from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from acquirer.config import Card
from acquirer.protocol import codec, tlv
from acquirer.protocol.clock import CHINA
from acquirer.protocol.cryptogram import CryptogramVersion, cryptogram_for
from acquirer.protocol.fields import Field60
from acquirer.protocol.framing import recv_frame, send_frame
from acquirer.protocol.keys import WorkingKeys, unpack_field62
from acquirer.protocol.messages import (
    CardInput,
    FinancialRequest,
    Original,
    SignOn,
    Terminal,
    reversal_of,
)
from acquirer.protocol.pinblock import encrypt_pin
from acquirer.protocol.transactions import TxnType

SHANGHAI = CHINA   # the business clock of acquirer.protocol.clock
CVR_LENGTH = {"unionpay": 4, "visa": 4, "mastercard": 6}


@dataclass
class TestCard:
    """A card of the card file that signs each transaction with a fresh, rising ATC."""

    __test__ = False  # not a pytest test class

    card: Card
    atc: int = 0
    version: CryptogramVersion = field(init=False, repr=False)
    icc_mk: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.version = cryptogram_for(self.card.scheme, self.card.cvn)
        self.icc_mk = self.version.icc_mk(self.card.imk_ac, self.card.pan, self.card.psn)

    @property
    def pan(self) -> str:
        return self.card.pan

    def track2(self) -> str:
        return f"{self.card.pan}D{self.card.expiry}2010000000"

    def icc(self, amount: int, *, atc: int | None = None, txn_type: str = "00",
            wrong_key: bool = False) -> bytes:
        """Field 55 of a request: the card's ARQC over this amount (next ATC unless given)."""
        if atc is None:
            self.atc += 1
            atc = self.atc
        tags = {
            "9F02": bytes.fromhex(f"{amount:012d}"),
            "9F03": bytes(6),
            "9F1A": bytes.fromhex("0156"),
            "95": bytes(5),
            "5F2A": bytes.fromhex("0156"),
            "9A": bytes.fromhex(datetime.now(SHANGHAI).strftime("%y%m%d")),
            "9C": bytes.fromhex(txn_type),
            "9F37": os.urandom(4),
            "82": bytes.fromhex("7C00"),
            "9F36": atc.to_bytes(2, "big"),
            "9F10": self.version.make_iad(bytes.fromhex("03A00000A000")[:CVR_LENGTH[self.card.scheme]]),
        }
        key = bytes(16) if wrong_key else self.icc_mk
        arqc = self.version.arqc(key, tags)
        order = ("9F10", "9F37", "9F36", "95", "9A", "9C", "9F02", "5F2A", "82", "9F1A", "9F03")
        return tlv.build([("9F26", arqc), ("9F27", b"\x80")] + [(t, tags[t]) for t in order]
                         + [("9F33", bytes.fromhex("E0E1C8"))])

    def check_arpc(self, request_icc: bytes, reply_icc: bytes, response_code: str) -> bool:
        """Card side: does the reply's tag 91 carry a genuine ARPC for our ARQC and this code?"""
        sent = tlv.as_dict(tlv.parse(request_icc))
        data = tlv.first(tlv.parse(reply_icc), "91")
        return (data is not None and data[-2:] == response_code.encode() and
                self.version.verify_issuer_authentication_data(self.icc_mk, sent, sent["9F26"], data))


class TestTerminal:
    """A terminal: sign-on, signed requests, reversals.

    It talks over a blocking socket to `address`, or through `transport`
    (payload in, reply payload out) to a host embedded in the test process.
    """

    __test__ = False

    def __init__(self, address: tuple[str, int] | None, tid: str, mid: str, tmk: bytes, mac: str,
                 batch: str = "000001", stans: Iterator[int] | None = None,
                 transport: Callable[[bytes], bytes] | None = None) -> None:
        self.terminal = Terminal(tid, mid)
        self.tmk, self.mac = tmk, mac
        self.batch = batch
        self.keys: WorkingKeys | None = None
        self._stans = stans if stans is not None else itertools.count(1)
        self.transport = transport
        self.sock = socket.create_connection(address, timeout=15) if transport is None else None
        self.last_request: FinancialRequest | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()

    def next_stan(self) -> str:
        return f"{next(self._stans):06d}"

    # --- raw exchange ---------------------------------------------------------------

    def send_payload(self, payload: bytes) -> bytes:
        if self.transport is not None:
            return self.transport(payload)
        send_frame(self.sock, payload)
        return recv_frame(self.sock, 4096)

    def exchange(self, msg: dict[str, str], *, sign: bool = True) -> dict[str, str]:
        """Send a message (MACed with the session key when `sign`) and return the decoded reply.

        A reply carrying field 64 must verify under the session's MAC key.
        """
        payload = codec.sign(msg, self.mac, self.keys.mac) if sign else codec.encode(msg)
        answer = self.send_payload(payload)
        reply = codec.decode(answer)
        if "64" in reply:
            assert self.keys is not None and codec.verify(answer, self.mac, self.keys.mac), \
                "reply MAC does not verify"
        return reply

    # --- messages -------------------------------------------------------------------

    def sign_on(self, key_mode: str = "003") -> dict[str, str]:
        msg = SignOn(self.terminal, self.next_stan(), self.batch, key_mode).to_message()
        reply = self.exchange(msg, sign=False)
        if reply["39"] == "00":
            self.keys = unpack_field62(self.tmk, bytes.fromhex(reply["62"]))
            self.batch = Field60.parse(reply["60"]).batch
        return reply

    def request(self, txn: TxnType, card: TestCard | None, amount: int | None, *,
                pin: str | None = None, icc: bool | bytes = True, original: Original | None = None,
                stan: str | None = None, batch: str | None = None, pan: str | None = None,
                expiry: str | None = None) -> FinancialRequest:
        """A financial request for `card` (chip read with ARQC when `icc`; online PIN when `pin`)."""
        pan = pan or card.pan
        icc_data = None
        if isinstance(icc, bytes):
            icc_data = icc
        elif icc and card is not None and txn in (TxnType.SALE, TxnType.PREAUTH, TxnType.BALANCE):
            icc_data = card.icc(amount or 0, txn_type="31" if txn is TxnType.BALANCE else "00")
        pin_block = encrypt_pin(self.keys.pin, pin, pan) if pin is not None else None
        entry = ("07" if icc_data else "02") + ("1" if pin is not None else "2")
        card_input = CardInput(
            entry_mode=entry, pan=pan if not card or pan != card.pan else None,
            track2=card.track2() if card and pan == card.pan else None,
            expiry=expiry, psn=f"0{card.card.psn}" if card else None,
            icc=icc_data, pin_block=pin_block)
        return FinancialRequest(txn=txn, terminal=self.terminal, stan=stan or self.next_stan(),
                                batch=batch or self.batch, card=card_input, amount=amount,
                                original=original)

    def send(self, request: FinancialRequest) -> dict[str, str]:
        self.last_request = request
        return self.exchange(request.to_message())

    def financial(self, txn: TxnType, card: TestCard, amount: int | None, **options) -> dict[str, str]:
        return self.send(self.request(txn, card, amount, **options))

    def sale(self, card: TestCard, amount: int, **options) -> dict[str, str]:
        return self.financial(TxnType.SALE, card, amount, **options)

    def reverse(self, request: FinancialRequest, reason: str = "98") -> dict[str, str]:
        return self.exchange(reversal_of(request, reason).to_message())


def original_of(reply: dict[str, str], request: FinancialRequest, *, with_date: bool = False) -> Original:
    """Field 37/38/61 of a follow-up transaction pointing at `request` and its approval."""
    date = datetime.now(SHANGHAI).strftime("%m%d") if with_date else None
    return Original(rrn=reply.get("37"), auth_code=reply.get("38"), batch=request.batch,
                    stan=request.stan, date=date)
