"""Receipts as ESC/POS bytes, through python-escpos.

python-escpos builds the job on its `Dummy` printer (whose `output` is the
bytes a printer would get): initialise, styles and alignment (`set`), the
e-receipt QR (`qr`: printer-native `GS ( k` when the profile says the printer
draws QR codes, a raster image otherwise), raster images (`image`, GS v 0) and
the cut. Text is the exception: python-escpos mangles Chinese, so the kit
encodes it itself (`receipts.escpos_text`) and passes the bytes through
`_raw`, the library's raw sink (its own `escpos raw` CLI command uses it).

On a profile with `chinese = "image"`, lines that need a Chinese font are drawn
as raster images (`receipts.cjk_image`) and never sent as text.

Print time on a 9600-baud serial printer is about 1 ms per byte, so raster
is kept small: each image line is cut to its ink (whole bytes) on the side
its alignment leaves blank and placed by ESC a, and a raster QR is the bare
symbol with its quiet zone at the profile's module size, centred by ESC a
instead of padded to the paper width (python-escpos's `center=True` pads).
"""
from __future__ import annotations

import qrcode
import qrcode.constants
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image, ImageOps

from receipts.cjk_image import draw_lines
from receipts.escpos_text import CHINESE_OFF, CODE_PAGE_437, encode_line, needs_image
from receipts.layout import Document, Qr, TextLine, layout
from receipts.model import Receipt
from receipts.profile import PrinterProfile

__all__ = ["render_copies", "render_escpos"]

QUIET_ZONE_MODULES = 4   # the blank border a QR symbol needs around it to be found


class _Styler:
    """Sends alignment, emphasis and size only when they change (bytes are print time)."""

    def __init__(self, printer: Dummy) -> None:
        self._printer = printer
        # unknown after initialising: each is sent the first time
        self._align: str | None = None
        self._bold: bool | None = None
        self._size: int | None = None

    def apply(self, align: str, bold: bool = False, size: int = 1) -> None:
        changes: dict[str, object] = {}
        if align != self._align:
            changes["align"] = align
        if bold != self._bold:
            changes["bold"] = bold
        if size != self._size:
            changes.update(custom_size=True, width=size, height=size)
        if changes:
            self._printer.set(**changes)
        self._align, self._bold, self._size = align, bold, size


def _text(printer: Dummy, style: _Styler, line: TextLine) -> None:
    style.apply(line.align, line.bold, 2 if line.double else 1)
    printer._raw(encode_line(line.text) + b"\n")


def _images(printer: Dummy, style: _Styler, lines: list[TextLine], profile: PrinterProfile) -> None:
    for line in lines:
        style.apply(line.align)
        printer.image(_cut_to_ink(draw_lines([line], profile), line.align), impl="bitImageRaster")


def _cut_to_ink(image: Image.Image, align: str) -> Image.Image:
    """The image without the blank bytes its alignment puts on the left and/or right."""
    box = ImageOps.invert(image.convert("L")).getbbox()
    if box is None:
        return image.crop((0, 0, 8, image.height))
    left, right = box[0] // 8 * 8, -(-box[2] // 8) * 8
    if align == "left":
        left = 0
    elif align == "right":
        right = image.width
    else:   # centred: the same blank off both sides keeps the ink where it was
        margin = min(left, image.width - right) // 8 * 8
        left, right = margin, image.width - margin
    return image.crop((left, 0, right, image.height))


def _qr(printer: Dummy, style: _Styler, payload: str, profile: PrinterProfile) -> None:
    style.apply("center")
    if profile.native_qr:
        printer.qr(payload, ec=QR_ECLEVEL_M, size=profile.qr_module, native=True)
        printer.ln()
        return
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=profile.qr_module,
                         border=QUIET_ZONE_MODULES)
    code.add_data(payload)
    code.make(fit=True)
    printer.image(code.make_image().get_image().convert("1"), impl="bitImageRaster")


def render_escpos(document: Document, profile: PrinterProfile) -> bytes:
    """The whole print job for one receipt copy, ending with a cut (where the printer has a cutter)."""
    printer = Dummy(profile=profile.escpos_profile)
    printer.hw("INIT")
    # Chinese printers may power up in Chinese mode; start every job from a known table.
    printer._raw((CHINESE_OFF if profile.chinese == "gb18030" else b"") + CODE_PAGE_437)
    style = _Styler(printer)
    as_image: list[TextLine] = []
    for block in layout(document, profile.columns, profile.labels):
        if isinstance(block, TextLine) and profile.chinese == "image" and needs_image(block.text):
            as_image.append(block)
            continue
        if as_image:
            _images(printer, style, as_image, profile)
            as_image = []
        if isinstance(block, TextLine):
            _text(printer, style, block)
        elif isinstance(block, Qr):
            _qr(printer, style, block.payload, profile)
    if as_image:
        _images(printer, style, as_image, profile)
    style.apply("left")
    printer.cut()
    return printer.output


def render_copies(document: Document, profile: PrinterProfile) -> bytes:
    """One print job with every copy a document gets, each cut off on its own.

    An approved slip: the merchant copy (which the cardholder signs when a
    signature is due), then the cardholder copy. A declined slip: the
    cardholder copy only; nothing happened that the merchant must keep. A
    settlement summary, an X or Z report, a payment code: once. The `copy` a
    slip was built with is ignored.
    """
    if not isinstance(document, Receipt):
        return render_escpos(document, profile)
    merchant, cardholder = document.copies()
    copies = (merchant, cardholder) if document.outcome.approved else (cardholder,)
    return b"".join(render_escpos(copy, profile) for copy in copies)
