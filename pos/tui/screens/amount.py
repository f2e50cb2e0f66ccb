"""Home: amount entry with a keypad, in fen, shown as `¥12.34`.

Digits come in from the right as on a till keypad (1, 2, 3, 4 -> ¥12.34), so
no decimal point is ever typed and the amount is an integer of fen from the
first key. Enter charges it: the payment screen takes over and the engine runs
the sale.
"""
from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from pos.core.amount import format_amount
from pos.journal.store import Txn
from pos.tui.format import txn_summary
from pos.tui.screens.base import TillScreen
from pos.tui.screens.payment import PaymentScreen
from pos.tui.widgets import Keypad
from pos.tui.widgets.keypad import BACKSPACE, CLEAR


class ChargeButton(Button, can_focus=False):
    pass


class AmountScreen(TillScreen):
    BINDINGS = [
        Binding("enter", "charge", show=False),
        Binding("backspace", "key('⌫')", show=False),
        Binding("escape,delete", "key('C')", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.amount = 0          # fen
        self.message = ""

    def body(self) -> ComposeResult:
        with Vertical(id="amount-panel"):
            yield Static(self.t("amount.title"), id="amount-title")
            yield Static(format_amount(self.amount), id="amount")
            yield Static(self.message or self.t("amount.hint"), id="amount-message")
        with Horizontal(id="amount-keys"):
            yield Keypad()
            with Vertical(id="amount-side"):
                yield ChargeButton(self.t("amount.charge"), id="charge", variant="success")
                yield Static(self._last(), id="last")

    def _last(self) -> str:
        last = self.till_app.till.last
        return self.t("amount.last", what=txn_summary(self.till_app.language, last)) if last else ""

    def on_screen_resume(self) -> None:
        self.query_one("#last", Static).update(self._last())

    # --- typing ------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        if event.character is not None and event.character.isdigit():
            event.stop()
            self.action_key(event.character)

    def on_keypad_pressed(self, message: Keypad.Pressed) -> None:
        self.action_key(message.key)

    def action_key(self, key: str) -> None:
        if key == BACKSPACE:
            self._set(self.amount // 10)
        elif key == CLEAR:
            self._set(0)
        else:
            self._set(self.amount * 10 ** len(key) + int(key))

    def _set(self, fen: int) -> None:
        maximum = self.till_app.config.terminal.max_amount_fen
        if fen > maximum:
            self._say(self.t("amount.too_big", max=format_amount(maximum)))
            return
        self.amount = fen
        self.query_one("#amount", Static).update(format_amount(fen))
        self._say("")

    def _say(self, message: str) -> None:
        self.message = message
        widget = self.query_one("#amount-message", Static)
        widget.update(message or self.t("amount.hint"))
        widget.set_class(bool(message), "refused")

    # --- charging --------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "charge":
            event.stop()
            self.action_charge()

    def action_charge(self) -> None:
        app = self.till_app
        if self.amount == 0:
            self._say(self.t("amount.zero"))
            return
        if not app.signed_on:
            app.show_notice("notice.not_signed_on", level="warning")
            return
        amount = self.amount
        app.clear_notice()
        self.app.push_screen(PaymentScreen("sale", amount, lambda engine, sources: engine.sale(amount, sources)),
                             self._paid)

    def _paid(self, txn: Txn | None) -> None:
        if txn is not None:       # a transaction was journaled: start the next one from zero
            self.till_app.till.last = txn
            self._set(0)
        self.query_one("#last", Static).update(self._last())
