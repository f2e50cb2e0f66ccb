"""systemd notifications: READY once serving, WATCHDOG from the event loop, none while the loop is stuck."""
from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from pos.daemon.notify import Notifier
from tests.daemon.support import Daemon


@pytest.fixture
def fake_systemd(tmp_path: Path):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    yield path, sock
    sock.close()


def received(sock: socket.socket, for_s: float) -> list[str]:
    """The datagrams that arrive within `for_s` seconds."""
    deadline = time.monotonic() + for_s
    messages = []
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return messages


def test_ready_only_when_serving_then_watchdog_then_stopping(fake_systemd, tmp_path):
    path, sock = fake_systemd
    daemon = Daemon(tmp_path / "state", env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "600000"})
    daemon.start()
    try:
        sock.settimeout(60)
        first = sock.recv(4096).decode()
        assert "READY=1" in first.splitlines() and "STATUS=serving nexo on" in first
        with socket.create_connection(daemon.address, timeout=5):
            pass   # the listener was bound when READY came
        later = received(sock, 1.0)
        assert later.count("WATCHDOG=1") >= 2
    finally:
        assert daemon.stop() == 0
    assert "STOPPING=1" in received(sock, 2.0)


def test_a_stuck_loop_stops_the_watchdog(fake_systemd, monkeypatch):
    path, sock = fake_systemd
    monkeypatch.setenv("WATCHDOG_USEC", "300000")
    notifier = Notifier(str(path))
    sock.setblocking(False)

    def drain() -> list[bytes]:
        out = []
        while True:
            try:
                out.append(sock.recv(4096))
            except BlockingIOError:
                return out

    async def scenario() -> tuple[list[bytes], list[bytes], list[bytes]]:
        notifier.start_watchdog()
        await asyncio.sleep(0.5)
        before = drain()
        time.sleep(1.0)          # the loop is stuck: nothing runs on it, the feeder included
        during = drain()
        await asyncio.sleep(0.5)
        after = drain()
        notifier.stop_watchdog()
        return before, during, after

    before, during, after = asyncio.run(scenario())
    assert before and after and all(m == b"WATCHDOG=1" for m in before + after)
    assert during == []


def test_without_notify_socket_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert Notifier().send("READY=1") is False


def test_abstract_namespace_address():
    assert Notifier("@/org/freedesktop/systemd1/notify").address == "\0/org/freedesktop/systemd1/notify"
