"""A QR code as text for a character terminal: two modules per cell, half blocks.

A character cell is about twice as tall as it is wide, so one cell holds two
vertically stacked modules and the code comes out square: "▀" (upper module
only), "▄" (lower only), "█" (both), " " (neither). A merchant-presented code
(an EMVCo MPM of about 200 bytes, version 8 at error correction L: 49
modules and a 2-module quiet zone) is 53 columns by 27 rows... too tall for 24
rows, so the smallest version that fits is chosen by the QR library and the
quiet zone is the part that gives: `fit` says whether the code fits the
screen at all, and the caller shows the code only when it does (a phone
cannot scan a cut-off code).

Why by hand: qrcode's own `print_ascii` draws the same glyphs but only for a
whole terminal of its own, with a 4-module border and colours fixed by the
terminal's theme; the screens need a list of lines they place and colour
themselves (dark modules as the foreground of a light background, whatever
the terminal's theme).

`dark` chooses which modules are drawn: True draws the dark modules (the
caller paints them dark on light), False draws the light ones (for plain text
on a dark terminal, where the background already is the dark colour).
"""
from __future__ import annotations

from dataclasses import dataclass

import qrcode
import qrcode.constants

__all__ = ["QrCells", "qr_cells"]

_GLYPHS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


@dataclass(frozen=True)
class QrCells:
    """The code's text lines, each `width` cells; `modules` is the symbol's side without quiet zone."""

    lines: tuple[str, ...]
    modules: int
    quiet_zone: int

    @property
    def width(self) -> int:
        return len(self.lines[0]) if self.lines else 0

    @property
    def height(self) -> int:
        return len(self.lines)

    def fits(self, columns: int, rows: int) -> bool:
        return self.width <= columns and self.height <= rows


def qr_cells(payload: str, *, max_rows: int = 24, dark: bool = True) -> QrCells:
    """`payload` as half-block lines, with the widest quiet zone (4 down to 1 module) within `max_rows`.

    Error correction L keeps the symbol as small as possible: a screen is
    clean and flat, unlike paper. A code too big even with a 1-module quiet
    zone is returned anyway; `fits` tells the caller.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=0)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    symbol: list[list[bool]] = code.get_matrix()
    side = len(symbol)
    for quiet in (4, 3, 2, 1):
        if (side + 2 * quiet + 1) // 2 <= max_rows:
            break
    total = side + 2 * quiet
    padded = [[False] * total for _ in range(quiet)]
    padded += [[False] * quiet + row + [False] * quiet for row in symbol]
    padded += [[False] * total for _ in range(quiet)]
    if total % 2:
        padded.append([False] * total)   # the last cell row's lower half is quiet zone
    lines = []
    for top, bottom in zip(padded[0::2], padded[1::2], strict=True):
        lines.append("".join(_GLYPHS[(t == dark, b == dark)] for t, b in zip(top, bottom, strict=True)))
    return QrCells(tuple(lines), side, quiet)
