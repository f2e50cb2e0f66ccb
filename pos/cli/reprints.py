"""`pos reprint --settlement` and `pos reprint --report`: the last settlement summary or X/Z report, again.

The paper says what the first one said (kept in the journal when it printed,
`pos.journal.reprints`) and is marked REPRINT (重打印). With `--text` it is
written to stdout instead, as wide as the printer's paper.
"""
from __future__ import annotations

import asyncio
from typing import Literal

import click
from rich.console import Console

from acquirer.protocol.errors import KIND_TABLE, ErrorKind
from pos.cli.operators import KindFailure
from pos.cli.render import EventPrinter
from pos.core.config import PosConfig
from pos.devices.errors import as_tillkit_error
from pos.devices.terminal import open_journal, open_receipts
from pos.journal.reprints import last_report, last_settlement
from receipts import SettlementReceipt, ShiftReport, render_text

__all__ = ["KeptSlip", "reprint_kept"]

KeptSlip = Literal["settlement", "report"]
TEXT_COLUMNS = 32   # without a printer: as wide as 58 mm paper
err = Console(stderr=True)


class PrinterTrouble(click.ClickException):
    """No printer, or it did not print: the terminal cannot do it (exit 4, kind `terminal`, docs/errors.md)."""

    exit_code = KIND_TABLE[ErrorKind.TERMINAL].exit_code


def _name(slip: SettlementReceipt | ShiftReport) -> str:
    if isinstance(slip, ShiftReport):
        return f"{slip.kind} report of batch {slip.batch:06d}"
    return f"settlement of batch {slip.batch:06d}"


def reprint_kept(config: PosConfig, what: KeptSlip, as_text: bool) -> None:
    """Print (or with `as_text` write) the last `what` again, marked REPRINT."""
    async def text() -> str:
        async with open_journal(config) as journal:
            slip = last_report(journal) if what == "report" else last_settlement(journal, config)
        columns = config.printer.profile.columns if config.printer is not None else TEXT_COLUMNS
        return render_text(slip.as_reprint(), columns)

    async def paper() -> str:
        async with open_receipts(config, EventPrinter(err)) as printer:
            assert printer is not None
            slip, result = await (printer.reprint_report() if what == "report" else printer.reprint_settlement())
        if not result.printed:
            raise PrinterTrouble(f"{_name(slip)} not reprinted: {result.error}. It stays in the print "
                                       f"queue and prints once the printer is back")
        return f"{_name(slip)} reprinted\n"

    if not as_text and config.printer is None:
        raise PrinterTrouble('no printer: pos.toml [printer] connection is "none" '
                                   '(`pos reprint --text` writes the slip to the screen)')
    try:
        written = asyncio.run(text() if as_text else paper())
    except PrinterTrouble:
        raise
    except Exception as e:
        error = as_tillkit_error(e)
        if error is None:
            raise
        raise KindFailure(error) from None
    click.echo(written, nl=False)
