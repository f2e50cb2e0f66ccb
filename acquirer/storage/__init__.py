"""The acquirer's storage: every SQL statement of the acquirer lives in this package.

- `migrations`: the schema, one numbered list for both backends;
- `sqlite`: the embedded default (one process, WAL, group commit);
- `postgres`: PostgreSQL through psycopg 3 (several host processes, several hosts);
- `store`: the interface the host's modules use (`Store`), and its two implementations.

See docs/storage.md.
"""
from __future__ import annotations

from acquirer.storage.migrations import MIGRATIONS, MigrationError
from acquirer.storage.sqlite import Checkpointer, migrate, open_database, schema_version

__all__ = ["MIGRATIONS", "Checkpointer", "MigrationError", "migrate", "open_database", "schema_version"]
