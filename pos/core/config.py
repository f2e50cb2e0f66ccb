"""Terminal configuration: `pos.toml` loaded and validated.

Why validate by hand: the file is small and every error must name the file and
the key (DESIGN.md, "Configuration"), which a generic schema library would
phrase in its own terms. Every value is checked once here, so the rest of the
terminal works with typed, trusted settings.

The configuration directory is found as the acquirer finds it (`--config DIR`,
else `$TILLKIT_CONFIG`, else the repository's `config/`): it also holds the
acquirer's files (`acquirer.toml`, `cards.toml`), which the embedded host and
the virtual cards read.
"""
from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acquirer.protocol.errors import ErrorKind, TillkitError
from drivers.nfc import InvalidReaderPath, parse_reader_path
from drivers.printer import CONNECTION_KINDS, STATUS_MODES, PrinterConfig, PrinterConfigError, load_printer_config
from receipts import Merchant, PrinterProfile, ProfileConfigError, ReceiptFieldError, load_profile

POS_FILE = "pos.toml"
PRINTERS_FILE = "printers.toml"
NO_PRINTER = "none"
#: what an e-receipt link template may use
RECEIPT_URL_FIELDS = ("mid", "tid", "batch", "trace", "date")
EMBEDDED = "embedded"
SIMULATED_READER = "sim"


class ConfigError(TillkitError, ValueError):
    """A configuration file is missing, unreadable or has a bad value (named in the message)."""

    kind = ErrorKind.TERMINAL
    message_key = "config.invalid"


@dataclass(frozen=True)
class TerminalSettings:
    tid: str
    mid: str
    tmk: bytes                 # TEST KEY from the file: memory only
    mac: str                   # "ecb" or "x919"
    operator: str
    currency: str              # ISO 4217 numeric, e.g. "156"
    max_amount_fen: int
    token_key: bytes


@dataclass(frozen=True)
class HostSettings:
    address: str               # "embedded" or "host:port"
    timeout_s: float
    connect_timeout_s: float
    backoff_initial_s: float
    backoff_max_s: float
    reversal_attempts: int

    @property
    def embedded(self) -> bool:
        return self.address == EMBEDDED

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.address.rpartition(":")
        return host, int(port)


@dataclass(frozen=True)
class NfcSettings:
    reader: str                # "sim" (a simulated PN532 in this process) or a reader path

    @property
    def simulated(self) -> bool:
        return self.reader == SIMULATED_READER


@dataclass(frozen=True)
class ReceiptSettings:
    merchant_name_zh: str
    merchant_name_en: str
    url: str | None            # e-receipt link template ({mid} {tid} {batch} {trace} {date}); None: no link


@dataclass(frozen=True)
class PrinterSettings:
    printer: PrinterConfig     # the connection (printers.toml [printer.KIND]) and its status mode
    profile: PrinterProfile    # printers.toml [profile.NAME]: paper width, Chinese mode, QR


@dataclass(frozen=True)
class QrSettings:
    """Payment codes: the camera, the wallet channel's polling, and the merchant-presented code."""

    camera_backend: str = "zxing-cpp"   # drivers.camera BACKENDS: "zxing-cpp", "pyzbar", "opencv"
    camera_timeout_s: float = 60.0      # a scan that finds no usable code ends after this long
    poll_interval_s: float = 2.0        # between wallet queries while the customer pays
    user_paying_timeout_s: float = 45.0  # a customer confirming on the phone longer than this: reversed
    mpm_timeout_s: float = 120.0        # a shown merchant code not paid within this: cancelled (reversed)
    mcc: str = "5411"                   # merchant category code (52) of the merchant-presented code
    merchant_city: str = "Shanghai"     # 60 (at most 15 characters)
    merchant_city_zh: str = "上海"      # 64.02


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
    data = _read_toml(path)
    reader = _Reader(path, data)
    terminal = TerminalSettings(
        tid=reader.text("terminal", "tid", pattern=r"[0-9A-Za-z]{8}", what="8 characters"),
        mid=reader.text("terminal", "mid", pattern=r"[0-9A-Za-z]{15}", what="15 characters"),
        tmk=reader.key("terminal", "tmk"),
        mac=reader.choice("terminal", "mac", ("ecb", "x919")),
        operator=reader.text("terminal", "operator", pattern=r"[0-9]{1,3}", what="1-3 digits"),
        currency=reader.text("terminal", "currency", pattern=r"[0-9]{3}", what="3 digits"),
        max_amount_fen=reader.integer("terminal", "max_amount_fen", minimum=1,
                                      maximum=999_999_999_999),
        token_key=reader.key("terminal", "token_key"),
    )
    address = host_address or reader.text("host", "address")
    _check_address(path, address)
    host = HostSettings(
        address=address,
        timeout_s=reader.number("host", "timeout_s"),
        connect_timeout_s=reader.number("host", "connect_timeout_s"),
        backoff_initial_s=reader.number("host", "backoff_initial_s"),
        backoff_max_s=reader.number("host", "backoff_max_s"),
        reversal_attempts=reader.integer("host", "reversal_attempts", minimum=1, maximum=1000),
    )
    nfc = NfcSettings(reader=reader.text("nfc", "reader"))
    _check_reader(path, nfc.reader)
    state = state_dir or Path(reader.text("state", "dir"))
    return PosConfig(config_dir=config_dir, terminal=terminal, host=host, nfc=nfc, state_dir=state,
                     receipt=_receipt(reader, terminal), printer=_printer(reader, config_dir / PRINTERS_FILE),
                     qr=_qr(reader))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (set --config DIR or TILLKIT_CONFIG)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def _check_address(path: Path, address: str) -> None:
    if address == EMBEDDED:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{path}: [host] address must be \"embedded\" or \"HOST:PORT\", got {address!r}")


def _check_reader(path: Path, reader: str) -> None:
    if reader == SIMULATED_READER:
        return
    try:
        parse_reader_path(reader)
    except InvalidReaderPath as e:
        raise ConfigError(f"{path}: [nfc] reader must be \"{SIMULATED_READER}\" or a reader path: {e}") from None


def _receipt(reader: _Reader, terminal: TerminalSettings) -> ReceiptSettings:
    names = {key: reader.text("receipt", key) for key in ("merchant_name_zh", "merchant_name_en")}
    try:
        Merchant(names["merchant_name_zh"], names["merchant_name_en"], terminal.mid)
    except ReceiptFieldError as e:
        key = {"merchant.name_zh": "merchant_name_zh", "merchant.name_en": "merchant_name_en"}.get(e.field, e.field)
        raise ConfigError(f"{reader.path}: [receipt] {key}: {e}") from None
    url = reader.text("receipt", "url") or None
    if url is not None:
        _check_receipt_url(reader.path, url)
    return ReceiptSettings(names["merchant_name_zh"], names["merchant_name_en"], url)


def _check_receipt_url(path: Path, url: str) -> None:
    where = f"{path}: [receipt] url"
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(url) if name is not None}
    except ValueError as e:
        raise ConfigError(f"{where} is not a valid template: {e}") from None
    unknown = fields - set(RECEIPT_URL_FIELDS)
    if unknown:
        raise ConfigError(f"{where} uses {', '.join(sorted(unknown))}; known placeholders: "
                          f"{', '.join('{' + f + '}' for f in RECEIPT_URL_FIELDS)}")
    if not re.fullmatch(r"https?://\S+", url):
        raise ConfigError(f"{where} must be an http(s) link without spaces (or \"\" for none), got {url!r}")


def _printer(reader: _Reader, printers: Path) -> PrinterSettings | None:
    connection = reader.choice("printer", "connection", (*CONNECTION_KINDS, NO_PRINTER))
    if connection == NO_PRINTER:
        return None
    profile = reader.text("printer", "profile")
    status = reader.optional_choice("printer", "status", STATUS_MODES)
    try:
        printer = load_printer_config(printers, connection, profile, status)
        return PrinterSettings(printer, load_profile(printers, profile))
    except (PrinterConfigError, ProfileConfigError) as e:
        raise ConfigError(f"{reader.path}: [printer] connection {connection!r}, profile {profile!r}: {e}") from None


def _qr(reader: _Reader) -> QrSettings:
    """`[qr]`: every key optional, defaulting to `QrSettings`'s values."""
    table = reader.data.get("qr", {})
    values: dict[str, Any] = {}
    if "camera_backend" in table:
        from drivers.camera import BACKENDS  # loads OpenCV: only when a backend is named

        values["camera_backend"] = reader.choice("qr", "camera_backend", tuple(BACKENDS))
    for key in ("camera_timeout_s", "poll_interval_s", "user_paying_timeout_s", "mpm_timeout_s"):
        if key in table:
            values[key] = reader.number("qr", key)
    if "mcc" in table:
        values["mcc"] = reader.text("qr", "mcc", pattern=r"[0-9]{4}", what="4 digits")
    for key in ("merchant_city", "merchant_city_zh"):
        if key in table:
            values[key] = reader.text("qr", key, pattern=r".{1,15}", what="1 to 15 characters")
    return QrSettings(**values)


class _Reader:
    """Typed access to `[section] key` with errors that name the file and the key."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def _raw(self, section: str, key: str) -> Any:
        table = self.data.get(section)
        if not isinstance(table, dict):
            raise ConfigError(f"{self.path}: missing section [{section}]")
        if key not in table:
            raise ConfigError(f"{self.path}: missing key [{section}] {key}")
        return table[key]

    def _bad(self, section: str, key: str, what: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.path}: [{section}] {key} must be {what}, got {value!r}")

    def text(self, section: str, key: str, *, pattern: str | None = None, what: str = "text") -> str:
        value = self._raw(section, key)
        if not isinstance(value, str) or (pattern and not re.fullmatch(pattern, value)):
            raise self._bad(section, key, what, value)
        return value

    def choice(self, section: str, key: str, options: tuple[str, ...]) -> str:
        value = self._raw(section, key)
        if value not in options:
            raise self._bad(section, key, " or ".join(f'"{o}"' for o in options), value)
        return value

    def optional_choice(self, section: str, key: str, options: tuple[str, ...]) -> Any:
        """None when the key is absent (the section must exist)."""
        table = self.data.get(section)
        if isinstance(table, dict) and key not in table:
            return None
        return self.choice(section, key, options)

    def key(self, section: str, key: str) -> bytes:
        value = self._raw(section, key)
        if not isinstance(value, str) or not re.fullmatch(r"[0-9A-Fa-f]{32}", value):
            raise self._bad(section, key, "32 hex digits (a double-length key)", value)
        return bytes.fromhex(value)

    def integer(self, section: str, key: str, *, minimum: int, maximum: int) -> int:
        value = self._raw(section, key)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self._bad(section, key, f"an integer from {minimum} to {maximum}", value)
        return value

    def number(self, section: str, key: str) -> float:
        value = self._raw(section, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self._bad(section, key, "a positive number", value)
        return float(value)
