"""Reading a merchant statement and checking it before anyone relies on it.

The acquirer writes the statement (`acquirer.clearing.files`); the merchant's
terminal reads it (`pos reconcile`). Both use the layouts of
`acquirer.protocol.clearing_layouts`, so the file has one definition. The
checks are the ones docs/clearing.md lists under "Checking a merchant
statement": the header names a `STMT` file of the merchant expected, every
record between header and trailer is a `D` record of the right width, the
trailer's checksum is the SHA-256 of every byte before it, and its count and
three totals equal the records. A file failing any of them is refused with a
`StatementError` saying which check failed -- never half-read.

The CSV and JSON forms carry no checksum: they are checked for the merchant
(every line's, and the JSON header's), one clearing day, and the JSON
trailer figures against the lines.

An account that shows more than the first 6 and last 4 digits is refused too:
a statement is card data's last stop before a report, and a report never
holds a full PAN.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

from acquirer.protocol.clearing_layouts import DETAIL, HEADER, TRAILER, Layout

__all__ = ["Statement", "StatementError", "StatementFormat", "StatementLine", "read_statement", "sniff_format"]

StatementFormat = Literal["fixed", "csv", "json"]

#: masked: at most 6 leading and 4 trailing digits visible (what a statement may show)
_MASKED = re.compile(r"^[0-9]{0,6}[^0-9]+[0-9]{0,4}$|^$")
_MAX_VISIBLE_DIGITS = 10


class StatementError(ValueError):
    """The statement cannot be used: unreadable, for another merchant, or altered since it was written."""


class StatementLine(NamedTuple):
    """One `D` record: a movement of the merchant's money as the acquirer cleared it (fen, signed).

    A named tuple rather than a frozen dataclass: as immutable, and made several times faster (a frozen
    dataclass sets each of its 22 fields through `object.__setattr__`) -- a month's statements hold
    hundreds of thousands of lines.
    """

    code: str
    adjustment: bool
    clearing_date: date
    transmission_time: str      # MMDDhhmmss, Beijing time
    stan: str
    rrn: str
    auth_code: str
    terminal: str
    merchant: str
    mcc: str
    account: str                # masked
    scheme: str
    institution: str
    card_type: str              # D, C or W
    amount: int
    issuer_fee: int
    network_fee: int
    network_fee_issuer: int
    acquirer_fee: int
    mdr: int
    settlement_amount: int
    original_date: date | None


@dataclass(frozen=True, slots=True)
class Statement:
    """A checked statement of one merchant and one clearing day."""

    merchant: str
    acquirer: str
    clearing_date: date
    settlement_date: date | None
    lines: tuple[StatementLine, ...]
    checksum: str | None        # the fixed-width file's SHA-256; None for CSV and JSON

    @property
    def total_amount(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def total_mdr(self) -> int:
        return sum(line.mdr for line in self.lines)

    @property
    def total_settlement(self) -> int:
        return sum(line.settlement_amount for line in self.lines)


def sniff_format(data: bytes) -> StatementFormat:
    """Which of the three forms `data` is in, by its first byte(s)."""
    head = data.lstrip()[:1]
    if head == b"{":
        return "json"
    if data.startswith(b"HSTMT") or data.startswith(b"H"):
        return "fixed"
    return "csv"


def read_statement(data: bytes, merchant: str, fmt: StatementFormat | None = None) -> Statement:
    """Check and read a statement of `merchant` in any of its three forms; `StatementError` if refused."""
    form = fmt or sniff_format(data)
    if form == "fixed":
        return _read_fixed(data, merchant)
    if form == "csv":
        return _read_csv(data, merchant)
    return _read_json(data, merchant)


# --- fixed width -------------------------------------------------------------------

def _cut(layout: Layout, record: str, where: str) -> dict[str, object]:
    if len(record) != layout.width:
        raise StatementError(f"{where}: a {layout.record} record is {layout.width} characters, this one {len(record)}")
    out: dict[str, object] = {}
    pos = 0
    for f in layout.fields:
        cell = record[pos:pos + f.width]
        pos += f.width
        if f.kind == "a":
            out[f.name] = cell.rstrip(" ")
        elif f.kind == "n":
            if not cell.isdigit():
                raise StatementError(f"{where}: {f.name} {cell!r} is not digits")
            out[f.name] = int(cell)
        else:
            if cell[:1] not in ("+", "-") or not cell[1:].isdigit():
                raise StatementError(f"{where}: {f.name} {cell!r} is not a signed amount")
            out[f.name] = int(cell)
    return out


def _day(value: object, where: str, name: str) -> date | None:
    try:
        return _yyyymmdd(value if isinstance(value, int) else int(str(value)))
    except ValueError:
        raise StatementError(f"{where}: {name} {value} is not a date") from None


@functools.lru_cache(maxsize=1024)
def _yyyymmdd(number: int) -> date | None:
    """YYYYMMDD -> date (0: none); ValueError for a date that does not exist. Cached: a file has few days."""
    if number == 0:
        return None
    return date(number // 10000, number // 100 % 100, number % 100)


def _read_fixed(data: bytes, merchant: str) -> Statement:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise StatementError("not a statement: the file is not ASCII text") from None
    if not text.endswith("\n"):
        raise StatementError("the file is cut short: its last record has no end of line")
    records = text[:-1].split("\n")
    if len(records) < 2 or not records[0].startswith("H") or not records[-1].startswith("T"):
        raise StatementError("not a statement: it must start with a header (H) and end with a trailer (T)")
    header = _cut(HEADER, records[0], "header")
    if header["file_type"] != "STMT":
        raise StatementError(f"not a merchant statement: the header says file type {header['file_type']!r}")
    if header["owner"] != merchant:
        raise StatementError(f"this statement is for merchant {header['owner']}, not {merchant}")
    trailer = _cut(TRAILER, records[-1], "trailer")
    body_bytes = len(data) - len(records[-1]) - 1
    digest = hashlib.sha256(data[:body_bytes]).hexdigest()
    if trailer["checksum"] != digest:
        raise StatementError("the statement was altered after the acquirer wrote it: its checksum does not match")
    lines = [_detail(record, f"record {number}") for number, record in enumerate(records[1:-1], start=2)]
    clearing_date = _day(header["clearing_date"], "header", "clearing_date")
    if clearing_date is None:
        raise StatementError("header: a statement names its clearing day")
    figures = (trailer["count"], trailer["total_1"], trailer["total_2"], trailer["total_3"])
    statement = Statement(merchant, str(header["acquirer"]), clearing_date,
                          _day(header["settlement_date"], "header", "settlement_date"), tuple(lines), digest)
    _check(statement, figures, "trailer")
    return statement


def _pattern(layout: Layout) -> re.Pattern[str]:
    """One regular expression for a whole record, from its layout: a match checks every field's kind."""
    kinds = {"a": "([ -~]{%d})", "n": "([0-9]{%d})", "s": "([+-][0-9]{%d})"}
    parts = [re.escape(layout.record)]
    for f in layout.fields[1:]:
        parts.append(kinds[f.kind] % (f.width - 1 if f.kind == "s" else f.width))
    return re.compile("".join(parts))


_DETAIL_RE = _pattern(DETAIL)


def _detail(record: str, where: str) -> StatementLine:
    """A `D` record: one match for the common case; the field-by-field cut names what is wrong otherwise.

    The match has checked every field's kind, so the numbers convert without further checks."""
    found = _DETAIL_RE.fullmatch(record)
    if found is None:
        if not record.startswith("D"):
            raise StatementError(f"{where}: a {record[:1]!r} record where only D records may be")
        _cut(DETAIL, record, where)   # raises, naming the field
        raise StatementError(f"{where}: not a D record")
    (code, adjustment, clearing, time, stan, rrn, auth_code, terminal, merchant, mcc, account, scheme, institution,
     card_type, amount, issuer_fee, network_fee, network_fee_issuer, acquirer_fee, mdr, settlement,
     original) = found.groups()
    return _checked(code.rstrip(" "), adjustment, int(clearing), time, stan.rstrip(" "), rrn.rstrip(" "),
                    auth_code.rstrip(" "), terminal.rstrip(" "), merchant.rstrip(" "), mcc.rstrip(" "),
                    account.rstrip(" "), scheme.rstrip(" "), institution.rstrip(" "), card_type.rstrip(" "),
                    int(amount), int(issuer_fee), int(network_fee), int(network_fee_issuer), int(acquirer_fee),
                    int(mdr), int(settlement), int(original), where)


def _line(values: Sequence[object], where: str) -> StatementLine:
    """The `D` fields in layout order as the CSV and JSON forms give them (text or numbers) -> a checked line."""
    (code, adjustment, clearing, time, stan, rrn, auth_code, terminal, merchant, mcc, account, scheme, institution,
     card_type, *numbers, original) = values
    try:
        amount, issuer_fee, network_fee, network_fee_issuer, acquirer_fee, mdr, settlement = (
            int(str(n)) for n in numbers)
        transmitted = f"{int(str(time)):010d}"
    except (TypeError, ValueError) as e:
        raise StatementError(f"{where}: {e}") from None
    code, stan, rrn, auth_code, terminal, merchant, mcc, account, scheme, institution, card_type = (
        str(v).rstrip(" ") for v in (code, stan, rrn, auth_code, terminal, merchant, mcc, account, scheme,
                                     institution, card_type))
    return _checked(code, adjustment, clearing, transmitted, stan, rrn, auth_code, terminal, merchant, mcc,
                    account, scheme, institution, card_type, amount, issuer_fee, network_fee, network_fee_issuer,
                    acquirer_fee, mdr, settlement, original, where)


def _checked(code: str, adjustment: object, clearing: object, transmitted: str, stan: str, rrn: str, auth_code: str,
             terminal: str, merchant: str, mcc: str, account: str, scheme: str, institution: str, card_type: str,
             amount: int, issuer_fee: int, network_fee: int, network_fee_issuer: int, acquirer_fee: int, mdr: int,
             settlement: int, original: object, where: str) -> StatementLine:
    """The checks every form's line passes (masked account, A/N, dates, MDR and settlement sums); the line."""
    if not _masked(account):
        raise StatementError(f"{where}: the account is not masked (first 6 and last 4 digits at most); "
                             f"the statement is refused and not shown")
    if adjustment != "A" and adjustment != "N":
        raise StatementError(f"{where}: adjustment {adjustment!r} is neither A nor N")
    clearing_date = _day(clearing, where, "clearing_date")
    if clearing_date is None:
        raise StatementError(f"{where}: no clearing date")
    if mdr != issuer_fee + network_fee + acquirer_fee:
        raise StatementError(f"{where}: the MDR is not the sum of its fees")
    if settlement != amount - mdr:
        raise StatementError(f"{where}: the settlement amount is not the amount less the MDR")
    return StatementLine(code, adjustment == "A", clearing_date, transmitted, stan, rrn, auth_code, terminal,
                         merchant, mcc, account, scheme, institution, card_type, amount, issuer_fee, network_fee,
                         network_fee_issuer, acquirer_fee, mdr, settlement, _day(original, where, "original_date"))


@functools.lru_cache(maxsize=4096)
def _masked(account: str) -> bool:
    """At most the first 6 and last 4 digits visible (a statement repeats the same few accounts: cached)."""
    return sum(c.isdigit() for c in account) <= _MAX_VISIBLE_DIGITS and _MASKED.match(account) is not None


def _check(statement: Statement, figures: Iterable[object], where: str) -> None:
    count, amount, mdr, settlement = (int(str(v)) for v in figures)
    if count != len(statement.lines):
        raise StatementError(f"{where} counts {count} lines, the statement holds {len(statement.lines)}")
    for name, stated, actual in (("amount", amount, statement.total_amount), ("MDR", mdr, statement.total_mdr),
                                 ("settlement", settlement, statement.total_settlement)):
        if stated != actual:
            raise StatementError(f"{where}'s {name} total {stated} is not the sum of the lines ({actual})")
    for line in statement.lines:
        if line.merchant != statement.merchant:
            raise StatementError(f"a line of merchant {line.merchant} in the statement of {statement.merchant}")


# --- CSV and JSON --------------------------------------------------------------------

_COLUMNS = [f.name for f in DETAIL.fields[1:]]


def _typed(row: Mapping[str, object], where: str) -> StatementLine:
    missing = [c for c in _COLUMNS if c not in row]
    if missing:
        raise StatementError(f"{where}: missing {', '.join(missing)}")
    return _line(["" if row[name] is None else row[name] for name in _COLUMNS], where)


def _one_day(lines: list[StatementLine], merchant: str) -> date:
    days = {line.clearing_date for line in lines}
    if len(days) != 1:
        raise StatementError("a statement holds one clearing day; this one holds "
                             f"{len(days) or 'no'} day(s) -- an empty day's statement is the fixed or JSON form")
    for line in lines:
        if line.merchant != merchant:
            raise StatementError(f"this statement is for merchant {line.merchant}, not {merchant}")
    return days.pop()


def _read_csv(data: bytes, merchant: str) -> Statement:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise StatementError("not a statement: the file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or set(_COLUMNS) - set(reader.fieldnames):
        raise StatementError("not a statement in CSV: the first row must name the D record's fields")
    lines = [_typed(row, f"row {n}") for n, row in enumerate(reader, start=2)]
    return Statement(merchant, "", _one_day(lines, merchant), None, tuple(lines), None)


def _read_json(data: bytes, merchant: str) -> Statement:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise StatementError("not a statement: the file is not valid JSON") from None
    if not isinstance(body, dict) or body.get("file_type") != "STMT" or not isinstance(body.get("lines"), list):
        raise StatementError("not a merchant statement in JSON (file_type STMT with lines)")
    if body.get("merchant") != merchant:
        raise StatementError(f"this statement is for merchant {body.get('merchant')}, not {merchant}")
    try:
        clearing_date = date.fromisoformat(str(body["clearing_date"]))
        settlement = body.get("settlement_date")
        settlement_date = date.fromisoformat(str(settlement)) if settlement else None
        figures = (body["count"], body["total_amount"], body["total_mdr"], body["total_settlement"])
    except (KeyError, ValueError) as e:
        raise StatementError(f"the JSON statement's header is incomplete or wrong: {e}") from None
    lines = []
    for n, row in enumerate(body["lines"], start=1):
        if not isinstance(row, dict):
            raise StatementError(f"line {n}: not an object")
        lines.append(_typed(row, f"line {n}"))
    statement = Statement(merchant, str(body.get("acquirer", "")), clearing_date, settlement_date,
                          tuple(lines), None)
    _check(statement, figures, "the JSON totals")
    if any(line.clearing_date != clearing_date for line in lines):
        raise StatementError("a line of another clearing day in the statement")
    return statement
