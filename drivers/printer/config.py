"""Printer connections described in config/printers.toml, and the one a terminal chose.

printers.toml describes how each kind of connection reaches a printer, one
table per kind; the terminal's own configuration (pos.toml `[printer]`) picks
one of them and a profile:

    [printer.network]
    host = "192.0.2.50"
    port = 9100

    config = load_printer_config("config/printers.toml", connection="network", profile="80mm")

Only the table `connection` names is read. `sim` means the kit's simulated
printer (drivers.sim.printer), which whoever starts the terminal runs and then
reaches as a network printer on loopback.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from drivers.printer.errors import PrinterConfigError

__all__ = [
    "ConnectionConfig",
    "CupsConfig",
    "FileConfig",
    "NetworkConfig",
    "PrinterConfig",
    "SerialConfig",
    "CONNECTION_KINDS",
    "STATUS_MODES",
    "SimConfig",
    "StatusMode",
    "UsbConfig",
    "load_printer_config",
]

StatusMode = Literal["full", "online", "none"]
STATUS_MODES: tuple[StatusMode, ...] = ("full", "online", "none")


@dataclass(frozen=True)
class SimConfig:
    port: int = 0                   # 0: any free port


@dataclass(frozen=True)
class NetworkConfig:
    host: str
    port: int = 9100
    timeout_s: float = 3.0


@dataclass(frozen=True)
class SerialConfig:
    device: str
    baudrate: int = 9600
    timeout_s: float = 0.3          # a status answer takes this long at most


@dataclass(frozen=True)
class UsbConfig:
    vendor: int
    product: int
    timeout_ms: int = 2000
    in_ep: int = 0x82               # bulk endpoints; printers differ (`lsusb -v` shows them)
    out_ep: int = 0x01

    def __str__(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}"


@dataclass(frozen=True)
class FileConfig:
    path: str


@dataclass(frozen=True)
class CupsConfig:
    name: str


ConnectionConfig = SimConfig | NetworkConfig | SerialConfig | UsbConfig | FileConfig | CupsConfig

DEFAULT_STATUS: dict[type, StatusMode] = {
    SimConfig: "full", NetworkConfig: "full", SerialConfig: "full", UsbConfig: "full",
    FileConfig: "none",     # /dev/usb/lp0 and plain files cannot answer
    CupsConfig: "online",   # CUPS tells whether the queue is stopped, nothing about paper
}


@dataclass(frozen=True)
class PrinterConfig:
    profile: str
    connection: ConnectionConfig
    status: StatusMode


# table -> (class, {key: (type, required)})
_KINDS: dict[str, tuple[type, dict[str, tuple[tuple[type, ...], bool]]]] = {
    "sim": (SimConfig, {"port": ((int,), False)}),
    "network": (NetworkConfig, {"host": ((str,), True), "port": ((int,), False), "timeout_s": ((int, float), False)}),
    "serial": (SerialConfig, {"device": ((str,), True), "baudrate": ((int,), False),
                              "timeout_s": ((int, float), False)}),
    "usb": (UsbConfig, {"vendor": ((str,), True), "product": ((str,), True), "timeout_ms": ((int,), False),
                        "in_ep": ((int,), False), "out_ep": ((int,), False)}),
    "file": (FileConfig, {"path": ((str,), True)}),
    "cups": (CupsConfig, {"name": ((str,), True)}),
}
CONNECTION_KINDS: tuple[str, ...] = tuple(_KINDS)


def _hex_id(where: str, key: str, value: str) -> int:
    try:
        number = int(value, 16)
    except ValueError:
        number = -1
    if len(value) != 4 or not 0 <= number <= 0xFFFF:
        raise PrinterConfigError(f"{where} {key} must be 4 hex digits as lsusb shows them (e.g. \"0416\"), got {value!r}")
    return number


def _connection(path: Path, kind: str, table: Any) -> ConnectionConfig:
    where = f"{path}: [printer.{kind}]"
    cls, keys = _KINDS[kind]
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise PrinterConfigError(f"{where} must be a table")
    for key, value in table.items():
        if key not in keys:
            raise PrinterConfigError(f"{where} has unknown key {key!r} (known: {', '.join(keys)})")
        types, _ = keys[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise PrinterConfigError(f"{where} {key} must be {' or '.join(t.__name__ for t in types)}, got {value!r}")
    for key, (_, required) in keys.items():
        if required and key not in table:
            raise PrinterConfigError(f"{where} is missing {key!r}")
    values = dict(table)
    if kind == "usb":
        values["vendor"] = _hex_id(where, "vendor", values["vendor"])
        values["product"] = _hex_id(where, "product", values["product"])
    if "port" in values and not 0 <= values["port"] <= 65535:
        raise PrinterConfigError(f"{where} port must be 0..65535, got {values['port']}")
    for key in ("timeout_s", "timeout_ms", "baudrate"):
        if key in values and values[key] <= 0:
            raise PrinterConfigError(f"{where} {key} must be positive, got {values[key]}")
    return cls(**values)


def load_printer_config(path: str | Path, connection: str, profile: str,
                        status: StatusMode | None = None) -> PrinterConfig:
    """The printer `connection` names (its `[printer.KIND]` table in the file at `path`).

    `status` None: the connection's default (`DEFAULT_STATUS`). `profile` is
    carried along for the renderer (receipts.load_profile reads it).
    """
    path = Path(path)
    if connection not in _KINDS:
        raise PrinterConfigError(f"printer connection must be one of {', '.join(_KINDS)}, got {connection!r}")
    if status is not None and status not in STATUS_MODES:
        raise PrinterConfigError(f"printer status must be \"full\", \"online\" or \"none\", got {status!r}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PrinterConfigError(f"{path}: printer configuration file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PrinterConfigError(f"{path}: not valid TOML ({exc})") from exc
    printer = data.get("printer")
    if not isinstance(printer, dict):
        raise PrinterConfigError(f"{path}: no [printer.KIND] connection tables")
    for key, value in printer.items():
        if not isinstance(value, dict) or key not in _KINDS:
            raise PrinterConfigError(
                f"{path}: [printer] {key} is not a connection table ([printer.KIND], KIND one of "
                f"{', '.join(_KINDS)}); the terminal chooses its printer in pos.toml [printer]")
    config = _connection(path, connection, printer.get(connection))
    return PrinterConfig(profile, config, status or DEFAULT_STATUS[type(config)])
