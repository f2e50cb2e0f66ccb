"""`pos reconcile`: the merchant's end of day, checked against the acquirer -- the command line face.

Gathers the inputs (this till's journal, other tills' exports, the
statements from files or the acquirer's endpoint, `reconcile.toml`), calls
`pos.reconcile.service.reconcile`, and writes the report: a Rich summary
(totals by channel and entry mode, payout, categories) and the exceptions,
or JSON, plus a CSV file, a PNG chart and a printed slip on request.

Exit status (docs/reconcile.md): 0 every line matched, 1 exceptions found,
4 could not reconcile (a statement refused, another merchant's, a wrong API
key, a day not cleared yet, bad input). Messages are one line, no traceback.
"""
from __future__ import annotations

import asyncio
import re
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Span, Text

from acquirer.protocol.errors import TillkitError
from drivers.printer import PrintResult
from pos.core.amount import format_amount
from pos.core.config import PosConfig
from pos.devices.terminal import open_receipts
from pos.journal.receipts import merchant_of
from pos.reconcile.categories import INFO, Category
from pos.reconcile.errors import ReconcileError
from pos.reconcile.inputs import gather_statements, last_complete_day, own_records, terms_of
from pos.reconcile.records import export_records, load_export
from pos.reconcile.report import Report
from pos.reconcile.service import (
    EXIT_CANNOT_RECONCILE,
    exit_code,
    reconcile,
    without_cycle_collector,
)
from pos.reconcile.slip import reconciliation_slip

__all__ = ["reconcile_command"]


class CannotReconcile(click.ClickException):
    """A `ReconcileError` (or a refused `reconcile.toml`) as the command line reports it: one line, the
    exit status of its kind -- 4, kind `terminal` (docs/errors.md)."""

    exit_code = EXIT_CANNOT_RECONCILE

    def __init__(self, error: TillkitError | str) -> None:
        super().__init__(str(error))
        if isinstance(error, TillkitError):
            self.exit_code = error.row.exit_code  # type: ignore[misc]  # click reads it per instance


def _range(day: str | None, first: str | None, last: str | None, cutoff: time) -> tuple[date, date]:
    try:
        if day and (first or last):
            raise ReconcileError("give --date, or --from and --to, not both")
        if day:
            one = date.fromisoformat(day)
            return one, one
        if first or last:
            if not (first and last):
                raise ReconcileError("--from and --to go together")
            return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as e:
        raise ReconcileError(f"a date is YYYY-MM-DD: {e}") from None
    yesterday = last_complete_day(cutoff)
    return yesterday, yesterday


@click.group("reconcile", invoke_without_command=True)
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The clearing day (default: yesterday's).")
@click.option("--from", "first", metavar="YYYY-MM-DD", help="First clearing day of a range.")
@click.option("--to", "last", metavar="YYYY-MM-DD", help="Last clearing day of a range.")
@click.option("--statement", "statement_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A merchant statement file (fixed width, CSV or JSON); one per clearing day, repeatable.")
@click.option("--fetch", is_flag=True, help="Fetch the statements from the acquirer (reconcile.toml).")
@click.option("--journal", "journals", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Another till's journal, exported by `pos reconcile export`; repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every line to this CSV file.")
@click.option("--chart", "chart_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the chart to this PNG file.")
@click.option("--print", "to_printer", is_flag=True, help="Also print the summary on the receipt printer.")
@click.pass_context
def reconcile_command(ctx: click.Context, day: str | None, first: str | None, last: str | None,
                      statement_files: tuple[Path, ...], fetch: bool, journals: tuple[Path, ...], as_json: bool,
                      csv_file: Path | None, chart_file: Path | None, to_printer: bool) -> None:
    """Match the journal against the acquirer's merchant statement of the clearing day(s)."""
    if ctx.invoked_subcommand is not None:
        return
    config: PosConfig = ctx.obj
    with without_cycle_collector():
        try:
            terms = terms_of(config)
            begin, end = _range(day, first, last, terms.cutoff_time)
            records = own_records(config, begin)
            for path in journals:
                records += load_export(path, terms.merchant)
            statements = gather_statements(terms, statement_files, fetch, begin, end)
            report = reconcile(records, statements, begin, end, terms)
            if csv_file is not None:
                _write(csv_file, report.to_csv().encode("utf-8"))
            if chart_file is not None:
                from pos.reconcile.chart import render_chart  # matplotlib loads only for --chart

                _write(chart_file, render_chart(report))
        except TillkitError as e:
            raise CannotReconcile(e) from None
        if as_json:
            click.echo(report.to_json(), nl=False)
        else:
            show(report, Console(width=None if sys.stdout.isatty() else 120, highlight=False))
    if to_printer:
        _print(config, report)
    ctx.exit(exit_code(report))


def _print(config: PosConfig, report: Report) -> None:
    """The compact summary on the receipt printer, through the print queue like every slip."""
    if config.printer is None:
        raise CannotReconcile('no printer: pos.toml [printer] connection is "none"')
    slip = reconciliation_slip(report, merchant_of(config), datetime.now(UTC))

    async def go() -> PrintResult:
        async with open_receipts(config) as printer:
            assert printer is not None
            return await printer.reconciliation(slip)

    try:
        result = asyncio.run(go())
    except TillkitError as e:   # the state directory locked by a running till, the printer's configuration
        raise CannotReconcile(e) from None
    if not result.printed:
        raise CannotReconcile(f"the reconciliation was not printed: {result.error}; it stays in the print "
                              f"queue and prints once the printer is back")
    click.echo("reconciliation printed", err=True)


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as e:
        raise ReconcileError(f"{path}: cannot write: {e.strerror}") from None


@reconcile_command.command("export")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The export file to write (hand it to the till that reconciles: --journal FILE).")
@click.pass_obj
def export_command(config: PosConfig, out_file: Path) -> None:
    """Export this till's journal for the till that reconciles the merchant's day (masked PANs only)."""
    try:
        _write(out_file, export_records(own_records(config), config.terminal.tid, config.terminal.mid))
    except TillkitError as e:
        raise CannotReconcile(e) from None
    click.echo(f"journal of terminal {config.terminal.tid} exported to {out_file}")


# --- the Rich summary ----------------------------------------------------------------

def show(report: Report, console: Console) -> None:
    span = str(report.first) + (f" to {report.last}" if report.last != report.first else "")
    console.print(f"[bold]reconciliation of merchant {report.merchant}[/], clearing {span}, "
                  f"terminals {', '.join(report.terminals) or '-'}")
    table = Table(title="cleared by the acquirer", title_justify="left")
    for column, justify in (("channel", "left"), ("entry", "left"), ("lines", "right"), ("gross", "right"),
                            ("fees", "right"), ("net", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for c in report.channels:
        table.add_row(c.channel, c.entry_mode, str(c.count), format_amount(c.gross), format_amount(c.fees),
                      format_amount(c.net))
    total = report.totals()
    table.add_row("[bold]total[/]", "", str(total.count), format_amount(total.gross), format_amount(total.fees),
                  format_amount(total.net))
    console.print(table)
    console.print(f"the terminals' own total: {format_amount(report.terminal_total)}")
    for payout in report.payouts:
        when = payout.settlement_date or "the date the acquirer sets"
        console.print(f"expected payout on {when}: [bold]{format_amount(payout.net)}[/] "
                      f"(clearing {', '.join(str(d) for d in payout.days)})")
    summary = Table(title="lines by category", title_justify="left")
    summary.add_column("category")
    summary.add_column("lines", justify="right")
    summary.add_column("amount", justify="right")
    for category, count, amount in report.by_category():
        if count or category is Category.MATCHED:
            summary.add_row(INFO[category].title, str(count), format_amount(amount))
    console.print(summary)
    if report.all_matched:
        console.print("[bold green]every line matched[/]")
        return
    console.print(f"[bold red]{len(report.exceptions)} exception(s)[/]")
    plain, bold = exceptions_text(report)
    if console.is_terminal:
        console.print(Text(plain, spans=bold), end="", soft_wrap=True)
    else:   # a pipe or a file shows no styles: the same characters, written at once
        console.file.write(plain)


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def exceptions_text(report: Report) -> tuple[str, list[Span]]:
    """Every exception with what to do, as one string, and the spans of its titles (bold on a terminal).

    Why not a print per line: a day that went badly wrong can have 100,000 exceptions; a print with markup
    per line, parsed and wrapped by Rich, takes over 20 s of CPU for them. One text wrapped by the terminal
    (`soft_wrap`), or one string written as it is to a pipe or file, takes a fraction of that. The reasons
    are shown as written (control characters removed), never read as markup: they carry the statement's
    and the journal's text.
    """
    parts: list[str] = []
    bold: list[Span] = []
    at = 0
    for line in report.exceptions:
        info = INFO[line.category]
        rest = _CONTROL.sub("", f" ({line.day}): {line.reason}\n  what to do: {info.action}\n")
        bold.append(Span(at, at + len(info.title), "bold"))
        parts += (info.title, rest)
        at += len(info.title) + len(rest)
    return "".join(parts), bold
