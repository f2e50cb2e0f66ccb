"""Receipt preview: what the printer printed for a transaction, and printing it again."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, VerticalScroll
from textual.widgets import Static

from pos.journal.receipts import ReceiptNotFound, find_receipt
from pos.journal.store import Txn
from pos.tui.paper import PaperLine
from pos.tui.screens.base import BACK, TillScreen
from pos.tui.widgets.bars import Hint
from receipts import render_text


class ReceiptScreen(TillScreen):
    BINDINGS = [Binding("escape", "back", show=False), Binding("p", "print_again", show=False)]
    HINTS = (Hint("P", "key.print", "print_again"), BACK, Hint("F9", "key.language", "app.language"))

    def __init__(self, txn: Txn, *, paper: list[PaperLine] | None = None) -> None:
        """`paper`: the lines to show instead of the printer's (a fixed receipt, for tests)."""
        super().__init__()
        self.txn = txn
        self.paper = paper

    def body(self) -> ComposeResult:
        yield Static(self.t("receipt.title", stan=self.txn.stan), id="receipt-title")
        with VerticalScroll(id="receipt-scroll"):
            with Center():
                yield Static(self._paper(), id="receipt-paper")

    def _paper(self) -> Text:
        app = self.till_app
        engine = app.engine
        if self.paper is not None:
            return _draw(self.paper, self._columns())
        if engine is not None and engine.printer is None:
            return Text(self.t("receipt.no_printer"))
        if app.paper.simulator is not None:
            lines = app.paper.printed(self.txn)
            return _draw(lines, self._columns()) if lines else Text(self.t("receipt.none"))
        return self._kept_receipt()

    def _columns(self) -> int:
        printer = self.till_app.config.printer
        return printer.profile.columns if printer is not None else 48

    def _kept_receipt(self) -> Text:
        """A real printer keeps its paper: show the receipt the journal kept, as text."""
        engine = self.till_app.engine
        if engine is None:
            return Text(self.t("receipt.none"))
        try:
            _, receipt = find_receipt(engine.journal, self.till_app.config, self.txn.stan)
        except ReceiptNotFound:
            return Text(self.t("receipt.none"))
        return Text(render_text(receipt, columns=self._columns()))

    def on_mount(self) -> None:
        self.query_one("#receipt-paper", Static).styles.width = self._columns() + 2

    async def action_print_again(self) -> None:
        if await self.till_app.reprint(self.txn):
            self.paper = None   # from now on, the paper the printer just printed
            self.query_one("#receipt-paper", Static).update(self._paper())
            self.till_app.show_notice("receipt.printed", level="information", stan=self.txn.stan)


def _draw(lines: list[PaperLine], columns: int) -> Text:
    """The paper as printed: each line aligned within the roll's width, bold where it was."""
    text = Text()
    for number, line in enumerate(lines):
        if number:
            text.append("\n")
        body = Text(line.text, style="bold" if line.bold else "")
        pad = max(0, columns - body.cell_len)
        left = pad // 2 if line.align == "center" else pad if line.align == "right" else 0
        text.append(" " * left)
        text.append_text(body)
    return text
