"""The reconciliation screen: a day (or range) of `pos reconcile` at the till, with its chart.

The report is made by `pos.reconcile` (the same model as the command line's);
this screen only shows it: totals by channel with bars drawn in the terminal
(Rich's `Bar`, one per figure, scaled to the largest gross), the per-day
trend as a Textual `Sparkline` over a range, the lines per category, and the
first exceptions with what to do. Category names are translated; a line's
reason is the report's own words.
"""
from __future__ import annotations

from rich.bar import Bar
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Sparkline, Static

from pos.core.amount import format_amount
from pos.reconcile.categories import Category
from pos.reconcile.report import Report
from pos.tui.screens.base import BACK, TillScreen
from pos.tui.widgets.bars import Hint

BAR_WIDTH = 18
SHOWN_EXCEPTIONS = 4
COLOURS = {"gross": "blue", "fees": "dark_orange", "net": "green"}


class ReconcileScreen(TillScreen):
    BINDINGS = [Binding("escape", "back", show=False)]
    HINTS = (BACK, Hint("F9", "key.language", "app.language"))

    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report

    def body(self) -> ComposeResult:
        r = self.report
        span = str(r.first) + (f" … {r.last}" if r.last != r.first else "")
        verdict = (self.t("recon.all_matched") if r.all_matched
                   else self.t("recon.exceptions", count=len(r.exceptions)))
        yield Static(f"{self.t('recon.title')}  {span}  {verdict}", id="recon-title",
                     classes="approved-line" if r.all_matched else "warning-line")
        yield Static(self._chart(), id="recon-chart")
        if len(r.days) > 1:
            yield Sparkline([d.net / 100 for d in r.days], id="recon-trend")
        total = r.totals()
        payout = "  ".join(self.t("recon.payout", date=str(p.settlement_date or "-"), amount=format_amount(p.net))
                           for p in r.payouts)
        yield Static(self.t("recon.totals", gross=format_amount(total.gross), fees=format_amount(total.fees),
                            net=format_amount(total.net)) + ("  " + payout if payout else ""), classes="detail")
        counts = "  ".join(f"{self.t('recon.cat.' + c.value)} {n}" for c, n, _ in r.by_category()
                           if n or c is Category.MATCHED)
        yield Static(counts, classes="detail")
        for line in r.exceptions[:SHOWN_EXCEPTIONS]:
            who = line.record or line.line
            trace = f"{who.terminal}/{line.record.stan if line.record else line.line.stan if line.line else ''}" \
                if who else ""
            amount = line.acquirer_amount if line.acquirer_amount is not None else line.terminal_amount
            yield Static(f"{self.t('recon.cat.' + line.category.value)}  {trace}  {format_amount(amount or 0)}",
                         classes="refused")
        if len(r.exceptions) > SHOWN_EXCEPTIONS:
            yield Static(self.t("recon.more", count=len(r.exceptions) - SHOWN_EXCEPTIONS), classes="detail")

    def _chart(self) -> Table:
        """Gross, fees and net per channel, as bars scaled to the largest gross."""
        channels: dict[str, list[int]] = {}
        for c in self.report.channels:
            row = channels.setdefault(c.channel, [0, 0, 0])
            row[0] += c.gross
            row[1] += c.fees
            row[2] += c.net
        top = max((abs(v) for row in channels.values() for v in row), default=0) or 1
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column(self.t("recon.channel"), no_wrap=True)
        for key in ("gross", "fees", "net"):
            table.add_column(Text(self.t(f"recon.{key}"), style=COLOURS[key]), no_wrap=True)
        for name, figures in sorted(channels.items()):
            cells = []
            for key, value in zip(("gross", "fees", "net"), figures, strict=True):
                bar = Table.grid()
                bar.add_row(Bar(top, 0, abs(value), width=BAR_WIDTH // 2, color=COLOURS[key]),
                            Text(f" {format_amount(value)}"))
                cells.append(bar)
            kind, _, scheme = name.partition(" ")
            table.add_row(f"{self.t('recon.' + kind)} {scheme}", *cells)
        return table
