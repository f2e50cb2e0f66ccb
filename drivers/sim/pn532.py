"""A simulated NXP PN532 on a pseudo-terminal, for nfcpy's production pn532 driver.

Written by hand because no library simulates the chip: nfcpy has drivers for
it, not a model of it. A thread owns the master side of an `os.openpty()`
pair and answers the PN532 host-controller protocol over the UART (HSU) link:
preamble and start code, ACK frames, normal and extended information frames
with their length and data checksums, the application error frame for
commands it does not know. The slave side's path is what a reader opens:
`drivers.nfc.open_reader(sim.path)`, which runs nfcpy's unmodified
`nfc.clf.pn532` driver on it.

Commands answered (the set nfcpy's driver uses to read ISO-DEP cards, see
docs/device-facts.md): Diagnose 00 (line test, extended frames),
GetFirmwareVersion 02, ReadRegister 06, WriteRegister 08, SetSerialBaudRate 10
(the Linux driver probes baud rates with stty; a pty accepts any), SetParameters
12, SAMConfiguration 14, PowerDown 16, RFConfiguration 32 (field on/off and the
RF timeout index), InCommunicateThru 42, InListPassiveTarget 4A (106 kbps
Type A; up to two targets, as the real chip).

The radio side is a `Field` of `TypeACard`s (`drivers.sim.iso14443`). Timing
is real: InCommunicateThru waits for the card's answer up to the RF timeout
the host configured and reports status 01h (timeout) past it, so slow and
departed cards look to the host exactly as they do on hardware.
"""
from __future__ import annotations

import errno
import os
import select
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from typing import Self

from drivers.sim.iso14443 import Field, TypeACard

ACK = bytes.fromhex("0000FF00FF00")
NACK = bytes.fromhex("0000FFFF0000")
ERROR_FRAME = bytes.fromhex("0000FF01FF7F8100")  # application-level syntax error
FIRMWARE = bytes.fromhex("32010607")              # IC 32h (PN532), v1.6, ISO 14443 A/B + FeliCa

STATUS_OK = 0x00
STATUS_TIMEOUT = 0x01

REG_FIFO_DATA = 0x6339
REQA = 0x26


def build_frame(data: bytes) -> bytes:
    """Wrap chip-to-host bytes (D5, response code, payload) in a PN532 frame."""
    checksum = (-sum(data)) & 0xFF
    if len(data) < 256:
        head = bytes([0x00, 0x00, 0xFF, len(data), (-len(data)) & 0xFF])
    else:
        hi, lo = len(data) >> 8, len(data) & 0xFF
        head = bytes([0x00, 0x00, 0xFF, 0xFF, 0xFF, hi, lo, (-(hi + lo)) & 0xFF])
    return head + data + bytes([checksum, 0x00])


def split_frames(buffer: bytearray) -> list[bytes]:
    """Take every complete host frame out of `buffer`; leave a partial one in it.

    Returns the frame bodies (TFI onwards, without checksum) and the special
    frames ACK/NACK as themselves. A candidate that fails a check (length
    checksum, data checksum, an empty body) is dropped by its start code only:
    the chip resynchronises on the next start code, which may lie *inside*
    the bytes the bad candidate claimed. A host that wrote half an ACK
    before reopening the port (its close flushed the rest) is followed by
    its next command's start code; that command is still answered. A frame
    with a bad data checksum is not acknowledged, as on the real chip, so
    the host times out.
    """
    frames: list[bytes] = []
    while True:
        start = buffer.find(b"\x00\xFF")
        if start < 0:
            del buffer[: max(0, len(buffer) - 1)]
            return frames
        rest = buffer[start + 2:]
        if len(rest) < 3:
            del buffer[:start]
            return frames
        if rest[:3] == b"\x00\xFF\x00":
            frames.append(ACK)
            del buffer[: start + 5]
            continue
        if rest[:3] == b"\xFF\x00\x00":
            frames.append(NACK)
            del buffer[: start + 5]
            continue
        if rest[0] == 0xFF and rest[1] == 0xFF:  # extended frame
            if len(rest) < 5:
                del buffer[:start]
                return frames
            length = rest[2] << 8 | rest[3]
            header = 5
            length_ok = not (rest[2] + rest[3] + rest[4]) & 0xFF
        else:
            length = rest[0]
            header = 2
            length_ok = not (rest[0] + rest[1]) & 0xFF
        if not length_ok or length == 0:
            del buffer[: start + 2]   # not a frame: look for the next start code
            continue
        total = header + length + 2  # + DCS + postamble
        if len(rest) < total:
            del buffer[:start]
            return frames
        body = bytes(rest[header: header + length])
        checksum = rest[header + length]
        if (sum(body) + checksum) & 0xFF:
            del buffer[: start + 2]
            continue
        del buffer[: start + 2 + total]
        frames.append(body)


class SimulatedPN532:
    """A PN532 answering on a pty, with a `Field` of virtual cards in front of it.

    Use as a context manager; `path` is the tty to open. Each instance has its
    own pty, so parallel tests never share a reader.
    """

    def __init__(self, field: Field | None = None) -> None:
        self.field = field if field is not None else Field()
        self.commands_seen: deque[int] = deque(maxlen=1024)   # the latest commands (tests look at the last)
        self._registers: dict[int, int] = {}
        self._rf_timeout_s = 0.0512
        self._target: TypeACard | None = None
        self._last_response = b""
        self._buffer = bytearray()
        self._pending: list[bytes] = []
        self._master = self._slave = -1
        self._stop_r = self._stop_w = -1
        self._thread: threading.Thread | None = None
        self.path = ""
        self._handlers: dict[int, Callable[[bytes], bytes | None]] = {
            0x00: self._diagnose,
            0x02: lambda p: FIRMWARE,
            0x06: self._read_register,
            0x08: self._write_register,
            0x10: lambda p: b"",   # SetSerialBaudRate: a pty runs at any speed
            0x12: lambda p: b"",   # SetParameters: the flags nfcpy sets need no behaviour here
            0x14: lambda p: b"",   # SAMConfiguration: normal mode, no SAM
            0x16: lambda p: bytes([STATUS_OK]),  # PowerDown
            0x32: self._rf_configuration,
            0x42: self._in_communicate_thru,
            0x4A: self._in_list_passive_target,
        }

    # --- lifecycle -------------------------------------------------------------
    def start(self) -> Self:
        self._master, self._slave = os.openpty()
        # raw from the start: an echoing line discipline would bounce our own
        # answers back to us before the host's serial driver sets raw mode.
        # The slave stays open here too, so the host closing and reopening the
        # port (it does on a baud rate change) never hangs up the master.
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"sim-pn532 {self.path}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the chip; its thread closes the pty and the stop pipe on its way out.

        The thread owns its file descriptors: closing them here while it might
        still be inside a command would hand their numbers to whatever the
        process opens next -- another simulated chip's pty, a reader's port --
        and the old thread would then read that device's bytes or write its
        late answers into it. So `close` waits for the thread (every wait in
        it also watches the stop pipe) and never closes a descriptor it uses.
        """
        if self._thread is None:
            return
        os.write(self._stop_w, b"x")
        self._thread.join()
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the UART --------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                ready, _, _ = select.select([self._master, self._stop_r], [], [])
                if self._stop_r in ready:
                    return
                self._receive()
                while self._pending:
                    self._on_frame(self._pending.pop(0))
        finally:
            for fd in (self._master, self._slave, self._stop_r, self._stop_w):
                os.close(fd)

    def _receive(self) -> None:
        """Read what the host wrote and queue its complete frames."""
        try:
            chunk = os.read(self._master, 4096)
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            time.sleep(0.01)   # EIO while no slave is open: wait for the next opener
            return
        self._buffer += chunk
        self._pending += split_frames(self._buffer)

    def _cancelled_before(self, moment: float) -> bool:
        """Wait until `moment` unless the host cancels first (an ACK frame from the host).

        The real chip aborts the running command on the host's ACK and sends
        nothing for it. Answering anyway would put a stale response in front
        of the host's next command: nfcpy would read it as that command's
        answer (an "input/output error"). A host that gave up early -- it
        counts its timeout from its write, and a loaded machine may hand us
        the frame late -- must find the line quiet.
        """
        while True:
            if ACK in self._pending:
                self._pending.remove(ACK)
                return True
            delay = moment - time.monotonic()
            if delay <= 0:
                return False
            ready, _, _ = select.select([self._master, self._stop_r], [], [], delay)
            if self._stop_r in ready:
                return True
            if self._master in ready:
                self._receive()

    def _on_frame(self, frame: bytes) -> None:
        if frame == ACK:
            return  # the host cancels a command that has already been answered
        if frame == NACK:
            self._write(self._last_response)
            return
        if len(frame) < 2 or frame[0] != 0xD4:
            self._write(ACK + ERROR_FRAME)
            return
        command, params = frame[1], frame[2:]
        self.commands_seen.append(command)
        handler = self._handlers.get(command)
        if handler is None:
            self._write(ACK + ERROR_FRAME)
            return
        self._write(ACK)
        payload = handler(params)
        if payload is None:
            return  # cancelled by the host: no answer, as on the chip
        self._last_response = build_frame(bytes([0xD5, command + 1]) + payload)
        self._write(self._last_response)

    def _write(self, data: bytes) -> None:
        os.write(self._master, data)

    # --- commands --------------------------------------------------------------
    def _diagnose(self, params: bytes) -> bytes:
        if params[:1] == b"\x00":  # communication line test: echo everything
            return params
        return bytes([STATUS_OK])

    def _read_register(self, params: bytes) -> bytes:
        values = bytearray()
        for i in range(0, len(params) - 1, 2):
            values.append(self._registers.get(params[i] << 8 | params[i + 1], 0))
        return bytes(values)

    def _write_register(self, params: bytes) -> bytes:
        for i in range(0, len(params) - 2, 3):
            self._registers[params[i] << 8 | params[i + 1]] = params[i + 2]
        return b""

    def _rf_configuration(self, params: bytes) -> bytes:
        item = params[0] if params else None
        if item == 0x01 and len(params) >= 2 and not params[1] & 0x01:
            self._field_off()
        elif item == 0x02 and len(params) >= 4:
            index = params[3]
            self._rf_timeout_s = (100 << (index - 1)) / 1e6 if index else 0.0
        return b""

    def _field_off(self) -> None:
        self.field.power_off()
        self._target = None

    def _in_list_passive_target(self, params: bytes) -> bytes:
        max_targets, bitrate = params[0], params[1]
        if bitrate != 0:  # only 106 kbps Type A cards are simulated
            return b"\x00"
        wanted_uid = params[2:]
        if len(wanted_uid) > 4 and wanted_uid[0] == 0x88:  # cascade tag
            wanted_uid = wanted_uid[1:]
        answering = [c for c in self.field.cards() if c.answers_poll()]
        if wanted_uid:
            answering = [c for c in answering if c.uid == wanted_uid]
        if not answering:
            self._registers[REG_FIFO_DATA] = REQA  # REQA still in the FIFO: nobody answered
            self._target = None
            return b"\x00"
        self._registers[REG_FIFO_DATA] = 0x00
        selected = answering[: min(max_targets, 2)]
        payload = bytearray([len(selected)])
        for number, card in enumerate(selected, start=1):
            card.select()
            payload += bytes([number]) + TypeACard.SENS_RES + bytes([card.sak, len(card.uid)]) + card.uid
        self._target = selected[0]
        return bytes(payload)

    def _in_communicate_thru(self, params: bytes) -> bytes | None:
        started = time.monotonic()
        deadline = started + (self._rf_timeout_s or 10.0)
        answer = self._target.receive(params) if self._target is not None else None
        if answer is None or answer.frame is None or answer.ready_at > deadline:
            return None if self._cancelled_before(deadline) else bytes([STATUS_TIMEOUT])
        if self._cancelled_before(answer.ready_at):
            return None
        return bytes([STATUS_OK]) + answer.frame
