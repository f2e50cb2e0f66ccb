"""The terminal's journal: every transaction, its reversal record, counters and batches.

SQLite through sqlite-utils, WAL, `synchronous=FULL`: the reversal record must
survive a power cut as well as a killed process, and a terminal writes a few
rows per sale, so the fsync is cheap insurance. Schema changes are the
migration set `JOURNAL_MIGRATIONS` (`sqlite_utils.migrations.Migrations`, the
kit's one migration mechanism, recorded in `_sqlite_migrations`). A journal
written before that mechanism numbered its migrations in `PRAGMA
user_version`; it is adopted -- its first N migrations are recorded as applied
-- and migrated forward from there.

What is never stored: the full PAN, track 2, the PIN or the PIN block. A card
is kept as its masked PAN plus a keyed token (HMAC) so the same card can be
recognised (void, refund, completion) without being recoverable.

Crash rules the engine relies on:
- `begin` allocates the STAN and writes the pending row AND its armed reversal
  in one SQLite transaction, before anything is sent.
- `record_reply` stores the outcome and clears the reversal in one transaction.
- `recover` (at start) turns every armed reversal into a due one: a process that
  died between `begin` and `record_reply` cannot know what the host did.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import sqlite_utils
from sqlite_utils.migrations import Migrations

from acquirer.protocol.clock import utc_stamp
from acquirer.protocol.settlement_rules import COUNTED_TYPES, region_of, side_of
from pos.core.faults import fault_point

STAN_MAX = 999_999
BATCH_MAX = 999_999

# transaction states
PENDING = "pending"              # written, request may be on its way
APPROVED = "approved"
DECLINED = "declined"
REVERSAL_DUE = "reversal_due"    # no trustworthy answer: the reversal must reach the host
REVERSED = "reversed"            # the host acknowledged the reversal
VOIDED = "voided"                # an approved sale/completion/pre-auth later voided
COMPLETED = "completed"          # an approved pre-auth a completion captured
UNKNOWN = "unknown"              # no answer to a request that cannot be reversed (refund, balance)
NOT_SENT = "not_sent"            # abandoned before a byte left (no connection, bad input)

# reversal record states
ARMED = "armed"                  # written before the request leaves
DUE = "due"                      # to be sent until acknowledged
ACKNOWLEDGED = "acknowledged"
CLEARED = "cleared"              # the request got its answer: never sent


class JournalError(RuntimeError):
    """The journal cannot do what was asked (names the transaction or counter)."""


def utc_now() -> str:
    """Stored moments are UTC (`acquirer.protocol.clock`)."""
    return utc_stamp()


JOURNAL_MIGRATIONS = Migrations("pos.journal")


@JOURNAL_MIGRATIONS(name="0001_transactions_reversals_counters_batches")
def _migration_1(db: sqlite_utils.Database) -> None:
    db.table("transactions").create({
        "id": int,
        "type": str,                 # sale, void, refund, preauth, completion, balance
        "state": str,
        "amount": int,               # fen
        "currency": str,
        "stan": str,
        "batch": str,
        "processing_code": str,      # field 3 as sent (the reversal repeats it)
        "condition_code": str,       # field 25
        "entry_mode": str,           # field 22, 3 digits
        "masked_pan": str,
        "pan_token": str,
        "scheme": str,
        "expiry": str,               # YYMM (field 14, repeated in the reversal)
        "psn": str,                  # field 23
        "aid": str,
        "cryptogram": str,           # "ARQC" when field 55 carried one
        "issuer_auth_data": str,     # tag 91 of the reply (ARPC + ARC), hex
        "rrn": str,
        "auth_code": str,
        "response_code": str,
        "original_id": int,          # the journal row a void/completion/refund refers to
        "original_rrn": str,
        "original_auth_code": str,
        "original_stan": str,
        "original_batch": str,
        "original_date": str,        # MMDD of the original (61.3 of a refund)
        "txn_date": str,             # MMDD: the host's local date (reply field 13), else the terminal's
        "late_reply_code": str,      # an answer that arrived after the reversal was decided
        "created_at": str,
        "updated_at": str,
    }, pk="id", not_null={"type", "state", "amount", "currency", "stan", "batch",
                          "created_at", "updated_at"})
    db.table("transactions").create_index(["batch", "stan"], unique=True)
    db.table("transactions").create_index(["rrn"])
    db.table("transactions").create_index(["state"])
    db.table("reversals").create({
        "txn_id": int,
        "state": str,
        "reason": str,               # field 39 of the 0400
        "attempts": int,
        "created_at": str,
        "updated_at": str,
    }, pk="txn_id", foreign_keys=[("txn_id", "transactions", "id")],
        not_null={"state", "attempts", "created_at", "updated_at"})
    db.table("reversals").create_index(["state"])
    db.table("counters").create({"name": str, "value": int}, pk="name")
    db.table("counters").insert_all([{"name": "stan", "value": 0}, {"name": "batch", "value": 1}])
    db.table("batches").create({
        "batch": str,
        "state": str,                # open, closed
        "opened_at": str,
        "closed_at": str,
        "balanced": int,             # 1 when the host agreed with the terminal's totals
        "uploaded": int,             # transactions sent in the batch upload
        "debit_amount": int,         # the figures the batch was closed on (the host's)
        "debit_count": int,
        "credit_amount": int,
        "credit_count": int,
    }, pk="batch")
    db.table("batches").insert({"batch": "000001", "state": "open", "opened_at": utc_now()})


@JOURNAL_MIGRATIONS(name="0002_receipt_columns")
def _migration_2(db: sqlite_utils.Database) -> None:
    """What a receipt needs beyond the authorization columns, and the receipt as printed."""
    for column in ("app_label",        # application label (tag 50) of the card read
                   "app_cryptogram",   # the ARQC sent in field 55 (tag 9F26), hex: printed on the slip
                   "cvm",              # receipts.Cvm: pin, cdcvm, no_cvm or signature
                   "receipt"):         # receipts.to_json of the slip as first printed (masked PAN only)
        db.table("transactions").add_column(column, str)
    db.table("batches").add_column("receipt", str)   # the settlement summary as printed


@JOURNAL_MIGRATIONS(name="0003_arpc_check")
def _migration_3(db: sqlite_utils.Database) -> None:
    """The terminal's check of the issuer's answer to a chip card's ARQC (tag 91 in reply field 55)."""
    db.table("transactions").add_column("arpc_check", str)   # "ok: ...", "absent" or "failed: ..." (pos.sources.emv)


@JOURNAL_MIGRATIONS(name="0004_wallet_orders")
def _migration_4(db: sqlite_utils.Database) -> None:
    """Wallet payments: which wallet, the masked code, and the earliest moment their reversal may go."""
    db.table("transactions").add_column("wallet", str)        # alipay, wechat, unionpay (wallet and MPM sales)
    db.table("transactions").add_column("wallet_code", str)   # the customer's code, first 4 and last 4 digits
    db.table("reversals").add_column("not_before", float)     # Unix time: a wallet order is reversed 15 s after creation at the earliest


@JOURNAL_MIGRATIONS(name="0005_host_binding")
def _migration_5(db: sqlite_utils.Database) -> None:
    """The acquirer this terminal is bound to (docs/terminal.md, "Host binding"): one row once bound."""
    db.table("host_binding").create({"id": int, "address": str, "bound_at": str}, pk="id", not_null={"address"})


@JOURNAL_MIGRATIONS(name="0006_pan_token_lower_case")
def _migration_6(db: sqlite_utils.Database) -> None:
    """PAN tokens as the one rule writes them (`acquirer.protocol.cardholder`): lower-case hex.

    A journal written before the rule was shared holds upper-case tokens; the
    same card must still match its original for a void or refund.
    """
    db.execute("UPDATE transactions SET pan_token = lower(pan_token) WHERE pan_token IS NOT NULL")


@JOURNAL_MIGRATIONS(name="0007_host_session")
def _migration_7(db: sqlite_utils.Database) -> None:
    """The session with the host kept between commands (docs/terminal.md, "Working keys between commands").

    One row: field 62 of the last sign-on exactly as the host sent it -- the
    working keys encrypted under the terminal master key, each followed by
    its check value -- never the clear keys; the host it came from, the batch
    and the China business date it is good for.
    """
    db.table("host_session").create({"id": int, "host": str, "field62": str, "batch": str,
                                     "business_date": str, "signed_on_at": str},
                                    pk="id", not_null={"host", "field62", "batch", "business_date"})


@JOURNAL_MIGRATIONS(name="0008_operators_and_reports")
def _migration_8(db: sqlite_utils.Database) -> None:
    """Several cashiers, and report slips that can be reprinted (docs/terminal.md, "Operators").

    `transactions.operator`: who was signed on at the till when the row was
    written (NULL on rows written before this migration: the reports and slips
    show the configured `[terminal] operator` for them). `operators`: the
    till's cashiers, a password kept only as a scrypt hash (`pos.journal.operators`).
    `till_operator`: the one cashier signed on now (none: the configured default).
    `reports`: every X or Z report as printed (JSON), so a reprint says the same.
    """
    db.table("transactions").add_column("operator", str)
    db.table("operators").create({"id": str, "name": str, "password_hash": str, "added_at": str},
                                 pk="id", not_null={"name", "added_at"})
    db.table("till_operator").create({"id": int, "operator": str, "signed_on_at": str}, pk="id",
                                     not_null={"operator", "signed_on_at"})
    db.table("reports").create({"id": int, "kind": str, "batch": str, "printed_at": str, "report": str},
                               pk="id", not_null={"kind", "batch", "printed_at", "report"})


#: migrations numbered in `PRAGMA user_version` before the migration set existed, in order
USER_VERSION_MIGRATIONS = ("0001_transactions_reversals_counters_batches", "0002_receipt_columns",
                           "0003_arpc_check", "0004_wallet_orders")


class ReportRow(NamedTuple):
    """The columns of a journal row an X or Z report counts."""

    type: str
    state: str
    amount: int
    scheme: str | None
    wallet: str | None
    entry_mode: str | None
    operator: str | None


@dataclass(frozen=True)
class Txn:
    """One journal row (display-safe: no full PAN)."""

    id: int
    type: str
    state: str
    amount: int
    currency: str
    stan: str
    batch: str
    processing_code: str | None
    condition_code: str | None
    entry_mode: str | None
    masked_pan: str | None
    pan_token: str | None
    scheme: str | None
    expiry: str | None
    psn: str | None
    aid: str | None
    cryptogram: str | None
    issuer_auth_data: str | None
    rrn: str | None
    auth_code: str | None
    response_code: str | None
    original_id: int | None
    original_rrn: str | None
    original_auth_code: str | None
    original_stan: str | None
    original_batch: str | None
    original_date: str | None
    txn_date: str | None
    late_reply_code: str | None
    created_at: str
    updated_at: str
    app_label: str | None
    app_cryptogram: str | None
    cvm: str | None
    receipt: str | None
    arpc_check: str | None
    wallet: str | None = None
    wallet_code: str | None = None
    operator: str | None = None      # the cashier signed on when it was written (None: before operators)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Txn:
        values: dict[str, Any] = {f.name: row.get(f.name) for f in fields(cls)}
        return cls(**values)


@dataclass(frozen=True)
class Reversal:
    txn: Txn
    state: str
    reason: str
    attempts: int
    not_before: float | None = None   # Unix time before which it must not be sent (wallet orders)


class StoredSession(NamedTuple):
    """A sign-on kept in the journal: `field62` is the keys under the TMK plus their KCVs, as received."""

    host: str            # the host address that issued the keys
    field62: bytes
    batch: str           # the batch they were issued for
    business_date: str   # the China business date (YYYY-MM-DD) of the sign-on


@dataclass(frozen=True)
class BatchTotals:
    """Running totals of one batch: debits are sales and completions, credits refunds.

    What counts, and on which side, is the one rule of
    `acquirer.protocol.settlement_rules` (voided and reversed transactions,
    pre-auths, balance inquiries and declines count in neither).
    """

    batch: str
    domestic_debit_amount: int = 0
    domestic_debit_count: int = 0
    domestic_credit_amount: int = 0
    domestic_credit_count: int = 0
    foreign_debit_amount: int = 0
    foreign_debit_count: int = 0
    foreign_credit_amount: int = 0
    foreign_credit_count: int = 0


#: transactions whose approval changes their original's state (voids, completion)
SUPERSEDING_TYPES = ("void", "preauth_void", "completion_void", "completion")


def _known_names() -> set[str]:
    """Every migration this pos knows (all of them are pending on an empty database)."""
    return {m.name for m in JOURNAL_MIGRATIONS.pending(sqlite_utils.Database(memory=True))}


class Journal:
    """The terminal's SQLite journal. One process at a time (the engine holds a lock)."""

    def __init__(self, path: Path, default_operator: str | None = None) -> None:
        """`default_operator`: who a row names when no cashier signed on (pos.toml `[terminal] operator`)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self.default_operator = default_operator
        row = self.db.execute("SELECT operator FROM till_operator WHERE id = 1").fetchone()
        self._signed_on: str | None = row[0] if row else None

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        """Adopt a journal numbered by `user_version`, refuse one newer than this pos, apply what is pending."""
        applied = {m.name for m in JOURNAL_MIGRATIONS.applied(self.db)}
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if not applied and version:
            if version > len(USER_VERSION_MIGRATIONS):
                raise JournalError(f"journal schema version {version} is newer than this pos "
                                   f"({len(USER_VERSION_MIGRATIONS)}): upgrade tillkit")
            JOURNAL_MIGRATIONS.ensure_migrations_table(self.db)
            with self.db.atomic():
                for name in USER_VERSION_MIGRATIONS[:version]:
                    self.db.table("_sqlite_migrations").insert({"migration_set": JOURNAL_MIGRATIONS.name, "name": name,
                                                          "applied_at": utc_now()})
            applied = set(USER_VERSION_MIGRATIONS[:version])
        unknown = applied - _known_names()
        if unknown:
            raise JournalError(f"journal migrations {', '.join(sorted(unknown))} are newer than this pos: "
                               f"upgrade tillkit")
        JOURNAL_MIGRATIONS.apply(self.db)

    def _atomic(self) -> Any:
        return _Atomic(self.db.conn)

    # Hot-path reads and writes use plain SQL: sqlite-utils' Table.update/get look the
    # schema up on every call, which costs more than the write itself.

    def _set(self, table: str, key: Any, values: dict[str, Any]) -> None:
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.db.execute(f"UPDATE {table} SET {assignments} WHERE {_PRIMARY_KEYS[table]} = ?",
                        [*values.values(), key])

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self.db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    def _txns(self, where: str, args: list[Any], suffix: str = "") -> list[Txn]:
        cursor = self.db.execute(f"SELECT * FROM transactions WHERE {where} {suffix}", args)
        names = [d[0] for d in cursor.description]
        return [Txn.from_row(dict(zip(names, row))) for row in cursor.fetchall()]

    # --- counters -----------------------------------------------------------------

    def _counter(self, name: str) -> int:
        return int(self.db.execute("SELECT value FROM counters WHERE name = ?", [name]).fetchone()[0])

    def _set_counter(self, name: str, value: int) -> None:
        self._set("counters", name, {"value": value})

    def _take_stan(self) -> str:
        stan = self._counter("stan") % STAN_MAX + 1
        self._set_counter("stan", stan)
        return f"{stan:06d}"

    def next_stan(self) -> str:
        """Allocate a STAN for a message that is not journalled (sign-on, settlement)."""
        with self._atomic():
            return self._take_stan()

    @property
    def last_stan(self) -> str:
        return f"{self._counter('stan'):06d}"

    @property
    def batch(self) -> str:
        return f"{self._counter('batch'):06d}"

    def follow_host_batch(self, batch: str) -> str | None:
        """Take the host's open batch (sign-on 60.2); returns the batch this closed, if any.

        The host moves a terminal's batch only by settling it, so an open batch
        here that already holds transactions was settled on the host (e.g. the
        terminal died after the 0500 went out): it is closed, on this terminal's
        figures, with `balanced` unknown. An empty one is simply renumbered.
        """
        if batch == self.batch or not batch.isdigit() or int(batch) == 0:
            return None
        with self._atomic():
            current = self.batch
            closed = None
            if self.db.execute("SELECT 1 FROM transactions WHERE batch = ? LIMIT 1", [current]).fetchone():
                totals = self.totals(current)
                self.db.table("batches").upsert({
                    "batch": current, "state": "closed", "closed_at": utc_now(), "balanced": None,
                    "uploaded": 0,
                    "debit_amount": totals.domestic_debit_amount + totals.foreign_debit_amount,
                    "debit_count": totals.domestic_debit_count + totals.foreign_debit_count,
                    "credit_amount": totals.domestic_credit_amount + totals.foreign_credit_amount,
                    "credit_count": totals.domestic_credit_count + totals.foreign_credit_count,
                }, pk="batch")
                closed = current
            else:
                self.db.table("batches").delete_where("batch = ? AND state = 'open'", [current])
            self._set_counter("batch", int(batch))
            self.db.table("batches").upsert({"batch": batch, "state": "open", "opened_at": utc_now(),
                                       "closed_at": None}, pk="batch")
        return closed

    # --- transactions ---------------------------------------------------------------

    def begin(self, *, type: str, amount: int, currency: str, processing_code: str,
              condition_code: str, reversible: bool, reverse_not_before: float | None = None,
              **card: Any) -> Txn:
        """Allocate a STAN and write the pending row (+ armed reversal) before sending.

        `reverse_not_before` (Unix time) holds the reversal back until then (a wallet order's 15 s).
        """
        now = utc_now()
        with self._atomic():
            stan = self._take_stan()
            txn_id = self._insert("transactions", {
                "type": type, "state": PENDING, "amount": amount, "currency": currency,
                "stan": stan, "batch": self.batch, "processing_code": processing_code,
                "condition_code": condition_code, "created_at": now, "updated_at": now,
                "operator": self.operator, **card,
            })
            if reversible:
                self._insert("reversals", {"txn_id": txn_id, "state": ARMED, "attempts": 0,
                                           "not_before": reverse_not_before, "created_at": now,
                                           "updated_at": now})
        return self.get(txn_id)

    def record_reply(self, txn_id: int, *, state: str, response_code: str,
                     rrn: str | None = None, auth_code: str | None = None,
                     issuer_auth_data: str | None = None, arpc_check: str | None = None,
                     host_date: str | None = None, original_becomes: str | None = None) -> Txn:
        """Store the host's answer and clear the armed reversal, atomically.

        On approval the original (of a void or completion) takes the state
        `original_becomes` (VOIDED, COMPLETED) in the same transaction.
        Refused (JournalError) when the reversal was already decided: an answer
        that comes after that point is late and must not turn into an approval.
        """
        now = utc_now()
        with self._atomic():
            reversal = self.db.execute("SELECT state FROM reversals WHERE txn_id = ?",
                                       [txn_id]).fetchone()
            if reversal and reversal[0] != ARMED:
                raise JournalError(f"transaction {txn_id}: reversal already {reversal[0]}")
            self._set("transactions", txn_id, {
                "state": state, "response_code": response_code, "rrn": rrn,
                "auth_code": auth_code, "issuer_auth_data": issuer_auth_data, "arpc_check": arpc_check,
                "updated_at": now,
                **({"txn_date": host_date} if host_date else {}),
            })
            fault_point("journal_write")
            if reversal:
                self._set("reversals", txn_id, {"state": CLEARED, "updated_at": now})
            if original_becomes is not None and state == APPROVED:
                original = self.get(txn_id).original_id
                self._set("transactions", original, {"state": original_becomes, "updated_at": now})
        return self.get(txn_id)

    def decide_reversal(self, txn_id: int, reason: str) -> Txn:
        """No trustworthy answer: the reversal becomes due (idempotent)."""
        now = utc_now()
        with self._atomic():
            self.db.execute("UPDATE reversals SET state = ?, reason = ?, updated_at = ? "
                            "WHERE txn_id = ? AND state = ?", [DUE, reason, now, txn_id, ARMED])
            self._set("transactions", txn_id, {"state": REVERSAL_DUE, "updated_at": now})
        return self.get(txn_id)

    def abandon(self, txn_id: int) -> Txn:
        """Nothing was sent (no connection, a message that could not be built): no reversal."""
        return self._settle_without_answer(txn_id, NOT_SENT)

    def mark_unknown(self, txn_id: int) -> Txn:
        """No answer to a request that cannot be reversed: its outcome is the host's to tell."""
        return self._settle_without_answer(txn_id, UNKNOWN)

    def _settle_without_answer(self, txn_id: int, state: str) -> Txn:
        now = utc_now()
        with self._atomic():
            self._set("transactions", txn_id, {"state": state, "updated_at": now})
            self.db.execute("UPDATE reversals SET state = ?, updated_at = ? WHERE txn_id = ?",
                            [CLEARED, now, txn_id])
        return self.get(txn_id)

    def note_late_reply(self, txn_id: int, response_code: str) -> None:
        """Keep, for the record, an answer that arrived after the reversal was decided."""
        self._set("transactions", txn_id, {"late_reply_code": response_code,
                                                "updated_at": utc_now()})

    def count_reversal_attempt(self, txn_id: int) -> None:
        self.db.execute("UPDATE reversals SET attempts = attempts + 1, updated_at = ? "
                        "WHERE txn_id = ?", [utc_now(), txn_id])

    def reversal_acknowledged(self, txn_id: int) -> Txn:
        """The host acknowledged the reversal: the transaction took no money.

        A reversed void or completion gives its original back its approved
        state (what the reversal undid), as the host does.
        """
        now = utc_now()
        with self._atomic():
            self._set("reversals", txn_id, {"state": ACKNOWLEDGED, "updated_at": now})
            self._set("transactions", txn_id, {"state": REVERSED, "updated_at": now})
            txn = self.get(txn_id)
            if txn.original_id is not None and txn.type in SUPERSEDING_TYPES:
                self.db.execute("UPDATE transactions SET state = ?, updated_at = ? "
                                "WHERE id = ? AND state IN (?, ?)",
                                [APPROVED, now, txn.original_id, VOIDED, COMPLETED])
        return self.get(txn_id)

    def recover(self) -> int:
        """At start: every armed reversal (a request whose answer was never recorded) is due."""
        now = utc_now()
        with self._atomic():
            armed = [row[0] for row in self.db.execute(
                "SELECT txn_id FROM reversals WHERE state = ?", [ARMED]).fetchall()]
            for txn_id in armed:
                self._set("reversals", txn_id, {"state": DUE, "reason": "96",
                                                     "updated_at": now})
                self._set("transactions", txn_id, {"state": REVERSAL_DUE, "updated_at": now})
            # a non-reversible request (refund, balance) that died pending: outcome unknown
            self.db.execute(
                "UPDATE transactions SET state = ?, updated_at = ? WHERE state = ? "
                "AND id NOT IN (SELECT txn_id FROM reversals)", [UNKNOWN, now, PENDING])
        return len(armed)

    def due_reversals(self) -> list[Reversal]:
        rows = self.db.execute(
            "SELECT txn_id, state, reason, attempts, not_before FROM reversals WHERE state = ? "
            "ORDER BY txn_id", [DUE]).fetchall()
        return [Reversal(self.get(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def get(self, txn_id: int) -> Txn:
        found = self._txns("id = ?", [txn_id])
        if not found:
            raise JournalError(f"no transaction with id {txn_id} in the journal")
        return found[0]

    def _one(self, where: str, args: list[Any]) -> Txn | None:
        found = self._txns(where, args, "ORDER BY id DESC LIMIT 1")
        return found[0] if found else None

    def find_by_stan(self, stan: str, batch: str | None = None) -> Txn | None:
        """The transaction with this trace number, in the given (default: current) batch."""
        return self._one("stan = ? AND batch = ?", [stan, batch or self.batch])

    def find_preauth(self, stan: str) -> Txn | None:
        """The latest pre-auth with this trace number, in any batch."""
        return self._one("stan = ? AND type = 'preauth'", [stan])

    def find_by_rrn(self, rrn: str, types: tuple[str, ...]) -> Txn | None:
        marks = ", ".join("?" for _ in types)
        return self._one(f"rrn = ? AND type IN ({marks})", [rrn, *types])

    def last_answered(self, types: tuple[str, ...], stan: str | None = None) -> Txn | None:
        """The latest transaction of `types` the host answered (any batch), optionally with trace `stan`."""
        marks = ", ".join("?" for _ in types)
        where = f"type IN ({marks}) AND state IN (?, ?, ?, ?)"
        args: list[Any] = [*types, APPROVED, DECLINED, VOIDED, COMPLETED]
        if stan is not None:
            where += " AND stan = ?"
            args.append(stan)
        return self._one(where, args)

    def latest_with_stan(self, stan: str) -> Txn | None:
        """The latest transaction with this trace number, in any batch and any state."""
        return self._one("stan = ?", [stan])

    def set_receipt(self, txn_id: int, receipt: str) -> None:
        """Keep the slip as printed (JSON, masked PAN only), so a reprint says the same."""
        self._set("transactions", txn_id, {"receipt": receipt})

    def closed_batch(self, batch: str) -> dict[str, Any]:
        """A closed batch's row (state, closed_at, balanced, figures, receipt)."""
        row = self.db.execute("SELECT * FROM batches WHERE batch = ? AND state = 'closed'", [batch])
        names = [d[0] for d in row.description]
        found = row.fetchone()
        if found is None:
            raise JournalError(f"batch {batch} is not a closed batch of this journal")
        return dict(zip(names, found))

    def set_batch_receipt(self, batch: str, receipt: str) -> None:
        self.db.execute("UPDATE batches SET receipt = ? WHERE batch = ?", [receipt, batch])

    def type_totals(self, batch: str, types: tuple[str, ...]) -> dict[str, tuple[int, int]]:
        """Per transaction type of `types`: (count, amount in fen) of those the host approved in `batch`,
        counting an approved sale or completion that was later voided too (its void counts against it)."""
        marks = ", ".join("?" for _ in types)
        rows = self.db.execute(
            f"SELECT type, COUNT(*), COALESCE(SUM(amount), 0) FROM transactions WHERE batch = ? "
            f"AND type IN ({marks}) AND state IN (?, ?) GROUP BY type",
            [batch, *types, APPROVED, VOIDED]).fetchall()
        return {kind: (count, amount) for kind, count, amount in rows}

    def rows_since(self, since: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """`columns` of every transaction created at or after `since` (UTC, the `created_at` format), oldest
        first, one tuple a row.

        Plain tuples of the columns asked, no `Txn` or dict per row: a reconciliation reads a day or a month
        of them at once (100,000 rows in a few tenths of a second).
        """
        unknown = set(columns) - set(self.db.table("transactions").columns_dict)
        if unknown or not columns:
            raise ValueError(f"no such journal column(s): {', '.join(sorted(unknown)) or '(none asked)'}")
        return self.db.execute(f"SELECT {', '.join(columns)} FROM transactions WHERE created_at >= ? ORDER BY id",
                               [since]).fetchall()

    # --- operators (the registry itself is pos.journal.operators) ----------------------------

    @property
    def operator(self) -> str | None:
        """The cashier signed on at the till, else the default operator (None: neither)."""
        return self._signed_on or self.default_operator

    @property
    def signed_on_operator(self) -> str | None:
        """The cashier signed on (None: nobody; rows name the default operator)."""
        return self._signed_on

    def sign_on_operator(self, operator: str) -> None:
        """From now on, rows written name `operator` (kept across restarts and between CLI commands)."""
        self.db.execute("INSERT INTO till_operator (id, operator, signed_on_at) VALUES (1, ?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET operator = excluded.operator, "
                        "signed_on_at = excluded.signed_on_at", [operator, utc_now()])
        self._signed_on = operator

    def sign_off_operator(self) -> None:
        self.db.execute("DELETE FROM till_operator WHERE id = 1")
        self._signed_on = None

    def operator_rows(self) -> list[dict[str, Any]]:
        """Every registered operator (id, name, password_hash, added_at), by id."""
        return list(self.db.table("operators").rows_where(order_by="id"))

    def operator_row(self, operator: str) -> dict[str, Any] | None:
        found = list(self.db.table("operators").rows_where("id = ?", [operator]))
        return found[0] if found else None

    def put_operator(self, operator: str, name: str, password_hash: str | None) -> None:
        self.db.table("operators").upsert({"id": operator, "name": name, "password_hash": password_hash,
                                           "added_at": utc_now()}, pk="id")

    def delete_operator(self, operator: str) -> bool:
        """Remove `operator` from the registry (its journal rows keep its number); False if unknown."""
        with self._atomic():
            cursor = self.db.execute("DELETE FROM operators WHERE id = ?", [operator])
            if cursor.rowcount and self._signed_on == operator:
                self.db.execute("DELETE FROM till_operator WHERE id = 1")
        if cursor.rowcount and self._signed_on == operator:
            self._signed_on = None
        return bool(cursor.rowcount)

    # --- reports as printed --------------------------------------------------------------

    def record_report(self, kind: str, batch: str, report: str) -> None:
        """Keep an X or Z report as printed (JSON), for `pos reprint --report`."""
        self._insert("reports", {"kind": kind, "batch": batch, "printed_at": utc_now(), "report": report})

    def last_report(self, kind: str | None = None) -> str | None:
        """The JSON of the latest report printed (of `kind` "X" or "Z" when given), None if none."""
        where, args = ("WHERE kind = ?", [kind]) if kind else ("", [])
        row = self.db.execute(f"SELECT report FROM reports {where} ORDER BY id DESC LIMIT 1", args).fetchone()
        return row[0] if row else None

    def last_closed_batch(self) -> str | None:
        """The batch closed last (None: none closed yet)."""
        row = self.db.execute("SELECT batch FROM batches WHERE state = 'closed' "
                              "ORDER BY closed_at DESC, batch DESC LIMIT 1").fetchone()
        return row[0] if row else None

    # --- the acquirer this terminal is bound to ------------------------------------------

    def bound_host(self) -> str | None:
        """The host address this terminal is bound to (None: never signed on)."""
        row = self.db.execute("SELECT address FROM host_binding WHERE id = 1").fetchone()
        return row[0] if row else None

    def bind_host(self, address: str) -> None:
        with self._atomic():
            self.db.execute("INSERT INTO host_binding (id, address, bound_at) VALUES (1, ?, ?) "
                            "ON CONFLICT (id) DO UPDATE SET address = excluded.address, "
                            "bound_at = excluded.bound_at", [address, utc_now()])

    # --- the session with the host (working keys under the TMK, never in clear) -------------

    def host_session(self) -> StoredSession | None:
        """The last sign-on's field 62 as the host sent it, with what it is good for (None: none kept)."""
        row = self.db.execute("SELECT host, field62, batch, business_date FROM host_session WHERE id = 1").fetchone()
        return StoredSession(row[0], bytes.fromhex(row[1]), row[2], row[3]) if row else None

    def keep_host_session(self, session: StoredSession) -> None:
        with self._atomic():
            self.db.execute("INSERT INTO host_session (id, host, field62, batch, business_date, signed_on_at) "
                            "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET host = excluded.host, "
                            "field62 = excluded.field62, batch = excluded.batch, "
                            "business_date = excluded.business_date, signed_on_at = excluded.signed_on_at",
                            [session.host, session.field62.hex().upper(), session.batch, session.business_date,
                             utc_now()])

    def forget_host_session(self) -> None:
        self.db.execute("DELETE FROM host_session WHERE id = 1")

    def open_batch_in_use(self) -> bool:
        """True when the open batch holds a transaction that reached (or may have reached) the host."""
        row = self.db.execute("SELECT 1 FROM transactions WHERE batch = ? AND state != ? LIMIT 1",
                              [self.batch, NOT_SENT]).fetchone()
        return row is not None

    def history(self, limit: int | None = None) -> list[Txn]:
        return [Txn.from_row(r) for r in self.db.table("transactions").rows_where(
            order_by="id desc", limit=limit)]

    def batch_transactions(self, batch: str) -> list[Txn]:
        """The transactions that count in a batch's totals (and its upload), oldest first."""
        marks = ", ".join("?" for _ in COUNTED_TYPES)
        return [Txn.from_row(r) for r in self.db.table("transactions").rows_where(
            f"batch = ? AND state = ? AND type IN ({marks})",
            [batch, APPROVED, *COUNTED_TYPES], order_by="id")]

    def report_rows(self, batch: str) -> list[ReportRow]:
        """What the X and Z reports need of every transaction of a batch, oldest first (one query: a
        Z report reads a whole day's rows)."""
        return [ReportRow(*row) for row in self.db.execute(
            "SELECT type, state, amount, scheme, wallet, entry_mode, operator FROM transactions WHERE batch = ? "
            "ORDER BY id",
            [batch]).fetchall()]

    def totals(self, batch: str | None = None) -> BatchTotals:
        batch = batch or self.batch
        sums: dict[str, int] = {}
        for txn in self.batch_transactions(batch):
            region, side = region_of(txn.scheme), side_of(txn.type)
            sums[f"{region}_{side}_amount"] = sums.get(f"{region}_{side}_amount", 0) + txn.amount
            sums[f"{region}_{side}_count"] = sums.get(f"{region}_{side}_count", 0) + 1
        return BatchTotals(batch=batch, **sums)

    def close_batch(self, *, balanced: bool, uploaded: int, debit_amount: int, debit_count: int,
                    credit_amount: int, credit_count: int) -> str:
        """Close the open batch on the given (host's) figures and open the next one.

        STANs continue across batches; the batch number wraps after 999999.
        """
        now = utc_now()
        with self._atomic():
            closing = self.batch
            self.db.table("batches").upsert({
                "batch": closing, "state": "closed", "closed_at": now,
                "balanced": int(balanced), "uploaded": uploaded,
                "debit_amount": debit_amount, "debit_count": debit_count,
                "credit_amount": credit_amount, "credit_count": credit_count,
            }, pk="batch")
            following = self._counter("batch") % BATCH_MAX + 1
            self._set_counter("batch", following)
            self.db.table("batches").upsert({"batch": f"{following:06d}", "state": "open",
                                       "opened_at": now, "closed_at": None}, pk="batch")
        return f"{following:06d}"

    def batches(self) -> Iterator[dict[str, Any]]:
        return self.db.table("batches").rows_where(order_by="batch")


_PRIMARY_KEYS = {"transactions": "id", "reversals": "txn_id", "counters": "name"}


class _Atomic:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
