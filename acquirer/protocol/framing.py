"""TCP framing of the 8583 link: a 2-byte big-endian length, then the payload.

The length counts the payload only (TPDU + header + MTI + bitmap + fields), not
itself. Readers take a `max_len` so one peer cannot make the other buffer an
arbitrary frame: an oversized length is rejected before its body is read.

Errors are `FrameError` subclasses so a server can tell a peer that simply hung
up between frames (`ConnectionClosed`) from one that broke the framing
(`TruncatedFrame`, `OversizedFrame`, `EmptyFrame`) and close only that peer.
"""
from __future__ import annotations

import asyncio
import socket
import struct

from acquirer.protocol.codec import ProtocolError

__all__ = [
    "ConnectionClosed",
    "EmptyFrame",
    "FrameError",
    "MAX_PAYLOAD",
    "OversizedFrame",
    "TruncatedFrame",
    "frame",
    "read_frame",
    "recv_frame",
    "send_frame",
]

#: the largest payload a 2-byte length can describe
MAX_PAYLOAD = 0xFFFF
_LENGTH = struct.Struct(">H")


class FrameError(ProtocolError):
    """The byte stream does not carry a well-formed frame."""


class ConnectionClosed(FrameError):
    """The peer closed the connection cleanly between two frames."""

    def __init__(self) -> None:
        super().__init__("connection closed by peer between frames")


class TruncatedFrame(FrameError):
    """The connection ended inside a frame (in its length or its payload)."""

    def __init__(self, expected: int, received: int, part: str) -> None:
        self.expected = expected
        self.received = received
        super().__init__(f"connection ended inside the frame {part}: "
                         f"got {received} of {expected} bytes")


class OversizedFrame(FrameError):
    """The length prefix announces more than the reader accepts."""

    def __init__(self, length: int, max_len: int) -> None:
        self.length = length
        self.max_len = max_len
        super().__init__(f"frame length {length} exceeds the limit of {max_len} bytes")


class EmptyFrame(FrameError):
    """The length prefix is zero: a frame must carry a payload."""

    def __init__(self) -> None:
        super().__init__("frame length is 0")


def frame(payload: bytes) -> bytes:
    """The payload with its 2-byte big-endian length in front."""
    if not payload:
        raise EmptyFrame()
    if len(payload) > MAX_PAYLOAD:
        raise OversizedFrame(len(payload), MAX_PAYLOAD)
    return _LENGTH.pack(len(payload)) + payload


def _check_length(length: int, max_len: int) -> None:
    if length == 0:
        raise EmptyFrame()
    if length > max_len:
        raise OversizedFrame(length, max_len)


async def read_frame(reader: asyncio.StreamReader, max_len: int) -> bytes:
    """Read one frame's payload from an asyncio stream.

    Raises `ConnectionClosed` at a clean EOF before the first length byte,
    `TruncatedFrame` at EOF inside a frame, `OversizedFrame` (body left unread)
    and `EmptyFrame` for bad lengths.
    """
    try:
        prefix = await reader.readexactly(2)
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            raise ConnectionClosed() from None
        raise TruncatedFrame(2, len(e.partial), "length") from None
    (length,) = _LENGTH.unpack(prefix)
    _check_length(length, max_len)
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as e:
        raise TruncatedFrame(length, len(e.partial), "payload") from None


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            break
        chunks += chunk
    return bytes(chunks)


def recv_frame(sock: socket.socket, max_len: int) -> bytes:
    """Blocking twin of `read_frame` for synchronous clients (same errors).

    Socket timeouts propagate as `TimeoutError` (`socket.timeout`).
    """
    prefix = _recv_exactly(sock, 2)
    if not prefix:
        raise ConnectionClosed()
    if len(prefix) < 2:
        raise TruncatedFrame(2, len(prefix), "length")
    (length,) = _LENGTH.unpack(prefix)
    _check_length(length, max_len)
    payload = _recv_exactly(sock, length)
    if len(payload) < length:
        raise TruncatedFrame(length, len(payload), "payload")
    return payload


def send_frame(sock: socket.socket, payload: bytes) -> None:
    """Blocking send of one framed payload."""
    sock.sendall(frame(payload))
