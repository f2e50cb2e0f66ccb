"""Settling the open batch from a screen that shows it: the settlement screen (F3) and the Z report (F8).

Both run the same steps -- the screen shows "running" and hears the batch
upload's events until the host answers, and a refusal becomes the notice and
the screen's failure line -- so the steps are written once, here.
"""
from __future__ import annotations

from typing import Protocol

from acquirer.protocol.errors import TillkitError
from pos.core import events as ev
from pos.core.outcome import SettlementOutcome
from pos.tui.till_app import TillApp

RUNNING, FAILED = "running", "failed"


class SettlingScreen(Protocol):
    """What a screen that settles has: the app, its failure line, its phase and the events it follows."""

    failure: str

    @property
    def till_app(self) -> TillApp: ...

    def _set_phase(self, phase: str) -> None: ...

    def follow(self, event: ev.Event) -> None: ...


async def settle_on(screen: SettlingScreen) -> SettlementOutcome | None:
    """The host's verdict on the open batch, or None (no terminal, or refused: noticed and shown)."""
    app = screen.till_app
    engine = app.engine
    if engine is None:
        return None
    screen._set_phase(RUNNING)
    app.txn_listener = screen
    try:
        return await engine.settle()
    except TillkitError as e:
        screen.failure = app.error_text(e)
        app.show_notice("notice.settle_failed", detail=screen.failure)
        screen._set_phase(FAILED)
        return None
    finally:
        app.txn_listener = None
