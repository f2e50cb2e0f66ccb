"""framing: 2-byte big-endian lengths over real sockets (asyncio and blocking)."""
import asyncio
import socket

import pytest

from acquirer.protocol import framing
from acquirer.protocol.framing import (
    ConnectionClosed,
    EmptyFrame,
    OversizedFrame,
    TruncatedFrame,
)


def test_frame_prefixes_the_big_endian_length():
    assert framing.frame(b"\x60" * 300) == b"\x01\x2c" + b"\x60" * 300
    with pytest.raises(EmptyFrame):
        framing.frame(b"")
    with pytest.raises(OversizedFrame):
        framing.frame(bytes(0x10000))


async def _read_all(data: bytes, max_len: int, close: bool = True) -> list:
    """Frames (or the error) a server reads from a client that sends `data`."""
    results: list = []
    done = asyncio.Event()

    async def serve(reader, writer):
        try:
            while True:
                results.append(await framing.read_frame(reader, max_len))
        except framing.FrameError as e:
            results.append(e)
        finally:
            writer.close()
            done.set()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if close:
        writer.close()
    await asyncio.wait_for(done.wait(), 10)
    server.close()
    await server.wait_closed()
    return results


def read_all(data: bytes, max_len: int = 2048) -> list:
    return asyncio.run(_read_all(data, max_len))


def test_async_reads_pipelined_frames_then_clean_close():
    results = read_all(framing.frame(b"one") + framing.frame(b"two" * 100))
    assert results[:2] == [b"one", b"two" * 100]
    assert isinstance(results[2], ConnectionClosed)


@pytest.mark.parametrize("data, error, detail", [
    (b"\x00", TruncatedFrame, "length"),
    (b"\x00\x10" + b"x" * 5, TruncatedFrame, "got 5 of 16"),
    (b"\x00\x00", EmptyFrame, "length is 0"),
    (b"\x08\x01" + b"x" * 10, OversizedFrame, "2049 exceeds the limit of 2048"),
])
def test_async_frame_errors(data, error, detail):
    results = read_all(data)
    assert isinstance(results[-1], error)
    assert detail in str(results[-1])


def test_oversized_length_is_rejected_before_the_body_arrives():
    # the client keeps the connection open and never sends the body
    results = asyncio.run(_read_all(b"\xff\xff", 2048, close=False))
    assert isinstance(results[0], OversizedFrame)


def test_blocking_recv_frame():
    left, right = socket.socketpair()
    with left, right:
        framing.send_frame(left, b"hello")
        left.sendall(b"\x00\x05abc")
        left.shutdown(socket.SHUT_WR)
        assert framing.recv_frame(right, 2048) == b"hello"
        with pytest.raises(TruncatedFrame):
            framing.recv_frame(right, 2048)
    left, right = socket.socketpair()
    with left, right:
        left.close()
        with pytest.raises(ConnectionClosed):
            framing.recv_frame(right, 2048)
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"\x00\x09")
        with pytest.raises(OversizedFrame):
            framing.recv_frame(right, 8)
