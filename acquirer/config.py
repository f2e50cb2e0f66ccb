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
from typing import Any

from acquirer.protocol.cards_file import CARD_STATUSES, CardsFile
from acquirer.protocol.settings_file import SettingsError, load_settings, read_toml, validate_settings
from acquirer.protocol.mac import MAC_ALGORITHMS
from acquirer.protocol.transactions import TxnTable, TxnType
from acquirer.settings_schema import AcquirerFile
from acquirer.settings_schema import LimitsSection as Limits
from acquirer.protocol.wallets import WALLETS_FILE, Wallets, load_wallets

__all__ = [
    "AcquirerConfig",
    "BinRoute",
    "Card",
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
ISSUER_MODES = ("normal", "slow", "down")
SYNCHRONOUS_LEVELS = ("NORMAL", "FULL", "EXTRA")  # durable settings only: OFF is refused
SCHEMES = ("unionpay", "visa", "mastercard")


#: a configuration value missing or wrong (`file: key: reason`): the kit's one settings error
ConfigError = SettingsError


# --- the configuration as data ----------------------------------------------------

@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    max_frame: int          # largest payload accepted after the 2-byte length
    idle_timeout_s: float   # a connection silent this long is closed
    protocol_workers: int = 0  # processes for decode, ARQC and sign (0: the host's own process)


@dataclass(frozen=True)
class DatabaseSettings:
    path: Path
    synchronous: str        # SQLite synchronous level with WAL: NORMAL, FULL or EXTRA
    commit_interval_ms: int = 0   # group commit: how long the first request of a group waits
    url: str | None = None  # postgresql://... to run on PostgreSQL (several processes); None: SQLite at `path`

    @property
    def target(self) -> str:
        """What `acquirer.storage.open_store` opens: the PostgreSQL URL, else the SQLite file."""
        return self.url or str(self.path)


@dataclass(frozen=True)
class HostSettings:
    institution: str
    token_key: bytes = b""       # TEST KEY: HMAC key of PAN tokens
    signon_ttl_s: int = 86400
    switch_timeout_ms: int = 3000
    pin_try_limit: int = 3
    signon_pending: int = 4      # sign-ons kept beside the working keys until one is used
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
    zpk: bytes = b""    # TEST KEY: zone PIN key between the acquirer and this issuer
    mode: str = "normal"
    delay_ms: int = 0


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
    tmk: bytes = b""      # TEST KEY: terminal master key
    mac: str = "ecb"      # field 64 algorithm: "ecb" or "x919"
    # transaction types this terminal may run; None = all (others get 58)
    transactions: frozenset[TxnType] | None = None


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
    wallets: Wallets | None = None   # wallets.toml; None: no wallet channel (its requests get 40)
    limits: Limits = Limits()


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


# --- typed access to raw TOML values ------------------------------------------------

class _Section:
    """A TOML table with typed getters whose errors name the file and key path."""

    def __init__(self, file: str, path: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ConfigError(file, path, f"must be a table, got {type(data).__name__}")
        self.file, self.path, self.data = file, path, data

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, reason: str) -> ConfigError:
        return ConfigError(self.file, self.key(name), reason)

    def raw(self, name: str, default: Any = ...) -> Any:
        if name not in self.data:
            if default is ...:
                raise self.error(name, "missing")
            return default
        return self.data[name]

    def text(self, name: str, default: Any = ...) -> Any:
        value = self.raw(name, default)
        if value is not default and not isinstance(value, str):
            raise self.error(name, f"must be a string, got {value!r}")
        return value

    def digits(self, name: str, length: int | None = None, default: Any = ...) -> Any:
        value = self.text(name, default)
        if value is default:
            return value
        if not (value.isascii() and value.isdigit()) or (length is not None and len(value) != length):
            need = f"{length} digits" if length else "digits only"
            raise self.error(name, f"must be {need}, got {value!r}")
        return value

    def integer(self, name: str, default: Any = ..., minimum: int = 0) -> Any:
        value = self.raw(name, default)
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be an integer, got {value!r}")
        if value < minimum:
            raise self.error(name, f"must be at least {minimum}, got {value}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: Any = ...) -> Any:
        value = self.text(name, default)
        if value not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def key16(self, name: str) -> bytes:
        value = self.text(name)
        try:
            key = bytes.fromhex(value)
        except ValueError:
            key = b""
        if len(key) != 16:
            raise self.error(name, f"must be 32 hex digits (a 16-byte key), got {value!r}")
        return key

    def tables(self, name: str) -> list[_Section]:
        rows = self.raw(name, [])
        if not isinstance(rows, list):
            raise self.error(name, "must be an array of tables ([[...]])")
        return [_Section(self.file, f"{self.key(name)}[{i}]", row) for i, row in enumerate(rows)]

    def table(self, name: str) -> _Section:
        return _Section(self.file, self.key(name), self.raw(name, {}))


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML through the kit's one reader (missing, unreadable, binary and bad TOML named alike)."""
    return read_toml(path)


# --- loading ----------------------------------------------------------------------

#: upper bound of `[server] protocol_workers` (more would only wait for the host's own process)
MAX_PROTOCOL_WORKERS = 8


def _default_protocol_workers() -> int:
    """One worker beside the host when the machine has a second CPU (see `protocol_workers`)."""
    return 1 if (os.cpu_count() or 1) >= 2 else 0


def load_config(directory: str | os.PathLike[str] | None = None) -> AcquirerConfig:
    """Read and check both files of a configuration directory; raises `ConfigError`."""
    directory = resolve_config_dir(directory)
    acq_path, cards_path = directory / ACQUIRER_FILE, directory / CARDS_FILE
    acq_raw = _read_toml(acq_path)
    schema = validate_settings(acq_path, acq_raw, AcquirerFile)   # unknown keys and wrong types: acquirer/settings_schema.py
    acq = _Section(str(acq_path), "", acq_raw)

    server_t = acq.table("server")
    server = ServerSettings(
        host=server_t.text("host", "127.0.0.1"),
        port=server_t.integer("port", 8583),
        max_frame=server_t.integer("max_frame", 2048, minimum=64),
        idle_timeout_s=float(server_t.integer("idle_timeout_s", 300, minimum=1)),
        protocol_workers=server_t.integer("protocol_workers", _default_protocol_workers()),
    )
    if server.port > 65535:
        raise server_t.error("port", f"must be at most 65535, got {server.port}")
    if server.protocol_workers > MAX_PROTOCOL_WORKERS:
        raise server_t.error("protocol_workers",
                             f"must be at most {MAX_PROTOCOL_WORKERS}, got {server.protocol_workers}")

    db_t = acq.table("database")
    database = DatabaseSettings(
        path=Path(db_t.text("path", "var/acquirer.db")),
        synchronous=db_t.choice("synchronous", SYNCHRONOUS_LEVELS, "NORMAL"),
        commit_interval_ms=db_t.integer("commit_interval_ms", 0),
        url=db_t.text("url", None),
    )

    host_t = acq.table("host")
    host = HostSettings(
        institution=host_t.digits("institution"),
        token_key=host_t.key16("token_key"),
        signon_ttl_s=host_t.integer("signon_ttl_s", 86400, minimum=1),
        switch_timeout_ms=host_t.integer("switch_timeout_ms", 3000, minimum=1),
        pin_try_limit=host_t.integer("pin_try_limit", 3, minimum=1),
        signon_pending=schema.host.signon_pending,
    )

    codes_t = acq.table("processing_codes")
    overrides = {name: codes_t.digits(name, 6) for name in codes_t.data}
    try:
        txn_table = TxnTable(overrides)
    except ValueError as e:
        raise ConfigError(codes_t.file, "processing_codes", str(e)) from None

    issuers: dict[str, IssuerSettings] = {}
    for row in acq.tables("issuer"):
        issuer = IssuerSettings(
            name=row.text("name"),
            network=row.choice("network", SCHEMES),
            zpk=row.key16("zpk"),
            mode=row.choice("mode", ISSUER_MODES, "normal"),
            delay_ms=row.integer("delay_ms", 0),
        )
        if issuer.name in issuers:
            raise row.error("name", f"issuer {issuer.name!r} is defined twice")
        issuers[issuer.name] = issuer

    bins = tuple(_bin_route(row, issuers) for row in acq.tables("bin"))

    fees_t = acq.table("fees")
    fees = {name: fees_t.integer(name) for name in fees_t.data}

    merchants: dict[str, Merchant] = {}
    for row in acq.tables("merchant"):
        merchant = Merchant(
            mid=row.text("mid"), name_zh=row.text("name_zh"), name_en=row.text("name_en"),
            mcc=row.digits("mcc", 4), city=row.text("city", ""),
        )
        if len(merchant.mid) != 15:
            raise row.error("mid", f"must be 15 characters (field 42), got {merchant.mid!r}")
        if merchant.mid in merchants:
            raise row.error("mid", f"merchant {merchant.mid} is defined twice")
        merchants[merchant.mid] = merchant

    terminals: dict[tuple[str, str], Terminal] = {}
    for row in acq.tables("terminal"):
        terminal = Terminal(
            tid=row.text("tid"), mid=row.text("mid"), tmk=row.key16("tmk"),
            mac=row.choice("mac", MAC_ALGORITHMS),
            transactions=_permitted(row),
        )
        if len(terminal.tid) != 8:
            raise row.error("tid", f"must be 8 characters (field 41), got {terminal.tid!r}")
        if terminal.mid not in merchants:
            raise row.error("mid", f"no [[merchant]] with mid {terminal.mid!r}")
        if (terminal.tid, terminal.mid) in terminals:
            raise row.error("tid", f"terminal {terminal.tid} of {terminal.mid} is defined twice")
        terminals[(terminal.tid, terminal.mid)] = terminal

    cards = _cards(cards_path, load_settings(cards_path, CardsFile), issuers, bins)
    wallets_path = directory / WALLETS_FILE
    wallets = load_wallets(wallets_path) if wallets_path.exists() else None

    return AcquirerConfig(
        directory=directory, server=server, database=database, host=host, bins=bins,
        issuers=issuers, fees=fees, merchants=merchants, terminals=terminals, cards=cards,
        txn_table=txn_table, wallets=wallets, limits=schema.limits,
    )




def _bin_route(row: _Section, issuers: Mapping[str, IssuerSettings]) -> BinRoute:
    if ("prefix" in row.data) == ("range" in row.data):
        raise row.error("prefix", "give exactly one of `prefix` or `range`")
    if "prefix" in row.data:
        low = high = row.digits("prefix")
    else:
        bounds = row.raw("range")
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, str) and b.isascii() and b.isdigit() for b in bounds)
                or len(bounds[0]) != len(bounds[1]) or bounds[0] > bounds[1]):
            raise row.error("range", f"must be [low, high]: two digit strings of equal length, "
                                     f"low <= high; got {bounds!r}")
        low, high = bounds
    issuer = row.text("issuer")
    if issuer not in issuers:
        raise row.error("issuer", f"no [[issuer]] named {issuer!r}")
    return BinRoute(low=low, high=high, network=row.choice("network", SCHEMES), issuer=issuer)


def _permitted(row: _Section) -> frozenset[TxnType] | None:
    names = row.raw("transactions", None)
    if names is None:
        return None
    known = {t.value: t for t in TxnType}
    if not isinstance(names, list) or not all(isinstance(n, str) and n in known for n in names):
        raise row.error("transactions", f"must be a list of transaction names from "
                                        f"{', '.join(known)}; got {names!r}")
    return frozenset(known[n] for n in names)


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
