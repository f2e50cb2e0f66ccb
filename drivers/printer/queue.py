"""A persisted print queue: a receipt that could not print is never lost.

Every job is written to SQLite (sqlite-utils, WAL, synchronous=FULL) BEFORE
the printer is touched. Then, oldest first, each pending job is printed:
status check (DLE EOT) before the job, the bytes, status check after it. Only
a job whose after-check says the printer is still fine is marked printed; a
job the printer refused or may have lost (out of paper, cover opened, offline
or unreachable during the job) stays pending and prints again, whole, at the
next `submit` or `retry_pending` once the printer is back. So each receipt
comes out complete exactly once. A job found "sending" at start-up (the
process died mid-job) is pending again: a receipt printed twice beats one
never printed.

What is stored: the rendered job bytes (and the reprint rendition, which
carries the REPRINT mark) and a reference such as the trace number. Receipts
are built from a model that refuses full PANs, so no cardholder data beyond
the masked PAN can be in here. Limit: a printer reports status for the data it
has *received*; one with a large buffer that runs out of paper while still
printing buffered lines after answering OK cannot be detected by DLE EOT.
"""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import Literal

import sqlite_utils
from sqlite_utils.migrations import Migrations

from drivers.printer.connection import PrinterConnection
from drivers.printer.errors import PrinterError

__all__ = ["JobRecord", "PrintJob", "PrintQueue", "PrintResult"]

JobState = Literal["pending", "sending", "printed"]

#: the print queue's schema, one migration set (sqlite-utils' runner, as every SQLite database of the kit)
QUEUE_MIGRATIONS = Migrations("drivers.printer.queue")
#: the statements numbered in `PRAGMA user_version` before the migration set existed
_USER_VERSION_STEPS = 3


@QUEUE_MIGRATIONS(name="0001_print_jobs")
def _create_print_jobs(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE print_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        reference TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('original', 'reprint')),
        reprint_of INTEGER REFERENCES print_jobs(id),
        state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'printed')),
        data BLOB NOT NULL,
        reprint_data BLOB,
        created_at TEXT NOT NULL,
        printed_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    )""")
    db.execute("CREATE INDEX print_jobs_state ON print_jobs(state, id)")
    db.execute("CREATE INDEX print_jobs_reference ON print_jobs(reference, id)")


@dataclass(frozen=True)
class PrintJob:
    """What to print: rendered ESC/POS bytes, and what a reprint of it should print."""

    data: bytes
    reference: str = ""                  # e.g. the trace number "000123", or "settlement 000001"
    reprint_data: bytes | None = None    # the same receipt rendered with its REPRINT mark

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes) or not self.data:
            raise ValueError("PrintJob.data must be non-empty bytes")


@dataclass(frozen=True)
class JobRecord:
    id: int
    reference: str
    kind: Literal["original", "reprint"]
    reprint_of: int | None
    state: JobState
    data: bytes
    reprint_data: bytes | None
    created_at: str                      # UTC, ISO 8601
    printed_at: str | None
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class PrintResult:
    job_id: int
    printed: bool
    error: PrinterError | None = None    # why it has not printed yet (it stays queued)
    paper_near_end: bool = False         # printed, but the roll is running out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class PrintQueue:
    """Jobs for one printer, stored at `path` (the caller picks it, e.g. var/print-queue.db)."""

    def __init__(self, path: str | Path, connection: PrinterConnection) -> None:
        self.connection = connection
        self._lock = threading.RLock()
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db = sqlite_utils.Database(conn)
        self._db.enable_wal()
        self._db.execute("PRAGMA synchronous=FULL")
        self._migrate()
        with self._lock:
            self._db.execute(
                "UPDATE print_jobs SET state = 'pending', "
                "last_error = 'interrupted: the program stopped while sending this job' WHERE state = 'sending'")

    def _migrate(self) -> None:
        """Apply pending migrations; a queue made before the migration set (user_version 3) is adopted as is."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version >= _USER_VERSION_STEPS and not QUEUE_MIGRATIONS.applied(self._db):
            QUEUE_MIGRATIONS.ensure_migrations_table(self._db)
            self._db.table("_sqlite_migrations").insert({"migration_set": QUEUE_MIGRATIONS.name, "name": "0001_print_jobs",
                                                   "applied_at": _now()})
        QUEUE_MIGRATIONS.apply(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- reading ---------------------------------------------------------------
    def get(self, job_id: int) -> JobRecord:
        with self._lock:
            rows = list(self._db.query("SELECT * FROM print_jobs WHERE id = ?", [job_id]))
        if not rows:
            raise KeyError(f"no print job {job_id}")
        return JobRecord(**rows[0])

    def pending(self) -> list[JobRecord]:
        with self._lock:
            return [JobRecord(**r) for r in
                    self._db.query("SELECT * FROM print_jobs WHERE state != 'printed' ORDER BY id")]

    def last(self, reference: str | None = None) -> JobRecord | None:
        """The latest original job (not a reprint), optionally the latest with `reference`."""
        where, params = "kind = 'original'", []
        if reference is not None:
            where += " AND reference = ?"
            params.append(reference)
        with self._lock:
            rows = list(self._db.query(f"SELECT * FROM print_jobs WHERE {where} ORDER BY id DESC LIMIT 1", params))
        return JobRecord(**rows[0]) if rows else None

    # --- printing ------------------------------------------------------------------
    def _insert(self, job: PrintJob, kind: str, reprint_of: int | None) -> int:
        with self._db.conn:
            row = self._db.table("print_jobs").insert({
                "reference": job.reference, "kind": kind, "reprint_of": reprint_of, "state": "pending",
                "data": job.data, "reprint_data": job.reprint_data, "created_at": _now(), "attempts": 0,
            }).last_pk
        assert row is not None
        return int(row)

    def submit(self, job: PrintJob) -> PrintResult:
        """Store the job, then print everything pending up to it. Never raises for printer trouble."""
        with self._lock:
            job_id = self._insert(job, "original", None)
            return self._print_through(job_id)

    def enqueue(self, job: PrintJob) -> int:
        """Store the job only; the next `retry_pending` prints it (for a caller that answers before the paper)."""
        with self._lock:
            return self._insert(job, "original", None)

    def reprint(self, job_id: int) -> PrintResult:
        """Queue the job again (its REPRINT rendition when it has one) and print it."""
        with self._lock:
            original = self.get(job_id)
            again = PrintJob(original.reprint_data or original.data, original.reference)
            new_id = self._insert(again, "reprint", original.id)
            return self._print_through(new_id)

    def retry_pending(self) -> list[PrintResult]:
        """Print pending jobs oldest first, stopping at the first the printer cannot take."""
        with self._lock:
            results: list[PrintResult] = []
            for record in self.pending():
                results.append(self._attempt(record))
                if not results[-1].printed:
                    break
            return results

    def _print_through(self, job_id: int) -> PrintResult:
        results = self.retry_pending()
        for result in results:
            if result.job_id == job_id:
                return result
        # an older job could not print, so this one waits behind it for the same reason
        return PrintResult(job_id, False, results[-1].error if results else None)

    def _set(self, job_id: int, **values: object) -> None:
        with self._db.conn:
            self._db.table("print_jobs").update(job_id, values)

    def _attempt(self, record: JobRecord) -> PrintResult:
        self._set(record.id, state="sending", attempts=record.attempts + 1)
        try:
            near_end = self._send(record.data)
        except PrinterError as exc:
            self._set(record.id, state="pending", last_error=str(exc))
            return PrintResult(record.id, False, exc)
        except BaseException as exc:
            self._set(record.id, state="pending", last_error=f"unexpected: {exc!r}")
            raise
        self._set(record.id, state="printed", printed_at=_now(), last_error=None)
        return PrintResult(record.id, True, None, near_end)

    def _send(self, data: bytes) -> bool:
        """One job on the wire between two status checks; True when paper is near its end."""
        connection = self.connection
        with connection.open() as printer:
            before = connection.status(printer)
            if before is not None:
                before.check_ready(connection.name)
            connection.send(printer, data)
            after = connection.status(printer)
            if after is not None:
                try:
                    after.check_ready(connection.name)
                except PrinterError as exc:
                    raise type(exc)(f"{exc} (this receipt was interrupted and prints again in full)") from exc
            return after is not None and after.paper == "near_end"
