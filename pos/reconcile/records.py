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
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pos.reconcile.errors import ReconcileError
from receipts.model import UnmaskedPanError, check_masked_pan

__all__ = ["EXPORT_FORMAT", "TerminalRecord", "export_records", "load_export", "records_from_rows"]

EXPORT_FORMAT = "tillkit-journal"
EXPORT_VERSION = 1


@dataclass(frozen=True, slots=True)
class TerminalRecord:
    """One journal row of one terminal (display-safe: masked PAN only)."""

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
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        return out


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)   # Python 3.11 reads the journal's trailing "Z"
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@functools.lru_cache(maxsize=4096)
def _check_masked(masked: str) -> None:
    """`check_masked_pan`, once per distinct value (a journal repeats its regular customers' cards)."""
    check_masked_pan(masked)


def records_from_rows(rows: Iterable[Any], terminal: str, merchant: str) -> list[TerminalRecord]:
    """Journal rows (`pos` journal `Txn`s, or the dicts of an export) as records of `terminal`.

    A card number that is not masked is refused (`ReconcileError`) and not repeated.
    """
    out = []
    for row in rows:
        r: dict[str, Any] = row if isinstance(row, dict) else vars(row)
        masked = r.get("masked_pan")
        if masked is not None:
            try:
                _check_masked(masked)
            except UnmaskedPanError:
                raise ReconcileError(f"terminal {terminal}, trace {r.get('stan')}: the card number is not "
                                     f"masked; the record is refused and not shown") from None
        out.append(TerminalRecord(
            terminal=terminal, merchant=merchant, id=int(r["id"]), type=str(r["type"]), state=str(r["state"]),
            amount=int(r["amount"]), stan=str(r["stan"]), batch=str(r["batch"]), rrn=r.get("rrn"),
            auth_code=r.get("auth_code"), masked_pan=masked, scheme=r.get("scheme"), wallet=r.get("wallet"),
            entry_mode=r.get("entry_mode"), created_at=_moment(str(r["created_at"])),
            original_stan=r.get("original_stan"), original_rrn=r.get("original_rrn")))
    return out


def export_records(records: Iterable[TerminalRecord], terminal: str, merchant: str) -> bytes:
    """The export file's bytes (see the module docstring)."""
    body = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "terminal": terminal, "merchant": merchant,
            "records": [r.as_json() for r in records]}
    return (json.dumps(body, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


_NAMES = {f.name for f in fields(TerminalRecord)} - {"terminal", "merchant"}


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
    if not isinstance(rows, list) or not all(isinstance(r, dict) and _NAMES <= set(r) for r in rows):
        raise ReconcileError(f"{path}: the export's records are incomplete")
    try:
        return records_from_rows(rows, terminal, merchant)
    except (KeyError, TypeError, ValueError) as e:
        raise ReconcileError(f"{path}: a record of the export is malformed ({e})") from None
