"""The wallet test-data file (`wallets.toml`): each wallet's key and rules, and the test accounts.

Why in the protocol layer: the file is shared by both ends of the wallet
channel. The virtual wallet app (`drivers.sim.wallet`, which may import only
`acquirer.protocol`) makes payment codes with a wallet's key and an
account's number; the acquirer's wallet back end (`acquirer.wallet`) checks
them with the same key and holds the accounts in its ledger. One loader, so
both read the file the same way.

Every value is checked once, here: `WalletsFile` is the file's schema, read
by the kit's one settings loader (`acquirer.protocol.settings_file`); an
error is one line naming the file and the key
(`config/wallets.toml: account[2].wallet: no [wallet.paypal]`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from acquirer.protocol.settings_file import SettingsError, SettingsModel, load_settings
from acquirer.protocol.wallet_codes import ACCOUNT_DIGITS, SHAPES

__all__ = ["PASSWORD_RULES", "WALLETS_FILE", "WalletAccount", "WalletFileError", "WalletSettings", "Wallets",
           "load_wallets"]

WALLETS_FILE = "wallets.toml"
PASSWORD_RULES = ("over-limit", "always")
KINDS = tuple(shape.kind for shape in SHAPES)
DEFAULT_APP_PORT = 8584


#: a missing or wrong value in the wallets file (`file: key: reason`): the kit's one settings error
WalletFileError = SettingsError


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


class AppsSection(SettingsModel):
    """`[apps]`: where the wallet apps reach `acquirer serve`."""

    port: Annotated[int, Field(ge=0, le=65535)] = DEFAULT_APP_PORT


def _test_key(value: object) -> bytes:
    """32 hex digits as the 16-byte key (the wallet's TEST KEY)."""
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise ValueError("must be 32 hex digits (a 16-byte test key)")
    return raw


class WalletSection(SettingsModel):
    """`[wallet.KIND]`: one wallet back end."""

    key: Annotated[bytes, BeforeValidator(_test_key)]
    password_free_limit: Annotated[int, Field(ge=0, le=10 ** 12)]
    confirm_delay_s: Annotated[float, Field(ge=0)]


class AccountRow(SettingsModel):
    """One `[[account]]`: a test account of a wallet."""

    wallet: Annotated[str, Field(min_length=1)]
    number: Annotated[int, Field(ge=1, le=10 ** ACCOUNT_DIGITS - 1)]
    name: Annotated[str, Field(min_length=1)]
    balance: Annotated[int, Field(ge=0, le=10 ** 12)]
    password: Literal["over-limit", "always"] = "over-limit"
    confirms: bool = True


class WalletsFile(SettingsModel):
    """The whole of wallets.toml; what spans tables (a known wallet, unique accounts) `load_wallets` checks."""

    apps: AppsSection = AppsSection()
    wallet: dict[str, WalletSection] = {}
    account: list[AccountRow] = []


def load_wallets(path: str | os.PathLike[str]) -> Wallets:
    """Read and check a wallets file; raises `WalletFileError` (the kit's `SettingsError`)."""
    path = Path(path)
    file = str(path)
    data = load_settings(path, WalletsFile)
    settings: dict[str, WalletSettings] = {}
    for kind, table in data.wallet.items():
        if kind not in KINDS:
            raise WalletFileError(file, f"wallet.{kind}", f"unknown wallet; one of {', '.join(KINDS)}")
        settings[kind] = WalletSettings(kind=kind, key=table.key, password_free_limit=table.password_free_limit,
                                        confirm_delay_s=table.confirm_delay_s)
    accounts: list[WalletAccount] = []
    for i, row in enumerate(data.account):
        where = f"account[{i}]"
        if row.wallet not in settings:
            raise WalletFileError(file, f"{where}.wallet", f"no [wallet.{row.wallet}]")
        account = WalletAccount(wallet=row.wallet, number=row.number, name=row.name, balance=row.balance,
                                password=row.password, confirms=row.confirms)
        if any(a.name == account.name for a in accounts):
            raise WalletFileError(file, f"{where}.name", f"account {account.name!r} is defined twice")
        if any((a.wallet, a.number) == (row.wallet, account.number) for a in accounts):
            raise WalletFileError(file, f"{where}.number", f"{row.wallet} account number {account.number} is taken")
        accounts.append(account)
    return Wallets(path, settings, tuple(accounts), data.apps.port)
