"""N host processes on one port, and a supervisor that restarts a dead one.

The supervisor binds the port once (so `--port 0` still names one port) and
the children serve it. How connections are spread over them:

- **Linux**: the supervisor's socket is bound with SO_REUSEPORT and never
  listens; each child listens on a socket of its own bound to the same
  address (`process_socket`), and the kernel hands each new connection to
  one of them by a hash of its addresses, so terminals spread evenly over
  the processes. With one shared accept queue they did not: asyncio
  accepts every connection waiting when its process wakes, so a burst of
  connecting terminals landed mostly on one process (the bench's CPU split
  was 25/75 with 2 processes), and terminals keep their connections. The
  price: connections still queued on a child that dies are reset (their
  terminals reconnect and reverse, as for the connections it was serving),
  and another `acquirer serve` of the same user on the same port would join
  the group instead of failing.
- **Elsewhere** (SO_REUSEPORT does not balance on the BSDs): one listening
  socket shared by the children, as before.

Only the children open the database (after the fork: a connection must never
be shared across processes).

The supervisor runs no event loop and holds no database connection. SIGTERM
or SIGINT stops it: each child gets SIGTERM (it finishes its open group
commit and exits), and the supervisor waits for all of them.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable

__all__ = ["Supervisor", "listening_socket", "process_socket"]

log = logging.getLogger("acquirer.supervisor")

#: a child that dies sooner than this after its start is restarted only after a pause
_QUICK_DEATH_S = 1.0


#: the kernel spreads connections over the processes' own sockets (see the module's docstring)
SPREAD_BY_KERNEL = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def listening_socket(address: str, port: int, backlog: int = 1024) -> socket.socket:
    """The port the processes serve. On Linux bound with SO_REUSEPORT and not listening
    (each process listens on its own, `process_socket`); elsewhere listening, shared.
    A socket handed to asyncio as it is (the wallet apps' port) is listened on by asyncio
    in the first child that serves it and then shared by all, as before."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if SPREAD_BY_KERNEL:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((address, port))
    if not SPREAD_BY_KERNEL:
        sock.listen(backlog)
    sock.setblocking(False)
    return sock


def process_socket(reserved: socket.socket, backlog: int = 1024) -> socket.socket:
    """What one process accepts on: its own listening socket on `reserved`'s address when
    `reserved` has SO_REUSEPORT (Linux), otherwise `reserved` itself, shared."""
    if not SPREAD_BY_KERNEL or not reserved.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT):
        return reserved
    own = socket.socket(reserved.family, socket.SOCK_STREAM)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    own.bind(reserved.getsockname())
    own.listen(backlog)
    own.setblocking(False)
    return own


class Supervisor:
    """Forks `processes` children running `child(index, ready)` and keeps that many alive.

    A child calls `ready()` once it accepts connections; `run` calls `on_ready`
    when every first child has (the host prints its listening line then).
    """

    def __init__(self, processes: int, child: Callable[[int, Callable[[], None]], None],
                 on_ready: Callable[[], None] = lambda: None,
                 on_death: Callable[[int], None] | None = None) -> None:
        if processes < 1:
            raise ValueError("at least one process")
        self.processes = processes
        self.child = child
        self.on_ready = on_ready
        self.on_death = on_death
        self.children: dict[int, int] = {}   # pid -> index
        self._stopping = False
        self._ready_r, self._ready_w = os.pipe()

    def _fork(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.close(self._ready_r)
                self.child(index, self._notify_ready)
            except BaseException:
                log.exception("host process %d failed", index)
                code = 1
            finally:
                os._exit(code)
        self.children[pid] = index
        log.info("host process %d started (pid %d)", index, pid)

    def _notify_ready(self) -> None:
        """Called in a child once it accepts connections."""
        os.write(self._ready_w, b"r")

    def _stop(self, signum: int, _frame: object) -> None:
        self._stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def run(self) -> int:
        """Run until stopped by SIGTERM/SIGINT; returns the exit status."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        started: dict[int, float] = {}
        for index in range(self.processes):
            self._fork(index)
            started[index] = time.monotonic()
        self._wait_ready()
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            dead = self.children.pop(pid) if pid in self.children else None
            if self.on_death is not None:
                self.on_death(pid)
            if dead is None or self._stopping:
                continue
            log.error("host process %d (pid %d) ended (%s); starting another", dead, pid,
                      _describe(status))
            if time.monotonic() - started[dead] < _QUICK_DEATH_S:
                time.sleep(_QUICK_DEATH_S)   # do not spin on a child that cannot start
            self._fork(dead)
            started[dead] = time.monotonic()
        return 0


    def _wait_ready(self) -> None:
        """Until every first child said it accepts connections. A child that dies first
        ends the wait (its error is in the log): a host that cannot start must not hang."""
        ready = 0
        while ready < self.processes and not self._stopping:
            readable, _, _ = select.select([self._ready_r], [], [], 0.2)
            if readable:
                ready += len(os.read(self._ready_r, self.processes - ready))
                continue
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid:
                index = self.children.pop(pid) if pid in self.children else None
                log.error("host process %s (pid %d) ended before it was ready (%s)", index, pid,
                          _describe(status))
                raise SystemExit(1)
        self.on_ready()


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"
