"""Small dialogs over a screen: the card's PIN, the supervisor PIN, a refund amount, a pre-auth's trace."""
from __future__ import annotations

from typing import cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from pos.core.amount import format_amount
from pos.journal.store import Txn
from pos.tui.till_app import TillApp


class _Dialog(ModalScreen[object]):
    BINDINGS = [Binding("escape", "dismiss_none", show=False)]
    _answered = False

    def on_screen_resume(self) -> None:
        self._answered = False   # shown (again): open for one answer

    def close(self, result: object) -> None:
        """Dismiss once. A burst (Enter Enter) submits twice before the first dismissal has popped
        this dialog; Textual's `dismiss` pops whatever screen is on top, so a second one would
        close the payment screen under it."""
        if self._answered:
            return
        self._answered = True
        self.dismiss(result)

    @property
    def till_app(self) -> TillApp:
        return cast("TillApp", self.app)

    def t(self, key: str, **values: object) -> str:
        return self.till_app.t(key, **values)

    def action_dismiss_none(self) -> None:
        self.close(None)


class CardPinScreen(_Dialog):
    """The cardholder types the online PIN (masked); it goes to the engine, which encrypts it."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.t("pay.pin_title"), classes="dialog-title")
            yield Static(self.reason, classes="detail")
            yield Input(password=True, restrict=r"[0-9]*", max_length=12, id="card-pin")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if len(event.value) >= 4:
            self.close(event.value)


class SupervisorPinScreen(_Dialog):
    """A supervisor's PIN before a void or refund. Dismisses True when it matches; a wrong one is refused."""

    def __init__(self, what: str, stan: str) -> None:
        super().__init__()
        self.what = what
        self.stan = stan
        self.wrong = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.t("pin.title"), classes="dialog-title")
            yield Static(self.t("pin.for", what=self.what, stan=self.stan), classes="detail")
            yield Input(password=True, restrict=r"[0-9]*", max_length=12, id="supervisor-pin")
            yield Static(self.t("pin.wrong") if self.wrong else "", id="pin-message", classes="refused")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.till_app.settings.supervisor_pin_ok(event.value):
            self.close(True)
            return
        self.wrong = True
        event.input.value = ""
        self.query_one("#pin-message", Static).update(self.t("pin.wrong"))

    def action_dismiss_none(self) -> None:
        self.close(False)


class RefundAmountScreen(_Dialog):
    """How much of the original to refund: typed as on the keypad (fen from the right), at most the original."""

    def __init__(self, original: Txn) -> None:
        super().__init__()
        self.original = original
        self.amount = original.amount
        self.message = ""
        self._prefilled = True     # the first digit typed replaces the original's amount

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.t("refund.title"), classes="dialog-title")
            yield Static(self.t("refund.of", amount=format_amount(self.original.amount),
                                rrn=self.original.rrn or "—"), classes="detail")
            yield Static(format_amount(self.amount), id="refund-amount", classes="dialog-amount")
            yield Static(self.message, id="refund-message", classes="refused")

    def on_key(self, event: events.Key) -> None:
        if event.character is not None and event.character.isdigit():
            event.stop()
            base = 0 if self._prefilled else self.amount
            self._prefilled = False
            self._set(base * 10 + int(event.character))
        elif event.key == "backspace":
            event.stop()
            self._prefilled = False
            self._set(self.amount // 10)
        elif event.key == "enter":
            event.stop()
            if self.amount > 0:
                self.close(self.amount)

    def _set(self, fen: int) -> None:
        if fen > self.original.amount:
            self.message = self.t("refund.too_big", max=format_amount(self.original.amount))
        else:
            self.amount, self.message = fen, ""
            self.query_one("#refund-amount", Static).update(format_amount(fen))
        self.query_one("#refund-message", Static).update(self.message)


class PreauthTraceScreen(_Dialog):
    """The trace number of the pre-auth a completion completes (digits, as on its slip).

    Whether that pre-auth exists and may be completed for the amount is the
    engine's decision; its refusal shows on the payment screen.
    """

    def __init__(self, amount: int) -> None:
        super().__init__()
        self.amount = amount

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.t("trace.title"), classes="dialog-title")
            yield Static(self.t("trace.for", amount=format_amount(self.amount)), classes="detail")
            yield Input(restrict=r"[0-9]*", max_length=6, id="preauth-trace")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            self.close(event.value)
