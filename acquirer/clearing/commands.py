"""The clearing commands of `acquirer`: clear, statement, payouts, dispute.

- `acquirer clear [--date YYYY-MM-DD]`: clear every finished day up to the
  date (default: the last finished clearing day) in order; a cleared day is
  not cleared again. Prints one line per day and where its files are.
- `acquirer statement --merchant MID --date D [--format fixed|csv|json]`: a
  merchant's statement of a cleared day on stdout.
- `acquirer payouts --date D`: pay a settlement date: its payout instructions
  (written to the clearing directory, and shown) and the payout postings.
- `acquirer dispute open|represent|close --rrn RRN [--amount FEN] [--reason TEXT]`.

Errors (a bad date, an unknown merchant, a day not over or not cleared, a
year without a holiday calendar, a bad `clearing.toml`) are one line and exit
code 1, never a traceback.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from acquirer.clearing.errors import ClearingError
from acquirer.clearing.files import statement_csv, statement_json
from acquirer.clearing.terms import load_clearing
from acquirer.cli_errors import ConfigFailure
from acquirer.protocol.settings_file import SettingsError
from acquirer.config import ConfigError, load_config

__all__ = ["COMMANDS"]


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


config_option = click.option("--config", "config_dir", metavar="DIR", default=None,
                             help="configuration directory (default: $TILLKIT_CONFIG or the repo's config/)")
db_option = click.option("--db", "db_target", default=None, metavar="PATH|URL",
                         help="SQLite database file or postgresql:// URL (default from config [database])")


@contextmanager
def _clearing(config_dir: str | None, db_target: str | None) -> Iterator[Any]:
    """The `Clearing` of the configured acquirer on its database; errors become one line."""
    from acquirer.clearing.service import Clearing
    from acquirer.storage import MigrationError, StorageUnavailable, open_store
    try:
        config = load_config(config_dir)
        clearing_config, calendar = load_clearing(config.directory)
    except (ConfigError, SettingsError) as e:
        raise ConfigFailure(str(e)) from None
    try:
        store = open_store(db_target or config.database.target, config.database.synchronous)
    except (MigrationError, StorageUnavailable) as e:
        raise click.ClickException(str(e)) from None
    try:
        yield Clearing(store, clearing_config, calendar, config.host.institution,
                       Path(clearing_config.clearing.output_dir))
    except (ClearingError, StorageUnavailable) as e:
        raise click.ClickException(str(e)) from None
    finally:
        store.close()


@click.command()
@click.option("--date", "day", callback=_date, default=None, help="clearing day (default: the last finished one)")
@db_option
@config_option
def clear(day: date | None, db_target: str | None, config_dir: str | None) -> None:
    """Clear finished days: fees, postings, clearing files and payouts (idempotent)."""
    with _clearing(config_dir, db_target) as clearing, Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), TextColumn("{task.completed:,} lines"),
            TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("clearing", total=None)

        def progress(current: date, lines: int) -> None:
            bar.update(task, description=f"clearing {current}", completed=lines)

        for outcome in clearing.clear_through(day, progress):
            state = "already cleared" if outcome.already else "cleared"
            click.echo(f"{outcome.day} {state}: {outcome.lines} lines, paid on {outcome.settlement_date}, "
                       f"files in {outcome.directory}")


@click.command()
@click.option("--merchant", "mid", required=True, help="merchant ID")
@click.option("--date", "day", callback=_date, required=True, help="clearing day")
@click.option("--format", "fmt", type=click.Choice(["fixed", "csv", "json"]), default="fixed", show_default=True)
@db_option
@config_option
def statement(mid: str, day: date, fmt: str, db_target: str | None, config_dir: str | None) -> None:
    """A merchant's statement of a cleared day (fixed-width, CSV or JSON) on stdout."""
    with _clearing(config_dir, db_target) as clearing:
        settlement, lines, fixed = clearing.statement(mid, day)
        if fmt == "fixed":
            data = fixed
        elif fmt == "csv":
            data = statement_csv(lines)
        else:
            data = statement_json(clearing.acquirer, mid, day, settlement, lines)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


@click.command()
@click.option("--date", "day", callback=_date, required=True, help="settlement (payout) date")
@db_option
@config_option
def payouts(day: date, db_target: str | None, config_dir: str | None) -> None:
    """Pay a settlement date: the payout instructions (file in the clearing directory) and the
    postings that move what is paid out of the merchants' payable accounts (once per date)."""
    with _clearing(config_dir, db_target) as clearing:
        path, lines, posted = clearing.pay(day)
    for p in lines:
        click.echo(f"{p.mid} {p.payout_account} paid {p.paid} carried {p.carried_out}")
    click.echo(f"payout instructions in {path}")
    click.echo(f"payouts posted for {', '.join(d.isoformat() for d in posted)}" if posted
               else f"payouts of {day} were posted before" if any(p.paid for p in lines)
               else "nothing to post")


@click.command()
@click.argument("action", type=click.Choice(["open", "represent", "close"]))
@click.option("--rrn", required=True, help="RRN of the disputed transaction")
@click.option("--amount", type=click.IntRange(min=1), default=None, help="fen charged back (default: all)")
@click.option("--reason", default="", help="reason code or text")
@db_option
@config_option
def dispute(action: str, rrn: str, amount: int | None, reason: str, db_target: str | None,
            config_dir: str | None) -> None:
    """Open a chargeback, re-present it, or close it (money moves on the next clearing day)."""
    with _clearing(config_dir, db_target) as clearing:
        click.echo(clearing.dispute(action, rrn, amount, reason, datetime.now(UTC)))


COMMANDS = (clear, statement, payouts, dispute)
