"""Double-entry ledger: accounts, balanced postings, balances.

Every movement of money is a posting whose legs sum to zero; `post` refuses
anything else before it touches the database, and a test sums the legs of
every posting in the database. Each account's `balance` column equals the
sum of its legs in every committed state, so reading a balance is one
primary-key lookup (the authorization hot path reads several). SQLite
updates it in the same savepoint as the legs; PostgreSQL does so for accounts
with a floor and writes the others' sums at COMMIT (`acquirer.storage.postgres`).

Accounts (ids are text, kinds fixed by the schema):

| id                  | kind       | meaning                                            | may go negative |
| ------------------- | ---------- | -------------------------------------------------- | --------------- |
| `card:<token>`      | cardholder | the card's available funds (debit: balance; credit: limit - used) | no |
| `hold:<token>`      | hold       | funds held by open pre-authorizations               | no              |
| `merchant:<mid>`    | merchant   | what the acquirer owes the merchant                 | yes (refunds)   |
| `issuer:<name>`     | issuer     | the issuer's funding / credit line (opens cards)    | yes             |
| `fee:<name>`        | fee        | issuer, network and acquirer fees (clearing posts them) | yes         |

Signs: a leg's amount is added to the account's balance; a sale of 100 fen is
`card:<t> -100, merchant:<mid> +100`.

"Available never goes negative": the schema's CHECK constraint refuses a
negative balance on cardholder and hold accounts, and `post` turns that into
`InsufficientFunds` with nothing written -- the issuer answers 51. Checking in
the database rather than reading the balance first keeps it one statement and
free of read-then-write races (on PostgreSQL a conditional update under the
rows' locks, `acquirer.storage.postgres`).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from acquirer.storage.store import NegativeBalance, Store

__all__ = [
    "ACCOUNT_KINDS",
    "InsufficientFunds",
    "Ledger",
    "UnbalancedPosting",
    "card_account",
    "fee_account",
    "hold_account",
    "issuer_account",
    "merchant_account",
]

#: account kind -> may its balance go below zero
ACCOUNT_KINDS = {"cardholder": False, "hold": False, "merchant": True, "issuer": True, "fee": True}
FEE_ACCOUNTS = ("issuer", "network", "acquirer")

Leg = tuple[str, int]


class UnbalancedPosting(ValueError):
    """The legs of a posting do not sum to zero (or are not integer fen)."""


class InsufficientFunds(Exception):
    """A posting would take an account that may not go negative below zero."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        super().__init__(f"account {account_id} would go negative")


def card_account(token: str) -> str:
    return f"card:{token}"


def hold_account(token: str) -> str:
    return f"hold:{token}"


def merchant_account(mid: str) -> str:
    return f"merchant:{mid}"


def issuer_account(name: str) -> str:
    return f"issuer:{name}"


def fee_account(name: str) -> str:
    return f"fee:{name}"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Ledger:
    """Postings through the host's store (call inside a `GroupCommit.unit`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open_account(self, account_id: str, kind: str) -> bool:
        """Create the account if it does not exist; True when it was created."""
        if kind not in ACCOUNT_KINDS:
            raise ValueError(f"unknown account kind {kind!r}; expected one of {', '.join(ACCOUNT_KINDS)}")
        return self.store.open_account(account_id, kind, ACCOUNT_KINDS[kind])

    def open_fee_accounts(self) -> None:
        for name in FEE_ACCOUNTS:
            self.open_account(fee_account(name), "fee")

    def balance(self, account_id: str) -> int:
        balance = self.store.balance(account_id)
        if balance is None:
            raise KeyError(f"no account {account_id!r}")
        return balance

    def post(self, kind: str, legs: Iterable[Leg], txn_id: int | None = None,
             created_at: str | None = None) -> int:
        """Record one balanced posting; returns its id.

        Raises `UnbalancedPosting` (nothing written) when the legs do not sum to
        zero, and `InsufficientFunds` (nothing written) when a cardholder or
        hold account would go negative. Legs on the same account are netted.

        All balances change in one statement (`Store.apply_legs`), applied
        whole or not at all, so no savepoint is needed (this is the
        authorization hot path). A posting to an account that does not exist
        is a defect: `KeyError`, and the caller's unit rolls back.
        """
        net: dict[str, int] = {}
        for account, amount in legs:
            _check_amount(account, amount)
            net[account] = net.get(account, 0) + amount
        merged = [(account, amount) for account, amount in net.items() if amount != 0]
        _check_balanced(merged)
        try:
            updated = self.store.apply_legs(merged)
        except NegativeBalance:
            raise InsufficientFunds(self._short_account(merged)) from None
        if updated != len(merged):
            raise KeyError(f"posting to unknown accounts among {[a for a, _ in merged]}")
        return self.store.insert_posting(txn_id, kind, created_at or utc_now(), merged)

    def _short_account(self, legs: Sequence[Leg]) -> str:
        """The first account a refused posting would have taken below zero (failure path only)."""
        for account, amount in legs:
            state = self.store.account_state(account)
            if state is not None and not state[1] and state[0] + amount < 0:
                return account
        return legs[0][0]

    def legs_of(self, txn_id: int) -> list[Leg]:
        """Every leg posted for a transaction, netted per account (zero nets left out)."""
        return [(account, total) for account, total in self.store.legs_of(txn_id) if total != 0]

    def opposite(self, txn_id: int) -> list[Leg]:
        """Legs that cancel the net of everything posted for `txn_id` (empty when it moved nothing)."""
        return [(account, -amount) for account, amount in self.legs_of(txn_id)]

    def undo(self, txn_id: int, kind: str, created_at: str | None = None) -> int | None:
        """Post `opposite(txn_id)` booked to `txn_id` itself (a reversal).

        Afterwards the transaction's legs net to zero and a second undo posts
        nothing (returns None, as for a transaction that moved no money).
        Raises `InsufficientFunds` when money it paid out is no longer there.
        """
        legs = self.opposite(txn_id)
        if not legs:
            return None
        return self.post(kind, legs, txn_id, created_at)


def _check_amount(account: str, amount: object) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise UnbalancedPosting(f"leg on {account}: amount must be integer fen, got {amount!r}")


def _check_balanced(legs: Sequence[Leg]) -> None:
    total = sum(amount for _, amount in legs)
    if total != 0:
        raise UnbalancedPosting(f"legs sum to {total} fen, not 0: {legs!r}")
    if len(legs) < 2:
        raise UnbalancedPosting(f"a posting needs at least two non-zero legs, got {legs!r}")
