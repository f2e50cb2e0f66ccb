"""The acquirer's SQLite database: opening it durably, and its numbered migrations.

Why this shape: the host is one process with one writer connection (see
`commit.GroupCommit`), so SQLite in WAL mode is enough and readers (the CLI,
tests, clearing) never block it. `synchronous` comes from the configuration
and is NORMAL or stricter: with WAL, NORMAL survives a crash of the process
(a committed transaction is in the WAL file before the host replies), FULL
and EXTRA also survive a power cut.

The connection runs in autocommit mode (`isolation_level=None`): the host
issues BEGIN / SAVEPOINT / COMMIT itself, because Python's implicit
transactions would commit or begin at the wrong moments for group commit.

Migrations are numbered SQL scripts applied in order, each in its own
transaction, and recorded in `schema_migrations`; a database newer than the
code is refused. Invariants live in the schema where SQLite can hold them:

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

__all__ = ["MIGRATIONS", "Checkpointer", "MigrationError", "migrate", "open_database", "schema_version"]

log = logging.getLogger("acquirer.storage")


class MigrationError(RuntimeError):
    """The database cannot be brought to the schema this code expects."""


MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "ledger, cards, terminals, batches, transactions, reversals", """
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,                 -- card:<token>, hold:<token>, merchant:<mid>, issuer:<name>, fee:<name>
    kind TEXT NOT NULL CHECK (kind IN ('cardholder', 'hold', 'merchant', 'issuer', 'fee')),
    balance INTEGER NOT NULL DEFAULT 0,  -- fen; the sum of the account's legs
    may_go_negative INTEGER NOT NULL CHECK (may_go_negative IN (0, 1)),
    CHECK (may_go_negative = 1 OR balance >= 0)
) WITHOUT ROWID;

CREATE TABLE postings (
    id INTEGER PRIMARY KEY,
    txn_id INTEGER REFERENCES transactions(id) DEFERRABLE INITIALLY DEFERRED,  -- NULL: opening balance
    kind TEXT NOT NULL,                  -- open, sale, void, refund, preauth, ..., reversal
    created_at TEXT NOT NULL             -- UTC ISO 8601
);
CREATE INDEX postings_txn ON postings (txn_id);

CREATE TABLE legs (
    posting_id INTEGER NOT NULL REFERENCES postings(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    amount INTEGER NOT NULL,             -- fen, added to the account's balance; a posting's legs sum to 0
    PRIMARY KEY (posting_id, account_id) -- one leg per account: the ledger nets them
) WITHOUT ROWID;

CREATE TABLE cards (
    token TEXT PRIMARY KEY,              -- keyed HMAC of the PAN (tokens.pan_token)
    masked_pan TEXT NOT NULL,
    name TEXT NOT NULL,
    issuer TEXT NOT NULL,
    scheme TEXT NOT NULL,
    product TEXT NOT NULL,
    last_atc INTEGER NOT NULL DEFAULT -1,   -- highest ATC the issuer accepted a cryptogram with
    pin_failures INTEGER NOT NULL DEFAULT 0,
    pin_failure_date TEXT                -- local date of the last wrong PIN (tries reset daily)
) WITHOUT ROWID;

CREATE TABLE terminal_state (
    tid TEXT NOT NULL,
    mid TEXT NOT NULL,
    batch TEXT NOT NULL,                 -- the host's open batch for this terminal (60.2)
    working_keys BLOB,                   -- field 62 of the last sign-on: keys under the TMK, never clear
    signed_on_at REAL,                   -- epoch seconds; NULL after sign-off
    PRIMARY KEY (tid, mid)
);

CREATE TABLE batches (
    tid TEXT NOT NULL,
    mid TEXT NOT NULL,
    batch TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'settled')),
    terminal_totals TEXT,                -- field 48 of the 0500, as received
    host_totals TEXT,                    -- field 48 the host answered
    balanced INTEGER,                    -- 1 when both sides matched
    uploaded INTEGER NOT NULL DEFAULT 0, -- 0320 batch-upload records received
    upload_ended_count INTEGER,          -- count the batch-upload end announced
    settled_at TEXT,
    PRIMARY KEY (tid, mid, batch)
);

CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    txn_type TEXT NOT NULL,              -- protocol.transactions.TxnType value
    tid TEXT NOT NULL,
    mid TEXT NOT NULL,
    batch TEXT NOT NULL,
    stan TEXT NOT NULL,
    local_date TEXT NOT NULL,            -- Asia/Shanghai date the host received it (YYYY-MM-DD)
    amount INTEGER NOT NULL,             -- fen
    currency TEXT NOT NULL,
    card_token TEXT,
    masked_pan TEXT,
    scheme TEXT,
    issuer TEXT,
    entry_mode TEXT,
    status TEXT NOT NULL CHECK (status IN
        ('approved', 'declined', 'voided', 'reversed', 'completed', 'tombstone')),
    response_code TEXT,
    rrn TEXT UNIQUE,
    auth_code TEXT,
    original_id INTEGER REFERENCES transactions(id),
    refunded INTEGER NOT NULL DEFAULT 0, -- fen refunded against this transaction
    created_at TEXT NOT NULL,
    -- the duplicate rule; its prefixes also serve the look-ups by STAN and by batch
    UNIQUE (tid, mid, batch, stan, local_date)
);

CREATE TABLE reversals (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    mid TEXT NOT NULL,
    batch TEXT NOT NULL,
    stan TEXT NOT NULL,
    txn_type TEXT NOT NULL,
    amount INTEGER NOT NULL,
    reason TEXT,                         -- field 39 of the 0400
    original_id INTEGER REFERENCES transactions(id),
    outcome TEXT NOT NULL,               -- see processing.ReversalOutcome
    created_at TEXT NOT NULL
);
CREATE INDEX reversals_key ON reversals (tid, mid, batch, stan);

CREATE TABLE batch_uploads (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    mid TEXT NOT NULL,
    batch TEXT NOT NULL,
    stan TEXT NOT NULL,                  -- the uploaded transaction's STAN
    txn_type TEXT NOT NULL,              -- sale, completion or refund
    amount INTEGER NOT NULL,
    masked_pan TEXT,
    matched_id INTEGER REFERENCES transactions(id),  -- the host's record of it, if any
    created_at TEXT NOT NULL
);
"""),
    (2, "wallet channel: pending transactions, wallet orders, used payment codes", """
-- a wallet payment waits for the customer ('pending') until paid, failed or closed: the status
-- CHECK is part of the table, so the table is rebuilt (SQLite's documented 12-step way, foreign
-- keys off: `migrate` turns them off around the migrations)
CREATE TABLE transactions_v2 (
    id INTEGER PRIMARY KEY,
    txn_type TEXT NOT NULL,              -- protocol.transactions.TxnType value
    tid TEXT NOT NULL,
    mid TEXT NOT NULL,
    batch TEXT NOT NULL,
    stan TEXT NOT NULL,
    local_date TEXT NOT NULL,            -- Asia/Shanghai date the host received it (YYYY-MM-DD)
    amount INTEGER NOT NULL,             -- fen
    currency TEXT NOT NULL,
    card_token TEXT,
    masked_pan TEXT,
    scheme TEXT,                         -- card scheme, or the wallet (alipay, wechat, unionpay)
    issuer TEXT,
    entry_mode TEXT,
    status TEXT NOT NULL CHECK (status IN
        ('approved', 'declined', 'voided', 'reversed', 'completed', 'tombstone', 'pending')),
    response_code TEXT,
    rrn TEXT UNIQUE,
    auth_code TEXT,
    original_id INTEGER REFERENCES transactions(id),
    refunded INTEGER NOT NULL DEFAULT 0, -- fen refunded against this transaction
    created_at TEXT NOT NULL,
    UNIQUE (tid, mid, batch, stan, local_date)
);
INSERT INTO transactions_v2 SELECT * FROM transactions;
DROP TABLE transactions;
ALTER TABLE transactions_v2 RENAME TO transactions;

CREATE TABLE wallet_orders (
    txn_id INTEGER PRIMARY KEY REFERENCES transactions(id),  -- the order's record (wallet_sale, mpm_sale)
    channel TEXT NOT NULL CHECK (channel IN ('code', 'mpm')),  -- customer's code / merchant's code
    wallet TEXT,                         -- alipay, wechat, unionpay (an MPM order: once paid)
    account INTEGER,                     -- the account's number in its wallet (an MPM order: once paid)
    masked_code TEXT,                    -- the payment code, first 4 and last 4 digits
    bill TEXT,                           -- MPM: the bill number the terminal put in its code (62.01)
    state TEXT NOT NULL CHECK (state IN ('user_paying', 'awaiting_payment', 'paid', 'failed', 'closed')),
    confirm_at REAL,                     -- Unix time the simulated customer confirms; NULL: never
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX wallet_orders_bill ON wallet_orders (bill) WHERE bill IS NOT NULL;

CREATE TABLE wallet_codes (
    digest TEXT PRIMARY KEY,             -- keyed HMAC of the code (tokens.pan_token): each code works once
    wallet TEXT NOT NULL,
    account INTEGER NOT NULL,
    txn_id INTEGER REFERENCES transactions(id),  -- the order it paid (or tried to)
    used_at TEXT NOT NULL
) WITHOUT ROWID;
"""),
    (3, "trace-number reuse and sign-on keys not yet used (issue 12)", """
-- keyed HMAC of a request's field 55 (tokens.icc_fingerprint): a resent request has the same,
-- another card transaction under the same STAN another (processing: duplicates and reuses)
ALTER TABLE transactions ADD COLUMN fingerprint TEXT;

-- requests refused because their STAN was taken by another transaction: a reversal for one of
-- them must not undo that other transaction
CREATE TABLE trace_reuses (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    mid TEXT NOT NULL,
    batch TEXT NOT NULL,
    stan TEXT NOT NULL,
    local_date TEXT NOT NULL,
    txn_type TEXT NOT NULL,
    amount INTEGER NOT NULL,
    card_token TEXT,
    original_id INTEGER REFERENCES transactions(id),   -- the transaction holding the STAN
    created_at TEXT NOT NULL
);
CREATE INDEX trace_reuses_key ON trace_reuses (tid, mid, batch, stan);

-- sign-ons whose keys no request has used yet: the working keys in terminal_state stay valid
-- until a request is MACed with one of these (sessions)
CREATE TABLE pending_signons (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    mid TEXT NOT NULL,
    working_keys BLOB NOT NULL,          -- field 62 as sent: keys under the TMK, never in clear
    signed_on_at REAL NOT NULL
);
CREATE INDEX pending_signons_terminal ON pending_signons (tid, mid);
"""),
)


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


def schema_version(db: sqlite_utils.Database) -> int:
    """The highest migration applied (0 for a new database)."""
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations this database lacks; returns the resulting version."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
               "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)")
    current = schema_version(db)
    latest = MIGRATIONS[-1][0]
    if current > latest:
        raise MigrationError(f"database schema version {current} is newer than this code ({latest})")
    enforced = db.execute("PRAGMA foreign_keys").fetchone()[0]
    db.execute("PRAGMA foreign_keys=OFF")   # a table rebuild drops a table others refer to
    try:
        _apply(db, current)
    finally:
        db.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
    return latest


def _apply(db: sqlite_utils.Database, current: int) -> None:
    for version, description, script in MIGRATIONS:
        if version <= current:
            continue
        # executescript would COMMIT on its own; run the statements inside one transaction
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                db.execute(statement)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))",
                       [version, description])
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


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
