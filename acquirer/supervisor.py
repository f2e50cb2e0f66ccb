"""N host processes on one port, each given its share of terminals; a dead one restarted.

`acquirer serve --processes N` starts this supervisor. It binds and listens
on the terminal port once (so `--port 0` still names one port), forks N host
processes, and from then on accepts every terminal connection itself and
hands it to the host process with the fewest open terminal connections (ties:
the one handed a connection least recently), passing the descriptor over a
Unix socket pair made for that process before its fork
(`acquirer.handoff`). Each process tells the supervisor when one of its
connections closes, so the counts follow the terminals.

Why not let the kernel spread them: terminals keep their connections for
hours, so whatever split the first connections get is the split of the load
for hours, and the process with the larger share bounds throughput. With one
listening socket shared by the processes, asyncio accepts every connection
waiting when its process wakes: a burst of connecting terminals landed
mostly on one process (the benchmark's CPU split was 25/75 with 2
processes). With SO_REUSEPORT, a socket per process and the kernel hashing
each connection's addresses to one, 16 terminals over 2 processes landed
6/10 or 5/11 (33/67 CPU, 1,183 authorizations a second against about 1,800
with an even split). Counting open connections gives every process its
share exactly (40 terminals on 3 processes: 13, 13 and 14), whatever the
connections' addresses, on every platform. Node's cluster module hands
connections out from its primary process for the same reason (its default
"round-robin" scheduling, since the operating system's spread was uneven);
here by least connections, since terminals, unlike web requests, stay.

What it costs: the supervisor is in the path of every new connection (not
of any request: after the hand-over the process and the terminal talk
directly). If the supervisor dies, the host processes keep serving the
connections they hold, but the listening socket dies with it (the processes
close their copies after the fork) and new connections are refused until
the service is started again: run it under a service manager that restarts
it (docs/operations.md). A process that dies loses only its own
connections; its count drops to 0 and its replacement, once it serves, is
handed the next connections first.

The wallet apps' port and the statement endpoint are not balanced: the
supervisor binds them (`listening_socket`) and the processes accept on them
as they are (process 0 alone for the statements).

Only the host processes open the database (after the fork: a connection must
never be shared across processes). The supervisor runs no event loop and
holds no database connection: one `selectors` loop waits for new
connections, its processes' messages, child deaths (SIGCHLD through the
signal wake-up descriptor) and the time of a scheduled restart. SIGTERM or
SIGINT stops it: it closes the port, each process gets SIGTERM (it finishes
its open group commit and exits), and the supervisor waits for all of them.
"""
from __future__ import annotations

import errno
import logging
import os
import selectors
import signal
import socket
import time
from collections.abc import Callable

from acquirer.handoff import Dispatcher, HandedConnections

__all__ = ["Supervisor", "listening_socket"]

log = logging.getLogger("acquirer.supervisor")

#: the signals that stop the supervisor and, sent by it, each host process
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
#: a process that dies sooner than this after its start is restarted only after a pause
_QUICK_DEATH_S = 1.0
#: accepting stops this long when the supervisor is out of descriptors or memory
_ACCEPT_PAUSE_S = 0.5
#: connections accepted in one turn before the processes' messages are read again
_ACCEPTS_PER_TURN = 64
#: accept errors that pause accepting: retrying at once would fail again at once
_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def listening_socket(address: str, port: int, backlog: int = 1024) -> socket.socket:
    """A non-blocking listening socket on `address`:`port` (0: any free port), bound before
    the fork so that every process, and the listening line, see the same port."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


class Supervisor:
    """Forks `processes` children running `child(index, handed)`, keeps that many alive, and
    hands each connection accepted on `listener` to one of them.

    A child calls `handed.ready()` once it serves; `run` calls `on_ready` when every
    first child has (the host prints its listening lines then), and only then accepts.
    `on_death(pid)` is called for each child that ends.
    """

    def __init__(self, processes: int, listener: socket.socket,
                 child: Callable[[int, HandedConnections], None],
                 on_ready: Callable[[], None] = lambda: None,
                 on_death: Callable[[int], None] | None = None) -> None:
        if processes < 1:
            raise ValueError("at least one process")
        self.processes = processes
        self.listener = listener
        self.child = child
        self.on_ready = on_ready
        self.on_death = on_death
        self.children: dict[int, int] = {}    # pid -> index
        self.dispatcher = Dispatcher()
        self._pids: dict[int, int] = {}       # index -> pid
        self._started: dict[int, float] = {}  # index -> when it was forked
        self._restarts: dict[int, float] = {}   # index -> when to fork it again
        self._selector = selectors.DefaultSelector()
        self._wakeup_r, self._wakeup_w = os.pipe()
        self._accepting = False
        self._paused_until: float | None = None   # accepting paused (out of descriptors)
        self._announced = False   # every first child served and `on_ready` ran
        self._failed = False      # a first child died before it served
        self._stopping = False    # SIGTERM/SIGINT received
        self._stopped = False     # ... and acted upon

    # --- processes -----------------------------------------------------------------------

    def _fork(self, index: int) -> None:
        """Start host process `index`. SIGTERM and SIGINT are blocked across the fork: one sent
        to the new process before it has put back their default actions (under load it may not
        run for milliseconds) would otherwise run the supervisor's handler in it, which only
        notes the signal, and the process would serve on after its supervisor stopped. Blocked,
        the signal waits in the kernel and ends the process once it unblocks them."""
        theirs = self.dispatcher.pair(index)
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            raise
        if pid == 0:
            code = 0
            try:
                self._leave_to_the_supervisor()
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                self.child(index, HandedConnections(theirs))
            except BaseException:
                log.exception("host process %d failed", index)
                code = 1
            finally:
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        theirs.close()
        self.children[pid] = index
        self._pids[index] = pid
        self._started[index] = time.monotonic()
        self._selector.register(self.dispatcher.links[index].sock, selectors.EVENT_READ,
                                lambda: self._heard(index))
        log.info("host process %d started (pid %d)", index, pid)

    def _leave_to_the_supervisor(self) -> None:
        """In a new child: the supervisor's signals, port and socket pairs are not its own. The
        port closed here dies with the supervisor: a child never holds connections nobody accepts."""
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        self._selector.close()
        self.listener.close()
        for fd in (self._wakeup_r, self._wakeup_w):
            os.close(fd)
        for link in self.dispatcher.links.values():
            link.sock.close()

    def _heard(self, index: int) -> None:
        """Process `index` sent something: ready, or connections closed, or its end closed."""
        link = self.dispatcher.links[index]
        was_ready = link.ready
        if not self.dispatcher.receive(index):
            self._selector.unregister(link.sock)
        elif link.ready and not was_ready:
            log.info("host process %d (pid %d) serves", index, self._pids[index])

    def _reap(self) -> None:
        """Every child that ended: its connections are gone; restart it unless stopping."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            index = self.children.pop(pid, None)
            if self.on_death is not None:
                self.on_death(pid)
            if index is None:
                continue
            link = self.dispatcher.links.get(index)
            if link is not None and link.sock in self._selector.get_map():
                self._selector.unregister(link.sock)
            self.dispatcher.drop(index)
            if self._stopping:
                continue
            if not self._announced:
                log.error("host process %d (pid %d) ended before it was ready (%s)", index, pid,
                          _describe(status))
                self._failed = True
                self._stopping = True   # a host that cannot start must not hang
                continue
            log.error("host process %d (pid %d) ended (%s); starting another", index, pid,
                      _describe(status))
            quick = time.monotonic() - self._started[index] < _QUICK_DEATH_S
            # a child that cannot start is not restarted in a spin; the others go on meanwhile
            self._restarts[index] = time.monotonic() + (_QUICK_DEATH_S if quick else 0.0)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for index, when in sorted(self._restarts.items()):
            if when <= now:
                del self._restarts[index]
                self._fork(index)

    # --- connections ---------------------------------------------------------------------

    def _accept_again(self) -> None:
        self._paused_until = None
        if not self._accepting:
            self._selector.register(self.listener, selectors.EVENT_READ, self._accept)
            self._accepting = True

    def _stop_accepting(self) -> None:
        if self._accepting:
            self._selector.unregister(self.listener)
            self._accepting = False

    def _accept(self) -> None:
        """Accept what is waiting (up to a turn's worth) and hand each connection to a process.
        No peer can end the supervisor: a failed accept costs that connection only."""
        for _ in range(_ACCEPTS_PER_TURN):
            try:
                conn, peer = self.listener.accept()
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno in _RESOURCE_ERRORS:
                    log.error("cannot accept connections (%s): pausing %.1f s", e.strerror or e,
                              _ACCEPT_PAUSE_S)
                    self._stop_accepting()
                    self._paused_until = time.monotonic() + _ACCEPT_PAUSE_S
                    return
                log.warning("a connection failed while accepted: %s", e.strerror or e)
                continue
            try:
                index = self.dispatcher.hand(conn)
            finally:
                conn.close()
            if index is None:
                log.warning("no host process can take the connection from %s: closed", peer)
            else:
                log.debug("connection from %s to host process %d (open: %s)", peer, index,
                          self.dispatcher.open_connections())

    # --- the loop ------------------------------------------------------------------------

    def _signalled(self, signum: int, _frame: object) -> None:
        """SIGTERM/SIGINT: the loop stops everything (a handler does no more than note it)."""
        self._stopping = True

    def _stop_children(self) -> None:
        """Once, when stopping: close the port, drop planned restarts, SIGTERM every child."""
        self._stopped = True
        self._stop_accepting()
        self.listener.close()
        self._restarts.clear()
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def _turn(self) -> None:
        """Wait for the next thing to do, and do it."""
        timeout = 1.0   # SIGCHLD wakes the loop; this only bounds a missed one
        for when in [*self._restarts.values(), self._paused_until]:
            if when is not None:
                timeout = min(timeout, max(0.0, when - time.monotonic()))
        # the processes' messages first: a connection is handed on counts as fresh as they can be
        for key in sorted((key for key, _ in self._selector.select(timeout)),
                          key=lambda key: key.fileobj is self.listener):
            key.data()
        self._reap()
        if self._stopping and not self._stopped:
            self._stop_children()
        if self._stopped:
            return
        self._restart_due()
        if self._paused_until is not None and time.monotonic() >= self._paused_until:
            self._accept_again()

    def _drain_wakeup(self) -> None:
        try:
            os.read(self._wakeup_r, 4096)
        except BlockingIOError:
            pass

    def run(self) -> int:
        """Run until stopped by SIGTERM/SIGINT; returns the exit status."""
        os.set_blocking(self._wakeup_w, False)
        os.set_blocking(self._wakeup_r, False)
        signal.set_wakeup_fd(self._wakeup_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._signalled)
        signal.signal(signal.SIGINT, self._signalled)
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)   # the wake-up byte is the point
        self._selector.register(self._wakeup_r, selectors.EVENT_READ, self._drain_wakeup)
        for index in range(self.processes):
            self._fork(index)
        self._wait_ready()
        if not self._stopping:
            self._accept_again()
        while self.children or self._restarts:
            self._turn()
        if self._failed:
            raise SystemExit(1)
        return 0

    def _wait_ready(self) -> None:
        """Until every first child serves; only then are connections accepted (those arriving
        earlier wait in the port's backlog). A child that dies first ends the wait and stops
        the others (its error is in the log): a host that cannot start must not hang."""
        while not self._stopping and not all(link.ready for link in self.dispatcher.links.values()):
            self._turn()
        if not self._stopping:
            self._announced = True
            self.on_ready()


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"
