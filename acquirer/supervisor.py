"""N host processes on one listening socket, and a supervisor that restarts a dead one.

Why a pre-forked shared socket (rather than SO_REUSEPORT sockets of their
own): the supervisor binds and listens once, so `--port 0` still names one
port, connections that arrive while a child is being replaced wait in the
shared accept queue instead of being refused, and the kernel hands each
new connection to whichever child accepts first (an idle one). Only the
children open the database (after the fork: a connection must never be
shared across processes).

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
import time
from collections.abc import Callable

__all__ = ["Supervisor", "listening_socket"]

log = logging.getLogger("acquirer.supervisor")

#: a child that dies sooner than this after its start is restarted only after a pause
_QUICK_DEATH_S = 1.0


def listening_socket(address: str, port: int, backlog: int = 1024) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


class Supervisor:
    """Forks `processes` children running `child(index, ready)` and keeps that many alive.

    A child calls `ready()` once it accepts connections; `run` calls `on_ready`
    when every first child has (the host prints its listening line then).
    """

    def __init__(self, processes: int, child: Callable[[int, Callable[[], None]], None],
                 on_ready: Callable[[], None] = lambda: None) -> None:
        if processes < 1:
            raise ValueError("at least one process")
        self.processes = processes
        self.child = child
        self.on_ready = on_ready
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
                self.child(index, lambda: os.write(self._ready_w, b"r") and None)
            except BaseException:  # noqa: BLE001 - a child reports and exits, never returns to the supervisor
                log.exception("host process %d failed", index)
                code = 1
            finally:
                os._exit(code)
        self.children[pid] = index
        log.info("host process %d started (pid %d)", index, pid)

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
            index = self.children.pop(pid, None)
            if index is None or self._stopping:
                continue
            log.error("host process %d (pid %d) ended (%s); starting another", index, pid,
                      _describe(status))
            if time.monotonic() - started[index] < _QUICK_DEATH_S:
                time.sleep(_QUICK_DEATH_S)   # do not spin on a child that cannot start
            self._fork(index)
            started[index] = time.monotonic()
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
                index = self.children.pop(pid, None)
                log.error("host process %s (pid %d) ended before it was ready (%s)", index, pid,
                          _describe(status))
                raise SystemExit(1)
        self.on_ready()


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"
