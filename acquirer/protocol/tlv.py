"""BER-TLV for field 55 (ICC data), keeping order and repeated tags.

Why hand-written: pyemv's `tlv.decode` returns a dict, so a tag that occurs
twice (two 71/72 issuer scripts in a reply, two 61 application templates in a
payment code) keeps only one value, and the order the card or issuer produced
is lost. Field 55 must round-trip exactly and the ARQC input is order
sensitive, so this module parses into a list.

Supported: multi-byte tags (first byte xxx11111, then bytes with bit 8 set
until the last), short and long-form lengths (81, 82, 83, 84), constructed
tags (bit 6 of the first tag byte) parsed on demand through `Tlv.children()`.
`00` padding bytes between objects (EMV Book 3 Annex B) are skipped. Indefinite
lengths (80) are not BER-TLV as EMV uses it and are rejected.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from acquirer.protocol.codec import ProtocolError

__all__ = ["Tlv", "TlvError", "as_dict", "build", "find_all", "first", "parse", "parse_dict"]


class TlvError(ProtocolError):
    """Malformed BER-TLV; `offset` is the byte offset in the parsed data."""

    def __init__(self, offset: int, reason: str) -> None:
        self.offset = offset
        self.reason = reason
        super().__init__(f"TLV at byte {offset}: {reason}")


@dataclass(frozen=True)
class Tlv:
    """One data object: `tag` as upper-case hex (e.g. "9F26"), `value` bytes.

    `offset` is where the value started in the data it was parsed from (for
    error messages of nested parses); it takes no part in equality.
    """

    tag: str
    value: bytes
    offset: int = field(default=0, compare=False, repr=False)

    @property
    def constructed(self) -> bool:
        """True for templates (bit 6 of the first tag byte), e.g. 70, 77, 71, 72."""
        return bool(int(self.tag[:2], 16) & 0x20)

    def children(self) -> list[Tlv]:
        """The objects inside a constructed tag; `TlvError` offsets stay absolute."""
        if not self.constructed:
            raise TlvError(self.offset, f"tag {self.tag} is primitive, it has no children")
        return parse(self.value, base=self.offset)

    def to_bytes(self) -> bytes:
        return _encode_tag(self.tag) + _encode_length(len(self.value)) + self.value


def parse(data: bytes, base: int = 0) -> list[Tlv]:
    """All top-level objects of `data`, in order, repeats kept.

    `base` is added to the offsets in errors and `Tlv.offset` (for nested data).
    """
    data = bytes(data)
    return [Tlv(tag, data[start:end], offset=base + start) for tag, start, end in _scan(data, base)]


def parse_dict(data: bytes) -> dict[str, bytes]:
    """`as_dict(parse(data))` without the `Tlv` objects: tag -> value, first occurrence wins.

    For a reader that wants the tags of one flat object list (an issuer reading
    field 55 on every authorization); same errors as `parse`.
    """
    data = bytes(data)
    result: dict[str, bytes] = {}
    for tag, start, end in _scan(data, 0):
        if tag not in result:
            result[tag] = data[start:end]
    return result


def _scan(data: bytes, base: int) -> list[tuple[str, int, int]]:
    """(tag, value start, value end) of every top-level object: the one BER-TLV reader."""
    items: list[tuple[str, int, int]] = []
    pos = 0
    end = len(data)
    while pos < end:
        first = data[pos]
        if first == 0x00:
            pos += 1
            continue
        start = pos
        pos += 1
        if first & 0x1F == 0x1F:
            while True:
                if pos >= end:
                    raise TlvError(base + start, "tag runs past the end of the data")
                pos += 1
                if not data[pos - 1] & 0x80:
                    break
        tag = data[start:pos].hex().upper()
        if pos >= end:
            raise TlvError(base + pos, f"tag {tag} has no length")
        length = data[pos]
        pos += 1
        if length >= 0x80:
            if length == 0x80:
                raise TlvError(base + pos - 1, f"tag {tag} has an indefinite length (80)")
            count = length & 0x7F
            if count > 4:
                raise TlvError(base + pos - 1, f"tag {tag} has a {count}-byte length, at most 4 allowed")
            if pos + count > end:
                raise TlvError(base + pos - 1, f"length of tag {tag} runs past the end of the data")
            length = int.from_bytes(data[pos:pos + count], "big")
            pos += count
        if pos + length > end:
            raise TlvError(base + start,
                           f"tag {tag} declares {length} value bytes, only {end - pos} remain")
        items.append((tag, pos, pos + length))
        pos += length
    return items


def build(items: Iterable[Tlv | tuple[str, bytes]]) -> bytes:
    """Concatenated encoding of `items` (Tlv objects or (tag, value) pairs), in order."""
    out = bytearray()
    for item in items:
        tag, value = (item.tag, item.value) if isinstance(item, Tlv) else item
        out += _encode_tag(tag) + _encode_length(len(value)) + bytes(value)
    return bytes(out)


def first(items: Iterable[Tlv], tag: str) -> bytes | None:
    """Value of the first object with `tag` (hex, any case), or None."""
    tag = tag.upper()
    return next((t.value for t in items if t.tag == tag), None)


def find_all(items: Iterable[Tlv], tag: str) -> list[bytes]:
    """Values of every object with `tag`, in order."""
    tag = tag.upper()
    return [t.value for t in items if t.tag == tag]


def as_dict(items: Iterable[Tlv]) -> dict[str, bytes]:
    """tag -> value, first occurrence wins (repeats are dropped: use the list for those)."""
    result: dict[str, bytes] = {}
    for t in items:
        result.setdefault(t.tag, t.value)
    return result


@functools.lru_cache(maxsize=256)   # a handful of tags, checked and converted once each
def _encode_tag(tag: str) -> bytes:
    try:
        raw = bytes.fromhex(tag)
    except ValueError:
        raise TlvError(0, f"tag {tag!r} is not hex") from None
    well_formed = (
        len(raw) == 1 and raw[0] & 0x1F != 0x1F
        or len(raw) > 1 and raw[0] & 0x1F == 0x1F
        and all(b & 0x80 for b in raw[1:-1]) and not raw[-1] & 0x80
    )
    if not well_formed or raw[0] == 0x00:
        raise TlvError(0, f"tag {tag!r} is not a single well-formed BER tag")
    return raw


def _encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    size = (length.bit_length() + 7) // 8
    if size > 4:
        raise TlvError(0, f"value of {length} bytes is too long for BER-TLV")
    return bytes([0x80 | size]) + length.to_bytes(size, "big")
