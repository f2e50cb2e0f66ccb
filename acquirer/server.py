"""The asyncio TCP server of the terminal host: framing, pipelining, bounded work per connection.

Each connection splits the byte stream into frames as it arrives and hands
each payload to `Host.handle` as a task of its own, so a slow request (an
issuer in "slow" mode) does not hold up the ones behind it: replies go out as
they complete, in any order (terminals match them by MTI, STAN and TID).
Replies are whole frames queued on the connection and written together once
per event-loop turn: a group commit wakes many requests at once, and one
`send` for all of a connection's replies costs a fraction of one per reply
(the benchmark measured the per-reply sends at ~9% of the host's time). The
transport is the connection's single writer, so frames never interleave.

Why an `asyncio.Protocol` rather than streams: with streams every frame costs
two `readexactly` awaits plus a lock around the write; the protocol handles
every frame already received in one callback, which the benchmark showed is
a measurable share of the host's time per authorization. The framing rules and
errors are `acquirer.protocol.framing`'s.

Bounded work (`[limits]`, `config.Limits`; docs/acquirer.md "Limits"). A
frame is started only while its connection has fewer than `max_in_flight`
requests under way, the host fewer than `max_in_flight_total`, and the
connection's token bucket (`rate_per_s`, `burst`) a token; otherwise the
frame stays in the buffer and the host stops reading that socket until the
limit frees (TCP flow control then holds the peer back), so memory per
connection is one read's worth of bytes (asyncio reads at most 256 KiB)
plus its requests under way, and the host's at most `max_connections`
times that plus `max_in_flight_total` requests. Reply
bytes the peer has not read are bounded by `max_reply_buffer` (the
transport's high-water mark): above it the connection stops reading too.
An empty bucket and every request the host answers 30 or A0 count a strike;
`strikes` within `strike_window_s` close the connection (abuse). A frame
begun and not finished within `frame_timeout_s`, replies unread for
`write_timeout_s`, and silence for `[server] idle_timeout_s` close it too.
Each close and each stop is counted in `acquirer.metrics` and logged with
the peer's address.

A frame that breaks the framing (empty, longer than `[server] max_frame`, or
cut off by the peer closing) or a payload the host cannot answer at all
closes that connection only, after the replies to the frames before it have
been sent; the other connections keep being served. Servers bind to loopback
unless configured otherwise.

Under `acquirer serve --processes N` a host process does not listen: the
supervisor accepts and hands it connections (`serve_handed`,
acquirer/handoff.py), which it serves exactly as the ones it accepts itself,
within the same limits, telling the supervisor when each closes.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from collections.abc import Callable

from acquirer.config import Limits
from acquirer.handoff import HandedConnections
from acquirer.host import Host
from acquirer.metrics import CONNECTIONS, CONNECTIONS_CLOSED, REQUESTS_THROTTLED
from acquirer.protocol.framing import (
    EmptyFrame,
    FrameError,
    OversizedFrame,
    TruncatedFrame,
    frame,
)

__all__ = ["Server"]

log = logging.getLogger("acquirer.server")
_LENGTH_BYTES = 2


class Server:
    """Serves a `Host` over TCP within `limits`."""

    def __init__(self, host: Host, max_frame: int, idle_timeout_s: float, limits: Limits | None = None) -> None:
        self.host = host
        self.max_frame = max_frame
        self.idle_timeout_s = idle_timeout_s
        self.limits = limits or Limits()
        self.in_flight = 0                                  # requests under way on every connection
        self._waiting: deque[_Connection] = deque()        # stopped by max_in_flight_total
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._handed: HandedConnections | None = None      # under the supervisor (serve_handed)
        self._taking: set[asyncio.Task[None]] = set()      # handed connections being set up
        self._closed = asyncio.Event()

    async def start(self, address: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen; returns the bound address and port (port 0 picks a free one)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), address, port)
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    def serve_handed(self, handed: HandedConnections) -> None:
        """Serve the connections the supervisor hands this process instead of listening
        (`acquirer serve --processes N`, acquirer/handoff.py), each as an accepted one, and
        tell it when each closes."""
        self._handed = handed
        handed.serve(self._take)

    def _take(self, sock: socket.socket) -> None:
        task = asyncio.get_running_loop().create_task(self._connect_handed(sock))
        self._taking.add(task)
        task.add_done_callback(self._taking.discard)

    async def _connect_handed(self, sock: socket.socket) -> None:
        handed = self._handed
        assert handed is not None
        made: list[_Connection] = []

        def connection() -> _Connection:
            made.append(_Connection(self, on_lost=handed.closed))
            return made[0]

        try:   # asyncio's transport sets TCP_NODELAY, as on the connections it accepts
            await asyncio.get_running_loop().connect_accepted_socket(connection, sock)
        except Exception as e:   # the peer is gone already, or the descriptor is no TCP stream
            log.warning("a handed connection could not be served: %s", e)
            sock.close()
            if not made or made[0].transport is None:   # else its connection_lost told it
                handed.closed()

    async def serve_forever(self) -> None:
        if self._server is None:   # handed connections: served until close()
            await self._closed.wait()
            return
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening (or taking handed connections) and drop every connection (replies under
        way are not sent)."""
        if self._server is not None:
            self._server.close()
        if self._handed is not None:
            self._handed.close()
        for task in list(self._taking):
            task.cancel()
        for connection in list(self._connections):
            connection.abort()
        if self._server is not None:
            await self._server.wait_closed()
        self._closed.set()

    def _released(self) -> None:
        """A request ended: connections waiting for the host-wide limit may go on, oldest first."""
        while self._waiting and self.in_flight < self.limits.max_in_flight_total:
            self._waiting.popleft()._go_on(_TOTAL)


#: why a connection's reading is stopped (metrics label `limit`)
_IN_FLIGHT, _TOTAL, _RATE, _REPLIES = "in_flight", "in_flight_total", "rate", "reply_buffer"
#: replies that count a strike: the request broke the format (30) or its MAC (A0)
_STRIKE_CODES = frozenset({"30", "A0"})


class _Connection(asyncio.Protocol):
    """One terminal connection: frames in, a task per request, replies out as they finish."""

    def __init__(self, server: Server, on_lost: Callable[[], None] | None = None) -> None:
        self.server = server
        self.on_lost = on_lost     # told once this connection is gone (a handed one: the supervisor)
        self.limits = server.limits
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer: object = None
        self.in_flight = 0
        self.closing = False       # no more frames are read; close once in_flight is 0
        self.outgoing: list[bytes] = []   # reply frames waiting for this turn's write
        self.tasks: set[asyncio.Task[None]] = set()   # strong references while requests run
        self.loop = asyncio.get_running_loop()
        self.last_seen = self.loop.time()
        self.stopped: set[str] = set()     # limits that stop reading now
        self.tokens = float(self.limits.burst)
        self.refilled = self.last_seen
        self.strikes: list[float] = []     # times of the strikes within the window
        self.partial_since: float | None = None   # a frame begun and not finished since
        self.unread_since: float | None = None    # the peer stopped reading replies since
        self.eof = False                          # the peer closed its side

    # --- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        if len(self.server._connections) >= self.limits.max_connections:
            log.warning("closing %s: %d connections already", self.peer, len(self.server._connections))
            CONNECTIONS_CLOSED.labels("too_many").inc()
            self.closing = True
            transport.abort()
            return
        transport.set_write_buffer_limits(high=self.limits.max_reply_buffer)
        self.server._connections.add(self)
        CONNECTIONS.inc()
        self.loop.call_later(1.0, self._watch)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.last_seen = self.loop.time()
        self.buffer += data
        self._drain()

    def eof_received(self) -> bool:
        # frames a limit held back are still served; then the connection closes
        self.eof = True
        if not self.closing:
            self._drain()
        return True   # keep the write side open for the replies still under way

    def _after_eof(self) -> None:
        """The peer closed its side and every whole frame has started: close after the replies."""
        error = None
        received = len(self.buffer)
        if 0 < received < _LENGTH_BYTES:
            error = TruncatedFrame(_LENGTH_BYTES, received, "length")
        elif received:
            expected = int.from_bytes(self.buffer[:_LENGTH_BYTES], "big")
            error = TruncatedFrame(expected, received - _LENGTH_BYTES, "payload")
        self._close_after_replies(error)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        if self in self.server._connections:
            self.server._connections.discard(self)
            CONNECTIONS.dec()
        if self.on_lost is not None:
            self.on_lost()

    def pause_writing(self) -> None:
        # the peer is not reading its replies: stop reading its requests
        self.unread_since = self.loop.time()
        self._stop(_REPLIES)

    def resume_writing(self) -> None:
        self.unread_since = None
        self._go_on(_REPLIES)

    # --- limits --------------------------------------------------------------------------

    def _stop(self, limit: str) -> None:
        if limit not in self.stopped:
            self.stopped.add(limit)
            REQUESTS_THROTTLED.labels(limit).inc()
            if self.transport is not None and not self.closing:
                self.transport.pause_reading()

    def _go_on(self, limit: str) -> None:
        """`limit` no longer stops this connection: start what is buffered, then read on."""
        self.stopped.discard(limit)
        if self.closing:
            return
        self._drain()
        if (not self.stopped and not self.eof and not self.closing and self.transport is not None
                and not self.transport.is_closing()):
            self.transport.resume_reading()

    def _drain(self) -> None:
        """Start every whole frame in the buffer that the limits allow; keep the rest."""
        buffer = self.buffer
        limits = self.limits
        server = self.server
        max_frame = server.max_frame
        start = 0
        self._refill()
        while len(buffer) - start >= _LENGTH_BYTES:
            length = int.from_bytes(buffer[start:start + _LENGTH_BYTES], "big")
            if length == 0 or length > max_frame:
                self._close_after_replies(EmptyFrame() if length == 0 else OversizedFrame(length, max_frame))
                return
            end = start + _LENGTH_BYTES + length
            if len(buffer) < end:
                break
            if self.stopped:
                break
            if self.in_flight >= limits.max_in_flight:
                self._stop(_IN_FLIGHT)
                break
            if server.in_flight >= limits.max_in_flight_total:
                self._stop(_TOTAL)
                server._waiting.append(self)
                break
            if self.tokens < 1:
                self._over_rate()
                break
            self.tokens -= 1
            self._start(bytes(buffer[start + _LENGTH_BYTES:end]))
            start = end
        del buffer[:start]
        if buffer and not self.stopped:
            if self.partial_since is None or start:
                self.partial_since = self.loop.time()
        else:
            self.partial_since = None
        if self.eof and not self.stopped:
            self._after_eof()

    def _refill(self) -> None:
        now = self.loop.time()
        self.tokens = min(self.limits.burst, self.tokens + (now - self.refilled) * self.limits.rate_per_s)
        self.refilled = now

    def _over_rate(self) -> None:
        """The bucket is empty: a strike, and reading stops until a tenth of a second's worth is back."""
        self._stop(_RATE)
        self._strike("rate")
        if not self.closing:
            self.loop.call_later(0.1, self._go_on, _RATE)

    def _strike(self, reason: str) -> None:
        now = self.loop.time()
        window = self.limits.strike_window_s
        self.strikes = [t for t in self.strikes if now - t < window]
        self.strikes.append(now)
        if len(self.strikes) >= self.limits.strikes and not self.closing:
            log.warning("closing %s: %d strikes (%s) within %.0f s", self.peer, len(self.strikes), reason, window)
            CONNECTIONS_CLOSED.labels(reason).inc()
            # the replies under way still go out; a peer that does not take them is cut off
            self._close_after_replies(None)
            self.loop.call_later(self.limits.write_timeout_s, self.abort)

    def _drop(self, reason: str, why: str) -> None:
        """Close for slowness at once: replies under way are not sent."""
        if self.transport is None or self.transport.is_closing():
            return
        log.warning("closing %s: %s", self.peer, why)
        CONNECTIONS_CLOSED.labels(reason).inc()
        self.abort()

    def _watch(self) -> None:
        """Once a second: idle, a frame too slow to arrive, replies left unread."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        now = self.loop.time()
        idle = now - self.last_seen
        if idle >= self.server.idle_timeout_s and self.in_flight == 0:
            log.info("closing %s: idle for %.0f s", self.peer, idle)
            CONNECTIONS_CLOSED.labels("idle").inc()
            transport.close()
            return
        if self.partial_since is not None and now - self.partial_since >= self.limits.frame_timeout_s:
            self._drop("slow_frame", f"a frame unfinished for {now - self.partial_since:.0f} s")
            return
        if self.unread_since is not None and now - self.unread_since >= self.limits.write_timeout_s:
            self._drop("not_reading", f"replies unread for {now - self.unread_since:.0f} s")
            return
        self.loop.call_later(1.0, self._watch)

    # --- requests ------------------------------------------------------------------------

    def _start(self, payload: bytes) -> None:
        self.in_flight += 1
        self.server.in_flight += 1
        task = self.loop.create_task(self._respond(payload))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _respond(self, payload: bytes) -> None:
        try:
            answer = await self.server.host.handle(payload, self._strike_code)
        finally:
            self.in_flight -= 1
            self.server.in_flight -= 1
            if _IN_FLIGHT in self.stopped:
                self._go_on(_IN_FLIGHT)
            if self.server._waiting:
                self.server._released()
        if answer is None:
            log.warning("closing %s: a message could not be answered", self.peer)
            CONNECTIONS_CLOSED.labels("unanswerable").inc()
            self.closing = True
        else:
            if not self.outgoing:
                self.loop.call_soon(self._flush)
            self.outgoing.append(frame(answer))
        if self.closing and self.in_flight == 0 and not self.outgoing and self.transport is not None:
            self.transport.close()

    def _strike_code(self, code: str) -> None:
        if code in _STRIKE_CODES:
            self._strike("protocol")

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
            CONNECTIONS_CLOSED.labels("frame_error").inc()
        self.closing = True
        self.buffer.clear()
        if self.transport is None:
            return
        if not self.transport.is_closing():
            self.transport.pause_reading()
        if self.in_flight == 0 and not self.outgoing:
            self.transport.close()

    def abort(self) -> None:
        self.closing = True
        self.buffer.clear()
        if self.transport is not None:
            self.transport.abort()
