"""Clearing's reads and writes (the SQL of `acquirer.clearing.service`), for both backends.

Why a class of its own beside `Store`: clearing is a batch job over the whole
day, not part of an authorization, and its statements are many; they share
the store's connection and transaction (`Store._x`), so a day's lines, its
postings and its `clearing_days` row are committed together or not at all.

The events of a day come from the ledger itself: every posting that moved a
merchant's money (`merchant:<mid>` legs) and is not cleared yet, joined to its
transaction for the terminal, STAN, RRN, masked account, scheme and issuer,
and to the card for debit or credit. Clearing what the ledger moved is what
makes the clearing files agree with the ledger by construction.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from acquirer.storage.store import Store

__all__ = ["LINE_COLUMNS", "ClearingStore", "EventRow"]

#: one not-yet-cleared movement of merchant money, as `day_events` returns it
EventRow = tuple[Any, ...]

#: the columns of `clearing_lines`, in the order `save_lines` takes them
LINE_COLUMNS = ("source", "source_id", "clearing_date", "seq", "txn_id", "code", "late", "occurred_at", "tid", "mid",
                "stan", "rrn", "auth_code", "masked_account", "scheme", "institution", "channel", "credit",
                "amount", "mcc", "issuer_fee", "network_fee", "network_fee_issuer", "acquirer_fee",
                "original_date")

#: the events' columns, in `EventRow` order
_EVENT_COLUMNS = "pid, kind, at, amount, txn_id, txn_type, tid, mid, stan, rrn, auth_code, account, scheme, " \
    "institution, product, original_at, txn_at, original_id"

_EVENTS = (
    "SELECT p.id AS pid, p.kind AS kind, p.created_at AS at, l.amount AS amount, t.id AS txn_id, "
    "t.txn_type AS txn_type, t.tid AS tid, t.mid AS mid, t.stan AS stan, t.rrn AS rrn, t.auth_code AS auth_code, "
    "COALESCE(t.masked_pan, w.masked_code, '') AS account, COALESCE(t.scheme, w.wallet, '') AS scheme, "
    "COALESCE(t.issuer, '') AS institution, c.product AS product, o.created_at AS original_at, "
    "t.created_at AS txn_at, t.original_id AS original_id "
    "FROM postings p "
    "JOIN legs l ON l.posting_id = p.id AND substr(l.account_id, 1, 9) = 'merchant:' "
    "JOIN transactions t ON t.id = p.txn_id "
    "LEFT JOIN cards c ON c.token = t.card_token "
    "LEFT JOIN wallet_orders w ON w.txn_id = t.id "
    "LEFT JOIN transactions o ON o.id = t.original_id "
    "LEFT JOIN clearing_lines cl ON cl.source = 'posting' AND cl.source_id = p.id "
    "WHERE p.kind <> 'clearing' AND cl.source_id IS NULL AND p.created_at < ?")

_DISPUTE_EVENTS = (
    "SELECT d.id, '{source}', d.{column}, d.amount, t.id, t.txn_type, t.tid, t.mid, t.stan, t.rrn, t.auth_code, "
    "COALESCE(t.masked_pan, w.masked_code, ''), COALESCE(t.scheme, w.wallet, ''), COALESCE(t.issuer, ''), "
    "c.product, t.created_at, t.created_at, t.id "
    "FROM disputes d JOIN transactions t ON t.id = d.txn_id "
    "LEFT JOIN cards c ON c.token = t.card_token "
    "LEFT JOIN wallet_orders w ON w.txn_id = t.id "
    "LEFT JOIN clearing_lines cl ON cl.source = '{source}' AND cl.source_id = d.id "
    "WHERE cl.source_id IS NULL AND d.{column} IS NOT NULL AND d.{column} < ?")


class ClearingStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._x = store._x   # the storage package's own statement runner

    # --- days -----------------------------------------------------------------------------

    def cleared_days(self) -> dict[date, tuple[date, int, dict[str, str]]]:
        """Every cleared day -> (settlement date, lines, file checksums)."""
        rows = self._x("SELECT clearing_date, settlement_date, lines, checksums FROM clearing_days").fetchall()
        return {date.fromisoformat(d): (date.fromisoformat(s), int(n), json.loads(c)) for d, s, n, c in rows}

    def close_day(self, day: date, settlement: date, lines: int, checksums: dict[str, str], cleared_at: str) -> bool:
        """Record the day as cleared; False when another run recorded it first (roll back then)."""
        return bool(self._x(
            "INSERT INTO clearing_days (clearing_date, settlement_date, lines, checksums, cleared_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (clearing_date) DO NOTHING",
            (day.isoformat(), settlement.isoformat(), lines, json.dumps(checksums, sort_keys=True),
             cleared_at)).rowcount == 1)

    def lock_clearing(self) -> None:
        """Hold the clearing lock until the transaction ends. PostgreSQL: a transaction-level
        advisory lock (other processes' runs wait here); SQLite: the write lock `begin` took."""
        if self.store.shared:
            self._x("SELECT pg_advisory_xact_lock(hashtext('tillkit clearing'))")

    # --- events ---------------------------------------------------------------------------

    def day_events(self, end: datetime) -> Iterator[EventRow]:
        """Uncleared postings on merchants' accounts before `end` (UTC), by merchant then time.

        On SQLite copied into a temporary table first: the run writes
        `clearing_lines` while it reads the events, and a query must not read a
        table its own connection is changing.
        """
        if self.store.shared:
            # PostgreSQL's cursors are insensitive (they read the snapshot of their opening), so the
            # query streams as is, sorted in the server's memory rather than on its disk
            self._x("SET LOCAL work_mem = '256MB'")
            yield from self._stream(f"{_EVENTS} ORDER BY mid, at, pid", (end.isoformat(),))
            return
        self._x("DROP TABLE IF EXISTS clearing_events")
        self._x(f"CREATE TEMP TABLE clearing_events AS {_EVENTS}", (end.isoformat(),))
        yield from self._x(f"SELECT {_EVENT_COLUMNS} FROM clearing_events ORDER BY mid, at, pid")
        self._x("DROP TABLE clearing_events")

    def _stream(self, sql: str, params: tuple[Any, ...]) -> Iterator[EventRow]:
        """PostgreSQL: rows through a server-side cursor, fetched in batches (a plain one would
        hold a million rows in memory)."""
        connection = self.store.psycopg_connection()   # type: ignore[attr-defined]  # PostgresStore's own
        with connection.cursor(name="clearing_events") as cursor:
            cursor.itersize = 10_000
            cursor.execute(sql.replace("?", "%s"), params)
            yield from cursor

    def dispute_events(self, end: datetime) -> list[EventRow]:
        """Chargebacks and re-presentments recorded before `end` and not cleared yet."""
        rows: list[EventRow] = []
        for source, column in (("chargeback", "opened_at"), ("representment", "represented_at")):
            rows += self._x(_DISPUTE_EVENTS.format(source=source, column=column), (end.isoformat(),)).fetchall()
        return rows

    def first_uncleared(self, end: datetime) -> str | None:
        """The UTC time of the earliest uncleared merchant posting before `end` (None: none)."""
        row = self._x(
            "SELECT MIN(p.created_at) FROM postings p "
            "JOIN legs l ON l.posting_id = p.id AND substr(l.account_id, 1, 9) = 'merchant:' "
            "LEFT JOIN clearing_lines cl ON cl.source = 'posting' AND cl.source_id = p.id "
            "WHERE p.kind <> 'clearing' AND p.txn_id IS NOT NULL AND cl.source_id IS NULL AND p.created_at < ?",
            (end.isoformat(),)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def original_fees(self, txn_id: int) -> tuple[int, int, int, int] | None:
        """The fees the first cleared line of a transaction took (what a void or reversal gives back)."""
        row = self._x("SELECT issuer_fee, network_fee, network_fee_issuer, acquirer_fee FROM clearing_lines "
                      "WHERE txn_id = ? AND source = 'posting' ORDER BY clearing_date, seq LIMIT 1",
                      (txn_id,)).fetchone()
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    # --- lines ----------------------------------------------------------------------------

    def save_lines(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert clearing lines (columns of `LINE_COLUMNS`), many per statement."""
        if self.store.shared:   # PostgreSQL: COPY, an order of magnitude above multi-row INSERTs
            connection = self.store.psycopg_connection()   # type: ignore[attr-defined]  # PostgresStore's own
            with connection.cursor() as cursor, cursor.copy(
                    f"COPY clearing_lines ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        width = len(LINE_COLUMNS)
        for start in range(0, len(rows), 500):
            chunk = rows[start:start + 500]
            marks = ", ".join(["(" + ", ".join(["?"] * width) + ")"] * len(chunk))
            self._x(f"INSERT INTO clearing_lines ({', '.join(LINE_COLUMNS)}) VALUES {marks}",
                    [value for row in chunk for value in row])

    def lines(self, day: date, mid: str | None = None) -> Iterator[tuple[Any, ...]]:
        """A cleared day's lines (columns of `LINE_COLUMNS`) in their order, one merchant's or all."""
        columns = ", ".join(LINE_COLUMNS)
        if mid is None:
            cursor = self._x(f"SELECT {columns} FROM clearing_lines WHERE clearing_date = ? ORDER BY seq",
                             (day.isoformat(),))
        else:
            cursor = self._x(f"SELECT {columns} FROM clearing_lines WHERE clearing_date = ? AND mid = ? "
                             "ORDER BY seq", (day.isoformat(), mid))
        yield from cursor

    def save_merchant_days(self, day: date, settlement: date, rows: Sequence[tuple[str, int, int, int, int]]) -> None:
        """(mid, lines, amount, mdr, net) per merchant of a cleared day."""
        for mid, count, amount, mdr, net in rows:
            self._x("INSERT INTO merchant_days (clearing_date, mid, settlement_date, lines, amount, mdr, net) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (day.isoformat(), mid, settlement.isoformat(), count, amount, mdr, net))

    def merchant_dues(self, until: date) -> list[tuple[date, str, int, int]]:
        """(settlement date, mid, days, net) of every settlement date up to `until`, in date order."""
        rows = self._x("SELECT settlement_date, mid, COUNT(*), CAST(SUM(net) AS BIGINT) FROM merchant_days "
                       "WHERE settlement_date <= ? GROUP BY settlement_date, mid ORDER BY settlement_date, mid",
                       (until.isoformat(),)).fetchall()
        return [(date.fromisoformat(s), m, int(n), int(net)) for s, m, n, net in rows]

    # --- disputes -------------------------------------------------------------------------

    def transaction_for_dispute(self, rrn: str) -> tuple[int, str, int, str] | None:
        """(id, mid, amount, txn type) of the transaction with this RRN."""
        row = self._x("SELECT id, mid, amount, txn_type FROM transactions WHERE rrn = ?", (rrn,)).fetchone()
        return None if row is None else (int(row[0]), row[1], int(row[2]), row[3])

    def dispute_of(self, txn_id: int) -> tuple[int, str, int] | None:
        """(id, state, amount) of the transaction's dispute."""
        row = self._x("SELECT id, state, amount FROM disputes WHERE txn_id = ? ORDER BY id DESC LIMIT 1",
                      (txn_id,)).fetchone()
        return None if row is None else (int(row[0]), row[1], int(row[2]))

    def open_dispute(self, txn_id: int, amount: int, reason: str, at: str) -> int:
        self._x("INSERT INTO disputes (txn_id, amount, state, reason, opened_at) VALUES (?, ?, 'opened', ?, ?)",
                (txn_id, amount, reason, at))
        return int(self._x("SELECT MAX(id) FROM disputes WHERE txn_id = ?", (txn_id,)).fetchone()[0])

    def move_dispute(self, dispute_id: int, state: str, at: str) -> None:
        column = {"represented": "represented_at", "closed": "closed_at"}[state]
        self._x(f"UPDATE disputes SET state = ?, {column} = ? WHERE id = ?", (state, at, dispute_id))
