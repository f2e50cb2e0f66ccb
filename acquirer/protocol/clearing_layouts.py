"""Fixed-width record layouts of the clearing files (the tables in `docs/clearing.md`).

Every file is ASCII, one record per line ending in LF, every record of a
type the same width: a header `H`, detail records (`D` transaction, `S`
settlement position, `P` payout) and a trailer `T`. Field kinds:

- `a`: text, left-justified, padded with spaces (longer text is refused);
- `n`: unsigned digits, right-justified, padded with zeros;
- `s`: signed amount in fen: `+` or `-`, then digits padded with zeros.

The trailer's checksum is the SHA-256 (lower-case hex) of every byte before
the trailer, so a reader can verify a file without knowing how it was made.
"""
from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["DETAIL", "FORMAT_VERSION", "HEADER", "LAYOUTS", "PAYOUT", "POSITION", "TRAILER", "Field", "Layout"]

FORMAT_VERSION = "01"


@dataclass(frozen=True)
class Field:
    name: str
    width: int
    kind: str   # "a", "n" or "s"


@dataclass(frozen=True)
class Layout:
    record: str
    fields: tuple[Field, ...]

    @functools.cached_property
    def width(self) -> int:
        return sum(f.width for f in self.fields)

    @functools.cached_property
    def _template(self) -> str:
        kinds = {"a": "%-{w}s", "n": "%0{w}d", "s": "%+0{w}d"}
        return "".join(kinds[f.kind].format(w=f.width) for f in self.fields)

    @functools.cached_property
    def _unsigned(self) -> tuple[int, ...]:
        return tuple(i for i, f in enumerate(self.fields) if f.kind == "n")

    @functools.cached_property
    def _smallest_unsigned(self) -> Callable[[tuple[object, ...]], int]:
        """The smallest value of the `n` fields (0 when none), in one C-level pass per record."""
        if not self._unsigned:
            return lambda _values: 0
        get = operator.itemgetter(*self._unsigned, self._unsigned[0])   # two indices or more: a tuple
        return lambda values: min(get(values))

    def format(self, values: Sequence[object]) -> str:
        """One record (without the LF); `values` in field order, the record type first.

        The fast path is one %-format; a record of the wrong width (a value too
        long, an integer that overflows) is formatted again field by field,
        which raises a `ValueError` naming the field.
        """
        values = tuple(values)
        try:
            if None not in values and self._smallest_unsigned(values) >= 0:
                record = self._template % values
                if len(record) == self.width and record.isascii():
                    return record
        except TypeError:
            pass
        return self.format_checked(values)

    def format_checked(self, values: Sequence[object]) -> str:
        """`format`, field by field with a clear error for the first value that does not fit."""
        if len(values) != len(self.fields):
            raise ValueError(f"{self.record} record: {len(values)} values for {len(self.fields)} fields")
        parts = []
        for f, value in zip(self.fields, values, strict=True):
            parts.append(_cell(f, value))
        record = "".join(parts)
        if len(record) != self.width:   # the fast path disagreed: a defect in the layout itself
            raise ValueError(f"{self.record} record is {len(record)} characters, not {self.width}")
        return record


def _cell(f: Field, value: object) -> str:
    if f.kind == "a":
        text = "" if value is None else str(value)
        if len(text) > f.width or not text.isascii():
            raise ValueError(f"field {f.name}: {text!r} is not ASCII of at most {f.width} characters")
        return text.ljust(f.width)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"field {f.name}: integer expected, got {value!r}")
    if f.kind == "n":
        text = str(value)
        if value < 0 or len(text) > f.width:
            raise ValueError(f"field {f.name}: {value} does not fit {f.width} digits")
        return text.rjust(f.width, "0")
    digits = str(abs(value))
    if len(digits) > f.width - 1:
        raise ValueError(f"field {f.name}: {value} does not fit a sign and {f.width - 1} digits")
    return ("-" if value < 0 else "+") + digits.rjust(f.width - 1, "0")


def _layout(record: str, *fields: tuple[str, int, str]) -> Layout:
    return Layout(record, (Field("record", 1, "a"), *(Field(*f) for f in fields)))


HEADER = _layout(
    "H",
    ("file_type", 4, "a"),          # DETL, STMT, NETS, PAYO
    ("version", 2, "a"),
    ("acquirer", 11, "a"),          # acquiring institution code
    ("owner", 15, "a"),             # institution, merchant ID, or the acquirer's code
    ("clearing_date", 8, "n"),      # YYYYMMDD; payout files: 00000000
    ("settlement_date", 8, "n"),    # YYYYMMDD
)

DETAIL = _layout(
    "D",
    ("code", 3, "a"),               # events.LineCode
    ("adjustment", 1, "a"),         # A: corrects an earlier day; N: a normal line
    ("clearing_date", 8, "n"),
    ("transmission_time", 10, "n"),  # MMDDhhmmss, Beijing time
    ("stan", 6, "a"),
    ("rrn", 12, "a"),
    ("auth_code", 6, "a"),
    ("terminal", 8, "a"),
    ("merchant", 15, "a"),
    ("mcc", 4, "a"),
    ("account", 19, "a"),           # masked: first 6 and last 4 at most
    ("scheme", 10, "a"),
    ("institution", 15, "a"),
    ("card_type", 1, "a"),          # D debit, C credit, W wallet
    ("amount", 13, "s"),
    ("issuer_fee", 11, "s"),
    ("network_fee", 11, "s"),       # the acquirer's side (part of the MDR)
    ("network_fee_issuer", 11, "s"),
    ("acquirer_fee", 11, "s"),
    ("mdr", 11, "s"),
    ("settlement_amount", 13, "s"),  # amount - MDR
    ("original_date", 8, "n"),      # clearing day of the original; 00000000: none
)

POSITION = _layout(
    "S",
    ("counterparty", 15, "a"),
    ("count", 9, "n"),
    ("gross", 15, "s"),
    ("issuer_fee", 15, "s"),
    ("network_fee", 15, "s"),       # the acquirer's side
    ("network_fee_issuer", 15, "s"),
    ("position", 15, "s"),          # what the file's owner receives from the counterparty (- pays)
)

PAYOUT = _layout(
    "P",
    ("merchant", 15, "a"),
    ("payout_account", 30, "a"),
    ("days", 3, "n"),               # clearing days paid on this date
    ("due", 15, "s"),               # the net of those days
    ("carried_in", 15, "s"),        # balance carried from earlier dates (negative or below minimum)
    ("paid", 15, "n"),
    ("carried_out", 15, "s"),
)

TRAILER = _layout(
    "T",
    ("count", 9, "n"),              # detail records
    ("total_1", 15, "s"),           # DETL/STMT: amount; NETS: gross; PAYO: due
    ("total_2", 15, "s"),           # DETL/STMT: MDR; NETS: issuer fee; PAYO: paid
    ("total_3", 15, "s"),           # DETL/STMT: settlement amount; NETS: position; PAYO: carried out
    ("checksum", 64, "a"),          # SHA-256 hex of every byte before this record
)

LAYOUTS = {layout.record: layout for layout in (HEADER, DETAIL, POSITION, PAYOUT, TRAILER)}
