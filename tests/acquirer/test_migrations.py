"""The acquirer's SQLite schema through sqlite-utils' migrations, and databases made before.

A database the previous runner made (its versions in `schema_migrations`) must
open with every row it held, be recorded in sqlite-utils' `_sqlite_migrations`,
and take the steps it lacks; one that has a step this code does not know is
refused, by `acquirer serve`'s opening and by `acquirer migrate`.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from acquirer.storage import MIGRATIONS, MigrationError, SQLiteStore, open_database, schema_version
from acquirer.storage.sqlite import ACQUIRER_MIGRATIONS


def _old_runner_database(path: Path, version: int) -> None:
    """What the previous runner left: the steps up to `version` applied as it applied them
    (each script statement by statement), recorded in `schema_migrations`."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)")
    for step in MIGRATIONS[:version]:
        conn.execute("BEGIN IMMEDIATE")
        _run_script(conn, step.script)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (step.version, step.description))
        conn.execute("COMMIT")
    conn.close()


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            conn.execute(current)
            current = ""


def _fill(path: Path) -> None:
    """Rows in the tables a host writes: an account pair, a sale with its posting, a sign-on."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO accounts VALUES ('card:t', 'cardholder', 700, 0), ('merchant:m', 'merchant', 300, 1)")
    conn.execute("INSERT INTO transactions (id, txn_type, tid, mid, batch, stan, local_date, amount, currency, "
                 "status, rrn, created_at, fingerprint) VALUES (41, 'sale', 't', 'm', '000001', '000007', "
                 "'2026-03-14', 300, '156', 'approved', '000000000041', 'then', 'f')")
    conn.execute("INSERT INTO postings (id, txn_id, kind, created_at) VALUES (5, 41, 'sale', 'then')")
    conn.execute("INSERT INTO legs VALUES (5, 'card:t', -300), (5, 'merchant:m', 300)")
    conn.execute("INSERT INTO terminal_state VALUES ('t', 'm', '000001', x'0102', 1.5)")
    conn.close()


def test_a_database_of_the_old_runner_at_its_latest_version_opens_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_runner_database(path, len(MIGRATIONS))
    _fill(path)

    db = open_database(path, enforce_foreign_keys=True)
    assert schema_version(db) == MIGRATIONS[-1].version
    assert [m.name for m in ACQUIRER_MIGRATIONS.applied(db)] == [step.name for step in MIGRATIONS]
    assert ACQUIRER_MIGRATIONS.pending(db) == []
    assert "schema_migrations" not in db.table_names()   # the old record is gone with its adoption
    assert db.execute("SELECT id, status, rrn, fingerprint FROM transactions").fetchall() == \
        [(41, "approved", "000000000041", "f")]
    assert db.execute("SELECT account_id, amount FROM legs ORDER BY account_id").fetchall() == \
        [("card:t", -300), ("merchant:m", 300)]
    assert db.execute("SELECT batch, working_keys FROM terminal_state").fetchall() == [("000001", b"\x01\x02")]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    store = SQLiteStore(db)   # the counters go on from the rows kept
    assert store.new_txn_id() == 42 and store.next_rrn() == "000000000042"
    assert store.balance("card:t") == 700
    db.close()
    reopened = open_database(path)   # and a second opening changes nothing
    assert [m.name for m in ACQUIRER_MIGRATIONS.applied(reopened)] == [step.name for step in MIGRATIONS]
    reopened.close()


@pytest.mark.parametrize("version", range(1, len(MIGRATIONS)))
def test_an_older_database_of_the_old_runner_takes_the_steps_it_lacks(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    _old_runner_database(path, version)
    db = open_database(path)
    assert schema_version(db) == MIGRATIONS[-1].version
    applied = ACQUIRER_MIGRATIONS.applied(db)
    assert [m.name for m in applied] == [step.name for step in MIGRATIONS]
    assert all(m.applied_at == "adopted from schema_migrations" for m in applied[:version])
    assert all(m.applied_at != "adopted from schema_migrations" for m in applied[version:])
    assert {"wallet_orders", "trace_reuses", "clearing_days"} <= set(db.table_names())
    db.close()


def test_an_old_runner_database_newer_than_the_code_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    _old_runner_database(path, len(MIGRATIONS))
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 'now')")
    with pytest.raises(MigrationError, match="999 is newer than this code"):
        open_database(path)
    with sqlite3.connect(path) as conn:   # nothing adopted, nothing dropped
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone() == (len(MIGRATIONS) + 1,)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchone() is None


def test_acquirer_migrate_creates_and_refuses_a_newer_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    done = subprocess.run([sys.executable, "-m", "acquirer", "migrate", "--db", str(path)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"database at schema version {MIGRATIONS[-1].version}"
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'acquirer' "
                                           "ORDER BY id")] == [step.name for step in MIGRATIONS]
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('acquirer', '0999', 'now')")
    refused = subprocess.run([sys.executable, "-m", "acquirer", "migrate", "--db", str(path)],
                             capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "0999, newer than this code" in refused.stderr
