"""The terminal's receipt printer: every answered transaction and every settlement on paper, once.

`ReceiptPrinter` is the engine's `Printer`. For a transaction it builds the
slip from the journal row (`pos.journal.receipts`), keeps the slip's JSON in that row,
renders every copy for the configured printer profile (`receipts.render_copies`:
merchant and cardholder copy when approved, the cardholder's alone when
declined) and submits the job to the persisted print queue
(`drivers.printer.PrintQueue`, `<state dir>/print-queue.db`). The queue sends
it through python-escpos between two status checks. A job the printer could
not take (out of paper, cover open, offline, unreachable) stays queued and
prints whole, once, when the printer is back: before the next receipt, at
start (`start`), or on `pos reprint`. Printer trouble never raises from here;
it is reported as `ReceiptQueued` (or `ReceiptPrinted` when it went out).

With `print_after_answer()` (the daemon) a transaction's slip is stored in
the journal and its job in the queue before the engine goes on, and the
paper itself follows in the background: the register gets its answer without
waiting for two printer status round trips; `settle()` waits for the paper
before the printer closes. A stop in between loses nothing: the job is queued
and prints at the next start.

Rendering and printer I/O run in a worker thread (a slip drawn as an image
takes ~50 ms, an unreachable network printer seconds to time out); the journal
stays in the event loop's thread, which owns its connection.

`open_receipt_printer` builds it from the configuration. With `connection =
"sim"` it first starts the kit's simulated printer (`pos.simulated.printer`)
on a loopback port inside this process and prints to it like to any network
printer, through python-escpos's `Network` class; `simulator` then holds what
it printed (the demo and the checkout screen show it).
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from drivers.printer import PrinterConnection, PrintJob, PrintQueue, PrintResult, SimConfig
from pos.core import events as ev
from pos.core.config import PosConfig
from pos.journal.receipts import PRINTED_TYPES, SETTLEMENT_LINES, find_receipt, settlement_receipt, transaction_receipt
from pos.journal.reprints import last_report, last_settlement, report_name
from pos.journal.store import Journal, Txn
from receipts import (
    Document,
    PrinterProfile,
    ReconciliationSlip,
    SettlementReceipt,
    ShiftReport,
    render_copies,
    report_to_json,
    to_json,
)

if TYPE_CHECKING:   # the simulator itself loads only when pos.toml names it
    from drivers.sim.printer import SimulatedPrinter

__all__ = ["ReceiptPrinter", "open_receipt_printer", "receipt_name"]


def receipt_name(txn: Txn) -> str:
    """How the cashier (and the print queue's reference) names a transaction's receipt."""
    return f"receipt of trace {txn.stan} (batch {txn.batch})"


class ReceiptPrinter:
    """Builds, keeps, renders and queues the terminal's receipts (the engine's `Printer`)."""

    def __init__(self, config: PosConfig, journal: Journal, queue: PrintQueue, profile: PrinterProfile,
                 observer: ev.Observer | None = None, simulator: SimulatedPrinter | None = None) -> None:
        self.config = config
        self.journal = journal
        self.queue = queue
        self.profile = profile
        self.simulator = simulator
        self._observer = observer
        self._after_answer = False
        self._printing: set[asyncio.Task[dict[int, PrintResult]]] = set()

    def _emit(self, event: ev.Event) -> None:
        if self._observer is not None:
            self._observer(event)

    def _report(self, what: str, result: PrintResult) -> None:
        if result.printed:
            self._emit(ev.ReceiptPrinted(what, result.paper_near_end))
        else:
            self._emit(ev.ReceiptQueued(what, str(result.error or "waiting behind an older receipt")))

    def _submit(self, document: Document, what: str) -> PrintResult:
        """Render every copy and queue the job (worker thread)."""
        return self.queue.submit(PrintJob(render_copies(document, self.profile), what))

    async def _print(self, document: Document, what: str) -> PrintResult:
        result = await asyncio.to_thread(self._submit, document, what)
        self._report(what, result)
        return result

    def print_after_answer(self) -> None:
        """From now on a transaction's slip is queued at once and printed in the background."""
        self._after_answer = True

    async def _queue_for_paper(self, document: Document, what: str) -> None:
        """Store the job durably (worker thread), then print the queue in a background task."""
        await asyncio.to_thread(lambda: self.queue.enqueue(PrintJob(render_copies(document, self.profile), what)))
        task = asyncio.create_task(self._retry())
        self._printing.add(task)
        task.add_done_callback(self._printing.discard)

    async def settle(self) -> None:
        """Wait for the background printing (a printer fault was reported as ReceiptQueued, never raised)."""
        while self._printing:
            await asyncio.gather(*self._printing, return_exceptions=True)

    async def _retry(self) -> dict[int, PrintResult]:
        """Print the queue, oldest first (stops at the first job the printer cannot take)."""
        names = {job.id: job.reference for job in self.queue.pending()}
        results = await asyncio.to_thread(self.queue.retry_pending)
        for result in results:
            self._report(names[result.job_id], result)
        return {result.job_id: result for result in results}

    async def start(self) -> None:
        """Print what is still queued (from before a restart, or a printer that was down)."""
        await self._retry()

    async def transaction(self, txn: Txn) -> PrintResult | None:
        """The slip of an answered transaction (None: a balance inquiry, which prints none, or paper after the answer)."""
        if txn.type not in PRINTED_TYPES:
            return None
        self._emit(ev.Printing(txn.stan))
        receipt = transaction_receipt(txn, self.config)
        self.journal.set_receipt(txn.id, to_json(receipt))
        if self._after_answer:
            await self._queue_for_paper(receipt, receipt_name(txn))
            return None
        return await self._print(receipt, receipt_name(txn))

    async def report(self, report: ShiftReport) -> PrintResult:
        """An X or Z report (`pos report x|z`, the TUI's report screen), kept in the journal for a reprint."""
        self.journal.record_report(report.kind, f"{report.batch:06d}", report_to_json(report))
        return await self._print(report, report_name(report))

    async def reprint_report(self) -> tuple[ShiftReport, PrintResult]:
        """The last X or Z report printed, again, marked REPRINT (`ReceiptNotFound` if none)."""
        report = last_report(self.journal)
        return report, await self._print(report.as_reprint(), f"{report_name(report)}, reprint")

    async def settlement(self, batch: str) -> PrintResult:
        """The summary of a batch just closed."""
        summary = settlement_receipt(self.journal.closed_batch(batch),
                                     self.journal.type_totals(batch, SETTLEMENT_LINES), self.config,
                                     self.journal.operator)
        self.journal.set_batch_receipt(batch, to_json(summary))
        return await self._print(summary, f"settlement of batch {batch}")

    async def reprint_settlement(self) -> tuple[SettlementReceipt, PrintResult]:
        """The summary of the batch closed last, again, marked REPRINT (`ReceiptNotFound` if none)."""
        summary = last_settlement(self.journal, self.config)
        return summary, await self._print(summary.as_reprint(), f"settlement of batch {summary.batch:06d}, reprint")

    async def reconciliation(self, slip: ReconciliationSlip) -> PrintResult:
        """The summary of `pos reconcile` (not kept in the journal: the report can be made again)."""
        span = str(slip.first) + (f" to {slip.last}" if slip.last != slip.first else "")
        return await self._print(slip, f"reconciliation of {span}")

    async def reprint(self, trace: str | None = None) -> tuple[Txn, PrintResult]:
        """The last receipt (or trace `trace`'s) again, marked REPRINT (`ReceiptNotFound` if none).

        When that receipt, or an earlier reprint of it, is still waiting in the
        queue, printing the queue prints it and nothing is added: asking twice
        while the printer is out of paper gives one slip, not two.
        """
        txn, receipt = find_receipt(self.journal, self.config, trace)
        what = receipt_name(txn)
        again = f"{what}, reprint"
        waiting = [job.id for job in self.queue.pending() if job.reference in (what, again)]
        if not waiting:
            return txn, await self._print(receipt.as_reprint(), again)
        results = await self._retry()
        if waiting[-1] in results:
            return txn, results[waiting[-1]]
        blocking = next(iter(reversed(results.values())), None)   # an older job the printer refused
        return txn, PrintResult(waiting[-1], False, blocking.error if blocking else None)


@contextmanager
def open_receipt_printer(config: PosConfig, journal: Journal,
                         observer: ev.Observer | None = None) -> Iterator[ReceiptPrinter | None]:
    """The configured printer and its queue (None with `[printer] connection = "none"`)."""
    settings = config.printer
    if settings is None:
        yield None
        return
    with ExitStack() as stack:
        connection = settings.printer.connection
        simulator = None
        if isinstance(connection, SimConfig):
            from pos.simulated.printer import start_simulated_printer  # the simulator loads only for "sim"

            simulator, connection = stack.enter_context(start_simulated_printer(connection))
        queue = PrintQueue(config.print_queue_path, PrinterConnection(connection, settings.printer.status))
        stack.callback(queue.close)
        yield ReceiptPrinter(config, journal, queue, settings.profile, observer, simulator)
