"""Writing clearing files: header, records, trailer with counts, totals and checksum.

A `RecordFile` streams records to a binary sink while it hashes them, so a
day of a million lines never sits in memory. Files are written deterministic:
no wall-clock time, no random order -- the records come in the order the run
gives them, so a re-run writes the same bytes. `write_atomically` puts a file
in place by rename, so a reader never sees half a file.

The merchant statement also exists as CSV and JSON (`statement_csv`,
`statement_json`), with the same fields as the fixed-width `D` record and the
same trailer figures.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import BinaryIO

from acquirer.protocol.clock import CHINA
from acquirer.clearing.events import ClearingLine
from acquirer.protocol.clearing_layouts import DETAIL, FORMAT_VERSION, HEADER, TRAILER, Layout

__all__ = ["RecordFile", "detail_values", "statement_csv", "statement_json", "write_atomically", "yyyymmdd"]


def yyyymmdd(day: date | None) -> int:
    return 0 if day is None else day.year * 10000 + day.month * 100 + day.day


class RecordFile:
    """One fixed-width file: `header`, then `record`s, then `close` writes the trailer."""

    def __init__(self, sink: BinaryIO, file_type: str, acquirer: str, owner: str,
                 clearing_date: date | None, settlement_date: date | None) -> None:
        self.sink = sink
        self.hash = hashlib.sha256()
        self.count = 0
        self.totals = [0, 0, 0]
        self._write(HEADER.format(("H", file_type, FORMAT_VERSION, acquirer, owner,
                                   yyyymmdd(clearing_date), yyyymmdd(settlement_date))))

    def _write(self, record: str) -> None:
        data = (record + "\n").encode("ascii")
        self.hash.update(data)
        self.sink.write(data)

    def record(self, layout: Layout, values: tuple[object, ...], totals: tuple[int, int, int]) -> None:
        self._write(layout.format(values))
        self.count += 1
        self.totals[0] += totals[0]
        self.totals[1] += totals[1]
        self.totals[2] += totals[2]

    def detail(self, line: ClearingLine) -> None:
        """A `D` record."""
        mdr = line.fees.mdr
        self.encoded_detail((DETAIL.format(detail_values(line)) + "\n").encode("ascii"), line.event.amount, mdr)

    def encoded_detail(self, data: bytes, amount: int, mdr: int) -> None:
        """A `D` record already formatted and encoded with its LF (a clearing run writes each line
        to two files: it formats it once)."""
        self.hash.update(data)
        self.sink.write(data)
        self.count += 1
        totals = self.totals
        totals[0] += amount
        totals[1] += mdr
        totals[2] += amount - mdr

    def close(self) -> str:
        """Write the trailer; returns the file's checksum (of everything before the trailer)."""
        digest = self.hash.hexdigest()
        record = TRAILER.format(("T", self.count, *self.totals, digest))
        self.sink.write((record + "\n").encode("ascii"))
        return digest


def detail_values(line: ClearingLine) -> tuple[object, ...]:
    """The `D` record's values, in layout order."""
    e, f = line.event, line.fees
    t = e.occurred_at.astimezone(CHINA)
    channel = e.channel._value_          # `_value_`: the enum's plain attribute (`value` is a slow descriptor)
    card_type = "W" if channel == "W" else ("C" if e.credit else "D")
    mdr = f.issuer + f.network_acquirer + f.acquirer
    return ("D", e.code._value_, "A" if line.adjustment else "N", yyyymmdd(line.clearing_date),
            (((t.month * 100 + t.day) * 100 + t.hour) * 100 + t.minute) * 100 + t.second,
            e.stan, e.rrn, e.auth_code, e.tid, e.mid, line.mcc, e.masked_account, e.scheme, e.institution,
            card_type, e.amount, f.issuer, f.network_acquirer, f.network_issuer, f.acquirer, mdr,
            e.amount - mdr, yyyymmdd(e.original_date))


def write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target, sync, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


_COLUMNS = [f.name for f in DETAIL.fields[1:]]


def _row(line: ClearingLine) -> dict[str, object]:
    values = detail_values(line)[1:]
    return dict(zip(_COLUMNS, values, strict=True))


def statement_csv(lines: Iterable[ClearingLine]) -> bytes:
    """The statement's lines as CSV (UTF-8, a row of column names first); totals are the sums."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow(_row(line))
    return out.getvalue().encode("utf-8")


def statement_json(acquirer: str, mid: str, clearing_date: date, settlement_date: date,
                   lines: Iterable[ClearingLine]) -> bytes:
    """The statement as one JSON document: header, lines and the trailer's figures."""
    rows = [_row(line) for line in lines]
    body = {
        "file_type": "STMT", "version": FORMAT_VERSION, "acquirer": acquirer, "merchant": mid,
        "clearing_date": clearing_date.isoformat(), "settlement_date": settlement_date.isoformat(),
        "lines": rows,
        "count": len(rows),
        "total_amount": sum(int(str(r["amount"])) for r in rows),
        "total_mdr": sum(int(str(r["mdr"])) for r in rows),
        "total_settlement": sum(int(str(r["settlement_amount"])) for r in rows),
    }
    return (json.dumps(body, ensure_ascii=True, sort_keys=True, indent=1) + "\n").encode("ascii")
