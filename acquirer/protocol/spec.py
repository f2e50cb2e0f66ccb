"""The POS 8583 message spec (UnionPay style), as data for pyiso8583.

Why data: the field table below is the single description of the wire format.
`SPEC` (the dict pyiso8583 4.x reads) is generated from it, the codec checks
digits against it, and docs/protocol.md's field table is tested against it.

Wire conventions (docs/payment-standards.md, "The POS link"):
- "h" is 11 binary bytes: the 5-byte TPDU then the 6-byte header.
- "t" the MTI, 2 bytes BCD; "p" the primary bitmap, 8 binary bytes. There is no
  secondary bitmap on this link: only fields 2-64 exist.
- `n` fields are BCD. Fixed ones are right-aligned (a leading 0 nibble when the
  digit count is odd) except field 22, which is left-aligned (`072` -> 07 20).
  Variable ones count digits in their length and are left-aligned with a trailing
  0 nibble when the count is odd.
- `z` fields (track 2 / track 3) are BCD with `D` as the separator, counted and
  padded like variable `n` fields.
- LLVAR lengths are 1 byte BCD, LLLVAR lengths 2 bytes BCD.
- `an` fields are ASCII text counted in bytes; `b` fields are binary counted in
  bytes and appear in a decoded message as upper-case hex.
"""
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["n", "z", "an", "b"]
LengthType = Literal["fixed", "LLVAR", "LLLVAR"]
Align = Literal["right", "left"]

#: bytes of "h": TPDU (5) + header (6)
HEADER_LEN = 11
#: bytes of the MTI on the wire
MTI_LEN = 2
#: bytes of the primary bitmap
BITMAP_LEN = 8
#: offset of the MTI in a payload (the MAC block starts here)
MTI_OFFSET = HEADER_LEN
#: offset of the bitmap in a payload
BITMAP_OFFSET = HEADER_LEN + MTI_LEN
#: offset of the first field after the bitmap
FIELDS_OFFSET = BITMAP_OFFSET + BITMAP_LEN
#: field 64, the MAC: always the last 8 bytes of a signed payload
MAC_FIELD = 64
MAC_LEN = 8

#: characters allowed in a decoded field of each kind (None: not checked here)
DIGITS = frozenset("0123456789")
TRACK_CHARS = frozenset("0123456789D")


@dataclass(frozen=True)
class FieldDef:
    """One field of the POS spec.

    `max_len` counts digits for `n`/`z` fields and bytes for `an`/`b` fields; for
    a fixed field it is the exact length. `align` only matters for fixed `n`
    fields with an odd digit count (variable numerics are always left-aligned).
    """

    number: int
    name: str
    kind: Kind
    length: LengthType
    max_len: int
    align: Align = "right"

    @property
    def notation(self) -> str:
        """The usual spec notation, e.g. `n6`, `n..19 LLVAR`, `b..255 LLLVAR`."""
        if self.length == "fixed":
            return f"{self.kind}{self.max_len}"
        return f"{self.kind}..{self.max_len} {self.length}"

    @property
    def wire_len(self) -> int | None:
        """Bytes on the wire of a fixed field (None for variable ones)."""
        if self.length != "fixed":
            return None
        if self.kind in ("n", "z"):
            return (self.max_len + 1) // 2
        return self.max_len


FIELDS: tuple[FieldDef, ...] = (
    FieldDef(2, "primary account number", "n", "LLVAR", 19),
    FieldDef(3, "processing code", "n", "fixed", 6),
    FieldDef(4, "amount, transaction (fen)", "n", "fixed", 12),
    FieldDef(11, "system trace audit number (STAN)", "n", "fixed", 6),
    FieldDef(12, "local time hhmmss", "n", "fixed", 6),
    FieldDef(13, "local date MMDD", "n", "fixed", 4),
    FieldDef(14, "expiry date YYMM", "n", "fixed", 4),
    FieldDef(15, "settlement date MMDD", "n", "fixed", 4),
    FieldDef(22, "POS entry mode", "n", "fixed", 3, align="left"),
    FieldDef(23, "card sequence number (PSN)", "n", "fixed", 3),
    FieldDef(25, "POS condition code", "n", "fixed", 2),
    FieldDef(26, "PIN capture code", "n", "fixed", 2),
    FieldDef(32, "acquiring institution id", "n", "LLVAR", 11),
    FieldDef(35, "track 2 data", "z", "LLVAR", 37),
    FieldDef(36, "track 3 data", "z", "LLLVAR", 104),
    FieldDef(37, "retrieval reference number (RRN)", "an", "fixed", 12),
    FieldDef(38, "authorization code", "an", "fixed", 6),
    FieldDef(39, "response code", "an", "fixed", 2),
    FieldDef(41, "terminal id (TID)", "an", "fixed", 8),
    FieldDef(42, "merchant id (MID)", "an", "fixed", 15),
    FieldDef(44, "additional response data", "an", "LLVAR", 25),
    FieldDef(48, "additional data (settlement totals, upload count)", "n", "LLLVAR", 322),
    FieldDef(49, "currency code", "an", "fixed", 3),
    FieldDef(52, "PIN block", "b", "fixed", 8),
    FieldDef(53, "security control information", "n", "fixed", 16),
    FieldDef(54, "balance amount", "an", "LLLVAR", 20),
    FieldDef(55, "ICC data (BER-TLV)", "b", "LLLVAR", 255),
    FieldDef(60, "reserved private: type, batch, network management code", "n", "LLLVAR", 17),
    FieldDef(61, "original message: batch, STAN, date", "n", "LLLVAR", 29),
    FieldDef(62, "reserved private: working keys", "b", "LLLVAR", 512),
    FieldDef(63, "reserved private: operator / text", "an", "LLLVAR", 163),
    FieldDef(64, "message authentication code (MAC)", "b", "fixed", 8),
)

#: field number -> definition
BY_NUMBER: dict[int, FieldDef] = {f.number: f for f in FIELDS}
#: decoded-dict keys of the defined fields, e.g. "2", "35"
FIELD_KEYS: frozenset[str] = frozenset(str(f.number) for f in FIELDS)


def _pyiso8583_field(f: FieldDef) -> dict[str, Any]:
    len_type = {"fixed": 0, "LLVAR": 1, "LLLVAR": 2}[f.length]
    entry: dict[str, Any] = {
        "data_enc": "ascii" if f.kind == "an" else "b",
        "len_enc": "bcd",
        "len_type": len_type,
        "max_len": f.max_len,
        "desc": f.name,
    }
    if f.kind in ("n", "z"):
        entry["len_count"] = "nibbles"
        if f.length == "fixed" and f.align == "right":
            entry["left_pad"] = "0"
        else:
            entry["right_pad"] = "0"
    return entry


def _build_spec() -> dict[str, dict[str, Any]]:
    spec: dict[str, dict[str, Any]] = {
        "h": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": HEADER_LEN,
              "desc": "TPDU + header"},
        "t": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": MTI_LEN,
              "desc": "message type identifier (BCD)"},
        "p": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": BITMAP_LEN,
              "desc": "primary bitmap"},
    }
    for f in FIELDS:
        spec[str(f.number)] = _pyiso8583_field(f)
    return spec


#: the spec dict for `iso8583.encode` / `iso8583.decode`
SPEC: dict[str, dict[str, Any]] = _build_spec()
