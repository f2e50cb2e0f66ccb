"""The asyncio TCP server of the terminal host: framing, pipelining, one connection per terminal.

Each connection reads frames in a loop and hands each payload to
`Host.handle` as its own task, so a slow request (an issuer in "slow" mode)
does not hold up the ones behind it: replies go out as they complete, in any
order (terminals match them by MTI, STAN and TID). Writes on a connection go
through one lock so frames never interleave.

A frame that breaks the framing (truncated, empty, longer than
`[server] max_frame`) or a payload the host cannot answer at all closes that
connection only; the other connections keep being served. A connection
silent for `[server] idle_timeout_s` is closed. Servers bind to loopback
unless configured otherwise.
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from acquirer.host import Host
from acquirer.protocol.framing import ConnectionClosed, FrameError, frame, read_frame

__all__ = ["Server"]

log = logging.getLogger("acquirer.server")


class Server:
    """Serves a `Host` over TCP."""

    def __init__(self, host: Host, max_frame: int, idle_timeout_s: float) -> None:
        self.host = host
        self.max_frame = max_frame
        self.idle_timeout_s = idle_timeout_s
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def start(self, address: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen; returns the bound address and port (port 0 picks a free one)."""
        self._server = await asyncio.start_server(self._serve_connection, address, port)
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    async def serve_forever(self) -> None:
        assert self._server is not None, "call start() first"
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        # closing the transports ends each connection's read loop, which then
        # finishes the replies already under way (cancelling the tasks instead
        # would upset asyncio's stream callbacks)
        for writer in list(self._connections.values()):
            writer.transport.abort()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5)

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        peer = writer.get_extra_info("peername")
        lock = asyncio.Lock()
        pending: set[asyncio.Task[None]] = set()
        try:
            while not writer.is_closing():
                try:
                    async with asyncio.timeout(self.idle_timeout_s):
                        payload = await read_frame(reader, self.max_frame)
                except ConnectionClosed:
                    break
                except FrameError as e:
                    log.warning("closing %s: %s", peer, e)
                    break
                except TimeoutError:
                    log.info("closing %s: idle for %s s", peer, self.idle_timeout_s)
                    break
                except ConnectionError:
                    break
                job = asyncio.create_task(self._respond(payload, writer, lock, peer))
                pending.add(job)
                job.add_done_callback(pending.discard)
            if pending:  # answer what was already received before closing
                await asyncio.wait(pending)
        finally:
            for job in pending:
                job.cancel()
            writer.close()
            with suppress(Exception):
                await writer.wait_closed()
            self._connections.pop(task, None)

    async def _respond(self, payload: bytes, writer: asyncio.StreamWriter, lock: asyncio.Lock,
                       peer: object) -> None:
        answer = await self.host.handle(payload)
        if answer is None:
            log.warning("closing %s: message could not be answered", peer)
            writer.close()
            return
        async with lock:
            if writer.is_closing():
                return
            writer.write(frame(answer))
            try:
                await writer.drain()
            except ConnectionError:
                writer.close()
