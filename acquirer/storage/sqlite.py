"""The acquirer's SQLite database (the embedded default): opening it durably, its migrations.

Why this shape: the host is one process with one writer connection (see
`commit.GroupCommit`), so SQLite in WAL mode is enough and readers (the CLI,
tests, clearing) never block it. `synchronous` comes from the configuration
and is NORMAL or stricter: with WAL, NORMAL survives a crash of the process
(a committed transaction is in the WAL file before the host replies), FULL
and EXTRA also survive a power cut.

The connection runs in autocommit mode (`isolation_level=None`): the host
issues BEGIN / SAVEPOINT / COMMIT itself, because Python's implicit
transactions would commit or begin at the wrong moments for group commit.

Migrations: the steps of `acquirer.storage.migrations` (the one list both
backends apply) run through `sqlite_utils.migrations.Migrations`, the kit's one
migration mechanism for SQLite, each in its own transaction, recorded in
`_sqlite_migrations` (set `acquirer`). A database with a step this code does not
know is refused. A database made by the runner used before (versions recorded in
`schema_migrations`) is adopted: its versions are recorded as applied, its old
record dropped, and it is migrated on from there. Invariants live in the schema
where SQLite can hold them:

- `accounts.balance` may not go negative unless the account allows it
  (cardholder and hold accounts do not) -- the ledger checks first and the
  CHECK constraint is the backstop.
- `transactions` has UNIQUE (tid, mid, batch, stan, local_date): the duplicate
  rule (94) is the index, not a read-then-write race; UNIQUE rrn.
- No column holds a full PAN, track 2, PIN or PIN block: cards are a keyed
  token plus the masked PAN (`tokens`).

Foreign keys are declared, and `PRAGMA foreign_key_check` over the whole
database is part of the tests' ledger check, but the host's writer connection
does not enforce them statement by statement: that cost about a tenth of an
authorization (measured), and the code cannot break them -- a posting names
only accounts its UPDATE just found (else `KeyError`), and a request's
postings and its record are written in one unit that rolls back as a whole.
Pass `enforce_foreign_keys=True` for tools and migrations that want SQLite to check.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from acquirer.storage.migrations import MIGRATIONS, Migration, MigrationError

__all__ = ["ACQUIRER_MIGRATIONS", "Checkpointer", "migrate", "open_database", "schema_version"]

log = logging.getLogger("acquirer.storage.sqlite")


def open_database(path: str | Path, synchronous: str = "NORMAL", *,
                  auto_checkpoint: bool = True, enforce_foreign_keys: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database in WAL mode.

    `path` ":memory:" gives a private in-memory database (tests of pure logic).
    `auto_checkpoint=False` leaves WAL checkpoints to a `Checkpointer`: the host's
    event loop must not stall while SQLite copies the WAL into the database
    file and syncs it (that stall was the benchmark's p99).
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={_level(synchronous)}")
    conn.execute(f"PRAGMA foreign_keys={'ON' if enforce_foreign_keys else 'OFF'}")
    conn.execute("PRAGMA busy_timeout=5000")
    if not auto_checkpoint:
        conn.execute("PRAGMA wal_autocheckpoint=0")
    migrate(db)
    return db


class Checkpointer:
    """Checkpoints the WAL from a thread of its own, every `interval` seconds.

    PASSIVE checkpoints never block the writer; SQLite releases the GIL while it
    copies and syncs, so the host keeps answering meanwhile. After a complete
    checkpoint the writer's next transaction starts the WAL file over, so it
    stays small.
    """

    def __init__(self, path: str | Path, interval: float = 0.5) -> None:
        self.path = str(path)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        try:
            while not self._stop.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as e:   # e.g. busy: the next round tries again
                    log.warning("WAL checkpoint skipped: %s", e)
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()


def _level(synchronous: str) -> str:
    level = synchronous.upper()
    if level not in ("NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"synchronous must be NORMAL, FULL or EXTRA with WAL, got {synchronous!r}")
    return level


#: the acquirer's migration set: one sqlite-utils migration per step of MIGRATIONS
ACQUIRER_MIGRATIONS = Migrations("acquirer")


def _register(step: Migration) -> None:
    @ACQUIRER_MIGRATIONS(name=step.name)
    def apply(db: sqlite_utils.Database) -> None:   # inside the transaction sqlite-utils opens
        for statement in _statements(step.script):
            db.execute(statement)


for _step in MIGRATIONS:
    _register(_step)

_VERSIONS = {step.name: step.version for step in MIGRATIONS}

#: the record of the runner used before sqlite-utils' (version, description, applied_at)
_OLD_RECORD = "schema_migrations"


def schema_version(db: sqlite_utils.Database) -> int:
    """The highest migration applied (0 for a new database)."""
    applied = [_VERSIONS.get(m.name) for m in ACQUIRER_MIGRATIONS.applied(db)]
    if None in applied:
        unknown = sorted(m.name for m in ACQUIRER_MIGRATIONS.applied(db) if m.name not in _VERSIONS)
        raise MigrationError(f"database schema has migrations {', '.join(unknown)}, newer than this code "
                             f"({MIGRATIONS[-1].version})")
    return max((v for v in applied if v is not None), default=0)


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations this database lacks; returns the resulting version."""
    _adopt_old_record(db)
    schema_version(db)   # refuses a database newer than the code
    enforced = db.execute("PRAGMA foreign_keys").fetchone()[0]
    db.execute("PRAGMA foreign_keys=OFF")   # a table rebuild drops a table others refer to
    try:
        ACQUIRER_MIGRATIONS.apply(db)
    finally:
        db.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
    return schema_version(db)


def _adopt_old_record(db: sqlite_utils.Database) -> None:
    """A database the previous runner migrated: record its versions in sqlite-utils' record
    and drop the old one, in one transaction (an older host then fails at start instead of
    running on a schema it does not know)."""
    if _OLD_RECORD not in db.table_names():
        return
    versions = [int(v) for (v,) in db.execute(f"SELECT version FROM {_OLD_RECORD} ORDER BY version")]
    newer = [v for v in versions if v > MIGRATIONS[-1].version]
    if newer:
        raise MigrationError(f"database schema version {max(newer)} is newer than this code "
                             f"({MIGRATIONS[-1].version})")
    ACQUIRER_MIGRATIONS.ensure_migrations_table(db)
    applied = {m.name for m in ACQUIRER_MIGRATIONS.applied(db)}
    names = {step.version: step.name for step in MIGRATIONS}
    with db.atomic():
        for version in versions:
            if names[version] not in applied:
                db.table(ACQUIRER_MIGRATIONS.migrations_table).insert(
                    {"migration_set": ACQUIRER_MIGRATIONS.name, "name": names[version],
                     "applied_at": "adopted from schema_migrations"})
        db.execute(f"DROP TABLE {_OLD_RECORD}")


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (sqlite3.complete_statement)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise MigrationError(f"incomplete statement at the end of a migration: {current.strip()[:60]!r}")
    return statements
