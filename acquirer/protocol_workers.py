"""The host's pure protocol work -- decode, ARQC, sign -- in this process or in worker processes.

Why workers: the host is one Python process, and Python runs one thread of
Python code at a time, so a host that decodes, checks, posts and signs every
authorization uses one CPU however many the machine has. Part of that work is
a pure function of bytes, dicts and keys: pyiso8583's decode of a request,
the card's ARQC the issuer compares with field 55, and the encode + MAC of
the reply -- together about half of an authorization. `ProtocolWorkers` runs
them in `count` worker processes (an issuer host would hand its cryptograms
to an HSM the same way), so the host's own process keeps the checks, the
database and everything with state. A thread would not help: pyiso8583 and
the code around the ciphers are Python and hold the interpreter lock.

What stays the same: the result. A worker answers with the value, or "failed"
when the function raised; the host then runs the very same function itself
and meets the exception itself (a DecodeError names field and offset, an
EncodeError the field, a CryptogramError the tag), so every reply, error and
log line is what `ProtocolWork` gives. A worker that dies is noticed (its
socket closes); its calls in flight and every later one run in the host.

How: one socket pair per worker, 4-byte big-endian length + pickle frames.
A call goes at once to a worker that has nothing to do; calls made while the
workers are busy queue up and travel together (a group commit wakes many
requests at once), up to 32 to a frame, at most two frames per worker at a
time; a worker answers a frame with one frame of results in the same order. The session's MAC key travels
with each `sign` call and the card's derived key with each `cryptogram` call,
over that socket pair between two processes of the host (never to disk or
logs).

`ProtocolWork` is the same interface without workers: embedded hosts and tests.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
import signal
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

from acquirer.protocol import codec, tlv
from acquirer.protocol.cryptogram import CryptogramError, CryptogramVersion

__all__ = ["ProtocolWork", "ProtocolWorkers"]

log = logging.getLogger("acquirer.protocol_workers")

_LENGTH = 4
# calls per frame: the first answers of a big turn come back while a worker
# works on the rest, and several workers share a big turn
_FRAME_CALLS = 32
# frames a worker holds at once: the one it works on and the next one. An idle
# worker gets a call at once (no wait for the turn to end: latency); a busy
# one gets what queued up meanwhile as one frame (throughput)
_FRAMES_IN_FLIGHT = 2
# cryptogram checks done along with a decode, waiting for the host's call
_AHEAD_KEPT = 4096
#: what a worker answers for a call whose function raised: redo it in the host
_FAILED = (False, None)


_APPROVED = b"00"   # the ARC of an approval: field 39 in ASCII


Checked = tuple[dict[str, bytes], bytes, bytes]   # field 55's tags, the expected ARQC, tag 91 for 00
#: in a worker: the cards whose cryptograms it checks along with the decode (`know_cards`)
_CARDS: dict[str, tuple[CryptogramVersion, bytes]] = {}


def _cryptogram(version: CryptogramVersion, icc_mk: bytes, icc: bytes) -> Checked:
    """Field 55's tags, the ARQC the card should have made, and tag 91 approving the one it sent."""
    tags = tlv.parse_dict(icc)
    arqc = tags.get("9F26")
    if arqc is None or len(arqc) != 8:
        raise CryptogramError("tag 9F26 (ARQC) missing or not 8 bytes")
    return tags, version.arqc(icc_mk, tags), version.issuer_authentication_data(icc_mk, tags, arqc, _APPROVED)


def _know_cards(cards: dict[str, tuple[CryptogramVersion, bytes]]) -> None:
    _CARDS.clear()
    _CARDS.update(cards)


def _decode_ahead(payload: bytes) -> tuple[dict[str, str], tuple[tuple[str, bytes, bytes], Checked] | None]:
    """The decode, and the cryptogram check of a known card's field 55 ahead of the
    host's call for it, keyed by that call's arguments (None: nothing to check,
    or the check raised -- the host then meets the error at its own step)."""
    msg = codec.decode(payload)
    if "55" not in msg:
        return msg, None
    card = _CARDS.get(msg.get("2") or msg.get("35", "").split("D", 1)[0])   # CardInput.account_number
    if card is None:
        return msg, None
    version, icc_mk = card
    icc = bytes.fromhex(msg["55"])
    try:
        return msg, ((version.name, icc_mk, icc), _cryptogram(version, icc_mk, icc))
    except Exception:
        return msg, None

#: the functions a worker runs, by name (pure: bytes, dicts and keys in, bytes and dicts out)
_OPERATIONS: dict[str, Callable[..., Any]] = {"decode": _decode_ahead, "sign": codec.sign,
                                              "cryptogram": _cryptogram, "cards": _know_cards}


class ProtocolWork:
    """Decode, ARQC and sign in the host's own process."""

    async def attach(self) -> None:
        """Nothing to connect in process."""

    async def decode(self, payload: bytes) -> dict[str, str]:
        """`codec.decode` (raises its `DecodeError`)."""
        return codec.decode(payload)

    async def sign(self, message: dict[str, str], algorithm: str, key: bytes) -> bytes:
        """`codec.sign` (raises its `EncodeError`)."""
        return codec.sign(message, algorithm, key)

    async def cryptogram(self, version: CryptogramVersion, icc_mk: bytes, icc: bytes) -> Checked:
        """Field 55 (`icc`) read: its tags, the ARQC the card should have made
        under `icc_mk`, and tag 91 approving the ARQC it sent (so an approval's
        reply needs no cryptography of its own). Raises `tlv.TlvError` or
        `CryptogramError` (also for a missing or mis-sized 9F26)."""
        return _cryptogram(version, icc_mk, icc)

    def know_cards(self, cards: dict[str, tuple[CryptogramVersion, bytes]]) -> None:
        """The issuers' cards (PAN -> cryptogram version and derived key): with
        them, workers check a request's cryptogram along with its decode, one
        trip to a worker fewer. Nothing to do in process."""

    def close(self) -> None:
        """Nothing to release in process."""


class ProtocolWorkers(ProtocolWork):
    """`ProtocolWork` whose calls run in worker processes (see the module docstring).

    `start()` before the event loop and before any thread (the workers are
    forked where the platform can), `await attach()` once the loop runs,
    `close()` at the end: the workers exit when their socket closes.
    """

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"protocol workers: need at least 1, got {count}")
        self.count = count
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._sockets: list[socket.socket] = []
        self._links: list[_Link] = []
        self._ahead: dict[tuple[str, bytes, bytes], Checked] = {}
        self._turn_end_scheduled = False
        self._jobs: list[tuple[Any, ...]] = []
        self._waiting: list[asyncio.Future[tuple[bool, Any]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> ProtocolWorkers:
        methods = multiprocessing.get_all_start_methods()
        context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        for _ in range(self.count):
            ours, theirs = socket.socketpair()
            # a forked worker inherits every parent-side socket made so far: it closes
            # them, or the parent closing its end would never reach the worker as EOF
            process = context.Process(target=_work, args=(theirs, [*self._sockets, ours]),
                                      name="acquirer-protocol", daemon=True)
            process.start()
            theirs.close()
            self._processes.append(process)
            self._sockets.append(ours)
        return self

    async def attach(self) -> None:
        """Connect the workers' sockets to the running event loop."""
        self._loop = asyncio.get_running_loop()
        for sock in self._sockets:
            _, link = await self._loop.create_connection(lambda: _Link(self._send_queued), sock=sock)
            self._links.append(link)

    async def decode(self, payload: bytes) -> dict[str, str]:
        ok, value = await self._call(("decode", payload))
        if not ok:
            return codec.decode(payload)
        msg, ahead = value
        if ahead is not None:   # kept for the `cryptogram` call with exactly these arguments
            self._ahead[ahead[0]] = ahead[1]
            if len(self._ahead) > _AHEAD_KEPT:   # requests refused before their check
                del self._ahead[next(iter(self._ahead))]
        return msg

    async def sign(self, message: dict[str, str], algorithm: str, key: bytes) -> bytes:
        ok, value = await self._call(("sign", message, algorithm, key))
        return value if ok else codec.sign(message, algorithm, key)

    async def cryptogram(self, version: CryptogramVersion, icc_mk: bytes, icc: bytes) -> Checked:
        checked = self._ahead.pop((version.name, icc_mk, bytes(icc)), None)
        if checked is not None:
            return checked
        ok, value = await self._call(("cryptogram", version, icc_mk, icc))
        return value if ok else _cryptogram(version, icc_mk, icc)

    def know_cards(self, cards: dict[str, tuple[CryptogramVersion, bytes]]) -> None:
        assert self._loop is not None, "call attach() first"
        for link in self._links:   # every worker, ahead of any request
            if link.alive:
                link.send([("cards", cards)], [self._loop.create_future()])

    def close(self) -> None:
        """Stop the workers (closing their sockets ends them); callable after the loop ended."""
        loop_running = self._loop is not None and not self._loop.is_closed()
        for link in self._links:
            link.alive = False
            if loop_running and link.transport is not None:
                link.transport.close()
        for sock in self._sockets:
            sock.close()
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()

    # --- batching ---------------------------------------------------------------------

    def _call(self, job: tuple[Any, ...]) -> asyncio.Future[tuple[bool, Any]]:
        loop = self._loop
        assert loop is not None, "call attach() first"
        future: asyncio.Future[tuple[bool, Any]] = loop.create_future()
        if not any(link.alive for link in self._links):
            future.set_result(_FAILED)   # no worker left: the caller does it here
            return future
        self._jobs.append(job)
        self._waiting.append(future)
        idle = next((link for link in self._links if link.alive and not link.pending), None)
        if idle is not None:   # a worker with nothing to do: no reason to wait
            self._send_to(idle)
        elif not self._turn_end_scheduled:
            self._turn_end_scheduled = True
            loop.call_soon(self._at_turn_end)
        return future

    def _at_turn_end(self) -> None:
        self._turn_end_scheduled = False
        self._send_queued()

    def _send_queued(self) -> None:
        """Send the queued calls to workers with room (fewer than `_FRAMES_IN_FLIGHT` frames);
        what finds none waits for the next answer (`_Link` calls this again)."""
        while self._jobs:
            live = [link for link in self._links if link.alive]
            if not live:
                waiting, self._jobs, self._waiting = self._waiting, [], []
                for future in waiting:
                    if not future.done():
                        future.set_result(_FAILED)
                return
            link = min(live, key=lambda link: len(link.pending))
            if len(link.pending) >= _FRAMES_IN_FLIGHT:
                return
            self._send_to(link)

    def _send_to(self, link: _Link) -> None:
        jobs, waiting = self._jobs[:_FRAME_CALLS], self._waiting[:_FRAME_CALLS]
        del self._jobs[:_FRAME_CALLS], self._waiting[:_FRAME_CALLS]
        link.send(jobs, waiting)


class _Link(asyncio.Protocol):
    """The host's end of one worker's socket: frames of calls out, frames of results in."""

    def __init__(self, on_answer: Callable[[], None]) -> None:
        self.on_answer = on_answer   # room for another frame: the pool sends what queued up
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pending: deque[list[asyncio.Future[tuple[bool, Any]]]] = deque()
        self.alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, jobs: list[tuple[Any, ...]], waiting: list[asyncio.Future[tuple[bool, Any]]]) -> None:
        assert self.transport is not None
        data = pickle.dumps(jobs, protocol=pickle.HIGHEST_PROTOCOL)
        self.pending.append(waiting)
        self.transport.write(len(data).to_bytes(_LENGTH, "big") + data)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        while len(buffer) - start >= _LENGTH:
            end = start + _LENGTH + int.from_bytes(buffer[start:start + _LENGTH], "big")
            if len(buffer) < end:
                break
            results = pickle.loads(buffer[start + _LENGTH:end])
            for future, result in zip(self.pending.popleft(), results):
                if not future.done():   # its request may have been cancelled meanwhile
                    future.set_result(result)
            start = end
        del buffer[:start]
        if start:
            self.on_answer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.alive:
            log.error("a protocol worker stopped (%s); its calls run in the host process", exc or "closed")
        self.alive = False
        while self.pending:
            for future in self.pending.popleft():
                if not future.done():
                    future.set_result(_FAILED)
        self.on_answer()   # the queue goes to the other workers, or runs in the host


# --- the worker process ------------------------------------------------------------------

def _work(sock: socket.socket, inherited: list[socket.socket]) -> None:
    """A worker: answer frames of calls until the host closes the socket.

    It lives exactly as long as its host: Ctrl-C or a service manager's
    SIGTERM to the whole group stop the host, which then closes the socket.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for other in inherited:
        other.close()
    with sock, sock.makefile("rb") as stream:
        while True:
            header = stream.read(_LENGTH)
            if len(header) < _LENGTH:
                return
            jobs = pickle.loads(stream.read(int.from_bytes(header, "big")))
            data = pickle.dumps([_run(job) for job in jobs], protocol=pickle.HIGHEST_PROTOCOL)
            sock.sendall(len(data).to_bytes(_LENGTH, "big") + data)


def _run(job: tuple[Any, ...]) -> tuple[bool, Any]:
    operation, *arguments = job
    try:
        return True, _OPERATIONS[operation](*arguments)
    except Exception:   # the host redoes the call and meets the error itself
        return _FAILED
