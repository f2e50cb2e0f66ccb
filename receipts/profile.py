"""Printer profiles: what a receipt printer can do (config/printers.toml `[profile.NAME]`).

A profile says how wide the paper is (columns of Font A and printable dots),
how Chinese prints ("gb18030": the printer's own Chinese font through its
Chinese mode; "image": the kit draws the text lines as a raster image, for
printers without a Chinese font), whether labels are bilingual or English
only, whether the printer draws QR codes itself (GS ( k) or needs a raster
image, and which python-escpos capability profile describes it (cutter,
image width). The renderer takes the frozen `PrinterProfile`; the file is read
and checked by the terminal's settings loader (`pos.core.printers_file`),
which this package may not import. Its defaults are written here only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ChineseMode", "LabelLanguage", "PrinterProfile"]

ChineseMode = Literal["gb18030", "image"]
LabelLanguage = Literal["bilingual", "english"]


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    columns: int                 # Font A characters per line (CJK characters take two)
    dots: int                    # printable width in dots (384 on 58 mm, 576 on 80 mm)
    chinese: ChineseMode
    native_qr: bool
    escpos_profile: str          # python-escpos capability profile name
    qr_module: int = 6           # dots per QR module
    cjk_font: str | None = None  # image mode: font file with Chinese glyphs (None: search the usual places)
    labels: LabelLanguage = "bilingual"   # "english": the English half of each label only (fast on image printers)

    @property
    def cell_dots(self) -> int:
        """Dots per column: 12 for Font A on both paper widths."""
        return self.dots // self.columns
