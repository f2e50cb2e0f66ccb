"""Application transaction counters that keep rising across runs, as a card's do.

An issuer refuses a cryptogram whose ATC it has already seen (replay), so a
virtual card must never reuse one, even after the process restarts. Each card
has one small file under the state directory, named after the card (never
its PAN), holding the last ATC; it is read, bumped and rewritten under an
exclusive lock, so two processes tapping the same virtual card still count up.
The write is not fsync'd: the page cache outlives any process, and only a
power cut could lose a count (a simulator can live with that; a 7 ms disk
flush per tap would swamp the timings the benchmark measures).
"""
from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

DEFAULT_STATE_DIR = Path("var/sim")
ATC_MAX = 0xFFFF


class AtcExhausted(RuntimeError):
    """The card has used every ATC value: a real card blocks itself here."""


class AtcStore:
    """Persistent ATCs for virtual cards, one file per card name."""

    def __init__(self, directory: Path = DEFAULT_STATE_DIR) -> None:
        self.directory = Path(directory)

    def _path(self, card_name: str) -> Path:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", card_name):
            raise ValueError(f"card name {card_name!r} cannot name a state file")
        return self.directory / f"{card_name}.atc"

    def current(self, card_name: str) -> int:
        """The last ATC used (0 for a card never tapped)."""
        try:
            return int(self._path(card_name).read_text() or 0)
        except FileNotFoundError:
            return 0

    def next(self, card_name: str) -> int:
        """Take the next ATC for the card and persist it before returning it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path(card_name), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 32).strip()
            atc = int(raw or b"0") + 1
            if atc > ATC_MAX:
                raise AtcExhausted(f"virtual card {card_name} has used all {ATC_MAX} ATC values")
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, b"%d\n" % atc)   # no fsync: surviving a process exit is what matters here
            return atc
        finally:
            os.close(fd)
