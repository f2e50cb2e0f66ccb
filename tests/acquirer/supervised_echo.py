"""A supervisor over 2 toy host processes, for tests/acquirer/test_supervisor.py.

`python -m tests.acquirer.supervised_echo CRASH_FILE`: the real `Supervisor` and
`HandedConnections` (acquirer/supervisor.py, acquirer/handoff.py) with, in place of the
host, a process that answers each handed connection with one line, `INDEX PID`, and tells
the supervisor when it closes. While CRASH_FILE exists, process 1 exits (status 3) as soon
as it starts. Prints `listening PORT` once both processes serve.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from acquirer.handoff import HandedConnections
from acquirer.supervisor import Supervisor, listening_socket


def _child(crash: Path, index: int, handed: HandedConnections) -> None:
    if index == 1 and crash.exists():
        os._exit(3)
    asyncio.run(_answer(index, handed))


async def _answer(index: int, handed: HandedConnections) -> None:
    loop = asyncio.get_running_loop()

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            transport.write(f"{index} {os.getpid()}\n".encode())

        def connection_lost(self, exc: Exception | None) -> None:
            handed.closed()

    handed.serve(lambda sock: loop.create_task(loop.connect_accepted_socket(Answer, sock)))
    handed.ready()
    await asyncio.Event().wait()


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    crash = Path(sys.argv[1])
    sock = listening_socket("127.0.0.1", 0)
    return Supervisor(2, sock, lambda index, handed: _child(crash, index, handed),
                      on_ready=lambda: print(f"listening {sock.getsockname()[1]}", flush=True)).run()


if __name__ == "__main__":
    sys.exit(main())
