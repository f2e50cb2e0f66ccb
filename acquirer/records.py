"""The acquirer's transaction records: one row per financial request the host processed.

A row is written as soon as a request passes the host's checks (terminal,
sign-on, MAC, batch) and reaches processing, approved or not, so the
duplicate rule can be the database's: UNIQUE (tid, mid, batch, stan,
local_date). The store's insert names that constraint as its conflict target
and inserts nothing when the key is taken; `insert` turns that into
`Duplicate` (94), the whole request's unit is rolled back, so a duplicate
changes nothing -- in one process or many.

`local_date` is the Asia/Shanghai calendar date on which the host received
the request (the link carries no date in a sale). Statuses:

- `approved`, `declined`: the outcome of the request itself;
- `voided` (a sale, pre-auth or completion whose void was approved),
  `completed` (a pre-auth a completion captured), `reversed` (undone by 0400);
- `pending`: a wallet payment waiting for its customer (confirming on the
  phone, or yet to pay a merchant-presented code), until paid, failed or
  closed by a reversal (`acquirer.wallet`);
- `tombstone`: a reversal arrived for a STAN the host had not seen. The row
  holds that STAN's key so the original, if it arrives later, is a duplicate
  (94) and never posts.

Cards appear only as token + masked PAN.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from acquirer.decline import Decline
from acquirer.storage.store import Store

__all__ = ["Duplicate", "Records", "TxnKey", "TxnRow"]


class Duplicate(Decline):
    """A request with the same TID, MID, batch, STAN and date was already processed (94)."""

    def __init__(self, key: TxnKey) -> None:
        self.key = key
        super().__init__("94", f"duplicate transmission: terminal {key.tid}, batch {key.batch}, "
                               f"STAN {key.stan}, {key.local_date}")


@dataclass(frozen=True)
class TxnKey:
    """What makes a request unique on the link."""

    tid: str
    mid: str
    batch: str
    stan: str
    local_date: str   # YYYY-MM-DD, Asia/Shanghai


@dataclass(frozen=True)
class TxnRow:
    id: int
    txn_type: str
    tid: str
    mid: str
    batch: str
    stan: str
    local_date: str
    amount: int
    card_token: str | None
    issuer: str | None
    status: str
    response_code: str | None
    rrn: str | None
    auth_code: str | None
    original_id: int | None
    refunded: int
    fingerprint: str | None = None   # tokens.icc_fingerprint of its field 55


#: the largest multiple of 10**6 below 2**32: 32-bit draws under it give uniform auth codes
_UNBIASED_LIMIT = (2**32 // 1_000_000) * 1_000_000


class Records:
    """Reads and writes of `transactions` through the host's store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._random: Iterator[int] = iter(())

    def next_rrn(self) -> str:
        """A fresh retrieval reference number: 12 digits, unique (from the database's counter)."""
        return self.store.next_rrn()

    def new_id(self) -> int:
        """The id the next `insert` will use: postings can name it before the row is written
        (the foreign key is checked at commit)."""
        return self.store.new_txn_id()

    def new_auth_code(self) -> str:
        """Six random digits (from the OS's CSPRNG, drawn a page at a time: one
        system call per authorization was a measurable share of one)."""
        while True:
            try:
                draw = next(self._random)
            except StopIteration:
                self._random = iter(memoryview(secrets.token_bytes(4096)).cast("I"))
                continue
            if draw < _UNBIASED_LIMIT:   # rejection keeps the six digits uniform
                return f"{draw % 1_000_000:06d}"

    def insert(self, txn_id: int, key: TxnKey, txn_type: str, amount: int, currency: str, *,
               status: str, created_at: str, response_code: str | None = None,
               card_token: str | None = None, masked_pan: str | None = None,
               scheme: str | None = None, issuer: str | None = None, entry_mode: str | None = None,
               rrn: str | None = None, auth_code: str | None = None,
               original_id: int | None = None, fingerprint: str | None = None) -> None:
        """Record a request with its outcome; raises `Duplicate` when its key is taken.

        The caller writes the row last, inside the request's unit: a duplicate
        then rolls back everything the request did.
        """
        if not self.store.insert_transaction(
                (txn_id, txn_type, key.tid, key.mid, key.batch, key.stan, key.local_date, amount,
                 currency, card_token, masked_pan, scheme, issuer, entry_mode, status, response_code,
                 rrn, auth_code, original_id, created_at, fingerprint)):
            raise Duplicate(key)

    def set_status(self, txn_id: int, status: str) -> None:
        self.store.set_status(txn_id, status)

    def resolve(self, txn_id: int, status: str, response_code: str, rrn: str | None = None,
                auth_code: str | None = None) -> None:
        """The outcome of a `pending` wallet payment, once the customer paid or it failed."""
        self.store.resolve(txn_id, status, response_code, rrn, auth_code)

    def add_refunded(self, txn_id: int, amount: int) -> None:
        self.store.add_refunded(txn_id, amount)

    def get(self, txn_id: int) -> TxnRow:
        row = self.store.transaction(txn_id)
        if row is None:
            raise KeyError(f"no transaction {txn_id}")
        return TxnRow(*row)

    def by_rrn(self, rrn: str) -> TxnRow | None:
        row = self.store.transaction_by_rrn(rrn)
        return TxnRow(*row) if row else None

    def by_key(self, key: TxnKey) -> TxnRow | None:
        row = self.store.transaction_by_key(key.tid, key.mid, key.batch, key.stan, key.local_date)
        return TxnRow(*row) if row else None

    def add_trace_reuse(self, key: TxnKey, txn_type: str, amount: int, card_token: str | None,
                        original_id: int, created_at: str) -> None:
        """Remember a request refused because another transaction holds its STAN."""
        self.store.add_trace_reuse(key.tid, key.mid, key.batch, key.stan, key.local_date, txn_type, amount,
                                   card_token, original_id, created_at)

    def reused_by(self, tid: str, mid: str, batch: str, stan: str, since: str, txn_type: str,
                  amount: int, card_token: str | None) -> bool:
        """Was a request with this STAN, type, amount (and card, when known) refused as a reuse?"""
        return self.store.reused_by(tid, mid, batch, stan, since, txn_type, amount, card_token)

    def by_stan(self, tid: str, mid: str, batch: str, stan: str, since: str) -> TxnRow | None:
        """The latest row with this terminal, batch and STAN received on or after `since`."""
        row = self.store.transaction_by_stan(tid, mid, batch, stan, since)
        return TxnRow(*row) if row else None
