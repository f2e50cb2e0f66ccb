"""Asking a printer whether it can print: ESC/POS real-time status (DLE EOT n).

python-escpos sends the queries (`query_status` with its RT_STATUS_* constants)
and reads the answers; the bits are decoded here rather than through its
`is_online()` / `paper_status()` because those read an empty answer (a printer
that did not reply) as "plenty of paper", and the offline cause (DLE EOT 2:
cover open, stopped by paper end, error) has no helper at all.

Bits, from Epson's ESC/POS reference: DLE EOT 1 bit 3 (0x08) offline;
DLE EOT 2 bit 2 (0x04) cover open, bit 5 (0x20) printing stopped by paper end,
bit 6 (0x40) error; DLE EOT 4 bits 2-3 (0x0C) paper near end, bits 5-6 (0x60)
paper end. The fixed bits (0x12) let a garbage byte be told from an answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from escpos.constants import RT_STATUS, RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.escpos import Escpos

from drivers.printer.errors import CoverOpenError, PaperOutError, PrinterOfflineError

__all__ = ["PrinterStatus", "read_status"]

RT_STATUS_OFFLINE_CAUSE = RT_STATUS + b"\x02"
_FIXED_MASK, _FIXED = 0x93, 0x12     # bits 0, 1, 4, 7 are fixed in every DLE EOT answer

Paper = Literal["ok", "near_end", "out"]


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    paper: Paper | None = None        # None: this connection cannot tell
    cover_open: bool | None = None
    error: bool | None = None

    def check_ready(self, printer: str) -> None:
        """Raise the typed error that says why the printer cannot print now."""
        if self.paper == "out":
            raise PaperOutError(f"{printer}: out of paper; load a new roll and the receipt prints")
        if self.cover_open:
            raise CoverOpenError(f"{printer}: cover open; close it and the receipt prints")
        if not self.online:
            cause = "reports an error" if self.error else "is offline"
            raise PrinterOfflineError(f"{printer}: {cause}; the receipt prints when it is back")


def _ask(printer: Escpos, query: bytes, where: str, strict: bool = True) -> int:
    answer = printer.query_status(query)
    if not answer:
        raise PrinterOfflineError(f"{where}: no answer to status query DLE EOT {query[-1]}; is it switched on?")
    byte = answer[-1]   # the latest byte is the answer to this query
    if strict and byte & _FIXED_MASK != _FIXED:
        raise PrinterOfflineError(f"{where}: answered DLE EOT {query[-1]} with 0x{byte:02x}, not a status byte")
    return byte


def read_status(printer: Escpos, mode: Literal["full", "online"], where: str) -> PrinterStatus:
    """The printer's condition; `where` names it in errors. Sending errors propagate as OSError."""
    # CUPS answers DLE EOT 1 itself with b"0" or b"8" (python-escpos CupsPrinter): no fixed bits there
    online = not _ask(printer, RT_STATUS_ONLINE, where, strict=mode == "full") & 0x08
    if mode == "online":
        return PrinterStatus(online)
    roll = _ask(printer, RT_STATUS_PAPER, where)
    paper: Paper = "out" if roll & 0x60 else "near_end" if roll & 0x0C else "ok"
    if online:
        return PrinterStatus(True, paper, False, False)
    cause = _ask(printer, RT_STATUS_OFFLINE_CAUSE, where)
    if cause & 0x20:
        paper = "out"
    return PrinterStatus(False, paper, bool(cause & 0x04), bool(cause & 0x40))
