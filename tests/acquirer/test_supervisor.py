"""The supervisor of `acquirer serve --processes N` on its own (no database): who gets a
connection while a process cannot start, and how it stops (tests/acquirer/supervised_echo.py
runs the real supervisor over toy processes that answer `INDEX PID`)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the supervisor forks")


def _wait_for(log: Path, text: str, count: int = 1) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and log.read_text().count(text) < count:
        time.sleep(0.05)
    assert log.read_text().count(text) >= count, log.read_text()


def test_a_process_that_cannot_start_is_retried_after_a_pause_while_the_other_takes_every_connection(
        tmp_path: Path) -> None:
    """Process 1 killed, and dying at once each time it is started again: the supervisor
    restarts it after a pause, again and again, and meanwhile hands every new connection to
    process 0. Once process 1 starts and serves, it holds none and gets the next connection.
    SIGTERM stops the supervisor and both processes; it exits 0."""
    crash, log = tmp_path / "crash", tmp_path / "supervisor.log"
    with log.open("w") as errors:
        supervisor = subprocess.Popen([sys.executable, "-m", "tests.acquirer.supervised_echo", str(crash)],
                                      stdout=subprocess.PIPE, stderr=errors, text=True, cwd=REPO)
    connections: list[socket.socket] = []

    def connect() -> tuple[str, int]:
        conn = socket.create_connection(("127.0.0.1", port), timeout=15)
        connections.append(conn)
        index, pid = conn.makefile().readline().split()
        return index, int(pid)

    try:
        line = supervisor.stdout.readline()
        assert line.startswith("listening "), log.read_text()
        port = int(line.split()[1])
        answers = dict(connect() for _ in range(2))   # one each
        assert sorted(answers) == ["0", "1"]

        crash.touch()
        os.kill(answers["1"], signal.SIGKILL)
        _wait_for(log, f"host process 1 (pid {answers['1']}) ended (signal SIGKILL); starting another")
        _wait_for(log, "ended (exit status 3); starting another", count=2)   # restarted, died, restarted
        assert [connect()[0] for _ in range(4)] == ["0"] * 4

        crash.unlink()
        _wait_for(log, ") serves", count=3)   # the two first processes, and process 1 again
        index, pid = connect()
        assert (index, f"host process 1 (pid {pid}) serves" in log.read_text()) == ("1", True)
    finally:
        for conn in connections:
            conn.close()
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 0
