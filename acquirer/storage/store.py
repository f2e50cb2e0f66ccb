"""The storage interface the host's modules use (`Store`), with its SQLite implementation.

Why one class of named operations rather than a connection handed around:
the ledger, records, sessions, settlement, issuers and wallet channel used to
write SQL on a shared `sqlite3.Connection`, which tied every one of them to
SQLite and to one process. Now each of them asks the store for an operation
by name (`apply_legs`, `insert_transaction`, `add_signon`, ...); the store
owns the statement and the connection, and a backend is one subclass.

The statements are written once, in the SQL both databases share, with `?`
placeholders; `PostgresStore` (acquirer.storage.postgres) turns them into
psycopg's `%s` once per statement and overrides the few operations whose
correctness differs between one process and many (identifiers and RRNs from
sequences, the duplicate rule by constraint name, balances by a conditional
update under row locks).

Transactions: the host's group commit (`acquirer.commit`) calls `begin`,
`savepoint`, `release`, `rollback_to`, `commit` and `rollback`; every other
operation runs inside whatever transaction is open. Errors the caller acts on
are this package's: `NegativeBalance` (a balance CHECK refused a posting) and
`StorageUnavailable` (the database cannot be reached: the request gets 96).
"""
from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from typing import Any

import sqlite_utils

__all__ = ["TXN_COLUMNS", "Misspeculation", "NegativeBalance", "OutcomeUnknown", "SQLiteStore", "StorageUnavailable",
           "Store"]

#: the columns of `records.TxnRow`, in its order
TXN_COLUMNS = ("id, txn_type, tid, mid, batch, stan, local_date, amount, card_token, issuer, status, "
               "response_code, rrn, auth_code, original_id, refunded, fingerprint")

Leg = tuple[str, int]


class NegativeBalance(Exception):
    """A posting would take an account that may not go negative below zero (nothing changed)."""


class Misspeculation(Exception):
    """A speculative unit (`Store.savepoint(speculative=True)`) found that a check it had
    assumed did not pass; the unit is rolled back, and the caller runs it again without
    speculation, which reads every result as it goes (and so declines, or finds the duplicate).
    Raised in the unit when it is found while the unit runs, or to the unit's waiter
    (`GroupCommit.durable`) when it is found after the unit ended."""


class StorageUnavailable(RuntimeError):
    """The database cannot be reached or the transaction was lost (the request gets 96)."""


class OutcomeUnknown(StorageUnavailable):
    """The connection broke during COMMIT and the database could not be asked whether it
    committed: the host must not answer (a 96 could deny an approval the ledger holds);
    the terminal's reversal settles it."""


@functools.cache
def _legs_statements(legs: int) -> tuple[str, str]:
    """The UPDATE of the balances and the INSERT of the legs for a posting of `legs` legs
    (built once per count: drivers find their prepared statement by the SQL text)."""
    cases = " ".join("WHEN ? THEN ?" for _ in range(legs))
    marks = ", ".join("?" for _ in range(legs))
    rows = ", ".join("(?, ?, ?)" for _ in range(legs))
    return (f"UPDATE accounts SET balance = balance + CASE id {cases} END WHERE id IN ({marks})",
            f"INSERT INTO legs (posting_id, account_id, amount) VALUES {rows}")


class Store:
    """Every read and write of the acquirer's database, by name (see the module docstring).

    Subclasses provide `_x` (run one statement, return the cursor), the
    transaction statements and the operations whose SQL differs.
    """

    #: True when other processes write the same database (sessions are then re-read)
    shared = False

    def _x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._x(sql, params).fetchone()

    # --- transactions (acquirer.commit) --------------------------------------------------------

    def begin(self, *, pipeline: bool = False) -> None:
        """Open a transaction. `pipeline`: the caller reads the results of few of its statements
        (the host's group commit), so a backend may queue the others (PostgreSQL's pipeline
        mode); a caller that streams rows through a server-side cursor leaves it off."""
        raise NotImplementedError

    def savepoint(self, *, speculative: bool = False, unit: int = 0) -> None:
        """Start a unit (`unit`: its number in the group commit). `speculative`: the backend
        may assume that the unit's checks pass (an ATC advances, a posting is covered, a key
        is free) instead of waiting for each result; a check that did not pass rolls the unit
        back later, and its number is among `take_failed_units`. SQLite answers each
        statement at once and does not speculate."""
        self._x("SAVEPOINT unit")

    def take_failed_units(self) -> set[int]:
        """The speculative units of the open transaction that were rolled back after they had
        ended, because a check they assumed did not pass (emptied by the call). The
        transaction holds the other units' work without theirs."""
        return set()

    def release(self) -> None:
        self._x("RELEASE unit")

    def rollback_to(self) -> None:
        self._x("ROLLBACK TO unit")
        self._x("RELEASE unit")

    def commit(self) -> None:
        self._x("COMMIT")

    def rollback(self) -> None:
        self._x("ROLLBACK")

    def close(self) -> None:
        raise NotImplementedError

    # --- ledger ------------------------------------------------------------------------------

    def open_account(self, account_id: str, kind: str, may_go_negative: bool) -> bool:
        """Create the account unless it exists; True when it was created."""
        return bool(self._x("INSERT INTO accounts (id, kind, balance, may_go_negative) VALUES (?, ?, 0, ?) "
                            "ON CONFLICT (id) DO NOTHING", (account_id, kind, int(may_go_negative))).rowcount == 1)

    def balance(self, account_id: str) -> int | None:
        row = self._one("SELECT balance FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else int(row[0])

    def account_state(self, account_id: str) -> tuple[int, bool] | None:
        """(balance, may go negative) of an account, None when there is none."""
        row = self._one("SELECT balance, may_go_negative FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else (int(row[0]), bool(row[1]))

    def apply_legs(self, legs: Sequence[Leg]) -> int:
        """Add each leg to its account's balance, all or none; returns how many accounts changed.

        Raises `NegativeBalance` (nothing changed) when one may not go that low.
        """
        update, _ = _legs_statements(len(legs))
        try:
            return int(self._x(update, [x for leg in legs for x in leg] + [a for a, _ in legs]).rowcount)
        except sqlite3.IntegrityError:
            raise NegativeBalance() from None

    def insert_posting(self, txn_id: int | None, kind: str, created_at: str, legs: Sequence[Leg]) -> int:
        """Record a posting and its legs; returns the posting's id."""
        posting_id = int(self._x("INSERT INTO postings (txn_id, kind, created_at) VALUES (?, ?, ?)",
                                 (txn_id, kind, created_at)).lastrowid)
        _, insert_legs = _legs_statements(len(legs))
        self._x(insert_legs, [x for account, amount in legs for x in (posting_id, account, amount)])
        return posting_id

    def legs_of(self, txn_id: int) -> list[Leg]:
        """Every leg posted for a transaction, netted per account, in posting order."""
        rows = self._x(
            "SELECT l.account_id, CAST(SUM(l.amount) AS BIGINT) FROM legs l JOIN postings p ON p.id = l.posting_id "
            "WHERE p.txn_id = ? GROUP BY l.account_id ORDER BY MIN(l.posting_id), l.account_id",
            (txn_id,)).fetchall()
        return [(account, int(total)) for account, total in rows]

    # --- transaction records ------------------------------------------------------------------

    def new_txn_id(self) -> int:
        raise NotImplementedError

    def next_rrn(self) -> str:
        raise NotImplementedError

    def insert_transaction(self, row: Sequence[Any]) -> bool:
        """Insert a transaction (columns of `_TXN_INSERT`); False when its duplicate key is taken."""
        raise NotImplementedError

    def set_status(self, txn_id: int, status: str) -> None:
        self._x("UPDATE transactions SET status = ? WHERE id = ?", (status, txn_id))

    def resolve(self, txn_id: int, status: str, response_code: str, rrn: str | None,
                auth_code: str | None) -> None:
        self._x("UPDATE transactions SET status = ?, response_code = ?, rrn = ?, auth_code = ? WHERE id = ?",
                (status, response_code, rrn, auth_code, txn_id))

    def add_refunded(self, txn_id: int, amount: int) -> None:
        self._x("UPDATE transactions SET refunded = refunded + ? WHERE id = ?", (amount, txn_id))

    def transaction(self, txn_id: int) -> tuple[Any, ...] | None:
        return self._one(f"SELECT {TXN_COLUMNS} FROM transactions WHERE id = ?", (txn_id,))

    def transaction_by_rrn(self, rrn: str) -> tuple[Any, ...] | None:
        return self._one(f"SELECT {TXN_COLUMNS} FROM transactions WHERE rrn = ?", (rrn,))

    def transaction_by_stan(self, tid: str, mid: str, batch: str, stan: str, since: str) -> tuple[Any, ...] | None:
        return self._one(
            f"SELECT {TXN_COLUMNS} FROM transactions WHERE tid = ? AND mid = ? AND batch = ? AND stan = ? "
            "AND local_date >= ? ORDER BY local_date DESC LIMIT 1", (tid, mid, batch, stan, since))

    def transaction_by_key(self, tid: str, mid: str, batch: str, stan: str, local_date: str) -> tuple[Any, ...] | None:
        return self._one(f"SELECT {TXN_COLUMNS} FROM transactions WHERE tid = ? AND mid = ? AND batch = ? "
                         "AND stan = ? AND local_date = ?", (tid, mid, batch, stan, local_date))

    def add_trace_reuse(self, tid: str, mid: str, batch: str, stan: str, local_date: str, txn_type: str,
                        amount: int, card_token: str | None, original_id: int, created_at: str) -> None:
        self._x("INSERT INTO trace_reuses (tid, mid, batch, stan, local_date, txn_type, amount, card_token, "
                "original_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (tid, mid, batch, stan, local_date, txn_type, amount, card_token, original_id, created_at))

    def reused_by(self, tid: str, mid: str, batch: str, stan: str, since: str, txn_type: str,
                  amount: int, card_token: str | None) -> bool:
        return self._one(
            "SELECT 1 FROM trace_reuses WHERE tid = ? AND mid = ? AND batch = ? AND stan = ? "
            "AND local_date >= ? AND txn_type = ? AND amount = ? AND (card_token = ? OR CAST(? AS TEXT) IS NULL) LIMIT 1",
            (tid, mid, batch, stan, since, txn_type, amount, card_token, card_token)) is not None

    # --- reversals ----------------------------------------------------------------------------

    def insert_reversal(self, tid: str, mid: str, batch: str, stan: str, txn_type: str, amount: int,
                        reason: str | None, original_id: int | None, outcome: str, created_at: str) -> None:
        self._x("INSERT INTO reversals (tid, mid, batch, stan, txn_type, amount, reason, original_id, "
                "outcome, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (tid, mid, batch, stan, txn_type, amount, reason, original_id, outcome, created_at))

    # --- terminal sessions and keys -----------------------------------------------------------

    def terminal_states(self) -> list[tuple[str, str, str, bytes | None, float | None]]:
        """(tid, mid, batch, field 62, signed on at) of every terminal the host has seen."""
        return [(t, m, b, None if k is None else bytes(k), s) for t, m, b, k, s in self._x(
            "SELECT tid, mid, batch, working_keys, signed_on_at FROM terminal_state").fetchall()]

    def pending_signons(self) -> list[tuple[str, str, bytes, float]]:
        """(tid, mid, field 62, signed on at) of every sign-on whose keys are not yet in use, oldest first."""
        return [(t, m, bytes(k), s) for t, m, k, s in self._x(
            "SELECT tid, mid, working_keys, signed_on_at FROM pending_signons ORDER BY id").fetchall()]

    def terminal_sessions(self, tid: str, mid: str) -> tuple[str, tuple[bytes, float] | None,
                                                              list[tuple[bytes, float]]] | None:
        """(batch, working keys, pending sign-ons oldest first) of one terminal, in one query;
        keys are (field 62, signed on at). None when it never signed on."""
        rows = self._x("SELECT s.batch, s.working_keys, s.signed_on_at, p.working_keys, p.signed_on_at "
                       "FROM terminal_state s LEFT JOIN pending_signons p ON p.tid = s.tid AND p.mid = s.mid "
                       "WHERE s.tid = ? AND s.mid = ? ORDER BY p.id", (tid, mid)).fetchall()
        if not rows:
            return None
        batch, keys, signed_on_at = rows[0][:3]
        working = None if keys is None or signed_on_at is None else (bytes(keys), signed_on_at)
        return batch, working, [(bytes(r[3]), r[4]) for r in rows if r[3] is not None]

    def add_signon(self, tid: str, mid: str, batch: str, field62: bytes, signed_on_at: float, keep: int) -> None:
        """A sign-on's keys, pending until used; only the newest `keep` pending ones are kept."""
        self._x("INSERT INTO terminal_state (tid, mid, batch) VALUES (?, ?, ?) ON CONFLICT (tid, mid) DO NOTHING",
                (tid, mid, batch))
        self._x("INSERT INTO pending_signons (tid, mid, working_keys, signed_on_at) VALUES (?, ?, ?, ?)",
                (tid, mid, field62, signed_on_at))
        self._x("DELETE FROM pending_signons WHERE tid = ? AND mid = ? AND id NOT IN "
                "(SELECT id FROM pending_signons WHERE tid = ? AND mid = ? ORDER BY id DESC LIMIT ?)",
                (tid, mid, tid, mid, keep))

    def use_signon(self, tid: str, mid: str, field62: bytes, signed_on_at: float) -> None:
        """A pending sign-on's keys become the working keys; the other pending ones are dropped."""
        self._x("UPDATE terminal_state SET working_keys = ?, signed_on_at = ? WHERE tid = ? AND mid = ?",
                (field62, signed_on_at, tid, mid))
        self._x("DELETE FROM pending_signons WHERE tid = ? AND mid = ?", (tid, mid))

    def clear_session(self, tid: str, mid: str) -> None:
        """Sign-off: no working keys, no pending sign-ons."""
        self._x("UPDATE terminal_state SET working_keys = NULL, signed_on_at = NULL WHERE tid = ? AND mid = ?",
                (tid, mid))
        self._x("DELETE FROM pending_signons WHERE tid = ? AND mid = ?", (tid, mid))

    def set_terminal_batch(self, tid: str, mid: str, batch: str) -> None:
        self._x("UPDATE terminal_state SET batch = ? WHERE tid = ? AND mid = ?", (batch, tid, mid))

    # --- batches ------------------------------------------------------------------------------

    def batch_sums(self, tid: str, mid: str, batch: str, types: tuple[str, ...]) -> list[tuple[str, str, int, int]]:
        """(scheme, type, amount, count) of a batch's approved transactions of these types.

        Which types count and on which side is the caller's rule
        (acquirer.protocol.settlement_rules), not this query's.
        """
        marks = ", ".join("?" for _ in types)
        return [(str(scheme), str(txn_type), int(amount), int(count)) for scheme, txn_type, amount, count in self._x(
            "SELECT scheme, txn_type, CAST(SUM(amount) AS BIGINT), COUNT(*) FROM transactions "
            "WHERE tid = ? AND mid = ? AND batch = ? AND status = 'approved' "
            f"AND txn_type IN ({marks}) GROUP BY 1, 2", (tid, mid, batch, *types)).fetchall()]

    def batch_status(self, tid: str, mid: str, batch: str) -> str | None:
        row = self._one("SELECT status FROM batches WHERE tid = ? AND mid = ? AND batch = ?", (tid, mid, batch))
        return None if row is None else str(row[0])

    def settle_batch(self, tid: str, mid: str, batch: str, terminal_totals: str, host_totals: str,
                     balanced: bool, settled_at: str) -> None:
        self._x("INSERT INTO batches (tid, mid, batch, status, terminal_totals, host_totals, balanced, "
                "settled_at) VALUES (?, ?, ?, 'settled', ?, ?, ?, ?) "
                "ON CONFLICT (tid, mid, batch) DO UPDATE SET status = 'settled', "
                "terminal_totals = excluded.terminal_totals, host_totals = excluded.host_totals, "
                "balanced = excluded.balanced, settled_at = excluded.settled_at",
                (tid, mid, batch, terminal_totals, host_totals, int(balanced), settled_at))

    def upload_match(self, rrn: str | None, tid: str, mid: str) -> tuple[int, str | None] | None:
        """(id, masked PAN) of the terminal's transaction with this RRN."""
        row = self._one("SELECT id, masked_pan FROM transactions WHERE rrn = ? AND tid = ? AND mid = ?",
                        (rrn, tid, mid))
        return None if row is None else (int(row[0]), row[1])

    def record_upload(self, tid: str, mid: str, batch: str, stan: str, txn_type: str, amount: int,
                      masked_pan: str | None, matched_id: int | None, created_at: str) -> None:
        self._x("INSERT INTO batch_uploads (tid, mid, batch, stan, txn_type, amount, masked_pan, "
                "matched_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (tid, mid, batch, stan, txn_type, amount, masked_pan, matched_id, created_at))
        self._x("UPDATE batches SET uploaded = uploaded + 1 WHERE tid = ? AND mid = ? AND batch = ?",
                (tid, mid, batch))

    def end_upload(self, tid: str, mid: str, batch: str, count: int) -> None:
        self._x("UPDATE batches SET upload_ended_count = ? WHERE tid = ? AND mid = ? AND batch = ?",
                (count, tid, mid, batch))

    # --- cards (the issuers' state) -------------------------------------------------------------

    def add_card(self, token: str, masked_pan: str, name: str, issuer: str, scheme: str, product: str) -> None:
        self._x("INSERT INTO cards (token, masked_pan, name, issuer, scheme, product) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (token) DO NOTHING", (token, masked_pan, name, issuer, scheme, product))

    def advance_atc(self, token: str, atc: int) -> bool:
        """Accept `atc` only above the card's last accepted one, and remember it (one statement)."""
        return self._changes_one("UPDATE cards SET last_atc = ? WHERE token = ? AND last_atc < ?",
                                 (atc, token, atc))

    def _changes_one(self, sql: str, params: Sequence[Any]) -> bool:
        """Run a write that succeeds when it changes exactly one row (a check a speculative
        unit may assume, `savepoint`)."""
        return bool(self._x(sql, params).rowcount == 1)

    def pin_failures(self, token: str) -> tuple[int, str | None]:
        """(wrong PINs counted, local date of the last one)."""
        failures, date = self._one("SELECT pin_failures, pin_failure_date FROM cards WHERE token = ?", (token,))
        return int(failures), date

    def set_pin_failures(self, token: str, failures: int, date: str | None) -> None:
        if date is None:
            self._x("UPDATE cards SET pin_failures = ? WHERE token = ?", (failures, token))
        else:
            self._x("UPDATE cards SET pin_failures = ?, pin_failure_date = ? WHERE token = ?",
                    (failures, date, token))

    # --- wallet orders and codes ------------------------------------------------------------------

    def insert_wallet_order(self, txn_id: int, channel: str, state: str, created_at: str, *,
                            wallet: str | None = None, account: int | None = None,
                            masked_code: str | None = None, bill: str | None = None,
                            confirm_at: float | None = None) -> None:
        self._x("INSERT INTO wallet_orders (txn_id, channel, wallet, account, masked_code, bill, state, "
                "confirm_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (txn_id, channel, wallet, account, masked_code, bill, state, confirm_at, created_at, created_at))

    def set_wallet_order_state(self, txn_id: int, state: str, updated_at: str | None = None) -> None:
        if updated_at is None:
            self._x("UPDATE wallet_orders SET state = ? WHERE txn_id = ?", (state, txn_id))
        else:
            self._x("UPDATE wallet_orders SET state = ?, updated_at = ? WHERE txn_id = ?",
                    (state, updated_at, txn_id))

    def wallet_order_paid(self, txn_id: int, state: str, wallet: str, account: int, masked_code: str,
                          updated_at: str) -> None:
        self._x("UPDATE wallet_orders SET state = ?, wallet = ?, account = ?, masked_code = ?, updated_at = ? "
                "WHERE txn_id = ?", (state, wallet, account, masked_code, updated_at, txn_id))

    def wallet_order(self, txn_id: int) -> tuple[Any, ...] | None:
        """(state, confirm at, wallet, account) of an order (wallet and account are set once paid)."""
        row = self._one("SELECT state, confirm_at, wallet, account FROM wallet_orders WHERE txn_id = ?", (txn_id,))
        return None if row is None else tuple(row)

    def open_wallet_order(self, tid: str, mid: str, bill: str, state: str) -> int | None:
        """The id of the terminal's latest order for `bill` in `state`."""
        row = self._one("SELECT t.id FROM wallet_orders o JOIN transactions t ON t.id = o.txn_id "
                        "WHERE o.bill = ? AND o.state = ? AND t.tid = ? AND t.mid = ? ORDER BY t.id DESC LIMIT 1",
                        (bill, state, tid, mid))
        return None if row is None else int(row[0])

    def use_wallet_code(self, digest: str, wallet: str, account: int, txn_id: int, used_at: str) -> bool:
        """Keep a used payment code; False when it was used before (its digest is the key)."""
        return bool(self._x("INSERT INTO wallet_codes (digest, wallet, account, txn_id, used_at) "
                            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING",
                            (digest, wallet, account, txn_id, used_at)).rowcount == 1)


#: the columns `insert_transaction` takes, in order
TXN_INSERT = ("id, txn_type, tid, mid, batch, stan, local_date, amount, currency, card_token, masked_pan, "
              "scheme, issuer, entry_mode, status, response_code, rrn, auth_code, original_id, created_at, "
              "fingerprint")


class SQLiteStore(Store):
    """The embedded default: one process, one writer connection (see acquirer.storage.sqlite).

    Identifiers and RRNs come from counters in this process, seeded from the
    table at start: correct because one SQLite database has one host process.
    """

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self._execute = self.conn.execute
        max_rrn, max_id = self.conn.execute("SELECT MAX(rrn), MAX(id) FROM transactions").fetchone()
        self._last_rrn = int(max_rrn) if max_rrn else 0
        self._last_id = int(max_id or 0)

    def _x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._execute(sql, params)

    def begin(self, *, pipeline: bool = False) -> None:
        try:
            self._execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:   # locked by another process, disk I/O, ...
            raise StorageUnavailable(f"cannot begin a transaction: {e}") from None

    def commit(self) -> None:
        try:
            self._execute("COMMIT")
        except sqlite3.Error as e:
            raise StorageUnavailable(f"commit failed: {e}") from None

    def rollback(self) -> None:
        try:
            self._execute("ROLLBACK")
        except sqlite3.Error as e:
            raise StorageUnavailable(f"rollback failed: {e}") from None

    def close(self) -> None:
        self.conn.close()

    def new_txn_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def next_rrn(self) -> str:
        self._last_rrn += 1
        return f"{self._last_rrn:012d}"

    def insert_transaction(self, row: Sequence[Any]) -> bool:
        # the conflict target is the duplicate rule's UNIQUE index: a taken key inserts nothing
        return bool(self._execute(
            f"INSERT INTO transactions ({TXN_INSERT}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (tid, mid, batch, stan, local_date) DO NOTHING", row).rowcount == 1)
