"""A simulated ESC/POS receipt printer on loopback TCP and on a pty.

It lets the real driver code run without hardware: python-escpos's `Network`
class connects to `serve_tcp()`'s port, its `Serial` class opens the pty path
from `open_pty()`. What arrives is interpreted (`drivers.sim.escpos_interpreter`)
into one paper roll, `document`, shared by every connection, as on a real
printer. Real-time status queries (DLE EOT 1..4) are answered from the
printer's condition, with the bit layout of Epson's ESC/POS reference (fixed
bits 0x12, offline 0x08; cover open 0x04, stopped by paper end 0x20 and error
0x40 in the offline cause; near end 0x0C and paper end 0x60 in the roll sensor
status), which is what python-escpos's `is_online()` and `paper_status()` read.

Faults: `run_out_of_paper()`, `open_cover()` and `go_offline()` make it
offline; while offline it still answers status queries but DISCARDS print
data (what a printer without paper does with it), so a job sent then is lost
and must be sent again. `fail_after(n, fault)` trips a fault after n more bytes
of print data, to fail in the middle of a job. `load_paper()`,
`close_cover()` and `come_back()` clear them.

Servers listen on loopback only.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import select
import socket
import threading
import tty
from dataclasses import replace
from typing import Literal
from collections.abc import Callable

from drivers.sim.escpos_interpreter import Cut, Document, Interpreter

__all__ = ["Fault", "SimulatedPrinter"]

Fault = Literal["paper_out", "cover_open", "offline"]
_FIXED = 0x12
#: the paper kept in memory: past this many items the oldest slips (up to a cut) are torn off,
#: so a simulator that prints for days (`pos daemon --simulate`) stays the same size
PAPER_KEPT_ITEMS = 20_000


class SimulatedPrinter:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._document = Document()
        self._paper: Literal["ok", "near_end", "out"] = "ok"
        self._cover_open = False
        self._error = False
        self._trip: tuple[int, Fault] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._closers: list[Callable[[], None]] = []

    # --- condition --------------------------------------------------------
    def run_out_of_paper(self) -> None:
        with self._cond:
            self._paper = "out"

    def paper_near_end(self) -> None:
        with self._cond:
            self._paper = "near_end"

    def load_paper(self) -> None:
        with self._cond:
            self._paper = "ok"

    def open_cover(self) -> None:
        with self._cond:
            self._cover_open = True

    def close_cover(self) -> None:
        with self._cond:
            self._cover_open = False

    def go_offline(self) -> None:
        """An error that stops printing (e.g. a cutter jam)."""
        with self._cond:
            self._error = True

    def come_back(self) -> None:
        """Every fault cleared: paper loaded, cover closed, error recovered."""
        with self._cond:
            self._paper, self._cover_open, self._error, self._trip = "ok", False, False, None

    def fail_after(self, nbytes: int, fault: Fault) -> None:
        """Trip `fault` once `nbytes` more bytes of print data have been taken in."""
        if fault not in ("paper_out", "cover_open", "offline"):
            raise ValueError(f"unknown fault {fault!r}")
        with self._cond:
            self._trip = (nbytes, fault)

    @property
    def online(self) -> bool:
        with self._cond:
            return self._printing()

    def _printing(self) -> bool:
        return self._paper != "out" and not self._cover_open and not self._error

    def _consumed(self, nbytes: int) -> None:
        if self._trip is None:
            return
        left, fault = self._trip
        left -= nbytes
        if left > 0:
            self._trip = (left, fault)
            return
        self._trip = None
        if fault == "paper_out":
            self._paper = "out"
        elif fault == "cover_open":
            self._cover_open = True
        else:
            self._error = True

    def _status_byte(self, n: int) -> bytes:
        if n == 1:
            return bytes([_FIXED | (0 if self._printing() else 0x08)])
        if n == 2:
            return bytes([_FIXED | (0x04 if self._cover_open else 0) | (0x20 if self._paper == "out" else 0)
                          | (0x40 if self._error else 0)])
        if n == 3:
            return bytes([_FIXED | (0x40 if self._error else 0)])
        if n == 4:
            return bytes([_FIXED | {"ok": 0, "near_end": 0x0C, "out": 0x6C}[self._paper]])
        return b""   # a real printer ignores DLE EOT with an unknown n

    # --- what was printed ---------------------------------------------------
    @property
    def document(self) -> Document:
        """A snapshot of the paper so far."""
        with self._cond:
            return replace(self._document, items=list(self._document.items))

    def wait_until(self, predicate: Callable[[Document], bool], timeout: float = 5.0) -> Document:
        """Block until the paper satisfies `predicate`; TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self._document), timeout):
                raise TimeoutError(f"simulated printer: condition not met within {timeout} s; "
                                   f"printed so far: {self._document.text_lines}")
            return replace(self._document, items=list(self._document.items))

    def _interpreter(self, answer: Callable[[bytes], None]) -> Interpreter:
        return Interpreter(self._document,
                           on_status=lambda n: answer(self._status_byte(n)),
                           accepting=self._printing,
                           on_consumed=self._consumed)

    def _take(self, interpreter: Interpreter, data: bytes) -> None:
        with self._cond:
            interpreter.feed(data)
            self._tear_off()
            self._cond.notify_all()

    def _tear_off(self) -> None:
        """Drop the oldest whole slips beyond `PAPER_KEPT_ITEMS` (caller holds the condition)."""
        items = self._document.items
        excess = len(items) - PAPER_KEPT_ITEMS
        if excess <= 0:
            return
        cut = next((i for i in range(excess - 1, len(items)) if isinstance(items[i], Cut)), None)
        if cut is not None:
            del items[:cut + 1]

    # --- transports -----------------------------------------------------------
    def serve_tcp(self, port: int = 0, host: str = "127.0.0.1") -> tuple[str, int]:
        """Listen on loopback (port 0: any free port); returns (host, port)."""
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the simulated printer listens on loopback only, not {host}")
        server = socket.create_server((host, port))
        server.settimeout(0.1)
        self._closers.append(server.close)
        self._spawn(self._accept_loop, server)
        return host, server.getsockname()[1]

    def _accept_loop(self, server: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.1)
            self._spawn(self._connection_loop, conn)

    def _connection_loop(self, conn: socket.socket) -> None:
        """One client's connection; closed when it ends or at `close` (the stop flag ends the loop)."""
        interpreter = self._interpreter(conn.sendall)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                self._take(interpreter, data)

    def open_pty(self) -> str:
        """A serial line: returns the path python-escpos's Serial (pyserial) opens."""
        master, slave = os.openpty()
        tty.setraw(slave)   # no newline translation or echo before a client configures the line
        self._closers.extend([lambda: os.close(master), lambda: os.close(slave)])
        self._spawn(self._pty_loop, master)
        return os.ttyname(slave)

    def _pty_loop(self, master: int) -> None:
        def send(data: bytes) -> None:
            os.write(master, data)

        interpreter = self._interpreter(send)
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(master, 65536)
            except OSError as exc:
                if exc.errno == errno.EIO:   # no client has the line open right now
                    self._stop.wait(0.05)
                    continue
                return
            self._take(interpreter, data)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"sim-printer-{target.__name__}")
        self._threads = [t for t in self._threads if t.is_alive()]   # one per connection: forget the ended ones
        self._threads.append(thread)
        thread.start()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for closer in self._closers:
            try:
                closer()
            except OSError:
                pass

    def __enter__(self) -> SimulatedPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
