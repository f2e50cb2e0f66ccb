"""systemd's notify protocol: READY, WATCHDOG and STOPPING datagrams to `$NOTIFY_SOCKET`.

Why stdlib and not a package: the protocol is one datagram of `KEY=VALUE`
lines on a Unix socket (an address starting with `@` is in the abstract
namespace); `systemd-python` needs libsystemd headers to build on the Pi and
`sdnotify` would add a dependency for the same ten lines. Without
`$NOTIFY_SOCKET` (not under systemd) every call does nothing.

The watchdog is fed by a task on the daemon's event loop -- the loop the
engine runs on -- so a loop that is stuck (a blocking call, a busy loop)
stops the pings and systemd restarts the service after `WatchdogSec`.
"""
from __future__ import annotations

import asyncio
import os
import socket


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET")
        self.address = ("\0" + address[1:]) if address and address.startswith("@") else address
        watchdog_usec = os.environ.get("WATCHDOG_USEC", "")
        self.watchdog_s: float | None = int(watchdog_usec) / 1e6 if watchdog_usec.isdigit() else None
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def send(self, *lines: str) -> bool:
        if not self.address:
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto("\n".join(lines).encode(), self.address)
            except OSError:
                return False
        return True

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def start_watchdog(self) -> None:
        """Ping at a third of `WATCHDOG_USEC` (systemd asks for more often than half) from this loop."""
        if self.watchdog_s is None or not self.enabled or self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._feed(self.watchdog_s / 3))

    async def _feed(self, interval: float) -> None:
        while True:
            self.send("WATCHDOG=1")
            await asyncio.sleep(interval)

    def stop_watchdog(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
