"""The acquirer's storage: every SQL statement of the acquirer lives in this package.

- `migrations`: the schema, one numbered list for both backends;
- `sqlite`: the embedded default (one process, WAL, group commit);
- `postgres`: PostgreSQL through psycopg 3 (several host processes, several hosts);
- `store`: the interface the host's modules use (`Store`), and its two implementations.

See docs/storage.md.
"""
from __future__ import annotations

from pathlib import Path

from acquirer.storage.migrations import MIGRATIONS, MigrationError
from acquirer.storage.sqlite import Checkpointer, migrate, open_database, schema_version
from acquirer.storage.store import NegativeBalance, SQLiteStore, StorageUnavailable, Store

__all__ = ["MIGRATIONS", "Checkpointer", "MigrationError", "NegativeBalance", "SQLiteStore", "StorageUnavailable",
           "Store", "is_postgres_url", "migrate", "migrate_target", "open_database", "open_store", "schema_version"]


def is_postgres_url(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def open_store(target: str | Path, synchronous: str = "NORMAL", *, auto_checkpoint: bool = True) -> Store:
    """The store for a `[database] url` / `--db`: a PostgreSQL URL, else a SQLite file path."""
    if is_postgres_url(target):
        from acquirer.storage.postgres import PostgresStore   # psycopg only when asked for
        return PostgresStore(str(target))
    return SQLiteStore(open_database(target, synchronous, auto_checkpoint=auto_checkpoint))


def migrate_target(target: str | Path) -> int:
    """Bring the database at `target` to this code's schema (`acquirer migrate`); returns its version."""
    if is_postgres_url(target):
        from acquirer.storage.postgres import migrate_postgres
        return migrate_postgres(str(target))
    db = open_database(target)   # opening migrates
    version = schema_version(db)
    db.conn.close()
    return version
