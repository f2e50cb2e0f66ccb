"""History: the journal with search and filters; void, refund and receipt from here.

Void and refund need a supervisor's PIN first; then they run as any payment
does (the card of the original is presented). Whether a transaction can be
voided or refunded is the engine's to decide: a refusal shows its words.
"""
from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from pos.core.amount import format_amount
from pos.journal.store import Txn
from pos.tui.format import kind_text, local_time, short_card, state_text
from pos.tui.screens.base import BACK, TillScreen
from pos.tui.screens.dialogs import RefundAmountScreen, SupervisorPinScreen
from pos.tui.screens.payment import PaymentScreen
from pos.tui.widgets.bars import Hint

KINDS = ("sale", "wallet_sale", "mpm_sale", "void", "wallet_void", "refund", "wallet_refund", "preauth",
         "completion", "balance")
STATES = ("approved", "declined", "voided", "reversed", "reversal_due", "unknown", "not_sent")
HISTORY_LIMIT = 500


def matches(txn: Txn, text: str) -> bool:
    """Does `text` appear in the trace, RRN, auth code, card digits or amount of `txn`?"""
    needle = text.strip().lower()
    if not needle:
        return True
    haystack = (txn.stan, txn.rrn or "", txn.auth_code or "", txn.masked_pan or "", txn.wallet_code or "",
                format_amount(txn.amount))
    return any(needle in field.lower() for field in haystack)


class HistoryScreen(TillScreen):
    BINDINGS = [Binding("escape", "back", show=False), Binding("slash", "search", show=False),
                Binding("v", "void", show=False),
                Binding("f", "refund", show=False), Binding("r", "receipt", show=False)]
    HINTS = (Hint("/", "key.search", "search"), Hint("V", "key.void", "void"), Hint("F", "key.refund", "refund"), Hint("R", "key.receipt", "receipt"),
             BACK, Hint("F9", "key.language", "app.language"))

    def __init__(self, rows: Callable[[], list[Txn]] | None = None) -> None:
        super().__init__()
        self._rows = rows
        self.search = ""
        self.kind: str | None = None
        self.state: str | None = None
        self.txns: list[Txn] = []

    def _load(self) -> list[Txn]:
        if self._rows is not None:
            return self._rows()
        engine = self.till_app.engine
        return engine.journal.history(HISTORY_LIMIT) if engine is not None else []

    def body(self) -> ComposeResult:
        language = self.till_app.language
        yield Static(self.t("history.title"), id="history-title")
        with Horizontal(id="history-filters"):
            yield Input(self.search, placeholder=self.t("history.search"), id="search")
            yield Select([(kind_text(language, k), k) for k in KINDS], prompt=self.t("history.all_types"),
                         value=self.kind or Select.NULL, id="kind")
            yield Select([(state_text(language, s), s) for s in STATES], prompt=self.t("history.all_states"),
                         value=self.state or Select.NULL, id="state")
        table: DataTable[str] = DataTable(id="txns", cursor_type="row", zebra_stripes=True)
        for key in ("field.trace", "field.type", "field.amount", "field.card", "field.state", "field.rrn",
                    "field.time"):
            table.add_column(self.t(key), key=key)
        yield table
        yield Static("", id="history-empty")

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#txns", DataTable).focus()   # keys act on the rows; "/" goes to the search

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    async def recompose(self) -> None:   # a language switch rebuilds the table: fill it again
        await super().recompose()
        self._fill()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.txns = self._load()
        self._fill()

    def _fill(self) -> None:
        language = self.till_app.language
        table = self.query_one("#txns", DataTable)
        table.clear()
        shown = [t for t in self.txns if (self.kind is None or t.type == self.kind)
                 and (self.state is None or t.state == self.state) and matches(t, self.search)]
        for txn in shown:
            table.add_row(txn.stan, kind_text(language, txn.type), format_amount(txn.amount),
                          short_card(txn.masked_pan) or txn.wallet_code or "", state_text(language, txn.state),
                          txn.rrn or "",
                          local_time(txn.created_at), key=str(txn.id))
        empty = self.query_one("#history-empty", Static)
        empty.update("" if shown else self.t("history.empty"))
        empty.display = not shown

    def on_input_changed(self, event: Input.Changed) -> None:
        self.search = event.value
        self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#txns", DataTable).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else str(event.value)
        if event.select.id == "kind":
            self.kind = value
        else:
            self.state = value
        self._fill()

    def selected(self) -> Txn | None:
        table = self.query_one("#txns", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((t for t in self.txns if str(t.id) == key), None)

    def _chosen(self) -> Txn | None:
        txn = self.selected()
        if txn is None:
            self.till_app.show_notice("history.none_selected", level="information")
        return txn

    # --- void and refund, behind the supervisor PIN -------------------------------------

    def action_void(self) -> None:
        txn = self._chosen()
        if txn is None:
            return

        def unlocked(ok: object) -> None:
            if ok is True:
                self.app.push_screen(PaymentScreen("void", txn.amount, lambda engine, sources:
                                                   engine.void(txn.stan, sources), original=txn))

        self.app.push_screen(SupervisorPinScreen(self.t("key.void"), txn.stan), unlocked)

    def action_refund(self) -> None:
        txn = self._chosen()
        if txn is None:
            return

        def amount_chosen(amount: object) -> None:
            if isinstance(amount, int) and amount:
                self.app.push_screen(PaymentScreen("refund", amount, lambda engine, sources:
                                                   engine.refund(txn.rrn or "", amount, sources), original=txn))

        def unlocked(ok: object) -> None:
            if ok is True:
                self.app.push_screen(RefundAmountScreen(txn), amount_chosen)

        self.app.push_screen(SupervisorPinScreen(self.t("key.refund"), txn.stan), unlocked)

    def action_receipt(self) -> None:
        from pos.tui.screens.receipt import ReceiptScreen

        txn = self._chosen()
        if txn is not None:
            self.app.push_screen(ReceiptScreen(txn))
