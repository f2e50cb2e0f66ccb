"""The schema of acquirer.toml: every table and key the file may hold, with its type.

Validated by the kit's one settings loader (`acquirer.protocol.settings_file`)
before the configuration is built: a key the schema does not know (a typo),
a value of the wrong type or out of range is refused as one line
`acquirer.toml: key: reason`. What needs more than one key at a time --
an issuer named by a BIN route exists, a terminal's merchant is defined,
a card's BIN routes to its issuer -- is checked by `acquirer.config` as it
builds the settings objects.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from acquirer.protocol.settings_file import SettingsModel

Digits = Annotated[str, Field(pattern=r"^[0-9]+$")]
HexKey = Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{32}$")]


class ServerSection(SettingsModel):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8583
    max_frame: Annotated[int, Field(ge=64)] = 2048
    idle_timeout_s: Annotated[int, Field(ge=1)] = 300
    protocol_workers: Annotated[int, Field(ge=0, le=8)] | None = None


class DatabaseSection(SettingsModel):
    path: str = "var/acquirer.db"
    synchronous: Literal["NORMAL", "FULL", "EXTRA"] = "NORMAL"
    commit_interval_ms: Annotated[int, Field(ge=0)] = 0
    url: Annotated[str, Field(pattern=r"^postgres(ql)?://")] | None = None   # PostgreSQL instead of `path`


class HostSection(SettingsModel):
    institution: Digits
    token_key: HexKey
    signon_ttl_s: Annotated[int, Field(ge=1)] = 86400
    switch_timeout_ms: Annotated[int, Field(ge=1)] = 3000
    pin_try_limit: Annotated[int, Field(ge=1)] = 3
    signon_pending: Annotated[int, Field(ge=1)] = 4


Count = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(gt=0)]


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
    network: str
    zpk: HexKey
    mode: str = "normal"
    delay_ms: Annotated[int, Field(ge=0)] = 0


class BinRow(SettingsModel):
    prefix: Digits | None = None
    range: list[Digits] | None = None
    issuer: str
    network: str


class MerchantRow(SettingsModel):
    mid: str
    name_zh: str
    name_en: str
    mcc: Annotated[str, Field(pattern=r"^[0-9]{4}$")]
    city: str = ""


class TerminalRow(SettingsModel):
    tid: str
    mid: str
    tmk: HexKey
    mac: str
    transactions: list[str] | None = None


class AcquirerFile(SettingsModel):
    """The whole of acquirer.toml."""

    server: ServerSection = ServerSection()
    database: DatabaseSection = DatabaseSection()
    host: HostSection
    limits: LimitsSection = LimitsSection()
    processing_codes: dict[str, Digits] = {}
    issuer: list[IssuerRow] = []
    bin: list[BinRow] = []
    fees: dict[str, int] = {}
    merchant: list[MerchantRow] = []
    terminal: list[TerminalRow] = []
