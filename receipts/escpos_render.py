"""Receipts as ESC/POS bytes, through python-escpos.

python-escpos builds the job on its `Dummy` printer (whose `output` is the
bytes a printer would get): initialise, styles and alignment (`set`), the
e-receipt QR (`qr`: printer-native `GS ( k` when the profile says the printer
draws QR codes, a raster image otherwise), raster images (`image`, GS v 0) and
the cut. Text is the exception: python-escpos mangles Chinese, so the kit
encodes it itself (`receipts.escpos_text`) and passes the bytes through
`_raw`, the library's raw sink (its own `escpos raw` CLI command uses it).

On a profile with `chinese = "image"`, lines that need a Chinese font are drawn
as raster images (`receipts.cjk_image`), consecutive ones as one image, and
never sent as text.
"""
from __future__ import annotations

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy

from receipts.cjk_image import draw_lines
from receipts.escpos_text import CHINESE_OFF, CODE_PAGE_437, encode_line, needs_image
from receipts.layout import Qr, TextLine, layout
from receipts.model import Receipt, SettlementReceipt
from receipts.profile import PrinterProfile
from receipts.reconciliation import ReconciliationSlip

__all__ = ["render_copies", "render_escpos"]


def _text(printer: Dummy, line: TextLine) -> None:
    size = 2 if line.double else 1
    printer.set(align=line.align, bold=line.bold, custom_size=True, width=size, height=size)
    printer._raw(encode_line(line.text) + b"\n")


def _images(printer: Dummy, lines: list[TextLine], profile: PrinterProfile) -> None:
    printer.set(align="left", bold=False, custom_size=True, width=1, height=1)
    printer.image(draw_lines(lines, profile), impl="bitImageRaster")


def _qr(printer: Dummy, payload: str, profile: PrinterProfile) -> None:
    if profile.native_qr:
        printer.set(align="center")
        printer.qr(payload, ec=QR_ECLEVEL_M, size=profile.qr_module, native=True)
        printer.ln()
    else:
        printer.qr(payload, ec=QR_ECLEVEL_M, size=profile.qr_module, native=False, center=True)


def render_escpos(document: Receipt | SettlementReceipt | ReconciliationSlip, profile: PrinterProfile) -> bytes:
    """The whole print job for one receipt copy, ending with a cut (where the printer has a cutter)."""
    printer = Dummy(profile=profile.escpos_profile)
    printer.hw("INIT")
    # Chinese printers may power up in Chinese mode; start every job from a known table.
    printer._raw((CHINESE_OFF if profile.chinese == "gb18030" else b"") + CODE_PAGE_437)
    as_image: list[TextLine] = []
    for block in layout(document, profile.columns):
        if isinstance(block, TextLine) and profile.chinese == "image" and needs_image(block.text):
            as_image.append(block)
            continue
        if as_image:
            _images(printer, as_image, profile)
            as_image = []
        if isinstance(block, TextLine):
            _text(printer, block)
        elif isinstance(block, Qr):
            _qr(printer, block.payload, profile)
    if as_image:
        _images(printer, as_image, profile)
    printer.set(align="left", bold=False, custom_size=True, width=1, height=1)
    printer.cut()
    return printer.output


def render_copies(document: Receipt | SettlementReceipt | ReconciliationSlip, profile: PrinterProfile) -> bytes:
    """One print job with every copy a document gets, each cut off on its own.

    An approved slip: the merchant copy (which the cardholder signs when a
    signature is due), then the cardholder copy. A declined slip: the
    cardholder copy only; nothing happened that the merchant must keep. A
    settlement summary: once. The `copy` the document was built with is ignored.
    """
    if isinstance(document, (SettlementReceipt, ReconciliationSlip)):
        return render_escpos(document, profile)
    merchant, cardholder = document.copies()
    copies = (merchant, cardholder) if document.outcome.approved else (cardholder,)
    return b"".join(render_escpos(copy, profile) for copy in copies)
