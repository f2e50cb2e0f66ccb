"""What the printer put on paper, receipt by receipt, for the receipt preview.

On the kit's simulated printer the preview shows the paper itself: the
printer's interpreted ESC/POS (`drivers.sim.printer.SimulatedPrinter.document`),
cut into the stretch each printed receipt added. The engine's printer reports
each receipt that went out (`ReceiptPrinted`); the paper since the previous
one is that receipt. A real printer keeps its paper, so there the preview
shows the receipt the terminal kept in its journal, as text.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.sim.escpos_interpreter import Cut, Item, Line, QrCode, RasterImage
from drivers.sim.printer import SimulatedPrinter
from pos.core import events as ev
from pos.devices.printing import receipt_name
from pos.journal.store import Txn

REPRINT_SUFFIX = ", reprint"


@dataclass(frozen=True)
class PaperLine:
    text: str
    align: str = "left"      # "left", "center", "right"
    bold: bool = False


def paper_lines(items: list[Item]) -> list[PaperLine]:
    """Printed items as lines a screen can show (images and QR codes named, cuts drawn)."""
    lines = []
    for item in items:
        if isinstance(item, Line):
            lines.append(PaperLine(item.text, item.align, item.bold or item.width > 1))
        elif isinstance(item, QrCode):
            lines.append(PaperLine(f"[QR] {item.payload}", item.align))
        elif isinstance(item, RasterImage):
            lines.append(PaperLine(f"[image {item.width}×{item.height} dots]", item.align))
        elif isinstance(item, Cut):
            lines.append(PaperLine("✂ " + "- " * 10, "center"))
    return lines


class PaperTrail:
    """Follows the printer's reports and keeps each receipt's stretch of the simulated paper."""

    def __init__(self, simulator: SimulatedPrinter | None) -> None:
        self.simulator = simulator
        self._mark = len(simulator.document.items) if simulator is not None else 0
        self._printed: dict[str, list[PaperLine]] = {}

    def follow(self, event: ev.Event) -> None:
        if self.simulator is None or not isinstance(event, ev.ReceiptPrinted):
            return
        items = self.simulator.document.items
        self._printed[event.what] = paper_lines(items[self._mark:])
        self._mark = len(items)

    def printed(self, txn: Txn) -> list[PaperLine] | None:
        """The latest paper printed for `txn` (a reprint if there was one), None if none this session."""
        name = receipt_name(txn)
        return self._printed.get(name + REPRINT_SUFFIX) or self._printed.get(name)
