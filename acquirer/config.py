"""Load and validate the acquirer's configuration: `acquirer.toml`, `cards.toml` and `wallets.toml`.

Each file is read by the kit's one settings loader against its schema
(`acquirer/settings_schema.py`, `acquirer/protocol/cards_file.py`,
`acquirer/protocol/wallets.py`), so the operator learns which key of which
file is wrong (`acquirer.toml: terminal[1].tmk: ...`), not from a KeyError
deep in a transaction. What spans keys, rows or files (a BIN's issuer exists,
a card's BIN routes to its issuer) is checked here, once, at load, into
frozen dataclasses; the rest of the host never looks at raw TOML.

Where the files come from (first that applies): the `--config DIR` option, the
`TILLKIT_CONFIG` environment variable, the repository's `config/` directory
next to the `acquirer` package.

`cards.toml` is the simulated issuers' card file, the only place in the kit
where full test PANs and PINs live; the host's tables keep tokens and masked
PANs (see `tokens`). `wallets.toml`, when present, configures the wallet
channel (`acquirer.protocol.wallets` reads it: the virtual wallet app shares it).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from acquirer.protocol.cards_file import CARD_STATUSES, CardsFile
from acquirer.protocol.settings_file import SettingsError, load_settings
from acquirer.protocol.transactions import TxnTable, TxnType
from acquirer.protocol.wallets import WALLETS_FILE, Wallets, load_wallets
from acquirer.settings_schema import ISSUER_MODES, AcquirerFile, BinRow, IssuerRow, MerchantRow, TerminalRow
from acquirer.settings_schema import LimitsSection as Limits

__all__ = [
    "AcquirerConfig",
    "BinRoute",
    "Card",
    "ISSUER_MODES",
    "ConfigError",
    "DatabaseSettings",
    "HostSettings",
    "IssuerSettings",
    "Limits",
    "Merchant",
    "ServerSettings",
    "Terminal",
    "default_config_dir",
    "load_config",
    "resolve_config_dir",
]

ACQUIRER_FILE = "acquirer.toml"
CARDS_FILE = "cards.toml"


#: a configuration value missing or wrong (`file: key: reason`): the kit's one settings error
ConfigError = SettingsError


# --- the configuration as data ----------------------------------------------------

@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    max_frame: int          # largest payload accepted after the 2-byte length
    idle_timeout_s: float   # a connection silent this long is closed
    protocol_workers: int | None   # processes for decode, ARQC and sign (0: the host's own process; None: by CPUs)


@dataclass(frozen=True)
class DatabaseSettings:
    path: Path
    synchronous: str        # SQLite synchronous level with WAL: NORMAL, FULL or EXTRA
    commit_interval_ms: int       # group commit: how long the first request of a group waits
    url: str | None         # postgresql://... to run on PostgreSQL (several processes); None: SQLite at `path`

    @property
    def target(self) -> str:
        """What `acquirer.storage.open_store` opens: the PostgreSQL URL, else the SQLite file."""
        return self.url or str(self.path)


@dataclass(frozen=True)
class HostSettings:
    institution: str
    token_key: bytes        # TEST KEY: HMAC key of PAN tokens
    signon_ttl_s: int
    switch_timeout_ms: int
    pin_try_limit: int
    signon_pending: int     # sign-ons kept beside the working keys until one is used


@dataclass(frozen=True)
class BinRoute:
    """One `[[bin]]` row: PANs whose first len(low) digits lie in [low, high]."""

    low: str
    high: str
    network: str
    issuer: str

    def match_length(self, pan: str) -> int:
        """The prefix length this route matches `pan` with, 0 when it does not."""
        head = pan[:len(self.low)]
        if len(head) == len(self.low) and self.low <= head <= self.high:
            return len(self.low)
        return 0


@dataclass(frozen=True)
class IssuerSettings:
    name: str
    network: str
    zpk: bytes          # TEST KEY: zone PIN key between the acquirer and this issuer
    mode: str           # "normal", "slow" or "down" (the simulator can change it at run time)
    delay_ms: int


@dataclass(frozen=True)
class Merchant:
    mid: str
    name_zh: str
    name_en: str
    mcc: str
    city: str


@dataclass(frozen=True)
class Terminal:
    tid: str
    mid: str
    tmk: bytes            # TEST KEY: terminal master key
    mac: str              # field 64 algorithm: "ecb" or "x919"
    # transaction types this terminal may run; None = all (others get 58)
    transactions: frozenset[TxnType] | None


@dataclass(frozen=True)
class Card:
    """A test card of the issuers' card file. `opening_balance` is the balance of a
    debit card or the credit limit of a credit card (available funds at start)."""

    name: str
    scheme: str
    product: str            # "debit" or "credit"
    issuer: str
    pan: str
    psn: str
    expiry: str             # YYMM
    pin: str
    opening_balance: int    # fen
    per_txn_limit: int | None
    aid: str
    label: str
    imk_ac: bytes
    cvn: int | None
    status: str             # "active", "lost" or "stolen"

    @property
    def status_code(self) -> str | None:
        """The response code a card of this status is declined with (None: active)."""
        return CARD_STATUSES[self.status]


@dataclass(frozen=True)
class AcquirerConfig:
    directory: Path
    server: ServerSettings
    database: DatabaseSettings
    host: HostSettings
    bins: tuple[BinRoute, ...]
    issuers: Mapping[str, IssuerSettings]
    fees: Mapping[str, int]
    merchants: Mapping[str, Merchant]
    terminals: Mapping[tuple[str, str], Terminal]   # (tid, mid) -> terminal
    cards: tuple[Card, ...]
    txn_table: TxnTable
    wallets: Wallets | None   # wallets.toml; None: no wallet channel (its requests get 40)
    limits: Limits


# --- where the files are ----------------------------------------------------------

def default_config_dir() -> Path:
    """The repository's `config/` directory next to the `acquirer` package."""
    return Path(__file__).resolve().parent.parent / "config"


def resolve_config_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """`--config DIR` if given, else `TILLKIT_CONFIG`, else `default_config_dir()`."""
    if option:
        return Path(option)
    env = os.environ.get("TILLKIT_CONFIG")
    return Path(env) if env else default_config_dir()


# --- loading ----------------------------------------------------------------------

def load_config(directory: str | os.PathLike[str] | None = None) -> AcquirerConfig:
    """Read and check the files of a configuration directory; raises `ConfigError`.

    Every key is checked by the schemas as the files are read; what is left
    here is building the frozen settings and the rules that span rows or files.
    """
    directory = resolve_config_dir(directory)
    acq_path, cards_path = directory / ACQUIRER_FILE, directory / CARDS_FILE
    acq = load_settings(acq_path, AcquirerFile)
    server, db, host = acq.server, acq.database, acq.host
    issuers = _issuers(acq_path, acq.issuer)
    bins = tuple(_bin_route(acq_path, i, row, issuers) for i, row in enumerate(acq.bin))
    merchants = _merchants(acq_path, acq.merchant)
    cards = _cards(cards_path, load_settings(cards_path, CardsFile), issuers, bins)
    wallets_path = directory / WALLETS_FILE
    return AcquirerConfig(
        directory=directory,
        server=ServerSettings(host=server.host, port=server.port, max_frame=server.max_frame,
                              idle_timeout_s=float(server.idle_timeout_s),
                              protocol_workers=server.protocol_workers),
        database=DatabaseSettings(path=Path(db.path), synchronous=db.synchronous,
                                  commit_interval_ms=db.commit_interval_ms, url=db.url),
        host=HostSettings(institution=host.institution, token_key=host.token_key,
                          signon_ttl_s=host.signon_ttl_s, switch_timeout_ms=host.switch_timeout_ms,
                          pin_try_limit=host.pin_try_limit, signon_pending=host.signon_pending),
        bins=bins, issuers=issuers, fees=dict(acq.fees), merchants=merchants,
        terminals=_terminals(acq_path, acq.terminal, merchants), cards=cards,
        txn_table=TxnTable(acq.processing_codes),
        wallets=load_wallets(wallets_path) if wallets_path.exists() else None, limits=acq.limits,
    )


def _issuers(path: Path, rows: list[IssuerRow]) -> dict[str, IssuerSettings]:
    issuers: dict[str, IssuerSettings] = {}
    for i, row in enumerate(rows):
        if row.name in issuers:
            raise ConfigError(str(path), f"issuer[{i}].name", f"issuer {row.name!r} is defined twice")
        issuers[row.name] = IssuerSettings(name=row.name, network=row.network, zpk=row.zpk, mode=row.mode,
                                           delay_ms=row.delay_ms)
    return issuers


def _bin_route(path: Path, i: int, row: BinRow, issuers: Mapping[str, IssuerSettings]) -> BinRoute:
    if row.issuer not in issuers:
        raise ConfigError(str(path), f"bin[{i}].issuer", f"no [[issuer]] named {row.issuer!r}")
    low, high = row.bounds
    return BinRoute(low=low, high=high, network=row.network, issuer=row.issuer)


def _merchants(path: Path, rows: list[MerchantRow]) -> dict[str, Merchant]:
    merchants: dict[str, Merchant] = {}
    for i, row in enumerate(rows):
        if row.mid in merchants:
            raise ConfigError(str(path), f"merchant[{i}].mid", f"merchant {row.mid} is defined twice")
        merchants[row.mid] = Merchant(mid=row.mid, name_zh=row.name_zh, name_en=row.name_en, mcc=row.mcc,
                                      city=row.city)
    return merchants


def _terminals(path: Path, rows: list[TerminalRow],
               merchants: Mapping[str, Merchant]) -> dict[tuple[str, str], Terminal]:
    terminals: dict[tuple[str, str], Terminal] = {}
    for i, row in enumerate(rows):
        if row.mid not in merchants:
            raise ConfigError(str(path), f"terminal[{i}].mid", f"no [[merchant]] with mid {row.mid!r}")
        if (row.tid, row.mid) in terminals:
            raise ConfigError(str(path), f"terminal[{i}].tid", f"terminal {row.tid} of {row.mid} is defined twice")
        permitted = None if row.transactions is None else frozenset(TxnType(n) for n in row.transactions)
        terminals[(row.tid, row.mid)] = Terminal(tid=row.tid, mid=row.mid, tmk=row.tmk, mac=row.mac,
                                                 transactions=permitted)
    return terminals


def _cards(path: Path, data: CardsFile, issuers: Mapping[str, IssuerSettings],
           bins: tuple[BinRoute, ...]) -> tuple[Card, ...]:
    """The card file's rows as `Card`s, with what spans rows and files checked: names, PANs, issuers, BINs."""
    cards: list[Card] = []
    for i, row in enumerate(data.card):
        def error(key: str, reason: str, where: str = f"card[{i}]") -> ConfigError:
            return ConfigError(str(path), f"{where}.{key}", reason)
        amount_key = "balance" if row.product == "debit" else "credit_limit"
        opening = row.balance if row.product == "debit" else row.credit_limit
        other_key = "credit_limit" if row.product == "debit" else "balance"
        if (row.credit_limit if row.product == "debit" else row.balance) is not None:
            raise error(other_key, f"a {row.product} card has `{amount_key}`, not `{other_key}`")
        if opening is None:
            raise error(amount_key, "missing")
        if row.issuer not in issuers:
            raise error("issuer", f"no [[issuer]] named {row.issuer!r}")
        if row.scheme != "unionpay" and row.cvn is None:
            raise error("cvn", f"a {row.scheme} card needs its cryptogram version number")
        if any(card.name == row.name for card in cards):
            raise error("name", f"card {row.name!r} is defined twice")
        twin = next((card.name for card in cards if card.pan == row.pan), None)
        if twin is not None:
            raise error("pan", f"same PAN as card {twin!r}")
        routes = [r for r in bins if r.match_length(row.pan)]
        routed = max(routes, key=lambda r: len(r.low)).issuer if routes else None
        if routed != row.issuer:
            raise error("issuer", f"card {row.name!r} belongs to {row.issuer!r} but its BIN routes "
                                  f"to {routed!r} ([[bin]] in {ACQUIRER_FILE})")
        cards.append(Card(
            name=row.name, scheme=row.scheme, product=row.product, issuer=row.issuer, pan=row.pan,
            psn=row.psn, expiry=row.expiry, pin=row.pin, opening_balance=opening,
            per_txn_limit=row.per_txn_limit, aid=row.aid, label=row.label, imk_ac=bytes.fromhex(row.imk_ac),
            cvn=row.cvn, status=row.status,
        ))
    return tuple(cards)
