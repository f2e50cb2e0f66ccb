"""What the registers asked for, kept durably: the daemon's exactly-once memory.

Every payment a register starts is written here -- keyed by the register
(SaleID) and its own transaction id (SaleTransactionID) -- and committed
before the engine may send anything. The engine's journal row is linked to it
as soon as the engine journals the request (its trace number), and the
outcome when it is known. So a register that repeats a request after a
timeout or a daemon restart gets the recorded answer, never a second charge,
and a row still `running` at start-up is a payment a crash interrupted
(resolved by the engine's reversal rules, see `pos.daemon.till`).

Its own SQLite file beside the journal (`<state dir>/ecr.db`), schema by
`sqlite_utils.migrations.Migrations`.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

ECR_DB = "ecr.db"
RUNNING, DONE = "running", "done"

migrations = Migrations("tillkit.daemon.ecr_log")


@migrations()
def create_requests(db: sqlite_utils.Database) -> None:
    requests = db.table("requests")
    requests.create({
        "id": int, "channel": str, "sale_id": str, "sale_txn_id": str, "service_id": str,
        "kind": str, "amount": int, "state": str, "stan": str, "batch": str, "txn_id": int,
        "outcome": str, "created_at": str, "updated_at": str,
    }, pk="id", not_null={"channel", "sale_id", "sale_txn_id", "kind", "amount", "state"})
    requests.create_index(["channel", "sale_id", "sale_txn_id"], unique=True)
    requests.create_index(["channel", "sale_id", "service_id"])


@dataclass(frozen=True)
class EcrRequest:
    id: int
    channel: str            # "nexo" or "concert"
    sale_id: str            # the register
    sale_txn_id: str        # the register's own id of the payment
    service_id: str | None  # the nexo message's ServiceID
    kind: str               # "sale", "refund", "void"
    amount: int             # fen
    state: str              # running, done
    stan: str | None
    batch: str | None
    txn_id: int | None      # the journal row
    outcome: dict[str, Any] | None
    created_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> EcrRequest:
        outcome = json.loads(row["outcome"]) if row.get("outcome") else None
        return cls(row["id"], row["channel"], row["sale_id"], row["sale_txn_id"], row.get("service_id"),
                   row["kind"], row["amount"], row["state"], row.get("stan"), row.get("batch"),
                   row.get("txn_id"), outcome, row["created_at"])


class Duplicate(Exception):
    """The register already started a payment with this id."""

    def __init__(self, existing: EcrRequest) -> None:
        super().__init__(f"payment {existing.sale_txn_id!r} of register {existing.sale_id!r} already exists")
        self.existing = existing


class EcrLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(sqlite3.connect(str(path), isolation_level=None, timeout=30))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")   # a row must survive a power cut before we send
        migrations.apply(self.db)
        self._requests = self.db.table("requests")

    def close(self) -> None:
        self.db.close()

    def find(self, channel: str, sale_id: str, sale_txn_id: str) -> EcrRequest | None:
        rows = list(self._requests.rows_where("channel = ? AND sale_id = ? AND sale_txn_id = ?",
                                                   [channel, sale_id, sale_txn_id]))
        return EcrRequest.from_row(rows[0]) if rows else None

    def find_by_service(self, channel: str, sale_id: str, service_id: str) -> EcrRequest | None:
        rows = list(self._requests.rows_where("channel = ? AND sale_id = ? AND service_id = ?",
                                                   [channel, sale_id, service_id], order_by="id desc", limit=1))
        return EcrRequest.from_row(rows[0]) if rows else None

    def last(self, channel: str | None = None) -> EcrRequest | None:
        where, args = ("channel = ?", [channel]) if channel else (None, [])
        rows = list(self._requests.rows_where(where, args, order_by="id desc", limit=1))
        return EcrRequest.from_row(rows[0]) if rows else None

    def get(self, request_id: int) -> EcrRequest:
        return EcrRequest.from_row(self._requests.get(request_id))

    def running(self) -> list[EcrRequest]:
        return [EcrRequest.from_row(r) for r in self._requests.rows_where("state = ?", [RUNNING])]

    def all(self) -> list[EcrRequest]:
        return [EcrRequest.from_row(r) for r in self._requests.rows_where(order_by="id")]

    def begin(self, *, channel: str, sale_id: str, sale_txn_id: str, service_id: str | None,
              kind: str, amount: int) -> EcrRequest:
        """Record a new payment (committed on return); `Duplicate` if the register already sent this id."""
        now = _now()
        try:
            row_id = self._requests.insert({
                "channel": channel, "sale_id": sale_id, "sale_txn_id": sale_txn_id, "service_id": service_id,
                "kind": kind, "amount": amount, "state": RUNNING, "created_at": now, "updated_at": now,
            }).last_pk
        except sqlite3.IntegrityError:
            existing = self.find(channel, sale_id, sale_txn_id)
            assert existing is not None
            raise Duplicate(existing) from None
        assert row_id is not None
        return self.get(int(row_id))

    def link(self, request_id: int, stan: str, batch: str) -> None:
        """The engine journalled the request under this trace number (before it sends)."""
        self._requests.update(request_id, {"stan": stan, "batch": batch, "updated_at": _now()})

    def finish(self, request_id: int, outcome: dict[str, Any], txn_id: int | None) -> EcrRequest:
        self._requests.update(request_id, {"state": DONE, "outcome": json.dumps(outcome),
                                                "txn_id": txn_id, "updated_at": _now()})
        return self.get(request_id)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
