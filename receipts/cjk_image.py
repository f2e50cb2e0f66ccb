"""Chinese text as raster images, for printers without a Chinese font.

Each text line is drawn on the printer's own character grid: a column is
`dots / columns` dots wide (12 on both paper widths), a line is two columns
high (24 dots), a Chinese character fills two columns, and a double-size line
doubles both. So an image line lines up with the text lines around it, exactly
as the layout counted.

The glyphs come from a CJK font on this machine: the profile's `cjk_font`, or
the first of the usual Debian fonts found (fonts-wqy-microhei is the one the
Makefile installs). Without one, `CjkFontMissing` says what to install.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from receipts.layout import TextLine
from receipts.profile import PrinterProfile
from receipts.width import char_width, display_width

__all__ = ["CJK_FONT_CANDIDATES", "CjkFontMissing", "draw_lines", "find_cjk_font"]

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",          # Debian: fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",            # Debian: fonts-wqy-zenhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian: fonts-noto-cjk
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # Debian: fonts-droid-fallback
)


class CjkFontMissing(RuntimeError):
    """No font with Chinese glyphs is available for image-mode printing."""


def find_cjk_font(configured: str | None = None) -> str:
    if configured:
        if not Path(configured).is_file():
            raise CjkFontMissing(f"cjk_font {configured!r} (config/printers.toml) does not exist")
        return configured
    for candidate in CJK_FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise CjkFontMissing(
        "no CJK font found for printing Chinese as images: install Debian package fonts-wqy-microhei "
        f"(looked for {', '.join(CJK_FONT_CANDIDATES)}), or set cjk_font in the printer profile")


@lru_cache(maxsize=8)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@lru_cache(maxsize=4096)
def _glyph(path: str, size: int, char: str, cell: int) -> tuple[Image.Image, int]:
    """The character's ink as a mask no wider than its cell, and its offset from the line's top.

    Drawn once, pasted often. Wide Latin letters (M, W) are narrowed to their
    cell, as a printer's own 12-dot font has them, instead of touching their neighbours.
    """
    font = _font(path, size)
    left, top, right, bottom = font.getbbox(char)
    mask = Image.new("L", (max(1, int(right - left)), max(1, int(bottom - top))), 0)
    ImageDraw.Draw(mask).text((-left, -top), char, font=font, fill=255)
    if mask.width > cell - 1:
        mask = mask.resize((cell - 1, mask.height))
    return mask, int(top)


def draw_lines(lines: Sequence[TextLine], profile: PrinterProfile) -> Image.Image:
    """The lines as one black-and-white image exactly `profile.dots` wide."""
    font_path = find_cjk_font(profile.cjk_font)
    cell = profile.cell_dots
    heights = [2 * cell * (2 if line.double else 1) for line in lines]
    canvas = Image.new("L", (profile.dots, sum(heights)), 255)
    top = 0
    for line, height in zip(lines, heights, strict=True):
        scale = 2 if line.double else 1
        column = cell * scale
        span = display_width(line.text) * column
        x = {"left": 0, "center": (profile.dots - span) // 2, "right": profile.dots - span}[line.align]
        size = height - 2 * scale
        for char in line.text:
            width = char_width(char) * column
            if not char.isspace():
                mask, glyph_top = _glyph(font_path, size, char, width)
                glyph_x = x + (width - mask.width) // 2
                for dx in range(2 if line.bold else 1):
                    canvas.paste(0, (glyph_x + dx, top + scale + glyph_top), mask)
            x += width
        top += height
    return canvas.point(lambda v: 0 if v < 128 else 255, mode="1")
