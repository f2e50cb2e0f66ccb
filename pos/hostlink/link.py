"""The terminal's link to the acquirer: send a payload, get the reply that answers it.

Two links share one interface. `TcpLink` keeps one TCP connection to
`acquirer serve`, reconnecting with exponential back-off; `EmbeddedLink` hands
payloads to an in-process host's `handle(payload)` (the default on a fresh
checkout). Both match replies to requests by (reply MTI, STAN): a reply that
matches nothing waiting (a late answer after a timeout, a duplicate) goes to
`on_unmatched`, so the engine can note it, and never completes a later request.

The link never resends a request: what to do when no answer comes (a reversal)
is the engine's decision, not the transport's.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from acquirer.protocol import codec
from acquirer.protocol.codec import ProtocolError
from acquirer.protocol.errors import ErrorKind, TillkitError
from acquirer.protocol.framing import FrameError, frame, read_frame

log = logging.getLogger(__name__)

#: (reply MTI, STAN) -- what identifies the answer to a request
ReplyKey = tuple[str, str]
#: a decoded reply and the payload it came in (the MAC is checked over the payload)
Received = tuple[dict[str, str], bytes]
#: largest reply payload the terminal accepts
MAX_REPLY = 4096


class LinkError(TillkitError):
    """The link could not deliver a request or its answer."""

    kind = ErrorKind.TERMINAL
    message_key = "link.failed"


class HostUnavailable(LinkError):
    """No connection to the host could be made within the time allowed (nothing was sent)."""

    message_key = "link.host_unavailable"


class ConnectionLost(LinkError):
    """The connection closed while a reply was awaited: the request may have been processed."""

    kind = ErrorKind.NO_ANSWER
    message_key = "link.connection_lost"


class _Dispatcher:
    """Futures waiting for replies, keyed by (reply MTI, STAN)."""

    address: str

    def __init__(self) -> None:
        self._waiting: dict[ReplyKey, asyncio.Future[Received]] = {}
        self.on_unmatched: Callable[[dict[str, str]], None] | None = None

    def _expect(self, key: ReplyKey) -> asyncio.Future[Received]:
        stale = self._waiting.pop(key, None)
        if stale is not None and not stale.done():
            stale.cancel()
        future: asyncio.Future[Received] = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        return future

    def forget(self, key: ReplyKey) -> None:
        """Stop waiting for `key`: its answer, if it comes, is unmatched."""
        self._waiting.pop(key, None)

    def _dispatch(self, payload: bytes) -> None:
        try:
            msg = codec.decode(payload)
        except ProtocolError as e:
            log.warning("host sent an undecodable reply (%s): ignored", e)
            return
        key = (msg.get("t", ""), msg.get("11", ""))
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result((msg, payload))
        elif self.on_unmatched is not None:
            try:
                self.on_unmatched(msg)
            except Exception:   # noting a stray reply must never break the link
                log.exception("handling an unmatched reply %s STAN %s failed", key[0], key[1])

    def _fail_all(self, error: LinkError) -> None:
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(error)


class TcpLink(_Dispatcher):
    """One persistent TCP connection to `acquirer serve`, re-opened on demand with back-off."""

    def __init__(self, host: str, port: int, *, connect_timeout_s: float, connect_budget_s: float,
                 backoff_initial_s: float, backoff_max_s: float,
                 on_retry: Callable[[str, float], None] | None = None) -> None:
        super().__init__()
        self.host, self.port = host, port
        self.address = f"{host}:{port}"
        self.connect_timeout_s = connect_timeout_s
        self.connect_budget_s = connect_budget_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.on_retry = on_retry
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_budget_s
        delay = self.backoff_initial_s
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), self.connect_timeout_s)
                break
            except (TimeoutError, OSError) as e:
                error = str(e) or type(e).__name__
                if loop.time() + delay > deadline:
                    raise HostUnavailable(f"cannot connect to the host at {self.address}: {error}") from None
                if self.on_retry is not None:
                    self.on_retry(error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
        self._writer = writer
        self._reader_task = asyncio.create_task(self._read_replies(reader, writer))

    async def _read_replies(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        error = "the host closed the connection"
        try:
            while True:
                self._dispatch(await read_frame(reader, MAX_REPLY))
        except (FrameError, OSError) as e:
            error = f"connection to {self.address} lost: {e}"
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()
            self._fail_all(ConnectionLost(error))

    async def send(self, payload: bytes, key: ReplyKey) -> asyncio.Future[Received]:
        """Write one request; the returned future completes with its reply.

        Raises `HostUnavailable` when no connection can be made (nothing sent).
        The future fails with `ConnectionLost` if the connection drops first.
        """
        if not self.connected:
            await self._connect()
        assert self._writer is not None
        future = self._expect(key)
        try:
            self._writer.write(frame(payload))
            await self._writer.drain()
        except OSError as e:
            self.forget(key)
            raise ConnectionLost(f"connection to {self.address} lost while sending: {e}") from None
        return future

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            await asyncio.gather(self._reader_task, return_exceptions=True)


class EmbeddedLink(_Dispatcher):
    """An in-process host: each payload is handed to `handle` as a task.

    A task that outlives its request's timeout keeps running (the host must be
    allowed to finish what it started); its answer arrives late and unmatched,
    exactly as over TCP.
    """

    address = "embedded"

    def __init__(self, handle: Callable[[bytes], Awaitable[bytes | None]]) -> None:
        super().__init__()
        self._handle = handle
        self._tasks: set[asyncio.Task[None]] = set()

    async def _serve(self, payload: bytes) -> None:
        answer = await self._handle(payload)
        if answer is not None:
            self._dispatch(answer)

    async def send(self, payload: bytes, key: ReplyKey) -> asyncio.Future[Received]:
        future = self._expect(key)
        task = asyncio.create_task(self._serve(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return future

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


HostLink = TcpLink | EmbeddedLink
