"""The acquirer's schema: one list of migration steps, the source of truth for both backends.

Each step is a `Migration`: its version, what it does, and its script in the
SQL both databases share. Where PostgreSQL must say something differently the
step carries PostgreSQL's own text beside the shared one (`postgres`), and
what only PostgreSQL needs (`postgres_extra`); `acquirer.storage.postgres`
turns SQLite's storage classes into PostgreSQL's types (`postgres_script`).
Adding a migration means appending a step here: both backends then apply it.

How each backend applies the list:

- SQLite, like every SQLite database of the kit, through
  `sqlite_utils.migrations.Migrations` (`acquirer.storage.sqlite`), one
  migration per step, named by its version (`0001`, ...), recorded in
  `_sqlite_migrations`;
- PostgreSQL through `acquirer.storage.postgres.migrate_postgres`, with its
  own record (`schema_migrations`): sqlite-utils drives a SQLite connection
  only, and PostgreSQL also needs each step under an advisory lock so that
  host processes starting together do not race.

Both refuse a database that has a step this code does not know.
"""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["MIGRATIONS", "Migration", "MigrationError", "latest_version"]


class MigrationError(RuntimeError):
    """The database cannot be brought to the schema this code expects."""


#: migration 5 on PostgreSQL: a change of a terminal's session rows notifies channel
#: `terminal_sessions` with "tid mid" at commit (acquirer.storage.pg_listen); SQLite has one
#: host process, which changes its sessions itself
_SESSION_NOTICES = """
CREATE FUNCTION terminal_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('terminal_sessions', COALESCE(NEW.tid, OLD.tid) || ' ' || COALESCE(NEW.mid, OLD.mid)); RETURN NULL; END $$;
CREATE TRIGGER terminal_state_changed AFTER INSERT OR UPDATE OR DELETE ON terminal_state
    FOR EACH ROW EXECUTE FUNCTION terminal_session_changed();
CREATE TRIGGER pending_signons_changed AFTER INSERT OR UPDATE OR DELETE ON pending_signons
    FOR EACH ROW EXECUTE FUNCTION terminal_session_changed();
"""


class Migration(NamedTuple):
    """One step of the schema (see the module docstring)."""

    version: int
    description: str
    script: str                  # the SQL both databases share (SQLite runs it as written)
    postgres: str | None = None  # PostgreSQL's own text instead of `script`, where its dialect differs
    postgres_extra: str = ""     # what only PostgreSQL needs, run after the step's script

    @property
    def name(self) -> str:
        """The step's name in sqlite-utils' record: its version, never changed once released."""
        return f"{self.version:04d}"


#: migration 2 on SQLite: a wallet payment waits for the customer ('pending'); the status CHECK
#: is part of the table, so the table is rebuilt (SQLite's documented way, foreign keys off:
#: `acquirer.storage.sqlite.migrate` turns them off around the migrations)
_TRANSACTIONS_PENDING_REBUILT = """CREATE TABLE transactions_v2 (
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
"""

#: migration 2 on PostgreSQL: the same CHECK replaced in place (the tables that refer to
#: `transactions` keep their foreign keys)
_TRANSACTIONS_PENDING_IN_PLACE = """
ALTER TABLE transactions DROP CONSTRAINT transactions_status_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_status_check CHECK (status IN
    ('approved', 'declined', 'voided', 'reversed', 'completed', 'tombstone', 'pending'));
"""

_WALLET_TABLES = """
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
"""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "ledger, cards, terminals, batches, transactions, reversals", """
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
""",
              # several host processes issue RRNs: from a sequence (SQLite's one process counts itself)
              postgres_extra="CREATE SEQUENCE rrn_seq MINVALUE 1 MAXVALUE 999999999999 CYCLE;\n"),
    Migration(2, "wallet channel: pending transactions, wallet orders, used payment codes",
              _TRANSACTIONS_PENDING_REBUILT + _WALLET_TABLES,
              postgres=_TRANSACTIONS_PENDING_IN_PLACE + _WALLET_TABLES),
    Migration(3, "trace-number reuse and sign-on keys not yet used (issue 12)", """
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
    Migration(4, "clearing: cleared days, clearing lines, merchants' days, disputes", """
-- one row per cleared day, written in the same transaction as its lines and postings
CREATE TABLE clearing_days (
    clearing_date TEXT PRIMARY KEY,      -- YYYY-MM-DD (Asia/Shanghai business day)
    settlement_date TEXT NOT NULL,       -- the merchants' payout date (T+1 working day)
    lines INTEGER NOT NULL,
    checksums TEXT NOT NULL,             -- JSON: file name -> SHA-256 of the file before its trailer
    cleared_at TEXT NOT NULL             -- UTC ISO 8601
);

-- every event cleared, with its fees: the statements are made again from these rows
CREATE TABLE clearing_lines (
    source TEXT NOT NULL,                -- posting, chargeback, representment
    source_id INTEGER NOT NULL,          -- postings.id or disputes.id
    clearing_date TEXT NOT NULL,
    seq INTEGER NOT NULL,                -- order within the day (merchant, then time)
    txn_id INTEGER,                      -- the transaction the event belongs to
    code TEXT NOT NULL,                  -- SAL, VOD, RFD, CMP, CVD, WSL, MPM, RVS, CHB, REP
    late INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,           -- UTC ISO 8601
    tid TEXT NOT NULL,
    mid TEXT NOT NULL,
    stan TEXT NOT NULL,
    rrn TEXT NOT NULL,
    auth_code TEXT NOT NULL,
    masked_account TEXT NOT NULL,        -- masked PAN or payer: never a full PAN
    scheme TEXT NOT NULL,
    institution TEXT NOT NULL,
    channel TEXT NOT NULL,               -- D domestic card, F foreign scheme, W wallet
    credit INTEGER NOT NULL,
    amount INTEGER NOT NULL,             -- fen, merchant's view
    mcc TEXT NOT NULL,
    issuer_fee INTEGER NOT NULL,
    network_fee INTEGER NOT NULL,
    network_fee_issuer INTEGER NOT NULL,
    acquirer_fee INTEGER NOT NULL,
    original_date TEXT,
    PRIMARY KEY (source, source_id)
);
CREATE INDEX clearing_lines_day ON clearing_lines (clearing_date, mid, seq);
CREATE INDEX clearing_lines_txn ON clearing_lines (txn_id);

-- each merchant's net per cleared day: what the payouts add up
CREATE TABLE merchant_days (
    clearing_date TEXT NOT NULL,
    mid TEXT NOT NULL,
    settlement_date TEXT NOT NULL,
    lines INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    mdr INTEGER NOT NULL,
    net INTEGER NOT NULL,
    PRIMARY KEY (clearing_date, mid)
);
CREATE INDEX merchant_days_settlement ON merchant_days (settlement_date);

CREATE TABLE disputes (
    id INTEGER PRIMARY KEY,
    txn_id INTEGER NOT NULL REFERENCES transactions(id),
    amount INTEGER NOT NULL,             -- fen charged back
    state TEXT NOT NULL CHECK (state IN ('opened', 'represented', 'closed')),
    reason TEXT,
    opened_at TEXT NOT NULL,
    represented_at TEXT,
    closed_at TEXT
);
"""),
    Migration(5, "PostgreSQL: terminal session changes notified to every host process",
              "", postgres_extra=_SESSION_NOTICES),
)


def latest_version() -> int:
    return MIGRATIONS[-1][0]
