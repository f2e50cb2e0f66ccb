"""Concert (Ingenico's Telium ECR protocol) over a serial line: the terminal's side.

Why by hand: the only Python implementation (pyteliummanager) is the
register's side; the terminal's side is a small state machine over pyserial.

Exchange (docs/daemon.md, "Concert"): the register sends ENQ, we ACK; it
sends STX request ETX LRC, we ACK (NAK on a bad LRC or shape: it resends,
three tries); it sends EOT. When the payment has ended we send ENQ, it ACKs,
we send STX answer ETX LRC, it ACKs (NAK: we resend), we send EOT. LRC is the
XOR of every byte after STX up to and including ETX.

Request, 34 characters: POS number (2), amount in cents (8), answer flag (1:
"1" full answer), mode (1: "1" card), type (1: "0" debit, "1" credit, "2"
refund), currency (3, ISO numeric), private data (10), delay (4: A010 answer
at the end, A011 at once), authorization (4: B010/B011). Answer: POS number
(2), status (1: "0" done, "7" refused, "9" not handled), amount (8), mode (1),
with the full answer flag a report field (55: the masked PAN, brand, trace and
authorization code -- never the full PAN), currency (3), private data (10:
batch and trace, our transaction id).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from functools import reduce
from operator import xor

import serial

from pos.core.errors import Busy
from pos.daemon.till import Answer, Till

log = logging.getLogger(__name__)

STX, ETX, EOT, ENQ, ACK, NAK = b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x15"
REQUEST_LENGTH = 34
TRIES = 3
ENQ_WAIT_S = 3.0   # how long the register may take to ACK our ENQ, per try
STATUS_DONE, STATUS_REFUSED, STATUS_NOT_HANDLED = "0", "7", "9"
TYPES = {"0": "sale", "1": "sale", "2": "refund"}
CHANNEL = "concert"


class ConcertError(ValueError):
    pass


def lrc(data: bytes) -> int:
    return reduce(xor, data, 0)


def frame(text: str) -> bytes:
    body = text.encode("ascii") + ETX
    return STX + body + bytes([lrc(body)])


def unframe(data: bytes) -> str:
    """The text of `STX text ETX LRC`; `ConcertError` for a bad frame or LRC."""
    if len(data) < 3 or data[:1] != STX or data[-2:-1] != ETX:
        raise ConcertError("not an STX ... ETX LRC frame")
    if lrc(data[1:-1]) != data[-1]:
        raise ConcertError("LRC does not match")
    try:
        return data[1:-2].decode("ascii")
    except UnicodeDecodeError:
        raise ConcertError("frame is not ASCII") from None


@dataclass(frozen=True)
class ConcertRequest:
    pos_number: str
    amount: int          # fen (cents)
    full_answer: bool
    mode: str
    kind: str            # "0" debit, "1" credit, "2" refund
    currency: str
    private: str
    delay: str
    authorization: str

    @classmethod
    def parse(cls, text: str) -> ConcertRequest:
        if len(text) != REQUEST_LENGTH:
            raise ConcertError(f"request of {len(text)} characters, expected {REQUEST_LENGTH}")
        if not text[0:2].isdigit() or not text[2:10].isdigit() or not text[13:16].isdigit():
            raise ConcertError("POS number, amount and currency must be digits")
        return cls(text[0:2], int(text[2:10]), text[10] == "1", text[11], text[12], text[13:16], text[16:26],
                   text[26:30], text[30:34])


@dataclass(frozen=True)
class ConcertAnswer:
    pos_number: str
    status: str
    amount: int
    mode: str
    report: str
    currency: str
    private: str

    def encode(self, full: bool) -> str:
        head = f"{self.pos_number}{self.status}{self.amount:08d}{self.mode}"
        tail = f"{self.currency}{self.private[:10].ljust(10)}"
        return head + (self.report[:55].ljust(55) if full else "") + tail


def answer_for(request: ConcertRequest, result: Answer | None, currency: str) -> ConcertAnswer:
    if result is None:
        return ConcertAnswer(request.pos_number, STATUS_NOT_HANDLED, request.amount, request.mode, "",
                             request.currency, "")
    txn = result.txn
    status = STATUS_DONE if result.verdict.approved else STATUS_REFUSED
    report, private = "", ""
    if txn is not None:
        report = f"{txn.masked_pan or txn.wallet_code or ''} {txn.scheme or txn.wallet or ''} " \
                 f"{txn.stan} {txn.auth_code or ''}"
        private = f"{txn.batch[-4:]}{txn.stan}"
    return ConcertAnswer(request.pos_number, status, request.amount,   # the status says whether it was paid
                         request.mode, report, currency, private)


class ConcertServer:
    """Serves one serial line in a thread; payments run on the daemon's loop through the till."""

    def __init__(self, port: serial.Serial, till: Till, loop: asyncio.AbstractEventLoop, *, currency: str,
                 max_fen: int) -> None:
        self.port = port
        self.till = till
        self.loop = loop
        self.currency = currency
        self.max_fen = max_fen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="concert", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        self.port.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                self._one_exchange()
            except serial.SerialException as e:
                if self._stop.is_set():
                    return
                log.error("serial line failed: %s", e)
                self._stop.wait(1.0)
            except Exception:
                log.exception("Concert exchange failed")

    def _read(self, size: int = 1) -> bytes:
        data: bytes = self.port.read(size)
        return data

    def _one_exchange(self) -> None:
        byte = self._read()
        if byte != ENQ:
            return   # line noise, an EOT after a health check, or nothing before the timeout
        self.port.write(ACK)
        request: ConcertRequest | None = None
        for _ in range(TRIES):
            data = self._read_frame()
            if data is None:
                return
            if data == EOT:   # a health check (ENQ, ACK, EOT)
                return
            try:
                request = ConcertRequest.parse(unframe(data))
            except ConcertError as e:
                log.warning("Concert request refused: %s", e, extra={"condition": "MessageFormat"})
                self.port.write(NAK)
                continue
            self.port.write(ACK)
            break
        if request is None:
            return
        self._read()   # the register's EOT
        result = self._pay(request)
        self._send_answer(answer_for(request, result, self.currency).encode(request.full_answer))

    def _read_frame(self) -> bytes | None:
        first = self._read()
        if first == EOT:
            return EOT
        if first != STX:
            return None
        body = bytearray(first)
        while len(body) < 200:
            byte = self._read()
            if not byte:
                return None
            body += byte
            if byte == ETX:
                body += self._read()
                return bytes(body)
        return None

    def _wait_for(self, expected: bytes, seconds: float) -> bool:
        """Read until `expected` arrives (True) or `seconds` pass (False); other bytes are line noise."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stop.is_set():
            byte = self._read()
            if byte == expected:
                return True
        return False

    def _pay(self, request: ConcertRequest) -> Answer | None:
        kind = TYPES.get(request.kind)
        if kind is None or request.currency != self.currency or not 0 < request.amount <= self.max_fen:
            log.warning("Concert request not handled: type %r, currency %s, amount %d",
                        request.kind, request.currency, request.amount, extra={"condition": "NotAllowed"})
            return None
        work = self.till.pay(channel=CHANNEL, sale_id=f"pos{request.pos_number}", sale_txn_id=uuid.uuid4().hex,
                             service_id=None, kind=kind, amount=request.amount)
        try:
            return asyncio.run_coroutine_threadsafe(work, self.loop).result()
        except Busy:
            return None

    def _send_answer(self, text: str) -> None:
        data = frame(text)
        for _ in range(TRIES):
            self.port.write(ENQ)
            if self._wait_for(ACK, ENQ_WAIT_S):
                break
        else:
            log.warning("register did not take the answer (no ACK to ENQ)")
            return
        for _ in range(TRIES):
            self.port.write(data)
            reply = self._read()
            if reply == ACK:
                break
            if reply != NAK:
                log.warning("register did not acknowledge the answer")
                break
        self.port.write(EOT)
