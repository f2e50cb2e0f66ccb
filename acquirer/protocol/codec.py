"""Encode, decode and sign POS 8583 messages (pure functions over bytes and dicts).

A message is the dict pyiso8583 uses: string keys "h" (TPDU + header, 22 hex
characters), "t" (MTI, 4 digits), "2".."64" (field values as strings: digits
for `n` fields, text for `an` fields, upper-case hex for `b` fields; see
`spec.FIELDS`). "p" (the bitmap) is filled in by `encode` and `decode`.

A payload is what travels inside one frame: TPDU + header + MTI + bitmap +
fields, without the 2-byte length prefix (that is `framing`'s job).

pyiso8583 does the field work. This module adds what the link needs on top:
errors that name the field and the 0-based byte offset in the payload, BCD
digit checks (pyiso8583 treats BCD as hex and would accept `A`..`F`), a strict
primary-bitmap-only rule, and the field 64 MAC over the MAC block (MAB).

MAC rules (docs/protocol.md): the MAB runs from the MTI through the last field
before 64, computed with bit 64 already set in the bitmap; field 64 is the
last 8 bytes of the payload. Which messages carry a MAC is `messages.LAYOUTS`.
"""
from __future__ import annotations

import functools
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import iso8583

from acquirer.protocol.mac import compute_mac
from acquirer.protocol.spec import (
    BITMAP_LEN,
    BITMAP_OFFSET,
    BY_NUMBER,
    DIGITS,
    FIELD_KEYS,
    FIELDS_OFFSET,
    HEADER_LEN,
    MAC_LEN,
    MTI_OFFSET,
    SPEC,
    TRACK_CHARS,
)

__all__ = [
    "DEFAULT_HEADER",
    "DEFAULT_TPDU",
    "DecodeError",
    "EncodeError",
    "Header",
    "ProtocolError",
    "Tpdu",
    "decode",
    "describe_field",
    "encode",
    "has_mac",
    "join_h",
    "mac_block",
    "reply_h",
    "sign",
    "split_h",
    "verify",
]


class ProtocolError(Exception):
    """Base of every error the protocol layer raises for bad input."""


class DecodeError(ProtocolError):
    """A payload that does not follow the POS spec.

    `field` is the pyiso8583 key ("h", "t", "p", "2".."64"), `offset` the 0-based
    byte offset in the payload where the problem was found. `partial` holds
    what decoded before the problem, as pyiso8583 read it (keys as in a decoded
    message, e.g. 11, 41 and 42 for a host to echo in its 30 reply); empty when
    nothing did.
    """

    def __init__(self, field: str, offset: int, reason: str,
                 partial: Mapping[str, str] | None = None) -> None:
        self.field = field
        self.offset = offset
        self.reason = reason
        self.partial: dict[str, str] = dict(partial or {})
        super().__init__(f"{describe_field(field)} at byte {offset}: {reason}")


class EncodeError(ProtocolError):
    """A message dict that cannot be encoded under the POS spec."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{describe_field(field)}: {reason}")


def describe_field(field: str) -> str:
    """Readable name of a message key, e.g. "field 35 (track 2 data)", "MTI"."""
    fixed = {"h": "TPDU/header", "t": "MTI", "p": "bitmap"}
    if field in fixed:
        return fixed[field]
    if field.isdigit() and int(field) in BY_NUMBER:
        return f"field {field} ({BY_NUMBER[int(field)].name})"
    return f"field {field}"


# --- encode / decode -------------------------------------------------------------

def encode(msg: Mapping[str, str]) -> bytes:
    """The payload for `msg` (TPDU + header + MTI + bitmap + fields).

    Raises `EncodeError` naming the field for unknown fields, non-digits in `n`
    fields, bad lengths or bad hex. `msg` is not modified.
    """
    return _encode_owned(dict(msg))


def _encode_owned(msg: dict[str, str]) -> bytes:
    """`encode` of a dict the caller owns: pyiso8583 writes the bitmap ("p") into it."""
    _check_values(msg)
    try:
        raw, _ = iso8583.encode(msg, SPEC)
    except iso8583.EncodeError as e:
        raise EncodeError(e.field, e.msg) from None
    return bytes(raw)


def decode(payload: bytes) -> dict[str, str]:
    """The message dict of a payload; raises `DecodeError` naming field and offset."""
    payload = bytes(payload)
    _check_bitmap(payload)
    try:
        msg, enc = iso8583.decode(payload, SPEC)
    except iso8583.DecodeError as e:
        reason = e.msg
        if reason == _EXTRA_DATA:
            reason = f"{len(payload) - e.pos} bytes of extra data after the last field"
        raise DecodeError(e.field, e.pos, reason, _decoded_before(e)) from None
    _check_digits(msg, enc)
    return msg


_EXTRA_DATA = "Extra data after last field"  # pyiso8583's message; `field` is then the last good one


def _decoded_before(error: iso8583.DecodeError) -> dict[str, str]:
    """pyiso8583's partial decode without the field it failed on (it keeps a fragment of it)."""
    decoded = dict(error.doc_dec)
    if error.msg != _EXTRA_DATA:
        decoded.pop(error.field, None)
    return decoded


def _check_values(msg: Mapping[str, str]) -> None:
    """What pyiso8583 does not check: str values, BCD digits (it takes A-F as hex), known keys."""
    for key, value in msg.items():
        if not isinstance(value, str):
            raise EncodeError(key, f"value must be str, not {type(value).__name__}")
        kind = _BCD_FIELDS.get(key)
        if kind == "n":
            if value and not (value.isascii() and value.isdigit()):
                raise EncodeError(key, "numeric field must hold digits 0-9 only")
        elif kind == "z":
            if not TRACK_CHARS.issuperset(value):
                raise EncodeError(key, "track data must hold digits 0-9 and the separator 'D' only")
        elif key == "t":
            if not (value.isascii() and value.isdigit()):
                raise EncodeError(key, f"MTI must be 4 digits, got {value!r}")
        elif key not in FIELD_KEYS and key not in ("h", "p"):
            raise EncodeError(key, "not a field of the POS spec (primary bitmap fields 2-64 in spec.FIELDS)")


_SECONDARY_BIT = 1 << 63
#: bitmap bits of fields the spec does not define (bit 1 is checked on its own)
_UNDEFINED_BITS = sum(1 << (64 - n) for n in range(2, 65) if n not in BY_NUMBER)
#: keys of BCD fields whose digits pyiso8583 does not check, and their allowed characters
_BCD_FIELDS = {str(f.number): f.kind for f in BY_NUMBER.values() if f.kind in ("n", "z")}


def _check_bitmap(payload: bytes) -> None:
    if len(payload) < BITMAP_OFFSET + BITMAP_LEN:
        return  # pyiso8583 reports the truncated header, MTI or bitmap
    bitmap = int.from_bytes(payload[BITMAP_OFFSET:BITMAP_OFFSET + BITMAP_LEN], "big")
    if bitmap & _SECONDARY_BIT:
        raise DecodeError("p", BITMAP_OFFSET,
                          "bit 1 (secondary bitmap) is set; this link carries fields 2-64 only",
                          _fields_before(payload, bitmap, 1))
    undefined = bitmap & _UNDEFINED_BITS
    if undefined:
        number = 65 - undefined.bit_length()
        raise DecodeError("p", BITMAP_OFFSET + (number - 1) // 8,
                          f"bit {number} is set but field {number} is not defined by the POS spec",
                          _fields_before(payload, bitmap, number))


def _fields_before(payload: bytes, bitmap: int, number: int) -> dict[str, str]:
    """TPDU/header, MTI and the fields before bit `number`, for `DecodeError.partial`.

    pyiso8583 cannot read past a bit the spec does not define, so it reads a
    copy of the payload whose bitmap keeps only the bits before `number`.
    """
    kept = bitmap & ~((1 << (65 - number)) - 1)
    cut = payload[:BITMAP_OFFSET] + kept.to_bytes(BITMAP_LEN, "big") + payload[FIELDS_OFFSET:]
    try:
        msg, _ = iso8583.decode(cut, SPEC)
    except iso8583.DecodeError as e:
        msg = _decoded_before(e)  # usually "extra data": the bytes of the cut fields follow
    msg.pop("p", None)  # the bitmap itself is what failed
    return msg


def _check_digits(msg: dict[str, str], enc: dict[str, dict[str, bytes]]) -> None:
    """BCD fields hold digits (and `D` in track data); fast path on the decoded values."""
    mti = msg["t"]
    if not mti.isdigit():
        raise DecodeError("t", MTI_OFFSET, f"MTI {mti} is not BCD", {"h": msg["h"]})
    for key, kind in _BCD_FIELDS.items():
        value = msg.get(key)
        if not value:
            continue
        if kind == "z":
            value = value.replace("D", "")
        if value and not value.isdigit():
            _raise_bad_nibble(msg, enc)


def _raise_bad_nibble(msg: dict[str, str], enc: dict[str, dict[str, bytes]]) -> None:
    """Find the first non-BCD nibble and raise with its byte offset in the payload."""
    offset = FIELDS_OFFSET
    for key in sorted((k for k in msg if k.isdigit()), key=int):
        length, data = enc[key]["len"], enc[key]["data"]
        start = offset + len(length)
        offset = start + len(data)
        kind = _BCD_FIELDS.get(key)
        if kind is None:
            continue
        allowed = DIGITS if kind == "n" else TRACK_CHARS
        for index, nibble in enumerate(data.hex().upper()):
            if nibble not in allowed:
                what = "BCD digit" if kind == "n" else "track character (0-9 or D)"
                before = {k: v for k, v in msg.items() if not k.isdigit() or int(k) < int(key)}
                raise DecodeError(key, start + index // 2, f"nibble {nibble} is not a {what}", before)
    raise AssertionError("a BCD field failed the fast check but holds no bad nibble")


# --- TPDU and header -------------------------------------------------------------

def _bcd_digits(data: bytes, what: str, offset: int) -> str:
    text = data.hex().upper()
    if not text.isdigit():
        raise DecodeError("h", offset, f"{what} {text} is not BCD")
    return text


@dataclass(frozen=True)
class Tpdu:
    """Transport PDU: id `60`, destination address N4, source address N4.

    A terminal sends e.g. `60 0003 0000` (to NII 0003); a reply swaps the two
    addresses (`60 0000 0003`) so routers can return it.
    """

    destination: str = "0003"
    source: str = "0000"
    id: str = "60"

    @classmethod
    def parse(cls, data: bytes) -> Tpdu:
        """The TPDU in the first 5 bytes of `data` (a payload or the TPDU alone)."""
        if len(data) < 5:
            raise DecodeError("h", 0, f"TPDU needs 5 bytes, got {len(data)}")
        text = _bcd_digits(data[:5], "TPDU", 0)
        if text[:2] != "60":
            raise DecodeError("h", 0, f"TPDU id must be 60, got {text[:2]}")
        return cls(destination=text[2:6], source=text[6:10], id=text[:2])

    def to_bytes(self) -> bytes:
        return bytes.fromhex(self.id + self.destination + self.source)

    def swapped(self) -> Tpdu:
        """The TPDU of a reply: source and destination exchanged."""
        return Tpdu(destination=self.source, source=self.destination, id=self.id)


@dataclass(frozen=True)
class Header:
    """The 6-byte BCD application header after the TPDU.

    app_type N2 (60 magstripe terminal application, 61 IC), version N2 (31),
    terminal_status N1 (0 normal, 1 test), processing_requirement N1 (0 none;
    a host may ask the terminal to act, e.g. 3 = sign on again), sub_version N6.
    """

    app_type: str = "60"
    version: str = "31"
    terminal_status: str = "0"
    processing_requirement: str = "0"
    sub_version: str = "000000"

    @classmethod
    def parse(cls, data: bytes) -> Header:
        """The header in bytes 5..10 of a payload (or the 6 header bytes alone)."""
        if len(data) == 6:
            data = bytes(5) + data  # header given alone
        if len(data) < HEADER_LEN:
            raise DecodeError("h", 5, f"header needs 6 bytes, got {max(len(data) - 5, 0)}")
        text = _bcd_digits(data[5:HEADER_LEN], "header", 5)
        return cls(text[0:2], text[2:4], text[4], text[5], text[6:12])

    def to_bytes(self) -> bytes:
        text = (self.app_type + self.version + self.terminal_status
                + self.processing_requirement + self.sub_version)
        return bytes.fromhex(text)


DEFAULT_TPDU = Tpdu()
DEFAULT_HEADER = Header()


def join_h(tpdu: Tpdu = DEFAULT_TPDU, header: Header = DEFAULT_HEADER) -> str:
    """The "h" value (22 hex characters) for a TPDU and header."""
    return (tpdu.to_bytes() + header.to_bytes()).hex().upper()


# A link carries a handful of distinct TPDU + header values (one per route and
# terminal model), and a host reads each request's twice (its reply's, its
# typed view's): both functions are pure, so their answers are memoised.
# Errors are raised again on every call (lru_cache keeps results only).
_H_CACHED = 256


@functools.lru_cache(maxsize=_H_CACHED)
def split_h(h: str) -> tuple[Tpdu, Header]:
    """TPDU and header of a message's "h" value."""
    raw = bytes.fromhex(h)
    return Tpdu.parse(raw), Header.parse(raw)


@functools.lru_cache(maxsize=_H_CACHED)
def reply_h(h: str) -> str:
    """The "h" of a reply: the request's TPDU addresses swapped, header kept."""
    raw = bytes.fromhex(h)
    tpdu = Tpdu.parse(raw)
    return (tpdu.swapped().to_bytes() + raw[5:HEADER_LEN]).hex().upper()


# --- MAC -------------------------------------------------------------------------

def has_mac(payload: bytes) -> bool:
    """True when the payload's bitmap has bit 64 set."""
    return len(payload) >= FIELDS_OFFSET and bool(payload[FIELDS_OFFSET - 1] & 0x01)


def mac_block(payload: bytes) -> bytes:
    """The MAB of a payload that carries field 64: MTI through the last field before 64.

    Call it on a payload that decodes (field 64, fixed 8 bytes, is then the last
    8 bytes). Raises `DecodeError` when bit 64 is not set.
    """
    if not has_mac(payload):
        raise DecodeError("p", FIELDS_OFFSET - 1, "bit 64 is not set: the message carries no MAC")
    if len(payload) < FIELDS_OFFSET + MAC_LEN:
        raise DecodeError("64", len(payload), "payload too short to hold the 8-byte MAC")
    return bytes(payload[MTI_OFFSET:-MAC_LEN])


def sign(msg: Mapping[str, str], algorithm: str, mac_key: bytes) -> bytes:
    """Encode `msg` with field 64 set to its MAC; returns the payload.

    `algorithm` is "ecb" (field 64 = 8 ASCII hex characters) or "x919" (8 binary
    bytes), `mac_key` the working MAC key from sign-on (see `mac.compute_mac`).
    Any "64" already in `msg` is replaced.
    """
    unsigned = dict(msg)
    unsigned["64"] = "00" * MAC_LEN
    payload = _encode_owned(unsigned)
    mac = compute_mac(algorithm, mac_key, payload[MTI_OFFSET:-MAC_LEN])
    return payload[:-MAC_LEN] + mac


def verify(payload: bytes, algorithm: str, mac_key: bytes) -> bool:
    """True when the payload carries field 64 and it is the MAC of its MAB.

    False when bit 64 is not set. Decode the payload first: the MAB is only
    well defined for a payload that follows the spec.
    """
    if not has_mac(payload) or len(payload) < FIELDS_OFFSET + MAC_LEN:
        return False
    expected = compute_mac(algorithm, mac_key, payload[MTI_OFFSET:-MAC_LEN])
    return hmac.compare_digest(expected, bytes(payload[-MAC_LEN:]))
