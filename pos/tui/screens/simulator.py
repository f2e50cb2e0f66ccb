"""The simulator panel: choose what the customer presents (card, phone, band or wallet code)."""
from __future__ import annotations

from typing import cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from pos.simulated.station import Simulator
from pos.tui.till_app import TillApp

GROUPS = ("cards", "devices", "codes", "trouble")


class SimulatorScreen(ModalScreen[str | None]):
    """Dismisses with the chosen presentable's key (None: nothing presented)."""

    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self, simulator: Simulator, suggested: str | None = None) -> None:
        """`suggested`: the key to highlight (a void's or refund's original card), else the first card."""
        super().__init__()
        self.simulator = simulator
        self.suggested = suggested
        self._answered = False

    def compose(self) -> ComposeResult:
        app = cast("TillApp", self.app)
        options: list[Option | None] = []
        for group in GROUPS:
            options.append(Option(f"── {app.t(f'sim.{group}')} ──", id=f"group-{group}", disabled=True))
            for item in self.simulator.items:
                if item.group == group:
                    text = (app.t(f"code.{item.name}") if group == "codes"
                            else f"{app.t(f'trouble.{item.name}')}  ({item.label})" if group == "trouble"
                            else f"{item.name}  ({item.label})")
                    options.append(Option(text, id=item.key))
        with Vertical(classes="dialog", id="simulator"):
            yield Static(app.t("sim.title"), classes="dialog-title")
            yield OptionList(*options, id="presentables")

    def on_mount(self) -> None:
        presentables = self.query_one(OptionList)
        # Enter presents the highlighted one: the suggested card, else the first card (under its heading)
        presentables.highlighted = presentables.get_option_index(self.suggested) if self.suggested else 1

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._close(event.option.id)

    def action_close(self) -> None:
        self._close(None)

    def on_screen_resume(self) -> None:
        self._answered = False   # shown (again): open for one choice

    def _close(self, key: str | None) -> None:
        """Dismiss once: a burst of Enters selects twice before the first dismissal has popped this
        panel, and Textual's `dismiss` pops whatever screen is on top (the payment under it)."""
        if self._answered:
            return
        self._answered = True
        self.dismiss(key)


#: the wallet apps a customer can pay a merchant-presented code with (drivers.sim.wallet CODE_KINDS but CPM)
PAYING_WALLETS = ("alipay", "wechat", "unionpay")


class PayShownCodeScreen(ModalScreen[str | None]):
    """The simulator while a merchant-presented code is on screen: which wallet app scans and pays it.

    Dismisses with the wallet's name (None: nobody pays); the payment screen
    then pays the code through the acquirer's wallet-apps endpoint, as the
    customer's phone would.
    """

    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self._answered = False

    def compose(self) -> ComposeResult:
        app = cast("TillApp", self.app)
        options = [Option(app.t("sim.pay_with", wallet=app.t(f"wallet.{w}")), id=w) for w in PAYING_WALLETS]
        with Vertical(classes="dialog", id="pay-shown-code"):
            yield Static(app.t("sim.pay_title"), classes="dialog-title")
            yield OptionList(*options, id="paying-wallets")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._close(event.option.id)

    def action_close(self) -> None:
        self._close(None)

    def _close(self, wallet: str | None) -> None:
        if self._answered:   # once: see SimulatorScreen._close
            return
        self._answered = True
        self.dismiss(wallet)
