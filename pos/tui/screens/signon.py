"""Operator sign-on: the cashier's number and password, then the terminal signs on to the host.

Enter signs on; so does F10, which every notice about a failed sign-on or an
unreachable host offers ("press F10 to try again"), here as on every other
screen.
"""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from pos.tui.screens.base import TillScreen
from pos.tui.widgets.bars import Hint


class SignOnScreen(TillScreen):
    BINDINGS = [Binding("escape", "back_if_signed_on", show=False), Binding("f10", "sign_on", show=False)]
    HINTS = (Hint("↵", "key.signon", "sign_on"), Hint("F10", "key.retry", "sign_on"), Hint("F4", "key.settings", "app.settings"),
             Hint("F9", "key.language", "app.language"), Hint("^Q", "key.quit", "app.quit"))

    def __init__(self) -> None:
        super().__init__()
        self.message = ""
        self.busy = False

    def body(self) -> ComposeResult:
        app = self.till_app
        with Vertical(id="signon-panel", classes="dialog"):
            yield Static(self.t("signon.title"), classes="dialog-title")
            yield Static(self.t("signon.operator"), classes="label")
            yield Input(app.till.operator or app.config.terminal.operator, restrict=r"[0-9]*", max_length=3,
                        id="operator")
            yield Static(self.t("signon.password"), classes="label")
            yield Input(password=True, restrict=r"[0-9]*", max_length=8, id="password")
            yield Static(self.message, id="signon-message", classes="refused")
            if app.config.nfc.simulated:   # the kit's test operators, on the demo set-up
                hint = ", ".join(f"{number}/{password}" for number, password in app.settings.operators.items())
                yield Static(self.t("signon.hint", hint=hint), classes="detail")

    def on_mount(self) -> None:
        self.query_one("#password", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "operator":
            self.query_one("#password", Input).focus()
        else:
            self.action_sign_on()

    def action_sign_on(self) -> None:
        if self.busy:
            return
        operator = self.query_one("#operator", Input).value
        password = self.query_one("#password", Input).value
        if not self.till_app.settings.operator_ok(operator, password):
            self._say(self.t("signon.wrong"))
            self.query_one("#password", Input).value = ""
            return
        self.run_sign_on(operator)

    @work(exclusive=True, group="sign-on", exit_on_error=False)
    async def run_sign_on(self, operator: str) -> None:
        self.busy = True
        self._say(self.t("signon.busy"))
        try:
            signed_on = await self.till_app.sign_on(operator)
        finally:
            self.busy = False
        if signed_on:
            self.dismiss(None)
        else:
            self._say("")

    def _say(self, text: str) -> None:
        self.message = text
        self.query_one("#signon-message", Static).update(text)

    def action_back_if_signed_on(self) -> None:
        if self.till_app.signed_on:
            self.dismiss(None)
