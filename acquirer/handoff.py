"""Terminal connections handed by the supervisor to the host process serving the fewest.

Under `acquirer serve --processes N` the supervisor accepts every terminal
connection and passes its descriptor to one host process (why, and what it
costs: `acquirer.supervisor`). This module is both ends of that hand-over:
`Dispatcher` in the supervisor, `HandedConnections` in each host process.

The wire: one Unix stream socket pair per host process, made before it is
forked (a restarted process gets a new one).

- supervisor -> process: the byte `+` carrying one connection's descriptor
  (SCM_RIGHTS, `socket.send_fds`); the supervisor then closes its own copy.
- process -> supervisor: `r` once the process serves (only then is it handed
  connections), `-` each time a connection it was handed has closed.

The kernel delivers a descriptor with the byte it was sent with, and Linux
never merges two descriptor-carrying messages into one read, so counting the
`+` read and the descriptors received tells the process how many the kernel
dropped (a process out of descriptors): each is reported closed at once.

`Dispatcher.hand` picks the ready process with the fewest open connections,
ties going to the one handed a connection least recently; a process whose
socket is full (it is stuck) or broken (it died) is skipped for the next.
A dead process's count goes with its socket pair: its connections died with it.

Written here rather than taken from a library: the descriptor passing is the
standard library's (`socket.send_fds`, `recv_fds`); what is left is a counter
per process and three one-byte messages, which no library offers on its own
(Node's cluster module does the same inside Node).
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Dispatcher", "HandedConnections"]

log = logging.getLogger("acquirer.handoff")

HAND, READY, CLOSED = b"+", b"r", b"-"
#: descriptors taken per read: the kernel stops a read at each one anyway (see the docstring)
_FDS_PER_READ = 16


@dataclass
class _Link:
    """The supervisor's end of one host process's socket pair, and what it knows of that process."""
    sock: socket.socket
    ready: bool = False   # said `r`, and its socket has not broken since
    open: int = 0         # connections handed and not yet reported closed
    last: int = 0         # the number of the last connection handed to it (0: none yet)


class Dispatcher:
    """The supervisor's side: a socket pair per host process, and which process gets a connection."""

    def __init__(self) -> None:
        self.links: dict[int, _Link] = {}   # process index -> link
        self._handed = 0

    def pair(self, index: int) -> socket.socket:
        """A new socket pair for process `index` (dropping its old one); returns the process's end,
        which the supervisor closes once it has forked the process."""
        self.drop(index)
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        self.links[index] = _Link(ours)
        return theirs

    def drop(self, index: int) -> None:
        """Process `index` is gone: its socket pair closes and its count with it."""
        link = self.links.pop(index, None)
        if link is not None:
            link.sock.close()

    def open_connections(self) -> dict[int, int]:
        """Process index -> connections it was handed and has not reported closed."""
        return {index: link.open for index, link in self.links.items()}

    def receive(self, index: int) -> bool:
        """Read what process `index` sent: `r` makes it ready, each `-` lowers its count.
        False when its end is closed (the process is ending): it is handed nothing more."""
        link = self.links[index]
        while True:
            try:
                data = link.sock.recv(4096)
            except BlockingIOError:
                return True
            except OSError as e:
                log.warning("host process %d's socket pair broke: %s", index, e)
                data = b""
            if not data:
                link.ready = False
                return False
            if READY in data:
                link.ready = True
            link.open = max(0, link.open - data.count(CLOSED))

    def hand(self, conn: socket.socket) -> int | None:
        """Pass `conn` to the ready process with the fewest open connections (ties: the one
        handed a connection least recently); the caller closes its copy. Returns the process's
        index, or None when no process could take it (the caller's close ends the connection)."""
        for _, _, index in sorted((link.open, link.last, index) for index, link in self.links.items()
                                  if link.ready):
            link = self.links[index]
            try:
                socket.send_fds(link.sock, [HAND], [conn.fileno()])
            except BlockingIOError:
                log.warning("host process %d takes no connection now (its queue is full)", index)
                continue
            except OSError as e:   # it died: its death is reaped on its own
                log.warning("host process %d cannot be handed a connection: %s", index, e)
                link.ready = False
                continue
            self._handed += 1
            link.open += 1
            link.last = self._handed
            return index
        return None


class HandedConnections:
    """A host process's end of its socket pair: the connections the supervisor hands it,
    and the `r` and `-` it tells back. Used from the process's event loop."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._unsent = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writing = False

    def serve(self, take: Callable[[socket.socket], None]) -> None:
        """From now on `take` each handed connection (a non-blocking socket) in the running loop."""
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._receive, take)

    def ready(self) -> None:
        """Tell the supervisor this process serves: it hands connections from now on."""
        self._tell(READY)

    def closed(self) -> None:
        """Tell the supervisor one handed connection has closed."""
        self._tell(CLOSED)

    def close(self) -> None:
        """Take no more connections (those still in the socket pair are closed with it)."""
        if self.sock.fileno() == -1:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self.sock.fileno())
            self._loop.remove_writer(self.sock.fileno())
        self.sock.close()

    def _receive(self, take: Callable[[socket.socket], None]) -> None:
        while True:
            try:
                data, fds, _flags, _address = socket.recv_fds(self.sock, _FDS_PER_READ, _FDS_PER_READ)
            except BlockingIOError:
                return
            except OSError as e:
                log.error("the supervisor's socket pair broke (%s): no new connections", e)
                self.close()
                return
            if not data and not fds:
                log.error("the supervisor closed its socket pair: no new connections")
                self.close()
                return
            for fd in fds:
                try:
                    conn = socket.socket(fileno=fd)
                except OSError as e:
                    log.warning("a handed descriptor is not a socket (%s): dropped", e)
                    os.close(fd)
                    self.closed()
                    continue
                conn.setblocking(False)
                take(conn)
            for _ in range(data.count(HAND) - len(fds)):
                log.warning("a handed connection was dropped by the kernel (out of descriptors?)")
                self.closed()

    def _tell(self, message: bytes) -> None:
        if self.sock.fileno() == -1:
            return   # closed: the supervisor counts nothing more of this process
        self._unsent += message
        self._flush()

    def _flush(self) -> None:
        try:
            sent = self.sock.send(self._unsent)
        except BlockingIOError:
            sent = 0
        except OSError:   # the supervisor is gone: nobody counts
            sent = len(self._unsent)
        del self._unsent[:sent]
        if self._loop is None:
            return   # before `serve`: one byte into an empty socket pair is always sent
        if self._unsent and not self._writing:
            self._loop.add_writer(self.sock.fileno(), self._flush)
            self._writing = True
        elif not self._unsent and self._writing:
            self._loop.remove_writer(self.sock.fileno())
            self._writing = False
