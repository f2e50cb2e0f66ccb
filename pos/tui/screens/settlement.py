"""Settlement: the open batch's totals, then the host's verdict and the next batch."""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from pos.core import events as ev
from pos.core.amount import format_amount
from pos.core.outcome import SettlementOutcome
from pos.journal.store import BatchTotals
from pos.tui.screens.base import BACK, TillScreen
from pos.tui.screens.settling import FAILED, RUNNING, settle_on
from pos.tui.widgets.bars import Hint

READY, DONE = "ready", "done"


class SettlementScreen(TillScreen):
    BINDINGS = [Binding("escape", "back", show=False), Binding("enter", "settle", show=False)]
    @property
    def HINTS(self) -> tuple[Hint, ...]:  # type: ignore[override]
        if self.phase in (READY, FAILED):
            return (Hint("↵", "key.settle", "settle"), BACK, Hint("F9", "key.language", "app.language"))
        return (BACK, Hint("F9", "key.language", "app.language"))

    def __init__(self, totals: BatchTotals | None = None) -> None:
        super().__init__()
        self.totals = totals
        self.phase = READY
        self.result: SettlementOutcome | None = None
        self.failure = ""
        self.uploading = 0

    def _totals(self) -> BatchTotals:
        if self.totals is None:
            engine = self.till_app.engine
            assert engine is not None
            self.totals = engine.journal.totals()
        return self.totals

    def body(self) -> ComposeResult:
        totals = self._totals()
        yield Static(f"{self.t('settle.title')}  {self.t('batch')} {totals.batch}", id="settle-title")
        table: DataTable[str] = DataTable(id="settle-table", show_cursor=False)
        table.can_focus = False   # Enter settles; the table only shows the totals
        table.add_column("", key="what")
        table.add_column(self.t("settle.debits"), key="debits")
        table.add_column(self.t("settle.credits"), key="credits")
        for region in ("domestic", "foreign"):
            table.add_row(self.t(f"settle.{region}"),
                          self._cell(getattr(totals, f"{region}_debit_amount"), getattr(totals, f"{region}_debit_count")),
                          self._cell(getattr(totals, f"{region}_credit_amount"),
                                     getattr(totals, f"{region}_credit_count")))
        yield table
        yield from self._verdict()

    def _cell(self, amount: int, count: int) -> str:
        return f"{format_amount(amount)} ({self.t('settle.count', count=count)})"

    def _verdict(self) -> ComposeResult:
        if self.phase == READY:
            yield Static(self.t("settle.keys"), classes="keys")
        elif self.phase == RUNNING:
            yield Static(self.t("settle.uploading", count=self.uploading) if self.uploading
                         else self.t("settle.running"), classes="progress-line")
        elif self.phase == FAILED:
            yield Static(self.t("notice.settle_failed", detail=self.failure), classes="refused verdict-line")
        else:
            result = self.result
            assert result is not None
            key = "settle.balanced" if result.balanced else "settle.unbalanced"
            yield Static(self.t(key, batch=result.batch, uploaded=result.uploaded),
                         classes="approved-line" if result.balanced else "warning-line")
            closed = result.closed_on
            yield Static(self.t("settle.closed_on", debit=format_amount(closed.debit_amount),
                                debits=closed.debit_count, credit=format_amount(closed.credit_amount),
                                credits=closed.credit_count), classes="detail")
            yield Static(self.t("settle.next", batch=result.next_batch), classes="detail")

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        if self.is_mounted:
            self.refresh(recompose=True)

    def show_result(self, result: SettlementOutcome) -> None:
        """Show the host's verdict (also how tests put a fixed result on screen)."""
        self.result = result
        self._set_phase(DONE)

    def action_settle(self) -> None:
        if self.phase in (READY, FAILED):
            self.run_settlement()

    @work(exclusive=True, group="settlement", exit_on_error=False)
    async def run_settlement(self) -> None:
        result = await settle_on(self)
        if result is not None:
            self.show_result(result)

    def follow(self, event: ev.Event) -> None:
        if isinstance(event, ev.UploadingBatch):
            self.uploading = event.count
            self._set_phase(RUNNING)
