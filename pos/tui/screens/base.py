"""What every full screen of the till has: the status bar on top, the notice and key hints below."""
from __future__ import annotations

from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen

from pos.tui.till_app import TillApp
from pos.tui.widgets import KeyBar, NoticeBar, StatusBar
from pos.tui.widgets.bars import Hint


#: the keys every home-like screen offers
GLOBAL_HINTS = (Hint("F2", "key.history", "app.history"), Hint("F3", "key.settle", "app.settle"),
                Hint("F4", "key.settings", "app.settings"), Hint("F6", "key.simulator", "app.simulator"),
                Hint("F9", "key.language", "app.language"), Hint("F10", "key.signon", "app.sign_on"),
                Hint("^Q", "key.quit", "app.quit"))
BACK = Hint("Esc", "key.back", "back")


class TillScreen(Screen[Any]):
    """A full screen of the till; subclasses yield their body from `body()`."""

    HINTS: ClassVar[tuple[Hint, ...]] = GLOBAL_HINTS

    @property
    def till_app(self) -> TillApp:
        return cast("TillApp", self.app)

    def t(self, key: str, **values: object) -> str:
        return self.till_app.t(key, **values)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        yield from self.body()
        with Vertical(id="bottom"):
            yield NoticeBar(id="notice-bar")
            yield KeyBar(self.HINTS)

    def body(self) -> ComposeResult:
        yield from ()

    def action_back(self) -> None:
        self.dismiss(None)
