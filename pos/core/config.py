"""Terminal configuration: `pos.toml`, its schema, and the frozen settings the code uses.

The schema is pydantic v2 models read by the kit's one settings loader
(`acquirer.protocol.settings_file`): unknown keys, wrong types and values out
of range are refused with one line `file: key: reason` (docs/configuration.md).
The sections are frozen models and are the settings objects themselves.

The configuration directory is found as the acquirer finds it (`--config DIR`,
else `$TILLKIT_CONFIG`, else the repository's `config/`): it also holds the
acquirer's files (`acquirer.toml`, `cards.toml`), which the embedded host and
the virtual cards read.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from acquirer.protocol.settings_file import SettingsError, SettingsModel, load_settings
from drivers.nfc import InvalidReaderPath, parse_reader_path
from drivers.printer.config import StatusMode
from pos.core.printers_file import CONNECTION_KINDS, PRINTERS_FILE, PrinterSettings, load_printer
from receipts import Merchant, ReceiptFieldError

POS_FILE = "pos.toml"
NO_PRINTER = "none"
#: what an e-receipt link template may use
RECEIPT_URL_FIELDS = ("mid", "tid", "batch", "trace", "date")
EMBEDDED = "embedded"
SIMULATED_READER = "sim"

#: the terminal's configuration errors are the settings loader's (kind "terminal", exit 4)
ConfigError = SettingsError


def _pattern(regex: str, what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(regex, value):
            raise ValueError(f"must be {what}")
        return value
    return AfterValidator(check)


def _hex_key(value: object) -> object:
    """A double-length key written as 32 hex digits, as bytes (memory only)."""
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9A-Fa-f]{32}", value):
            raise ValueError("must be 32 hex digits (a double-length key)")
        return bytes.fromhex(value)
    return value


HexKey = Annotated[bytes, BeforeValidator(_hex_key)]
Positive = Annotated[float, Field(gt=0)]


class TerminalSettings(SettingsModel):
    tid: Annotated[str, _pattern(r"[0-9A-Za-z]{8}", "8 characters")]
    mid: Annotated[str, _pattern(r"[0-9A-Za-z]{15}", "15 characters")]
    tmk: HexKey                # TEST KEY from the file: memory only
    mac: Literal["ecb", "x919"]
    operator: Annotated[str, _pattern(r"[0-9]{1,3}", "1-3 digits")]
    currency: Annotated[str, _pattern(r"[0-9]{3}", "3 digits")]
    max_amount_fen: Annotated[int, Field(ge=1, le=999_999_999_999)]
    token_key: HexKey


def _address(value: str) -> str:
    if value == EMBEDDED:
        return value
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError('must be "embedded" or "HOST:PORT"')
    return value


Address = Annotated[str, AfterValidator(_address)]


class HostSettings(SettingsModel):
    address: Address           # "embedded" or "host:port"
    timeout_s: Positive
    connect_timeout_s: Positive
    backoff_initial_s: Positive
    backoff_max_s: Positive
    reversal_attempts: Annotated[int, Field(ge=1, le=1000)]

    @property
    def embedded(self) -> bool:
        return self.address == EMBEDDED

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.address.rpartition(":")
        return host, int(port)


class NfcSettings(SettingsModel):
    reader: str                # "sim" (a simulated PN532 in this process) or a reader path

    @field_validator("reader")
    @classmethod
    def _reader_path(cls, value: str) -> str:
        if value != SIMULATED_READER:
            try:
                parse_reader_path(value)
            except InvalidReaderPath as e:
                raise ValueError(f'must be "{SIMULATED_READER}" or a reader path: {e}') from None
        return value

    @property
    def simulated(self) -> bool:
        return self.reader == SIMULATED_READER


class ReceiptSettings(SettingsModel):
    merchant_name_zh: str
    merchant_name_en: str
    url: str | None            # e-receipt link template ({mid} {tid} {batch} {trace} {date}); None: no link

    @field_validator("merchant_name_zh", "merchant_name_en")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            Merchant(value, value, "0" * 15)
        except ReceiptFieldError as e:
            raise ValueError(str(e)) from None
        return value

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: object) -> object:
        if value == "":
            return None
        if isinstance(value, str):
            _check_receipt_url(value)
        return value


def _check_receipt_url(url: str) -> None:
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(url) if name is not None}
    except ValueError as e:
        raise ValueError(f"is not a valid template: {e}") from None
    unknown = fields - set(RECEIPT_URL_FIELDS)
    if unknown:
        raise ValueError(f"uses {', '.join(sorted(unknown))}; known placeholders: "
                         f"{', '.join('{' + f + '}' for f in RECEIPT_URL_FIELDS)}")
    if not re.fullmatch(r"https?://\S+", url):
        raise ValueError('must be an http(s) link without spaces (or "" for none)')


class PrinterSection(SettingsModel):
    """`[printer]` as written: a connection table and a profile of printers.toml (`pos.core.printers_file`)."""

    connection: str
    profile: str
    status: StatusMode | None = None

    @field_validator("connection")
    @classmethod
    def _connection(cls, value: str) -> str:
        return _one_of(value, (*CONNECTION_KINDS, NO_PRINTER))


def _one_of(value: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError("must be " + " or ".join(f'"{o}"' for o in options))
    return value


class QrSettings(SettingsModel):
    """Payment codes: the camera, the wallet channel's polling, and the merchant-presented code."""

    camera_backend: str = "zxing-cpp"   # drivers.camera BACKENDS: "zxing-cpp", "pyzbar", "opencv"
    camera_timeout_s: Positive = 60.0      # a scan that finds no usable code ends after this long
    poll_interval_s: Positive = 2.0        # between wallet queries while the customer pays
    user_paying_timeout_s: Positive = 45.0  # a customer confirming on the phone longer than this: reversed
    mpm_timeout_s: Positive = 120.0        # a shown merchant code not paid within this: cancelled (reversed)
    mcc: Annotated[str, _pattern(r"[0-9]{4}", "4 digits")] = "5411"   # merchant category code (52)
    merchant_city: Annotated[str, _pattern(r".{1,15}", "1 to 15 characters")] = "Shanghai"   # 60

    @field_validator("camera_backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        from drivers.camera import BACKENDS  # loads OpenCV: only when a backend is named

        if value not in BACKENDS:
            raise ValueError(f"must be one of {', '.join(BACKENDS)}")
        return value


class StateSettings(SettingsModel):
    dir: str                   # journal, counters, virtual-card ATCs; relative to the working directory


class TuiSection(SettingsModel):
    """`[tui]`: the checkout screen's settings (read by `pos.tui.settings`; part of the file's schema)."""

    language: Literal["en", "zh"] = "en"
    camera: Annotated[str, _pattern(r"\S.*", '"sim" or a camera device (index or path)')] = "sim"
    supervisor_pin: Annotated[str, _pattern(r"[0-9]{4,12}", "4-12 digits")]
    operators: dict[Annotated[str, _pattern(r"[0-9]{1,3}", "an operator number of 1-3 digits")],
                    Annotated[str, _pattern(r"[0-9]{4,8}", "a password of 4-8 digits")]] = Field(min_length=1)


class PosFile(SettingsModel):
    """The whole of pos.toml."""

    terminal: TerminalSettings
    host: HostSettings
    nfc: NfcSettings
    receipt: ReceiptSettings
    printer: PrinterSection
    qr: QrSettings = QrSettings()
    state: StateSettings
    tui: TuiSection | None = None


@dataclass(frozen=True)
class PosConfig:
    config_dir: Path
    terminal: TerminalSettings
    host: HostSettings
    nfc: NfcSettings
    state_dir: Path
    receipt: ReceiptSettings
    printer: PrinterSettings | None    # None: [printer] connection = "none"
    qr: QrSettings = QrSettings()      # [qr]; every key optional
    host_named: bool = False           # the command named its host (`--host`): checked against the binding

    @property
    def journal_path(self) -> Path:
        return self.state_dir / "journal.db"

    @property
    def embedded_db_path(self) -> Path:
        return self.state_dir / "acquirer.db"

    @property
    def print_queue_path(self) -> Path:
        return self.state_dir / "print-queue.db"


def load_config(config_dir: Path, *, state_dir: Path | None = None,
                host_address: str | None = None) -> PosConfig:
    """Read and validate `<config_dir>/pos.toml`; `state_dir`/`host_address` override the file."""
    path = config_dir / POS_FILE
    data = load_settings(path, PosFile)
    host = data.host
    if host_address is not None:
        try:
            host = host.model_copy(update={"address": _address(host_address)})
        except ValueError as e:
            raise ConfigError("--host", "address", f"{e}, got {host_address!r}") from None
    return PosConfig(config_dir=config_dir, terminal=data.terminal, host=host, nfc=data.nfc,
                     state_dir=state_dir or Path(data.state.dir), receipt=data.receipt,
                     printer=_printer(data.printer, config_dir / PRINTERS_FILE), qr=data.qr,
                     host_named=host_address is not None)


def load_pos_file(config_dir: Path) -> PosFile:
    """The whole of pos.toml, validated (the TUI reads its `[tui]` section from it)."""
    return load_settings(config_dir / POS_FILE, PosFile)


def _printer(section: PrinterSection, printers: Path) -> PrinterSettings | None:
    """The printer `[printer]` chose, from printers.toml (its errors name that file); None: no printer."""
    if section.connection == NO_PRINTER:
        return None
    return load_printer(printers, section.connection, section.profile, section.status)
