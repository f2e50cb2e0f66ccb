"""The lines around every screen: the status bar on top, the notice and the key hints below.

They draw from the app's state (`CheckoutApp.till`), so the app only has to
refresh them when something changes, on whatever screen is showing.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from rich.text import Text
from textual.events import Click
from textual.widgets import Static

from pos.devices.kinds import ABSENT, CAMERA, FAULT, OK, PRINTER, READER, SIMULATED
from pos.tui.till_app import TillApp

_DEVICE_STYLE = {OK: "green", SIMULATED: "cyan", ABSENT: "dim", FAULT: "bold red"}
_HOST_STYLE = {"online": "green", "signing_on": "yellow", "offline": "yellow", "down": "bold red",
               "reversal": "bold yellow"}
_SEPARATOR = " │ "


class StatusBar(Static):
    """Host link and sign-on, reader, camera, printer, batch and operator, in one line."""

    def render(self) -> Text:
        app = cast("TillApp", self.app)
        till = app.till
        t = app.t
        text = Text(no_wrap=True, overflow="ellipsis")

        def part(label: str, value: str, style: str) -> None:
            if text:
                text.append(_SEPARATOR, style="dim")
            text.append(f"{label} ")
            text.append(value, style=style)

        part(t("host"), t(f"host.{till.host}"), _HOST_STYLE[till.host])
        for device in (READER, CAMERA, PRINTER):
            state = till.devices.get(device, ABSENT)
            part(t(device), t(f"device.{state}"), _DEVICE_STYLE[state])
        part(t("batch"), till.batch or "—", "bold")
        part(t("operator"), till.operator or "—", "bold")
        return text


class NoticeBar(Static):
    """The latest device or host notice: what happened and what to do. Hidden when there is none."""

    def render(self) -> Text:
        app = cast("TillApp", self.app)
        notice = app.till.notice
        if notice is None:
            return Text("")
        return Text(notice.text(app.language), style=notice.style)

    def on_mount(self) -> None:
        self.sync()

    def sync(self) -> None:
        app = cast("TillApp", self.app)
        self.display = app.till.notice is not None
        self.refresh()


@dataclass(frozen=True)
class Hint:
    key: str       # as shown: "F2", "Esc"
    text: str      # i18n key of the label
    action: str    # the action it runs (in the screen's namespace), for a mouse click


class KeyHint(Static):
    """One key hint; clicking it does what the key does."""

    def __init__(self, hint: Hint, label: str) -> None:
        super().__init__(Text.assemble((hint.key, "bold reverse"), " ", label, " "), classes="key-hint")
        self.hint = hint

    async def on_click(self, event: Click) -> None:
        event.stop()
        await self.app.run_action(self.hint.action, self.screen)


class KeyBar(Static):
    """The keys of the screen, in the cashier's language (a translated footer)."""

    DEFAULT_CSS = "KeyBar { layout: horizontal; height: 1; dock: bottom; background: $panel; }"

    def __init__(self, hints: Sequence[Hint]) -> None:
        super().__init__()
        self.hints = tuple(hints)

    def compose(self):
        app = cast("TillApp", self.app)
        for hint in self.hints:
            yield KeyHint(hint, app.t(hint.text))
