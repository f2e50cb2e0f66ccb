"""Printer profiles: what a receipt printer can do, read from config/printers.toml.

A profile says how wide the paper is (columns of Font A and printable dots),
how Chinese prints ("gb18030": the printer's own Chinese font through its
Chinese mode; "image": the kit draws the text lines as a raster image, for
printers without a Chinese font), whether labels are bilingual or English
only, whether the printer draws QR codes itself (GS ( k) or needs a raster
image, and which python-escpos capability profile describes it (cutter,
image width).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from escpos.capabilities import get_profile

__all__ = ["PrinterProfile", "ProfileConfigError", "load_profile", "load_profiles"]

ChineseMode = Literal["gb18030", "image"]
LabelLanguage = Literal["bilingual", "english"]


class ProfileConfigError(ValueError):
    """A printer profile in the configuration is wrong; the message names the file and key."""


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


_KEYS: dict[str, tuple[type, bool]] = {   # key -> (type, required)
    "columns": (int, True),
    "dots": (int, True),
    "chinese": (str, True),
    "native_qr": (bool, True),
    "escpos_profile": (str, True),
    "qr_module": (int, False),
    "cjk_font": (str, False),
    "labels": (str, False),
    "paper_mm": (int, False),
    "description": (str, False),
}


def _profile(path: Path, name: str, table: Any) -> PrinterProfile:
    where = f"{path}: [profile.{name}]"
    if not isinstance(table, dict):
        raise ProfileConfigError(f"{where} must be a table")
    for key in table:
        if key not in _KEYS:
            raise ProfileConfigError(f"{where} has unknown key {key!r} (known: {', '.join(_KEYS)})")
    for key, (kind, required) in _KEYS.items():
        if key not in table:
            if required:
                raise ProfileConfigError(f"{where} is missing {key!r}")
            continue
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ProfileConfigError(f"{where} {key} must be {kind.__name__}, got {value!r}")
    columns, dots = table["columns"], table["dots"]
    if not 24 <= columns <= 64:
        raise ProfileConfigError(f"{where} columns must be 24..64, got {columns}")
    if dots < columns * 8:
        raise ProfileConfigError(f"{where} dots ({dots}) must give at least 8 dots per column ({columns} columns)")
    if table["chinese"] not in ("gb18030", "image"):
        raise ProfileConfigError(f"{where} chinese must be \"gb18030\" or \"image\", got {table['chinese']!r}")
    qr_module = table.get("qr_module", 6)
    if not 1 <= qr_module <= 16:
        raise ProfileConfigError(f"{where} qr_module must be 1..16, got {qr_module}")
    try:
        capabilities = get_profile(table["escpos_profile"])
    except KeyError as exc:
        raise ProfileConfigError(
            f"{where} escpos_profile {table['escpos_profile']!r} is not a python-escpos profile ({exc})") from exc
    pixels = capabilities.profile_data["media"]["width"].get("pixels")
    if not isinstance(pixels, int) or dots > pixels:
        raise ProfileConfigError(
            f"{where} dots ({dots}) exceeds the width python-escpos profile "
            f"{table['escpos_profile']!r} allows ({pixels}); pick a profile with a known, wide enough media width")
    labels = table.get("labels", "bilingual")
    if labels not in ("bilingual", "english"):
        raise ProfileConfigError(f"{where} labels must be \"bilingual\" or \"english\", got {labels!r}")
    font = table.get("cjk_font") or None
    if font is not None and not Path(font).is_file():
        raise ProfileConfigError(f"{where} cjk_font {font!r} is not a file")
    return PrinterProfile(name, columns, dots, table["chinese"], table["native_qr"],
                          table["escpos_profile"], qr_module, font, labels)


def load_profiles(path: str | Path) -> dict[str, PrinterProfile]:
    """Every `[profile.NAME]` table of a printers.toml, validated."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileConfigError(f"{path}: printer configuration file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileConfigError(f"{path}: not valid TOML ({exc})") from exc
    tables = data.get("profile")
    if not isinstance(tables, dict) or not tables:
        raise ProfileConfigError(f"{path}: no [profile.NAME] tables")
    return {name: _profile(path, name, table) for name, table in tables.items()}


def load_profile(path: str | Path, name: str) -> PrinterProfile:
    profiles = load_profiles(path)
    if name not in profiles:
        raise ProfileConfigError(f"{path}: no profile {name!r} (have: {', '.join(profiles)})")
    return profiles[name]
