"""One transaction at a time per terminal, and the abort any face may call while it waits.

`TransactionGuard.hold(what)` is entered by every engine operation that talks
to the host. A second one while the first runs gets `Busy` at once (it is
never queued: a register or a cashier must know now that the terminal is
busy). The engine runs on one event loop, so a flag is enough; no lock is
awaited.

While the running transaction waits for the customer -- a card to be
tapped, a code to be scanned, a wallet payment to be confirmed on the phone
-- it marks itself abortable; `abort()` then wakes it and it ends by its
rules: before anything was sent with `Cancelled`, after a wallet order was
sent by reversing the order. Outside those waits `abort()` changes nothing
and says so (returns False): once a request is on its way, the engine's
reversal rules decide.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from pos.core.errors import Busy


class TransactionGuard:
    def __init__(self) -> None:
        self.running: str | None = None
        self._abort: asyncio.Event | None = None
        self._abortable = False

    @contextmanager
    def hold(self, what: str) -> Iterator[None]:
        if self.running is not None:
            raise Busy(f"the terminal is busy with a {self.running}: try again when it has ended",
                       running=self.running, requested=what)
        self.running = what
        self._abort = asyncio.Event()
        try:
            yield
        finally:
            self.running = None
            self._abort = None
            self._abortable = False

    @contextmanager
    def abortable(self) -> Iterator[asyncio.Event]:
        """While waiting for the customer: the event `abort()` sets."""
        if self._abort is None:   # an operation not run under `hold` (tests driving a flow alone)
            self._abort = asyncio.Event()
        self._abortable = True
        try:
            yield self._abort
        finally:
            self._abortable = False

    def abort(self) -> bool:
        """Ask the waiting transaction to end; False when nothing is waiting for the customer."""
        if self._abort is None or not self._abortable:
            return False
        self._abort.set()
        return True
