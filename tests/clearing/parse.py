"""An independent reader of the clearing files, written from docs/clearing.md's tables.

It shares no code with `acquirer.clearing` on purpose: a file the kit writes
must be readable by anyone holding the documented layout. `read_file` checks
what a merchant's reconciliation would check -- the header, every record's
width, the trailer's count and totals against the records, and the SHA-256
checksum of everything before the trailer -- and raises `BadFile` otherwise.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

# (name, width, kind) straight from the documented tables
HEADER = [("record", 1, "a"), ("file_type", 4, "a"), ("version", 2, "a"), ("acquirer", 11, "a"),
          ("owner", 15, "a"), ("clearing_date", 8, "n"), ("settlement_date", 8, "n")]
DETAIL = [("record", 1, "a"), ("code", 3, "a"), ("adjustment", 1, "a"), ("clearing_date", 8, "n"),
          ("transmission_time", 10, "n"), ("stan", 6, "a"), ("rrn", 12, "a"), ("auth_code", 6, "a"),
          ("terminal", 8, "a"), ("merchant", 15, "a"), ("mcc", 4, "a"), ("account", 19, "a"),
          ("scheme", 10, "a"), ("institution", 15, "a"), ("card_type", 1, "a"), ("amount", 13, "s"),
          ("issuer_fee", 11, "s"), ("network_fee", 11, "s"), ("network_fee_issuer", 11, "s"),
          ("acquirer_fee", 11, "s"), ("mdr", 11, "s"), ("settlement_amount", 13, "s"),
          ("original_date", 8, "n")]
POSITION = [("record", 1, "a"), ("counterparty", 15, "a"), ("count", 9, "n"), ("gross", 15, "s"),
            ("issuer_fee", 15, "s"), ("network_fee", 15, "s"), ("network_fee_issuer", 15, "s"),
            ("position", 15, "s")]
PAYOUT = [("record", 1, "a"), ("merchant", 15, "a"), ("payout_account", 30, "a"), ("days", 3, "n"),
          ("due", 15, "s"), ("carried_in", 15, "s"), ("paid", 15, "n"), ("carried_out", 15, "s")]
TRAILER = [("record", 1, "a"), ("count", 9, "n"), ("total_1", 15, "s"), ("total_2", 15, "s"),
           ("total_3", 15, "s"), ("checksum", 64, "a")]

BODY = {"DETL": ("D", DETAIL), "STMT": ("D", DETAIL), "NETS": ("S", POSITION), "PAYO": ("P", PAYOUT)}
# which columns the trailer's three totals add up, per file type
TOTALS = {"DETL": ("amount", "mdr", "settlement_amount"), "STMT": ("amount", "mdr", "settlement_amount"),
          "NETS": ("gross", "issuer_fee", "position"), "PAYO": ("due", "paid", "carried_out")}


class BadFile(ValueError):
    pass


@dataclass
class ParsedFile:
    header: dict[str, object]
    records: list[dict[str, object]]
    trailer: dict[str, object]


def _fields(line: str, layout: list[tuple[str, int, str]]) -> dict[str, object]:
    width = sum(w for _, w, _ in layout)
    if len(line) != width:
        raise BadFile(f"record {line[:1]!r} is {len(line)} characters, expected {width}")
    out: dict[str, object] = {}
    pos = 0
    for name, w, kind in layout:
        cell = line[pos:pos + w]
        pos += w
        if kind == "a":
            out[name] = cell.rstrip(" ")
        elif kind == "n":
            if not cell.isdigit():
                raise BadFile(f"{name}: {cell!r} is not digits")
            out[name] = int(cell)
        else:
            if cell[0] not in "+-" or not cell[1:].isdigit():
                raise BadFile(f"{name}: {cell!r} is not a signed amount")
            out[name] = int(cell)
    return out


def read_file(data: bytes) -> ParsedFile:
    if not data.endswith(b"\n"):
        raise BadFile("the file does not end with a complete record")
    lines = data[:-1].split(b"\n")
    if len(lines) < 2:
        raise BadFile("a file has at least a header and a trailer")
    body_end = len(data) - len(lines[-1]) - 1
    text = [line.decode("ascii") for line in lines]
    header = _fields(text[0], HEADER)
    if header["record"] != "H":
        raise BadFile("the first record is not a header")
    record_type, layout = BODY[str(header["file_type"])]
    records = []
    for line in text[1:-1]:
        if line[:1] != record_type:
            raise BadFile(f"unexpected record {line[:1]!r} in a {header['file_type']} file")
        records.append(_fields(line, layout))
    trailer = _fields(text[-1], TRAILER)
    if trailer["record"] != "T":
        raise BadFile("the last record is not a trailer")
    if hashlib.sha256(data[:body_end]).hexdigest() != trailer["checksum"]:
        raise BadFile("checksum does not match the file's contents")
    if trailer["count"] != len(records):
        raise BadFile(f"trailer count {trailer['count']} but {len(records)} records")
    for i, column in enumerate(TOTALS[str(header["file_type"])], start=1):
        total = sum(int(str(r[column])) for r in records)
        if trailer[f"total_{i}"] != total:
            raise BadFile(f"trailer total_{i} {trailer[f'total_{i}']} but the {column} column sums to {total}")
    return ParsedFile(header, records, trailer)
