"""The terminal's side of a reconciliation: its journal rows, as records of one terminal.

A journal does not know its own terminal ID (that is configuration), so a
record carries the TID and merchant ID beside the row's fields. Several
terminals of one merchant are reconciled together by exporting each till's
journal to a file (`pos reconcile export`) and naming those files with
`--journal`: the export holds what matching needs and nothing more -- no
token, no cryptogram, the masked PAN only.

Export format (JSON, version 1): `{"format": "tillkit-journal", "version": 1,
"terminal": TID, "merchant": MID, "records": [...]}`, one object per journal
row with the fields of `TerminalRecord`; `created_at` is UTC ISO 8601.
"""
from __future__ import annotations

import functools
import json
import operator
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from pos.journal.store import Journal
from pos.reconcile.errors import ReconcileError
from receipts.model import UnmaskedPanError, check_masked_pan

__all__ = ["COLUMNS", "EXPORT_FORMAT", "TerminalRecord", "export_records", "journal_records", "load_export",
           "records_from_rows"]

EXPORT_FORMAT = "tillkit-journal"
EXPORT_VERSION = 1


class TerminalRecord(NamedTuple):
    """One journal row of one terminal (display-safe: masked PAN only).

    A named tuple: immutable, and made several times faster than a frozen dataclass (a month of three
    tills is hundreds of thousands of records).
    """

    terminal: str
    merchant: str
    id: int
    type: str                  # sale, void, refund, completion, completion_void, preauth, balance, ...
    state: str                 # the journal's states (approved, voided, reversed, reversal_due, ...)
    amount: int                # fen, magnitude
    stan: str
    batch: str
    rrn: str | None
    auth_code: str | None
    masked_pan: str | None
    scheme: str | None
    wallet: str | None
    entry_mode: str | None
    created_at: datetime       # UTC
    original_stan: str | None
    original_rrn: str | None

    def as_json(self) -> dict[str, Any]:
        out = self._asdict()
        out["created_at"] = self.created_at.isoformat()
        return out


#: the journal columns a record is made of, in `TerminalRecord` order (after terminal and merchant)
COLUMNS = TerminalRecord._fields[2:]


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)   # Python 3.11 reads the journal's trailing "Z"
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@functools.lru_cache(maxsize=4096)
def _check_masked(masked: str) -> None:
    """`check_masked_pan`, once per distinct value (a journal repeats its regular customers' cards)."""
    check_masked_pan(masked)


def records_from_rows(rows: Iterable[Sequence[Any]], terminal: str, merchant: str) -> list[TerminalRecord]:
    """Rows of `COLUMNS` (tuples from `Journal.rows_since`, or made from an export's objects) as records of
    `terminal`.

    A card number that is not masked is refused (`ReconcileError`) and not repeated.
    """
    out: list[TerminalRecord] = []
    append = out.append
    for (id_, kind, state, amount, stan, batch, rrn, auth_code, masked, scheme, wallet, entry_mode, created_at,
         original_stan, original_rrn) in rows:
        if masked is not None:
            try:
                _check_masked(masked)
            except UnmaskedPanError:
                raise ReconcileError(f"terminal {terminal}, trace {stan}: the card number is not "
                                     f"masked; the record is refused and not shown") from None
        append(TerminalRecord(terminal, merchant, int(id_), str(kind), str(state), int(amount), str(stan),
                              str(batch), rrn, auth_code, masked, scheme, wallet, entry_mode, _moment(str(created_at)),
                              original_stan, original_rrn))
    return out


def journal_records(journal: Journal, since: str, terminal: str, merchant: str) -> list[TerminalRecord]:
    """The records of `journal` created at or after `since` (UTC, the journal's `created_at` format)."""
    return records_from_rows(journal.rows_since(since, COLUMNS), terminal, merchant)


def export_records(records: Iterable[TerminalRecord], terminal: str, merchant: str) -> bytes:
    """The export file's bytes (see the module docstring)."""
    body = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "terminal": terminal, "merchant": merchant,
            "records": [r.as_json() for r in records]}
    return (json.dumps(body, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


#: an export object's `COLUMNS`, as a tuple (KeyError when one is missing)
_PICK = operator.itemgetter(*COLUMNS)


def load_export(path: Path, merchant: str) -> list[TerminalRecord]:
    """Records of an exported journal; refused unless it is an export of one of `merchant`'s terminals."""
    try:
        body = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ReconcileError(f"{path}: no such journal export") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ReconcileError(f"{path}: not a journal export ({e.__class__.__name__})") from None
    if not isinstance(body, dict) or body.get("format") != EXPORT_FORMAT:
        raise ReconcileError(f"{path}: not a journal export (made by `pos reconcile export`)")
    if body.get("version") != EXPORT_VERSION:
        raise ReconcileError(f"{path}: journal export version {body.get('version')} is not supported "
                             f"(this pos reads version {EXPORT_VERSION})")
    if body.get("merchant") != merchant:
        raise ReconcileError(f"{path}: the journal of terminal {body.get('terminal')} belongs to merchant "
                             f"{body.get('merchant')}, not {merchant}")
    terminal = str(body.get("terminal", ""))
    rows = body.get("records")
    try:
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise TypeError
        picked = [_PICK(r) for r in rows]
    except (KeyError, TypeError):
        raise ReconcileError(f"{path}: the export's records are incomplete") from None
    try:
        return records_from_rows(picked, terminal, merchant)
    except (KeyError, TypeError, ValueError) as e:
        raise ReconcileError(f"{path}: a record of the export is malformed ({e})") from None
