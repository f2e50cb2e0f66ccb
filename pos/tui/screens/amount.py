"""Home: amount entry with a keypad, in fen, shown as `¥12.34`.

Digits come in from the right as on a till keypad (1, 2, 3, 4 -> ¥12.34), so
no decimal point is ever typed and the amount is an integer of fen from the
first key. Enter charges it: the payment screen takes over and the engine runs
the sale. The other transactions start here too, each on one letter (listed
beside the Charge button, clickable): Q shows a merchant-presented code for
the amount, A pre-authorizes it, C completes a pre-auth (its trace number is
asked) for it, B asks a card's balance. P prints the latest receipt again
(what a printer notice asks for).
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
from pos.tui.screens.dialogs import PreauthTraceScreen
from pos.tui.screens.payment import Job, PaymentScreen
from pos.tui.widgets import Keypad
from pos.tui.widgets.bars import Hint, KeyHint
from pos.tui.widgets.keypad import BACKSPACE, CLEAR

#: the other transactions, on one letter each (beside the Charge button)
MORE_HINTS = (Hint("Q", "key.mpm", "show_code"), Hint("A", "key.preauth", "preauth"),
              Hint("C", "key.completion", "completion"), Hint("B", "key.balance", "balance"))


class ChargeButton(Button, can_focus=False):
    pass


class AmountScreen(TillScreen):
    BINDINGS = [
        Binding("enter", "charge", show=False),
        Binding("backspace", "key('⌫')", show=False),
        Binding("escape,delete", "key('C')", show=False),
        Binding("q", "show_code", show=False),
        Binding("a", "preauth", show=False),
        Binding("c", "completion", show=False),
        Binding("b", "balance", show=False),
        Binding("p", "print_last", show=False),
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
                with Vertical(id="more-keys"):
                    for hint in MORE_HINTS:
                        yield KeyHint(hint, self.t(hint.text))

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
        amount = self.amount
        self._start("sale", lambda engine, sources: engine.sale(amount, sources))

    def action_show_code(self) -> None:
        """Q: a merchant-presented code for the amount, for the customer's wallet app to scan and pay."""
        amount = self.amount
        self._start("mpm_sale", lambda engine, _: engine.mpm_sale(amount))

    def action_preauth(self) -> None:
        amount = self.amount
        self._start("preauth", lambda engine, sources: engine.preauth(amount, sources))

    def action_balance(self) -> None:
        self._start("balance", lambda engine, sources: engine.balance(sources), needs_amount=False)

    def action_completion(self) -> None:
        """C: complete a pre-auth for the amount; the pre-auth's trace number is asked first."""
        amount = self.amount
        if not self._can_start(True):
            return

        def chosen(stan: object) -> None:
            if isinstance(stan, str) and stan:
                self._start("completion", lambda engine, sources: engine.complete(stan, amount, sources))

        self.app.push_screen(PreauthTraceScreen(amount), chosen)

    def _can_start(self, needs_amount: bool) -> bool:
        app = self.till_app
        if needs_amount and self.amount == 0:
            self._say(self.t("amount.zero"))
            return False
        if not app.signed_on:
            app.show_notice("notice.not_signed_on", level="warning")
            return False
        return True

    def _start(self, kind: str, job: Job, *, needs_amount: bool = True) -> None:
        if not self._can_start(needs_amount):
            return
        self.till_app.clear_notice()
        self.app.push_screen(PaymentScreen(kind, self.amount if needs_amount else 0, job), self._paid)

    async def action_print_last(self) -> None:
        """P: the latest transaction's receipt again (after the printer was fixed)."""
        last = self.till_app.till.last
        if last is not None:
            await self.till_app.reprint(last)

    def _paid(self, txn: Txn | None) -> None:
        if txn is not None:       # a transaction was journaled: start the next one from zero
            self.till_app.till.last = txn
            self._set(0)
        self.query_one("#last", Static).update(self._last())
