"""The card side of ISO/IEC 14443 Type A: activation, and the ISO-DEP block protocol.

Written by hand because no library plays the card (PICC) role of ISO-DEP:
nfcpy emulates Type 3 tags only (docs/device-facts.md). The
simulated PN532 (`drivers.sim.pn532`) hands this module the frames its radio
would carry, after CRC handling, exactly as a real chip does with
InCommunicateThru, so nfcpy's ISO-DEP initiator code runs unmodified on the
other side.

What a card does here, per ISO/IEC 14443-3 and -4:
- answers a poll (SENS_RES, the UID, SEL_RES with the ISO-DEP bit), then RATS
  with its ATS (frame size FSCI and frame waiting time FWI come from it);
- I-blocks with chaining in both directions (R(ACK) per received chained
  block; a response longer than the reader's frame size, or than the card's
  own `max_inf`, is sent as a chain);
- R(NAK) and R(ACK) recovery rules (retransmit the last block when the block
  number matches, answer R(ACK) when it does not: the reader's presence check);
- S(DESELECT) (the card halts), S(WTX) when the card needs longer than its
  frame waiting time and was built to ask for it.

Faults a test can ask for live on `TypeACard`: processing time per APDU
(`delay_s`, with or without WTX) and leaving the field after N answers.
"""
from __future__ import annotations

import enum
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Protocol


class CardApplication(Protocol):
    """What sits behind the block protocol: an ISO 7816-4 application."""

    def exchange(self, apdu: bytes) -> bytes:
        """Answer one command APDU with response data + SW1 SW2.

        The same call the EMV kernel makes on a reader's card, so an
        application can also be driven in-process without the radio.
        """


class _State(enum.Enum):
    IDLE = "idle"            # powered, waiting for a poll
    ACTIVE = "active"        # selected by anticollision, waiting for RATS
    PROTOCOL = "protocol"    # ISO-DEP (layer 4) running
    HALT = "halt"            # deselected: ignores polls until the field drops


FSD_BY_FSDI = (16, 24, 32, 40, 48, 64, 96, 128, 256)
FWT_UNIT_S = 4096 / 13.56e6  # frame waiting time for FWI = 0


@dataclass(frozen=True)
class Answer:
    """What the card sends back for one frame, and when it is ready.

    `frame` None means the card stays silent (busy, or it does not understand
    the frame); the reader then sees its own timeout.
    """

    frame: bytes | None
    ready_at: float = 0.0  # time.monotonic() at which the frame is on air


class TypeACard:
    """One ISO 14443-4 Type A card: what a payment card, phone or band shows a reader."""

    SENS_RES = bytes.fromhex("0004")   # ATQA as the PN532 reports it (MSB first)

    def __init__(
        self,
        application: CardApplication,
        *,
        uid: bytes | None = None,
        sak: int = 0x20,
        fsci: int = 8,
        fwi: int = 7,
        max_inf: int | None = None,
        delay_s: float = 0.0,
        delay_on: frozenset[int] | None = None,
        wtx: bool = False,
        leave_after: int | None = None,
        name: str = "card",
    ) -> None:
        """Build a card.

        uid: 4 bytes (random, first byte 08h, as payment cards and phones use)
            or 7 bytes; a fresh random one by default.
        sak: SEL_RES; 20h = ISO-DEP, 60h = ISO-DEP and NFC-DEP (many phones).
        fsci, fwi: the ATS's frame size and frame waiting time indexes.
        max_inf: largest information field the card puts in one I-block
            (smaller than the reader allows = the card chains its answers).
        delay_s: processing time per APDU; `delay_on` limits it to the given
            INS codes (e.g. {0xA8} for GET PROCESSING OPTIONS).
        wtx: when processing exceeds the frame waiting time, ask for S(WTX)
            (a slow but correct card); without it the card just answers late.
        leave_after: the card is pulled out of the field right after sending
            its Nth complete APDU answer (once: presented again, it stays).
        """
        if uid is None:
            uid = b"\x08" + os.urandom(3)
        if len(uid) not in (4, 7):
            raise ValueError(f"uid must be 4 or 7 bytes, got {len(uid)}")
        if not 0 <= fsci <= 8:
            raise ValueError(f"fsci must be 0..8, got {fsci}")
        if not 0 <= fwi <= 14:
            raise ValueError(f"fwi must be 0..14, got {fwi}")
        self.application = application
        self.uid = uid
        self.sak = sak
        self.name = name
        self.fsci = fsci
        self.fwi = fwi
        self.max_inf = max_inf
        self.delay_s = delay_s
        self.delay_on = delay_on
        self.wtx = wtx
        self.leave_after = leave_after
        self.apdus_answered = 0
        self.in_field = True
        self._lock = threading.Lock()
        self._power_off()

    # --- identity (ISO 14443-3) ---------------------------------------------
    @property
    def fwt_s(self) -> float:
        return FWT_UNIT_S * (1 << self.fwi)

    @property
    def ats(self) -> bytes:
        # T0 announces TA(1), TB(1), TC(1); TB(1) = FWI | SFGI 0; TC(1) = no CID/NAD
        body = bytes([0x70 | self.fsci, 0x80, self.fwi << 4, 0x00])
        return bytes([len(body) + 1]) + body

    def power_off(self) -> None:
        """The reader switched its field off: every card forgets its session."""
        with self._lock:
            self._power_off()

    def _power_off(self) -> None:
        self._state = _State.IDLE
        self._block_number = 1
        self._fsd = 256
        self._rx_chain = bytearray()
        self._tx_blocks: list[bytes] = []
        self._last_sent: bytes | None = None
        self._busy_until = 0.0
        self._pending: bytes | None = None

    def answers_poll(self) -> bool:
        """True when the card would answer REQA in the field now."""
        with self._lock:
            return self.in_field and self._state is not _State.HALT

    def select(self) -> None:
        """Anticollision picked this card (the chip sent SELECT with its UID)."""
        with self._lock:
            self._state = _State.ACTIVE

    def remove(self) -> None:
        """Take the card out of the field."""
        with self._lock:
            self.in_field = False
            self._power_off()

    # --- frames (ISO 14443-4) ------------------------------------------------
    def receive(self, frame: bytes) -> Answer:
        """Take one frame from the reader; return what the card sends back."""
        with self._lock:
            now = time.monotonic()
            if not self.in_field or not frame:
                return Answer(None)
            wtx_reply = self._pending is not None and frame[0] == 0xF2
            if now < self._busy_until and not wtx_reply:
                return Answer(None)  # still computing: a busy card does not listen
            if self._state is _State.ACTIVE and frame[0] == 0xE0 and len(frame) == 2:
                return self._rats(frame)
            if self._state is not _State.PROTOCOL:
                return Answer(None)
            return self._block(frame, now)

    def _rats(self, frame: bytes) -> Answer:
        fsdi = frame[1] >> 4
        self._fsd = FSD_BY_FSDI[min(fsdi, 8)]
        self._state = _State.PROTOCOL
        self._block_number = 1
        return Answer(self.ats)

    def _block(self, frame: bytes, now: float) -> Answer:
        pcb = frame[0]
        if pcb & 0xC0 == 0x00 and pcb & 0x22 == 0x02:  # I-block
            return self._i_block(pcb, frame[1:], now)
        if pcb & 0xE6 == 0xA2:  # R-block (b5 = 1: NAK)
            return self._r_block(pcb)
        if pcb == 0xC2:  # S(DESELECT)
            self._state = _State.HALT
            return Answer(b"\xC2")
        if pcb == 0xF2 and self._pending is not None:  # S(WTX) response
            block, self._pending = self._pending, None
            answer = self._send(block, at=self._busy_until)
            self._leave_if_done()
            return answer
        return Answer(None)

    def _i_block(self, pcb: int, inf: bytes, now: float) -> Answer:
        self._block_number ^= 1  # rule D: toggle on every received I-block
        if pcb & 0x10:  # the reader chains: acknowledge and collect
            self._rx_chain += inf
            return self._send(bytes([0xA2 | self._block_number]))
        apdu = bytes(self._rx_chain + inf)
        self._rx_chain.clear()
        response = self.application.exchange(apdu)
        self._queue_response(response)
        first = self._next_i_block()
        delay = self._delay_for(apdu)
        self.apdus_answered += 1
        ready_at = now + delay
        if delay > self.fwt_s and self.wtx:
            self._busy_until = ready_at
            self._pending = first
            wtxm = min(59, math.ceil(delay / self.fwt_s) + 1)
            return self._send(bytes([0xF2, wtxm]))
        self._busy_until = ready_at
        answer = self._send(first, at=ready_at)
        self._leave_if_done()
        return answer

    def _r_block(self, pcb: int) -> Answer:
        number = pcb & 0x01
        if number == self._block_number:  # rule 11: the reader lost our last block
            if self._last_sent is None:
                return Answer(None)
            return Answer(self._last_sent)
        if pcb & 0x10:  # R(NAK), other number: presence check -> R(ACK)
            return self._send(bytes([0xA2 | self._block_number]))
        if self._tx_blocks:  # R(ACK), other number: continue our chain
            self._block_number ^= 1
            answer = self._send(self._next_i_block())
            self._leave_if_done()
            return answer
        return Answer(None)

    def _queue_response(self, response: bytes) -> None:
        size = self._fsd - 3  # PCB + CRC
        if self.max_inf is not None:
            size = min(size, self.max_inf)
        self._tx_blocks = [response[i:i + size] for i in range(0, len(response), size)] or [b""]

    def _next_i_block(self) -> bytes:
        inf = self._tx_blocks.pop(0)
        chaining = 0x10 if self._tx_blocks else 0x00
        return bytes([0x02 | chaining | self._block_number]) + inf

    def _send(self, block: bytes, at: float = 0.0) -> Answer:
        self._last_sent = block
        return Answer(block, at)

    def _delay_for(self, apdu: bytes) -> float:
        if self.delay_s <= 0 or len(apdu) < 2:
            return 0.0
        if self.delay_on is not None and apdu[1] not in self.delay_on:
            return 0.0
        return self.delay_s

    def _leave_if_done(self) -> None:
        if self._tx_blocks:
            return  # mid-chain: the answer is not complete yet
        if self.leave_after is not None and self.apdus_answered >= self.leave_after:
            # the answer in flight still reaches the reader; then the card is
            # gone. Pulled away once: presented again, it stays.
            self.leave_after = None
            self.in_field = False


class Field:
    """The reader's RF field: which cards are in it now.

    Tests and the demo put cards in and take them out; the simulated PN532
    polls it. Thread-safe: cards are presented from another thread than the
    chip's.
    """

    def __init__(self) -> None:
        self._cards: list[TypeACard] = []
        self._lock = threading.Lock()

    def present(self, *cards: TypeACard) -> None:
        with self._lock:
            for card in cards:
                card.in_field = True
                card.power_off()
                if card not in self._cards:
                    self._cards.append(card)

    def remove(self, card: TypeACard | None = None) -> None:
        """Take one card (or all) out of the field."""
        with self._lock:
            gone = [card] if card is not None else list(self._cards)
            for c in gone:
                c.remove()
                self._cards.remove(c)

    def cards(self) -> list[TypeACard]:
        with self._lock:
            return list(self._cards)

    def power_off(self) -> None:
        for card in self.cards():
            card.power_off()
