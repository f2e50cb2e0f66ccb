"""The real `pos` command on a terminal: tmux runs it, keys go in with send-keys, the screen comes back
with capture-pane. Each session is on a tmux server of its own (`-L`), so parallel tests never meet.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

POS = Path(sys.executable).parent / "pos"
WAIT_S = 60.0


class TmuxPos:
    """`pos ARGS` in an 80x24 tmux pane (no status line: the app has the whole screen)."""

    def __init__(self, args: Sequence[str], *, width: int = 80, height: int = 24,
                 env: dict[str, str] | None = None) -> None:
        self.socket = f"tillkit-{uuid.uuid4().hex[:12]}"
        self.args = [str(POS), *args]
        self.width, self.height = width, height
        self.env = env or {}
        self.started_at = 0.0

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], check=True,
                              capture_output=True, text=True).stdout

    def start(self) -> TmuxPos:
        environment = [f"{name}={value}" for name, value in {"TERM": "xterm-256color", **self.env}.items()]
        self._tmux("new-session", "-d", "-s", "pos", "-x", str(self.width), "-y", str(self.height),
                   *[a for e in environment for a in ("-e", e)], "sleep", "600")
        self._tmux("set-option", "-g", "status", "off")
        self._tmux("set-option", "-g", "remain-on-exit", "on")
        self.started_at = time.perf_counter()
        self._tmux("respawn-pane", "-k", "-t", "pos", *self.args)
        return self

    @property
    def pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", "pos", "#{pane_pid}").strip())

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "pos")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "pos", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "pos", "-l", text)

    def wait_for(self, *texts: str, timeout: float = WAIT_S) -> str:
        """Poll the screen until it shows every one of `texts`; returns that screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            if self.exited() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed {texts!r}; it shows:\n{screen}")
            time.sleep(0.01)

    def exited(self) -> int | None:
        """The exit status once `pos` has ended, else None."""
        dead, status, signal = (self._tmux("display-message", "-p", "-t", "pos",
                                           "#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}")
                                .strip().split(":"))
        if dead != "1":
            return None
        return int(status) if status else -int(signal or 0)   # killed by a signal: minus its number

    def wait_exit(self, timeout: float = WAIT_S) -> int:
        deadline = time.monotonic() + timeout
        while (status := self.exited()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"pos did not exit; the screen shows:\n{self.screen()}")
            time.sleep(0.05)
        return status

    def peak_memory_kib(self) -> int:
        """VmHWM of the pos process: its peak resident memory so far."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc status")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)

    def __enter__(self) -> TmuxPos:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def has_tmux() -> bool:
    return any(os.access(Path(d) / "tmux", os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep))
