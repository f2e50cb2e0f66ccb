"""Data object lists (PDOL, CDOL1, CDOL2): what the card asks for, and the bytes that answer it.

EMV Book 3 section 5.4 rules: each requested tag gets exactly the length the
card names; a numeric (format n) value is cut or zero-filled on the left, any
other value on the right; a tag the terminal does not know is sent as zeros.

One definition for the terminal's kernel and the simulated cards: a DOL
whose last entry has no length byte (or whose multi-byte tag runs off the
end) is refused with `DolError`, never read past its end.
"""
from __future__ import annotations

from collections.abc import Mapping

# Terminal data objects of format n (BCD): padded and truncated on the left
NUMERIC_TAGS = frozenset({"9F02", "9F03", "9F1A", "5F2A", "9A", "9C", "9F21", "9F41", "9F35", "5F36"})


class DolError(ValueError):
    """A DOL the card sent cannot be read (offset named)."""


def parse_dol(dol: bytes) -> list[tuple[str, int]]:
    """(tag, length) pairs, in order."""
    entries: list[tuple[str, int]] = []
    pos = 0
    while pos < len(dol):
        start = pos
        pos += 1
        if dol[start] & 0x1F == 0x1F:
            while pos < len(dol) and dol[pos] & 0x80:
                pos += 1
            if pos >= len(dol):
                raise DolError(f"DOL entry at byte {start} has a tag that runs past the end")
            pos += 1
        if pos >= len(dol):
            raise DolError(f"DOL entry at byte {start} has no length")
        entries.append((dol[start:pos].hex().upper(), dol[pos]))
        pos += 1
    return entries


def build_dol_data(dol: bytes, values: Mapping[str, bytes]) -> bytes:
    """The concatenated values the DOL asks for, each fitted to its requested length."""
    out = bytearray()
    for tag, length in parse_dol(dol):
        value = values.get(tag)
        if value is None:
            out += bytes(length)
        elif tag in NUMERIC_TAGS:
            out += value[-length:].rjust(length, b"\x00") if length else b""
        else:
            out += value[:length].ljust(length, b"\x00")
    return bytes(out)
