"""Operator sign-on: the cashier's number and password, then the terminal signs on to the host.

Who may sign on: the operators registered in the journal (`pos operator add`,
passwords kept as scrypt hashes, `pos.journal.operators`) once there is one;
until then the test operators of pos.toml `[tui.operators]`. The cashier
signed on is recorded in the journal, so every row written from then on,
every slip and the reports' "by operator" lines name that cashier. F10
brings this screen back to switch cashier.

Enter signs on; so does F10, which every notice about a failed sign-on or an
unreachable host offers ("press F10 to try again"), here as on every other
screen.
"""
from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from pos.journal.operators import OperatorRegistry, password_matches
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
            if app.config.nfc.simulated and not self._registered():   # the kit's test operators, on the demo set-up
                hint = ", ".join(f"{number}/{password}" for number, password in app.settings.operators.items())
                yield Static(self.t("signon.hint", hint=hint), classes="detail")

    def _registered(self) -> bool:
        engine = self.till_app.engine
        return engine is not None and not OperatorRegistry(engine.journal).empty

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
        self.busy = True
        self.run_sign_on(operator, password)

    async def _operator_ok(self, operator: str, password: str) -> bool:
        """The registry's verdict once it holds an operator, else the test operators' of `[tui.operators]`."""
        app = self.till_app
        engine = await app.wait_engine()
        registry = OperatorRegistry(engine.journal) if engine is not None else None
        if registry is None or registry.empty:
            return app.settings.operator_ok(operator, password)
        row = engine.journal.operator_row(operator) if engine is not None else None
        if row is None:
            return False
        if row["password_hash"] is None:
            return password == ""
        return await asyncio.to_thread(password_matches, password, row["password_hash"])   # scrypt: ~50 ms

    @work(exclusive=True, group="sign-on", exit_on_error=False)
    async def run_sign_on(self, operator: str, password: str) -> None:
        try:
            if not await self._operator_ok(operator, password):
                self._say(self.t("signon.wrong"))
                self.query_one("#password", Input).value = ""
                return
            self._say(self.t("signon.busy"))
            signed_on = await self.till_app.sign_on(operator)
            engine = self.till_app.engine
            if signed_on and engine is not None:
                engine.journal.sign_on_operator(operator)   # every row from now on names this cashier
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
