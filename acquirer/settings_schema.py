"""The schema of acquirer.toml: every table and key the file may hold, its type, default and range.

Validated by the kit's one settings loader (`acquirer.protocol.settings_file`)
before the configuration is built: a key the schema does not know (a typo),
a value of the wrong type or out of range is refused as one line
`acquirer.toml: key: reason`. Every rule about one key lives here, once;
`acquirer.config` builds the frozen settings from these validated objects
and checks only what spans rows or files -- an issuer named by a BIN route
exists, a terminal's merchant is defined, a card's BIN routes to its issuer.
"""
from __future__ import annotations

import os
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator

from acquirer.protocol.mac import MAC_ALGORITHMS
from acquirer.protocol.settings_file import SettingsModel
from acquirer.protocol.transactions import TxnTable, TxnType

Synchronous = Literal["NORMAL", "FULL", "EXTRA"]   # durable settings only: OFF is refused
IssuerMode = Literal["normal", "slow", "down"]
Scheme = Literal["unionpay", "visa", "mastercard"]
SYNCHRONOUS_LEVELS: tuple[str, ...] = get_args(Synchronous)
ISSUER_MODES: tuple[str, ...] = get_args(IssuerMode)
SCHEMES: tuple[str, ...] = get_args(Scheme)

#: upper bound of `[server] protocol_workers` (more would only wait for the host's own process)
MAX_PROTOCOL_WORKERS = 8

Digits = Annotated[str, Field(pattern=r"^[0-9]+$")]
Count = Annotated[int, Field(ge=1)]
NonNegative = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(gt=0)]


def _key16(value: object) -> object:
    """A double-length key written as 32 hex digits, as its 16 bytes (TEST KEYS, memory only)."""
    if isinstance(value, str):
        if len(value) != 32:
            raise ValueError("must be 32 hex digits (a 16-byte key)")
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise ValueError("must be 32 hex digits (a 16-byte key)") from None
    return value


Key16 = Annotated[bytes, BeforeValidator(_key16)]


def _characters(length: int, field: str) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) != length:
            raise ValueError(f"must be {length} characters (field {field})")
        return value
    return AfterValidator(check)


def _one_of(options: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value
    return AfterValidator(check)


def default_protocol_workers(processes: int = 1) -> int:
    """`[server] protocol_workers` when the file leaves it out: one worker beside each host
    process when the machine has two CPUs for each (a host process and its worker), else
    none -- with `--processes` filling the CPUs, a worker only adds its pickling and context
    switches to the same cores (measured in docs/operations.md)."""
    return 1 if (os.cpu_count() or 1) >= 2 * processes else 0


class ServerSection(SettingsModel):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8583
    max_frame: Annotated[int, Field(ge=64)] = 2048       # largest payload accepted after the 2-byte length
    idle_timeout_s: Count = 300                          # a connection silent this long is closed
    # processes for decode, ARQC and sign (0: the host's own process); absent: by the machine's CPUs
    # and the host processes (`default_protocol_workers`, applied by `acquirer serve`)
    protocol_workers: Annotated[int, Field(ge=0, le=MAX_PROTOCOL_WORKERS)] | None = None


class DatabaseSection(SettingsModel):
    path: str = "var/acquirer.db"
    synchronous: Synchronous = "NORMAL"                  # SQLite synchronous level with WAL
    commit_interval_ms: NonNegative = 0                  # group commit: how long the first request of a group waits
    url: Annotated[str, Field(pattern=r"^postgres(ql)?://")] | None = None   # PostgreSQL instead of `path`


class HostSection(SettingsModel):
    institution: Digits
    token_key: Key16                                     # TEST KEY: HMAC key of PAN tokens
    signon_ttl_s: Count = 86400
    switch_timeout_ms: Count = 3000
    pin_try_limit: Count = 3
    signon_pending: Count = 4                            # sign-ons kept beside the working keys until one is used


class LimitsSection(SettingsModel):
    """`[limits]`: what one connection and the whole host may make the host do (docs/acquirer.md)."""

    max_connections: Count = 1000           # connections served at once; more are closed at once
    max_in_flight: Count = 32               # requests one connection may have under way
    max_in_flight_total: Count = 1024       # requests under way on the whole host
    max_reply_buffer: Count = 65536         # reply bytes queued to a peer before its reading stops
    rate_per_s: Count = 1000                # requests per second one connection may keep up
    burst: Count = 2000                     # requests one connection may send at once
    strikes: Count = 20                     # abuse strikes within strike_window_s that close a connection
    strike_window_s: Seconds = 10.0
    frame_timeout_s: Seconds = 10.0         # a frame started and not finished this long closes it
    write_timeout_s: Seconds = 30.0         # a peer that reads no reply this long is closed

    @field_validator("burst")
    @classmethod
    def _burst_covers_rate(cls, burst: int, info: ValidationInfo) -> int:
        rate = info.data.get("rate_per_s", 1000)
        if burst < rate:
            raise ValueError(f"must be at least rate_per_s ({rate})")
        return burst


class IssuerRow(SettingsModel):
    name: str
    network: Scheme
    zpk: Key16                              # TEST KEY: zone PIN key between the acquirer and this issuer
    mode: IssuerMode = "normal"
    delay_ms: NonNegative = 0


class BinRow(SettingsModel):
    """A `[[bin]]` route: `prefix`, or `range = [low, high]` (PANs whose first len(low) digits lie between)."""

    prefix: Digits | None = None
    range: list[str] | None = Field(None, validate_default=True)
    issuer: str
    network: Scheme

    @field_validator("range")
    @classmethod
    def _prefix_or_range(cls, bounds: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if (info.data.get("prefix") is None) == (bounds is None):
            raise ValueError("give exactly one of `prefix` or `range`")
        if bounds is not None and (
                len(bounds) != 2 or not all(b.isascii() and b.isdigit() for b in bounds)
                or len(bounds[0]) != len(bounds[1]) or bounds[0] > bounds[1]):
            raise ValueError(f"must be [low, high]: two digit strings of equal length, low <= high; got {bounds!r}")
        return bounds

    @property
    def bounds(self) -> tuple[str, str]:
        """(low, high): a prefix is a range of one."""
        if self.prefix is not None:
            return self.prefix, self.prefix
        assert self.range is not None   # the validator lets exactly one of them through
        return self.range[0], self.range[1]


class MerchantRow(SettingsModel):
    mid: Annotated[str, _characters(15, "42")]
    name_zh: str
    name_en: str
    mcc: Annotated[str, Field(pattern=r"^[0-9]{4}$")]
    city: str = ""


def _transactions(names: list[str] | None) -> list[str] | None:
    known = [t.value for t in TxnType]
    if names is not None and not all(n in known for n in names):
        raise ValueError(f"must be a list of transaction names from {', '.join(known)}; got {names!r}")
    return names


class TerminalRow(SettingsModel):
    tid: Annotated[str, _characters(8, "41")]
    mid: str
    tmk: Key16                              # TEST KEY: terminal master key
    mac: Annotated[str, _one_of(MAC_ALGORITHMS)]   # field 64 algorithm
    # transaction types this terminal may run; absent: all (others get 58)
    transactions: Annotated[list[str] | None, AfterValidator(_transactions)] = None


def _processing_codes(codes: dict[str, str]) -> dict[str, str]:
    TxnTable(codes)   # its own rules: known transaction names, 6 digits each
    return codes


class AcquirerFile(SettingsModel):
    """The whole of acquirer.toml."""

    server: ServerSection = Field(default_factory=ServerSection)
    database: DatabaseSection = DatabaseSection()
    host: HostSection
    limits: LimitsSection = LimitsSection()
    processing_codes: Annotated[dict[str, str], AfterValidator(_processing_codes)] = {}
    issuer: list[IssuerRow] = []
    bin: list[BinRow] = []
    fees: dict[str, NonNegative] = {}
    merchant: list[MerchantRow] = []
    terminal: list[TerminalRow] = []
