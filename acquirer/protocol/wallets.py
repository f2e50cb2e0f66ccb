"""The wallet test-data file (`wallets.toml`): each wallet's key and rules, and the test accounts.

Why in the protocol layer: the file is shared by both ends of the wallet
channel. The virtual wallet app (`drivers.sim.wallet`, which may import only
`acquirer.protocol`) makes payment codes with a wallet's key and an
account's number; the acquirer's wallet back end (`acquirer.wallet`) checks
them with the same key and holds the accounts in its ledger. One loader, so
both read the file the same way.

Every value is checked once, here; an error names the file and the key
(`config/wallets.toml: account[2].wallet: no [wallet.paypal]`).
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acquirer.protocol.errors import ErrorKind, TillkitError
from acquirer.protocol.wallet_codes import ACCOUNT_DIGITS, SHAPES

__all__ = ["PASSWORD_RULES", "WALLETS_FILE", "WalletAccount", "WalletFileError", "WalletSettings", "Wallets",
           "load_wallets"]

WALLETS_FILE = "wallets.toml"
PASSWORD_RULES = ("over-limit", "always")
KINDS = tuple(shape.kind for shape in SHAPES)
DEFAULT_APP_PORT = 8584


class WalletFileError(TillkitError, ValueError):
    kind = ErrorKind.TERMINAL
    message_key = "config.invalid"

    """A missing or wrong value in the wallets file: `file`, `key` (e.g. "account[2].wallet") and `reason`."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file, self.key, self.reason = file, key, reason
        super().__init__(f"{file}: {key}: {reason}")


@dataclass(frozen=True)
class WalletSettings:
    """One wallet back end: its code key and when a payment waits for the customer's password."""

    kind: str                    # "alipay", "wechat", "unionpay"
    key: bytes                   # TEST KEY: MACs the wallet's payment codes
    password_free_limit: int     # fen: a larger payment waits for the password ("user paying")
    confirm_delay_s: float       # how long the simulated customer takes to enter it


@dataclass(frozen=True)
class WalletAccount:
    """A test account of a wallet."""

    wallet: str
    number: int                  # carried in the account's payment codes (1-999)
    name: str                    # unique across wallets, e.g. "alipay-alice"
    balance: int                 # fen, at the acquirer's first start
    password: str = "over-limit"  # "over-limit" or "always"
    confirms: bool = True        # False: the customer never enters the password

    def asks_password(self, amount: int, settings: WalletSettings) -> bool:
        return self.password == "always" or amount > settings.password_free_limit


@dataclass(frozen=True)
class Wallets:
    path: Path
    settings: dict[str, WalletSettings]
    accounts: tuple[WalletAccount, ...]
    app_port: int

    @property
    def keys(self) -> dict[str, bytes]:
        return {kind: s.key for kind, s in self.settings.items()}

    def account(self, name: str) -> WalletAccount:
        found = next((a for a in self.accounts if a.name == name), None)
        if found is None:
            raise WalletFileError(str(self.path), "account", f"no account named {name!r} "
                                  f"(accounts: {', '.join(a.name for a in self.accounts)})")
        return found

    def by_number(self, wallet: str, number: int) -> WalletAccount | None:
        return next((a for a in self.accounts if a.wallet == wallet and a.number == number), None)

    def first_account(self, wallet: str) -> WalletAccount:
        found = next((a for a in self.accounts if a.wallet == wallet), None)
        if found is None:
            raise WalletFileError(str(self.path), "account", f"wallet {wallet!r} has no [[account]]")
        return found


def load_wallets(path: str | os.PathLike[str]) -> Wallets:
    """Read and check a wallets file; raises `WalletFileError`."""
    path = Path(path)
    file = str(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise WalletFileError(file, "(file)", "not found") from None
    except tomllib.TOMLDecodeError as e:
        raise WalletFileError(file, "(syntax)", str(e)) from None
    fields = _Fields(file)
    app_port = fields.integer(fields.table(data, "apps", ""), "port", "apps", 0, 65535, DEFAULT_APP_PORT)
    wallets = fields.table(data, "wallet", "")
    settings: dict[str, WalletSettings] = {}
    for kind in wallets:
        where = f"wallet.{kind}"
        if kind not in KINDS:
            raise WalletFileError(file, where, f"unknown wallet; one of {', '.join(KINDS)}")
        table = fields.table(wallets, kind, "wallet")
        settings[kind] = WalletSettings(
            kind=kind, key=fields.key(table, "key", where),
            password_free_limit=fields.integer(table, "password_free_limit", where, 0, 10 ** 12),
            confirm_delay_s=fields.seconds(table, "confirm_delay_s", where))
    rows = data.get("account", [])
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise WalletFileError(file, "account", "must be an array of tables ([[account]])")
    accounts: list[WalletAccount] = []
    for i, row in enumerate(rows):
        where = f"account[{i}]"
        wallet = fields.text(row, "wallet", where)
        if wallet not in settings:
            raise WalletFileError(file, f"{where}.wallet", f"no [wallet.{wallet}]")
        account = WalletAccount(
            wallet=wallet, number=fields.integer(row, "number", where, 1, 10 ** ACCOUNT_DIGITS - 1),
            name=fields.text(row, "name", where), balance=fields.integer(row, "balance", where, 0, 10 ** 12),
            password=fields.choice(row, "password", where, PASSWORD_RULES, "over-limit"),
            confirms=fields.flag(row, "confirms", where, True))
        if any(a.name == account.name for a in accounts):
            raise WalletFileError(file, f"{where}.name", f"account {account.name!r} is defined twice")
        if any((a.wallet, a.number) == (wallet, account.number) for a in accounts):
            raise WalletFileError(file, f"{where}.number", f"{wallet} account number {account.number} is taken")
        accounts.append(account)
    return Wallets(path, settings, tuple(accounts), app_port)


class _Fields:
    """Typed reads of TOML values whose errors name the file and the key path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def _error(self, where: str, key: str, reason: str) -> WalletFileError:
        return WalletFileError(self.file, f"{where}.{key}" if where else key, reason)

    def _raw(self, table: dict[str, Any], key: str, where: str, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                raise self._error(where, key, "missing")
            return default
        return table[key]

    def table(self, data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self._error(where, key, "must be a table")
        return value

    def text(self, table: dict[str, Any], key: str, where: str) -> str:
        value = self._raw(table, key, where)
        if not isinstance(value, str) or not value:
            raise self._error(where, key, f"must be a non-empty string, got {value!r}")
        return value

    def choice(self, table: dict[str, Any], key: str, where: str, options: tuple[str, ...], default: str) -> str:
        value = self._raw(table, key, where, default)
        if value not in options:
            raise self._error(where, key, f"must be one of {', '.join(options)}; got {value!r}")
        return value

    def flag(self, table: dict[str, Any], key: str, where: str, default: bool) -> bool:
        value = self._raw(table, key, where, default)
        if not isinstance(value, bool):
            raise self._error(where, key, f"must be true or false, got {value!r}")
        return value

    def integer(self, table: dict[str, Any], key: str, where: str, low: int, high: int, default: Any = ...) -> int:
        value = self._raw(table, key, where, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._error(where, key, f"must be an integer from {low} to {high}, got {value!r}")
        return value

    def seconds(self, table: dict[str, Any], key: str, where: str) -> float:
        value = self._raw(table, key, where)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self._error(where, key, f"must be a number of seconds >= 0, got {value!r}")
        return float(value)

    def key(self, table: dict[str, Any], key: str, where: str) -> bytes:
        value = self._raw(table, key, where)
        try:
            raw = bytes.fromhex(value) if isinstance(value, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != 16:
            raise self._error(where, key, f"must be 32 hex digits (a 16-byte test key), got {value!r}")
        return raw
