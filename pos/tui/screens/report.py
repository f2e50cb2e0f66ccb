"""X and Z reports on the checkout screen (F8): the running totals, and the settle-and-close that ends the day.

The screen opens on the X report of the open batch -- the journal's reading
(`pos.journal.report.shift_report`), nothing closed. `Z` asks for a
confirmation, then settles the batch with the host (the engine's settlement,
as F3 and `pos report z` run it) and shows the Z report of the batch just
closed, with the host's verdict; it prints at once. `P` prints the report on
screen, `R` reprints the last report printed and `S` the last settlement
summary, both marked REPRINT. The same figures as the printed slip and
`pos report x|z --json`: one report model (`receipts.report`), three faces.
"""
from __future__ import annotations

from datetime import UTC, datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from acquirer.protocol.clock import CHINA
from pos.core import events as ev
from pos.core.amount import format_amount
from pos.devices.printing import ReceiptPrinter
from pos.journal.receipts import ReceiptNotFound
from pos.journal.report import shift_report
from pos.tui.screens.base import BACK, TillScreen
from pos.tui.screens.settling import FAILED, RUNNING, settle_on
from pos.tui.widgets.bars import Hint
from receipts import Count, ShiftReport, Totals, labels

VIEWING = "viewing"


def one_language(label: str, language: str) -> str:
    """A bilingual slip label ("支付宝 ALIPAY") in the cashier's language ("ALIPAY" or "支付宝")."""
    words = label.split()
    chinese = [w for w in words if not w.isascii()]
    if language == "zh":
        return " ".join(chinese) if chinese else label
    english = [w for w in words if w.isascii()]
    return " ".join(english) if english else label


class ConfirmZScreen(ModalScreen[bool]):
    """Settle and close the batch? Enter or Y: yes; Esc or N: no (a Z report cannot be undone)."""

    BINDINGS = [Binding("enter,y", "answer(True)", show=False), Binding("escape,n", "answer(False)", show=False)]
    DEFAULT_CSS = "ConfirmZScreen #confirm-z { width: 60; }"

    def __init__(self, batch: str) -> None:
        super().__init__()
        self.batch_no = batch
        self._answered = False

    def compose(self) -> ComposeResult:
        t = self.app.t  # type: ignore[attr-defined]
        with Vertical(id="confirm-z", classes="dialog"):
            yield Static(t("report.confirm_title"), classes="dialog-title")
            yield Static(t("report.confirm", batch=self.batch_no), classes="detail")
            yield Static(t("report.confirm_keys"), classes="keys")

    def action_answer(self, yes: bool) -> None:
        if not self._answered:    # a burst of keys answers once
            self._answered = True
            self.dismiss(yes)


class ReportScreen(TillScreen):
    """The X report of the open batch; Z settles and shows the Z report. `report`: fixed data (tests)."""

    BINDINGS = [Binding("escape", "back", show=False), Binding("z", "z_report", show=False),
                Binding("p", "print_report", show=False), Binding("r", "reprint_report", show=False),
                Binding("s", "reprint_settlement", show=False)]
    DEFAULT_CSS = """
    ReportScreen #report-title { text-style: bold; padding: 0 1; }
    ReportScreen #report-facts { color: $text-muted; padding: 0 1; }
    ReportScreen #report-table { height: 1fr; margin: 0 1; }
    ReportScreen .keys, ReportScreen .progress-line, ReportScreen .refused { padding: 0 1; margin-top: 0; }
    """

    @property
    def HINTS(self) -> tuple[Hint, ...]:  # type: ignore[override]
        if self.phase == RUNNING:
            return (Hint("F9", "key.language", "app.language"),)
        first = (Hint("Z", "key.z_report", "z_report"),) if self.report is None or self.report.kind == "X" else ()
        return (*first, Hint("P", "key.print_report", "print_report"), Hint("R", "key.reprint_report", "reprint_report"),
                Hint("S", "key.reprint_settlement", "reprint_settlement"), BACK, Hint("F9", "key.language",
                                                                                      "app.language"))

    def __init__(self, report: ShiftReport | None = None) -> None:
        super().__init__()
        self.report = report
        self.phase = VIEWING
        self.failure = ""
        self.uploading = 0

    # --- the reading -------------------------------------------------------------------

    def _reading(self) -> ShiftReport | None:
        """The report on screen: the one given, else the X report of the open batch (None: no terminal)."""
        if self.report is None:
            engine = self.till_app.engine
            if engine is None:
                return None
            self.report = shift_report(engine.journal, self.till_app.config, "x", engine.journal.batch,
                                       datetime.now(UTC))
        return self.report

    def body(self) -> ComposeResult:
        report = self._reading()
        if report is None:
            yield Static(self.t("notice.not_signed_on"), classes="refused")
            return
        title = "report.x_title" if report.kind == "X" else "report.z_title"
        yield Static(self.t(title, batch=f"{report.batch:06d}"), id="report-title")
        when = report.when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        facts = self.t("report.facts", operator=report.operator_label(report.operator), when=when)
        if report.kind == "Z":
            facts += "   " + self.t("report.balanced" if report.balanced else "report.unbalanced")
        yield Static(facts, id="report-facts")
        yield self._table(report)
        yield from self._state()

    def _table(self, report: ShiftReport) -> DataTable[str]:
        table: DataTable[str] = DataTable(id="report-table", show_cursor=False, zebra_stripes=True)
        table.add_column("", key="what")
        for key in ("sales", "voids", "refunds", "reversals", "net"):
            table.add_column(self.t(f"report.{key}"), key=key)
        lang = self.till_app.language
        self._row(table, self.t("report.totals"), report.totals)
        sections: list[tuple[str, list[tuple[str, Totals]]]] = [
            ("report.by_channel", [(one_language(labels.channel(key.split(":", 1)[1], key.startswith("wallet:")),
                                                 lang), totals) for key, totals in report.by_channel().items()]),
            ("report.by_entry_mode", [(one_language(labels.ENTRY[mode], lang), totals)
                                      for mode, totals in report.by_entry_mode().items()]),
            ("report.by_operator", [(report.operator_label(name), totals)
                                    for name, totals in report.by_operator().items()]),
        ]
        for title, groups in sections:
            if groups:
                table.add_row(self.t(title), "", "", "", "", "")
                for name, totals in groups:
                    self._row(table, f"  {name}", totals)
        table.can_focus = True    # arrow keys scroll a long day
        return table

    @staticmethod
    def _row(table: DataTable[str], name: str, totals: Totals) -> None:
        def cell(count: Count, sign: int = 1) -> str:
            return f"{count.count} {format_amount(sign * count.amount_fen)}" if count.count else "-"

        table.add_row(name, cell(totals.sales + totals.completions), cell(totals.voids + totals.completion_voids, -1),
                      cell(totals.refunds, -1), cell(totals.reversals), format_amount(totals.net_fen))

    def _state(self) -> ComposeResult:
        if self.phase == RUNNING:
            yield Static(self.t("settle.uploading", count=self.uploading) if self.uploading
                         else self.t("settle.running"), classes="progress-line")
        elif self.phase == FAILED:
            yield Static(self.t("notice.settle_failed", detail=self.failure), classes="refused")
        else:
            assert self.report is not None
            yield Static(self.t("report.x_keys" if self.report.kind == "X" else "report.z_keys"), classes="keys")

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        if self.is_mounted:
            self.refresh(recompose=True)

    def show_report(self, report: ShiftReport) -> None:
        """Put `report` on screen (the Z report after settling; also how tests show fixed data)."""
        self.report = report
        self._set_phase(VIEWING)

    # --- Z: settle and close -----------------------------------------------------------------

    def action_z_report(self) -> None:
        if self.phase == RUNNING or (self.report is not None and self.report.kind == "Z"):
            return
        if self.till_app.txn_listener is not None:
            self.till_app.show_notice("notice.busy", level="warning")
            return
        batch = f"{self.report.batch:06d}" if self.report is not None else "—"
        self.app.push_screen(ConfirmZScreen(batch), self._confirmed)

    def _confirmed(self, yes: bool | None) -> None:
        if yes:
            self.run_z_report()

    @work(exclusive=True, group="settlement", exit_on_error=False)
    async def run_z_report(self) -> None:
        result = await settle_on(self)
        engine, app = self.till_app.engine, self.till_app
        if result is None or engine is None:
            return
        report = shift_report(engine.journal, app.config, "z", result.batch, datetime.now(UTC), result.balanced)
        self.show_report(report)
        await self._print(report)

    def follow(self, event: ev.Event) -> None:
        if isinstance(event, ev.UploadingBatch):
            self.uploading = event.count
            self._set_phase(RUNNING)

    # --- paper ----------------------------------------------------------------------------------

    def _printer(self) -> ReceiptPrinter | None:
        engine = self.till_app.engine
        printer = engine.printer if engine is not None else None
        if not isinstance(printer, ReceiptPrinter):
            self.till_app.show_notice("receipt.no_printer", level="information")
            return None
        return printer

    async def _print(self, report: ShiftReport) -> None:
        printer = self._printer()
        if printer is not None and (await printer.report(report)).printed:
            self.till_app.show_notice("report.printed", level="information", kind=report.kind)

    def action_print_report(self) -> None:
        if self.phase != RUNNING and self.report is not None:
            self.print_shown()

    @work(exclusive=True, group="report-paper", exit_on_error=False)
    async def print_shown(self) -> None:
        assert self.report is not None
        await self._print(self.report)

    def action_reprint_report(self) -> None:
        if self.phase != RUNNING:
            self.reprint("report")

    def action_reprint_settlement(self) -> None:
        if self.phase != RUNNING:
            self.reprint("settlement")

    @work(exclusive=True, group="report-paper", exit_on_error=False)
    async def reprint(self, what: str) -> None:
        printer = self._printer()
        if printer is None:
            return
        try:
            if what == "report":
                _, result = await printer.reprint_report()
            else:
                _, result = await printer.reprint_settlement()
        except ReceiptNotFound as e:
            self.till_app.show_notice("notice.refused", detail=self.till_app.error_text(e), level="warning")
            return
        if result.printed:
            self.till_app.show_notice("report.reprinted", level="information")

    def action_back(self) -> None:
        if self.phase != RUNNING:
            self.dismiss(None)
