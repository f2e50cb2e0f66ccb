"""The till's cashiers: who may sign on, and who is signed on now.

An operator is a number of 1-3 digits (what field 63 of the sign-on and
every slip carry) and a name; a password is optional. A password is never
stored: the registry keeps an scrypt hash of it (`hashlib.scrypt`, the
standard library's memory-hard key derivation, with a random 16-byte salt
per operator), written `scrypt$n$r$p$<salt hex>$<hash hex>` so the cost can
be raised later without breaking old entries. Checking a password compares
hashes in constant time.

Which operator a journal row names is the one signed on when the row was
written (`Journal.sign_on_operator`, kept in the journal so it holds across
restarts and from one CLI command to the next). Nobody signed on: the
configured `[terminal] operator` of pos.toml -- the single-cashier shop
never has to sign an operator on, and its rows and slips read as before.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from acquirer.protocol.errors import ErrorKind, TillkitError
from pos.journal.store import Journal

__all__ = ["Operator", "OperatorError", "OperatorRegistry", "hash_password", "password_matches"]

OPERATOR_ID = re.compile(r"[0-9]{1,3}")
NAME_MAX = 20
#: scrypt cost (n = 2**14, r = 8: 16 MiB, ~50 ms): a stolen journal does not give passwords away cheaply
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1


class OperatorError(TillkitError, ValueError):
    """An operator number, name or password the registry refuses (the message says which and why)."""

    kind = ErrorKind.REFUSED
    message_key = "operator.refused"


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    has_password: bool


def hash_password(password: str) -> str:
    """The stored form of a password: scrypt with a fresh random salt (never the password itself)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """True when `password` hashes to `stored` (constant-time comparison); False for a malformed entry."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def check_id(operator: str) -> str:
    if not OPERATOR_ID.fullmatch(operator):
        raise OperatorError(f"operator number {operator!r}: must be 1-3 digits")
    return operator


class OperatorRegistry:
    """The operators of one journal: add, list, remove, check a password, sign on."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def add(self, operator: str, name: str, password: str | None = None) -> Operator:
        """Add (or replace) `operator`; with `password`, only its hash is kept."""
        check_id(operator)
        name = name.strip()
        if not name or len(name) > NAME_MAX or not name.isprintable():
            raise OperatorError(f"operator name {name!r}: must be 1-{NAME_MAX} printable characters")
        if password is not None and not re.fullmatch(r"[0-9]{4,8}", password):
            raise OperatorError("operator password: must be 4-8 digits (the till's keypad types digits)")
        self.journal.put_operator(operator, name, hash_password(password) if password is not None else None)
        return Operator(operator, name, password is not None)

    def remove(self, operator: str) -> None:
        if not self.journal.delete_operator(check_id(operator)):
            raise OperatorError(f"operator {operator} is not registered")

    def all(self) -> list[Operator]:
        return [Operator(row["id"], row["name"], row["password_hash"] is not None)
                for row in self.journal.operator_rows()]

    def names(self) -> dict[str, str]:
        """Operator number -> name, for the reports' "by operator" lines."""
        return {row["id"]: row["name"] for row in self.journal.operator_rows()}

    @property
    def empty(self) -> bool:
        return not self.journal.operator_rows()

    def check(self, operator: str, password: str) -> bool:
        """True when `operator` is registered and `password` is its password (or it has none and none is given)."""
        row = self.journal.operator_row(operator)
        if row is None:
            return False
        stored = row["password_hash"]
        if stored is None:
            return password == ""
        return password_matches(password, stored)

    def sign_on(self, operator: str, password: str = "") -> Operator:
        """Sign `operator` on at the till (its rows and slips carry its number from now on)."""
        check_id(operator)
        if not self.check(operator, password):
            raise OperatorError(f"operator {operator}: unknown number or wrong password")
        row = self.journal.operator_row(operator)
        assert row is not None
        self.journal.sign_on_operator(operator)
        return Operator(operator, row["name"], row["password_hash"] is not None)

    def sign_off(self) -> None:
        self.journal.sign_off_operator()
