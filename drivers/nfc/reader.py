"""A contactless reader on nfcpy, and the ISO-DEP card it hands the EMV kernel.

nfcpy does the real work (PN53x/ACR122/RC-S380 drivers, card activation,
ISO-DEP block chaining, waiting-time extensions, retries); this module adds
what a payment terminal needs around it:

- opening from one config string, with typed errors a person can act on:
  `usb[:VID:PID|:BUS:DEV]`, `tty:PORT:DRIVER` (e.g. `tty:USB0:pn532`),
  `udp[:HOST[:PORT]]` (nfcpy's emulated link), or a device path such as a
  pseudo-terminal (`/dev/pts/4`, optionally `/dev/pts/4:pn532`). nfcpy's own
  `tty:` lookup only knows names directly under /dev, so serial devices are
  opened here from a transport built on the path (docs/device-facts.md), and locked so
  a second program gets `ReaderBusy` instead of a garbled conversation;
- a polling loop that a caller can cancel promptly (`poll(cancel)`): one sense
  round per `connect()` iteration, the pause between rounds spent waiting on
  the cancel event;
- collision detection: a PN53x can list two Type A targets at once, so after
  a discovery the reader asks for two and reports `CollisionDetected` when two
  answer (nfcpy itself always asks for one and lets anticollision pick);
- `IsoDepCard`: APDU exchange with nfcpy's errors turned into `CardRemoved`,
  `CardCommunicationError` and `ReaderGone`, and card-removal detection by
  presence check.

Raw frames carry PANs and track 2, so nfcpy's frame logging is capped at INFO.
"""
from __future__ import annotations

import errno
import fcntl
import importlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass

import nfc
import nfc.clf
import nfc.clf.device
import nfc.clf.transport
import nfc.tag
import nfc.tag.tt4
import serial

from drivers.nfc.errors import (
    CardCommunicationError,
    CardRemoved,
    CollisionDetected,
    ReaderBusy,
    ReaderError,
    ReaderGone,
    ReaderMissing,
    ReaderPermissionDenied,
    UnsupportedCard,
)

log = logging.getLogger(__name__)

POLL_TARGETS = ("106A", "106B")   # EMV polls both Type A and Type B
POLL_INTERVAL_S = 0.1
POLL_IO_ATTEMPTS = 3   # sense rounds in a row that must fail before the reader counts as gone
SERIAL_DRIVERS = tuple(nfc.clf.device.tty_driver_list)   # ("arygon", "pn532")
_IN_LIST_PASSIVE_TARGET = 0x4A
_APDU_NAMES = {0xA4: "SELECT", 0xA8: "GET PROCESSING OPTIONS", 0xB2: "READ RECORD",
               0xAE: "GENERATE AC", 0xCA: "GET DATA", 0xC0: "GET RESPONSE"}


class InvalidReaderPath(ReaderError):
    """The reader setting is not one of the forms this driver opens."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(
            f"reader path {path!r} {reason}; expected usb[:VID:PID], tty:PORT:DRIVER, "
            "udp[:HOST[:PORT]] or a device path such as /dev/ttyUSB0"
        )


@dataclass(frozen=True)
class ReaderPath:
    """A parsed reader setting: `kind` is "usb", "udp" or "serial"."""

    kind: str
    target: str          # nfcpy path for usb/udp, device file for serial
    driver: str = ""     # nfcpy driver module for serial devices


def parse_reader_path(text: str) -> ReaderPath:
    """Understand a reader setting (see the module docstring for the forms)."""
    text = text.strip()
    if not text:
        raise InvalidReaderPath(text, "is empty")
    if text == "usb" or text.startswith("usb:"):
        return ReaderPath("usb", text)
    if text == "udp" or text.startswith("udp:"):
        return ReaderPath("udp", text)
    if text.startswith("tty:"):
        parts = text.split(":")
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise InvalidReaderPath(text, "needs both a port and a driver (tty:USB0:pn532)")
        port = parts[1]
        device = f"/dev/tty{port}" if re.fullmatch(r"(S|ACM|AMA|USB)\d+", port) else f"/dev/{port}"
        return ReaderPath("serial", device, _check_driver(text, parts[2]))
    if text.startswith("/"):
        device, _, driver = text.partition(":")
        return ReaderPath("serial", device, _check_driver(text, driver or "pn532"))
    raise InvalidReaderPath(text, "is not understood")


def _check_driver(text: str, driver: str) -> str:
    if driver not in SERIAL_DRIVERS:
        raise InvalidReaderPath(text, f"names driver {driver!r}, not one of {', '.join(SERIAL_DRIVERS)}")
    return driver


def open_reader(text: str) -> NfcReader:
    """Open the reader a setting names; raises a `ReaderError` saying what to fix."""
    logging.getLogger("nfc").setLevel(max(logging.getLogger("nfc").level, logging.INFO))
    path = parse_reader_path(text)
    if path.kind == "serial":
        return _open_serial(text, path)
    clf = nfc.ContactlessFrontend()
    if path.kind == "usb":
        _check_usb_access(text)
    try:
        opened = clf.open(path.target)
    except OSError as error:
        raise _reader_error(text, error) from error
    if not opened:
        raise ReaderMissing(text)
    return NfcReader(text, clf)


def _check_usb_access(text: str) -> None:
    """Name the udev rule when every matching reader is there but not ours to open."""
    found = nfc.clf.transport.USB.find(text) or []
    known = [(bus, dev) for vid, pid, bus, dev in found if (vid, pid) in nfc.clf.device.usb_device_map]
    nodes = [f"/dev/bus/usb/{int(bus):03d}/{int(dev):03d}" for bus, dev in known]
    if nodes and not any(os.access(node, os.R_OK | os.W_OK) for node in nodes):
        raise ReaderPermissionDenied(nodes[0])


def _open_serial(text: str, path: ReaderPath) -> NfcReader:
    lock_fd = _lock_device(text, path.target)
    transport = None
    try:
        transport = InOrderTTY(path.target)
        driver = importlib.import_module(f"nfc.clf.{path.driver}")
        device = driver.init(transport)
    except (OSError, serial.SerialException) as error:
        if transport is not None:
            transport.close()
        os.close(lock_fd)
        if getattr(error, "errno", None) in (errno.ENODEV, errno.ETIMEDOUT):
            raise ReaderMissing(text, f"no {path.driver.upper()} answered on {path.target}") from error
        raise _reader_error(text, error) from error
    device._path = path.target  # what nfcpy's own device lookup sets
    clf = nfc.ContactlessFrontend()
    clf.device = device
    return NfcReader(text, clf, lock_fd=lock_fd)


ACK_PATIENCE_MS = 1000   # how long a command's ACK may take to reach a busy host (see InOrderTTY)


class InOrderTTY(nfc.clf.transport.TTY):
    """nfcpy's serial transport, dropping answers to commands the host gave up on.

    A PN53x answers a command with an ACK frame, then a response whose code
    is the command's plus one. When nfcpy stops waiting (its ACK window is
    100 ms, counted from its write) it cancels and moves on, but an answer
    already on its way still arrives -- after the flush nfcpy does before
    its next write -- and nfcpy would take it for the next command's answer:
    a wrong response code, an "input/output error", a reader that seems
    broken. A slow host (a loaded machine, a busy USB-serial adapter) hits
    this on real chips as well as on the simulator. So reads here skip a
    response frame whose code does not belong to the command last written;
    a stale ACK in front of the fresh one is harmless (nfcpy reads on while
    it gets ACKs). The deadline of the read is kept.

    The wait for a command's ACK is at least `ACK_PATIENCE_MS`, not nfcpy's
    100 ms. A chip acknowledges within a few milliseconds, but the host only
    sees it once it is scheduled: with the simulated chip -- a thread of
    this same process -- on a loaded machine (neighbour processes starting
    and being killed), the ACK came after 100 ms about once in a few hundred
    openings, and nfcpy declared the reader broken ("input/output error",
    "no PN532 answered"). A reader that is really gone is still found out,
    a second later. Response timeouts (the card's time) are nfcpy's own.
    """

    def __init__(self, port: str) -> None:
        self._expected: int | None = None
        self._awaiting_ack = False
        super().__init__(port)

    def write(self, frame: bytes | bytearray) -> None:
        command = _command_code(bytes(frame))
        if command is not None:
            self._expected = command + 1
            self._awaiting_ack = True
        super().write(frame)

    def read(self, timeout: int) -> bytearray:
        if self._awaiting_ack:
            timeout = max(timeout, ACK_PATIENCE_MS)
            self._awaiting_ack = False
        deadline = time.monotonic() + timeout / 1e3
        while True:
            frame: bytearray = super().read(timeout)
            code = _response_code(bytes(frame))
            if code is None or self._expected is None or code in (self._expected, 0x7F):
                return frame
            log.debug("dropped a late answer (response code %02X, waiting for %02X)", code, self._expected)
            timeout = max(1, int((deadline - time.monotonic()) * 1e3))
            if time.monotonic() >= deadline:
                raise OSError(errno.ETIMEDOUT, os.strerror(errno.ETIMEDOUT))


def _frame_body(frame: bytes) -> bytes:
    """TFI onwards of a PN53x information frame, after its preamble; b"" for ACK, NACK, garbage."""
    start = frame.find(b"\x00\xff")
    if start < 0 or len(frame) < start + 5:
        return b""
    head = frame[start + 2:]
    if head[:2] == b"\xff\xff":   # extended frame
        return bytes(head[5:7]) if len(head) >= 7 else b""
    if head[0] == 0 or len(head) < 4:    # ACK (00 FF), or too short
        return b""
    return bytes(head[2:4])


def _command_code(frame: bytes) -> int | None:
    body = _frame_body(frame)
    return body[1] if len(body) == 2 and body[0] == 0xD4 else None


def _response_code(frame: bytes) -> int | None:
    body = _frame_body(frame)
    if body[:1] == b"\x7f":
        return 0x7F
    return body[1] if len(body) == 2 and body[0] == 0xD5 else None


def _lock_device(text: str, device: str) -> int:
    """Open and flock the device: the same lock pyserial's `exclusive` option takes."""
    try:
        fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as error:
        raise _reader_error(text, error) from error
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        raise ReaderBusy(text) from error
    return fd


def _reader_error(text: str, error: BaseException) -> ReaderError:
    code = getattr(error, "errno", None)
    if code in (errno.EACCES, errno.EPERM):
        return ReaderPermissionDenied(text)
    if code in (errno.EBUSY, errno.EAGAIN):
        return ReaderBusy(text)
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return ReaderMissing(text, os.strerror(code))
    return ReaderMissing(text, str(error))


class NfcReader:
    """One open reader. `poll` finds the next card; one poll at a time."""

    def __init__(self, path: str, clf: nfc.ContactlessFrontend, *, lock_fd: int | None = None) -> None:
        self.path = path
        self._clf = clf
        self._lock_fd = lock_fd
        self._poll_lock = threading.Lock()

    def poll(self, cancel: threading.Event, *, interval: float = POLL_INTERVAL_S) -> IsoDepCard | None:
        """Block until a card is activated; None once `cancel` is set.

        Raises `CollisionDetected` when two cards answer, `UnsupportedCard`
        for a tag without ISO-DEP, `ReaderGone` when the reader fails. Cancel
        takes effect within one sense round (a few milliseconds on a PN532).
        """
        with self._poll_lock:
            collisions: list[int] = []
            first_round = [True]

            def terminate() -> bool:
                if collisions:
                    return True
                if first_round[0]:
                    first_round[0] = False
                    return cancel.is_set()
                return cancel.wait(interval)

            def on_discover(target: nfc.clf.RemoteTarget) -> bool:
                count = self._count_type_a_cards() if target.brty == "106A" else 1
                if count > 1:
                    collisions.append(count)
                return count == 1

            options = {"targets": list(POLL_TARGETS), "on-discover": on_discover,
                       "on-connect": lambda tag: False, "iterations": 1, "interval": interval,
                       "beep-on-connect": False}
            for attempt in range(1, POLL_IO_ATTEMPTS + 1):
                tag = self._clf.connect(rdwr=options, terminate=terminate)
                # nfcpy answers False for an I/O error in a sense round. One late
                # answer from a busy chip (or a busy host) is not an unplugged
                # reader: only several failures in a row are.
                if tag is not False or collisions or cancel.is_set():
                    break
                if attempt == POLL_IO_ATTEMPTS:
                    raise ReaderGone(self.path, "input/output error while polling")
                cancel.wait(interval)
            if collisions:
                raise CollisionDetected(collisions[0])
            if tag is False:
                return None  # cancelled after a failed round
            if tag is None:
                return None
            if not isinstance(tag, nfc.tag.tt4.Type4Tag):
                raise UnsupportedCard(tag.type)
            return IsoDepCard(self.path, tag)

    def _count_type_a_cards(self) -> int:
        """How many Type A cards answer a fresh poll (PN53x chips list up to two)."""
        device = self._clf.device
        chipset = getattr(device, "chipset", None)
        if chipset is None or getattr(chipset, "in_list_passive_target_max_target", 1) < 2:
            return 1  # this chip cannot tell: trust anticollision
        device.mute()  # field off and on: every card back to idle, as for a new poll
        assert chipset is not None   # a PN53x device: checked just above
        try:
            answer = chipset.command(_IN_LIST_PASSIVE_TARGET, bytearray([2, 0x00]), timeout=1.0)
        except OSError as error:
            raise ReaderGone(self.path, str(error)) from error
        return answer[0] if answer else 0

    def close(self) -> None:
        self._clf.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> NfcReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"NfcReader({self.path!r})"


class IsoDepCard:
    """An activated ISO-DEP card (or phone): the transport the EMV kernel runs on."""

    def __init__(self, reader_path: str, tag: nfc.tag.tt4.Type4Tag) -> None:
        self.reader_path = reader_path
        self._tag = tag
        self.uid = bytes(tag.identifier)

    def exchange(self, apdu: bytes) -> bytes:
        """Send one command APDU; return response data + SW1 SW2.

        ISO-DEP chaining and waiting-time extensions happen underneath.
        """
        during = _APDU_NAMES.get(apdu[1], f"INS {apdu[1]:02X}") if len(apdu) > 1 else "a short APDU"
        try:
            response = self._tag.transceive(bytes(apdu))
        except nfc.tag.tt4.Type4TagCommandError as error:
            if error.errno == nfc.tag.TIMEOUT_ERROR:
                raise CardRemoved(during) from error
            raise CardCommunicationError(during, str(error)) from error
        except nfc.clf.TimeoutError as error:
            raise CardRemoved(during) from error
        except nfc.clf.CommunicationError as error:
            raise CardCommunicationError(during, type(error).__name__) from error
        except OSError as error:
            raise ReaderGone(self.reader_path, str(error)) from error
        if response is None or len(response) < 2:
            raise CardCommunicationError(during, "answer shorter than a status word")
        return bytes(response)

    def is_present(self) -> bool:
        """Presence check (an ISO-DEP R(NAK)): False once the card has left the field."""
        try:
            return bool(self._tag.is_present)
        except OSError as error:
            raise ReaderGone(self.reader_path, str(error)) from error

    def wait_removed(self, cancel: threading.Event | None = None, *, interval: float = POLL_INTERVAL_S) -> bool:
        """Block until the card leaves the field (True) or `cancel` is set (False)."""
        cancel = cancel or threading.Event()
        while self.is_present():
            if cancel.wait(interval):
                return False
        return True

    def __repr__(self) -> str:
        return f"IsoDepCard(uid={self.uid.hex().upper()})"
