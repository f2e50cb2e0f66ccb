"""Text bytes for ESC/POS printers, Chinese included.

Why by hand: python-escpos's text path cannot print Chinese correctly. It
sends any string containing a Han character whole as GB18030 without switching
the printer into its Chinese mode, turns Han-free strings with CJK punctuation
into '?', and sends `¥` as a four-byte GB18030 sequence (docs/device-facts.md). So the
kit encodes text itself and hands python-escpos the bytes:

- ASCII goes as is (every printer, in either mode);
- characters of code page 437 (`¥` is 0x9D there) go as one byte from that
  table, with the printer's Chinese mode off, so `¥` is a narrow character
  exactly as wide as the layout counted it;
- everything else (Han, full-width punctuation such as ，。：（）) goes as
  GB18030 inside the printer's Chinese mode: `FS &` on, `FS .` off.

A line always ends with Chinese mode off, so the next command starts from a
known state. On printers without a Chinese font, `needs_image` tells which
lines must be drawn as images instead (`receipts.cjk_image`).
"""
from __future__ import annotations

__all__ = ["CHINESE_OFF", "CHINESE_ON", "CODE_PAGE_437", "encode_line", "needs_image"]

CHINESE_ON = b"\x1c&"      # FS &
CHINESE_OFF = b"\x1c."     # FS .
CODE_PAGE_437 = b"\x1bt\x00"   # ESC t 0: the table the one-byte characters come from


def _one_byte(char: str) -> bytes | None:
    if " " <= char <= "~":
        return char.encode("ascii")
    try:
        return char.encode("cp437")
    except UnicodeEncodeError:
        return None


def needs_image(text: str) -> bool:
    """True when `text` has characters only a Chinese font can print."""
    return any(_one_byte(c) is None for c in text)


def encode_line(text: str) -> bytes:
    """`text` as bytes for a printer with a GB18030 font (code page 437 selected)."""
    out = bytearray()
    chinese = False
    for char in text:
        single = _one_byte(char)
        if single is not None:
            if chinese and single[0] >= 0x80:
                out += CHINESE_OFF
                chinese = False
            out += single
            continue
        if not chinese:
            out += CHINESE_ON
            chinese = True
        out += char.encode("gb18030")
    if chinese:
        out += CHINESE_OFF
    return bytes(out)
