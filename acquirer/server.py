"""The asyncio TCP server of the terminal host: framing, pipelining, one connection per terminal.

Each connection splits the byte stream into frames as it arrives and hands
each payload to `Host.handle` as a task of its own, so a slow request (an
issuer in "slow" mode) does not hold up the ones behind it: replies go out as
they complete, in any order (terminals match them by MTI, STAN and TID).
Replies are whole frames queued on the connection and written together once
per event-loop turn: a group commit wakes many requests at once, and one
`send` for all of a connection's replies costs a fraction of one per reply
(the benchmark measured the per-reply sends at ~9% of the host's time). The
transport is the connection's single writer, so frames never interleave; when
the peer stops reading, the connection stops reading too (back-pressure).

Why an `asyncio.Protocol` rather than streams: with streams every frame costs
two `readexactly` awaits plus a lock around the write; the protocol handles
every frame already received in one callback, which the benchmark showed is
a measurable share of the host's time per authorization. The framing rules and
errors are `acquirer.protocol.framing`'s.

A frame that breaks the framing (empty, longer than `[server] max_frame`, or
cut off by the peer closing) or a payload the host cannot answer at all
closes that connection only, after the replies to the frames before it have
been sent; the other connections keep being served. A connection silent for
`[server] idle_timeout_s` is closed. Servers bind to loopback unless
configured otherwise.
"""
from __future__ import annotations

import asyncio
import socket
import logging

from acquirer.host import Host
from acquirer.protocol.framing import EmptyFrame, FrameError, OversizedFrame, TruncatedFrame, frame

__all__ = ["Server"]

log = logging.getLogger("acquirer.server")
_LENGTH_BYTES = 2


class Server:
    """Serves a `Host` over TCP."""

    def __init__(self, host: Host, max_frame: int, idle_timeout_s: float) -> None:
        self.host = host
        self.max_frame = max_frame
        self.idle_timeout_s = idle_timeout_s
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    async def start(self, address: str = "127.0.0.1", port: int = 0,
                    sock: socket.socket | None = None) -> tuple[str, int]:
        """Listen; returns the bound address and port (port 0 picks a free one).

        `sock`: a socket already listening (shared by several host processes) instead.
        """
        loop = asyncio.get_running_loop()
        if sock is not None:
            self._server = await loop.create_server(lambda: _Connection(self), sock=sock)
        else:
            self._server = await loop.create_server(lambda: _Connection(self), address, port)
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    async def serve_forever(self) -> None:
        assert self._server is not None, "call start() first"
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and drop every connection (replies under way are not sent)."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.abort()
        if self._server is not None:
            await self._server.wait_closed()


class _Connection(asyncio.Protocol):
    """One terminal connection: frames in, a task per request, replies out as they finish."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer: object = None
        self.in_flight = 0
        self.closing = False       # no more frames are read; close once in_flight is 0
        self.outgoing: list[bytes] = []   # reply frames waiting for this turn's write
        self.tasks: set[asyncio.Task[None]] = set()   # strong references while requests run
        self.last_seen = 0.0
        self.loop = asyncio.get_running_loop()

    # --- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        self.server._connections.add(self)
        self.last_seen = self.loop.time()
        self.loop.call_later(self.server.idle_timeout_s, self._check_idle)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.last_seen = self.loop.time()
        buffer = self.buffer
        buffer += data
        max_frame = self.server.max_frame
        start = 0
        while len(buffer) - start >= _LENGTH_BYTES:
            length = int.from_bytes(buffer[start:start + _LENGTH_BYTES], "big")
            if length == 0 or length > max_frame:
                self._close_after_replies(EmptyFrame() if length == 0 else OversizedFrame(length, max_frame))
                return
            end = start + _LENGTH_BYTES + length
            if len(buffer) < end:
                break
            self._start(bytes(buffer[start + _LENGTH_BYTES:end]))
            start = end
        del buffer[:start]

    def eof_received(self) -> bool:
        error = None
        if self.buffer and not self.closing:
            received = len(self.buffer)
            if received < _LENGTH_BYTES:
                error = TruncatedFrame(_LENGTH_BYTES, received, "length")
            else:
                expected = int.from_bytes(self.buffer[:_LENGTH_BYTES], "big")
                error = TruncatedFrame(expected, received - _LENGTH_BYTES, "payload")
        self._close_after_replies(error)
        return True   # keep the write side open for the replies still under way

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server._connections.discard(self)

    def pause_writing(self) -> None:
        # the peer is not reading its replies: stop reading its requests
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.closing:
            self.transport.resume_reading()

    # --- requests ------------------------------------------------------------------------

    def _start(self, payload: bytes) -> None:
        self.in_flight += 1
        task = self.loop.create_task(self._respond(payload))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _respond(self, payload: bytes) -> None:
        try:
            answer = await self.server.host.handle(payload)
        finally:
            self.in_flight -= 1
        if answer is None:
            log.warning("closing %s: a message could not be answered", self.peer)
            self.closing = True
        else:
            if not self.outgoing:
                self.loop.call_soon(self._flush)
            self.outgoing.append(frame(answer))
        if self.closing and self.in_flight == 0 and not self.outgoing and self.transport is not None:
            self.transport.close()

    def _flush(self) -> None:
        data, self.outgoing = b"".join(self.outgoing), []
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(data)
        if self.closing and self.in_flight == 0:
            transport.close()

    def _close_after_replies(self, error: FrameError | None) -> None:
        if error is not None:
            log.warning("closing %s: %s", self.peer, error)
        self.closing = True
        self.buffer.clear()
        if self.transport is None:
            return
        if not self.transport.is_closing():
            self.transport.pause_reading()
        if self.in_flight == 0 and not self.outgoing:
            self.transport.close()

    def _check_idle(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        idle = self.loop.time() - self.last_seen
        if idle >= self.server.idle_timeout_s and self.in_flight == 0:
            log.info("closing %s: idle for %.0f s", self.peer, idle)
            self.transport.close()
            return
        self.loop.call_later(max(self.server.idle_timeout_s - idle, 1.0), self._check_idle)

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()
