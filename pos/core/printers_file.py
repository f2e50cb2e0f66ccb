"""printers.toml: its schema, and the printer a terminal chose, handed to the drivers as plain settings.

printers.toml says what each printer model can do (`[profile.NAME]`) and how
each kind of connection reaches a printer (`[printer.KIND]`); the terminal's
pos.toml `[printer]` picks one connection and one profile. The file is read by
the kit's one settings loader (`acquirer.protocol.settings_file`) against the
models below: unknown keys, wrong types and values out of range are refused as
`printers.toml: key: reason` (exit 4), whichever table they are in.

The drivers (`drivers.printer`) and the renderer (`receipts`) may not import
this loader, so they take frozen dataclasses (`NetworkConfig`, ...,
`PrinterProfile`) and keep their own defaults: a key left out here is left out
of the dataclass too, so each default is written once, beside the code that
uses it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from escpos.capabilities import get_profile
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from acquirer.protocol.settings_file import SettingsError, SettingsModel, load_settings
from drivers.printer.config import (
    DEFAULT_STATUS,
    ConnectionConfig,
    CupsConfig,
    FileConfig,
    NetworkConfig,
    PrinterConfig,
    SerialConfig,
    SimConfig,
    StatusMode,
    UsbConfig,
)
from receipts import PrinterProfile
from receipts.profile import ChineseMode, LabelLanguage

PRINTERS_FILE = "printers.toml"

Port = Annotated[int, Field(ge=0, le=65535)]
PositiveInt = Annotated[int, Field(gt=0)]
PositiveSeconds = Annotated[float, Field(gt=0)]


def _usb_id(value: object) -> object:
    """A USB vendor or product id as `lsusb` shows it ("0416"), as its number."""
    if not isinstance(value, str) or len(value) != 4:
        raise ValueError('must be 4 hex digits as lsusb shows them (e.g. "0416")')
    try:
        return int(value, 16)
    except ValueError:
        raise ValueError('must be 4 hex digits as lsusb shows them (e.g. "0416")') from None


UsbId = Annotated[int, BeforeValidator(_usb_id)]


class SimTable(SettingsModel):
    """The kit's simulated printer, run by whoever starts the terminal and reached on loopback."""

    port: Port | None = None


class NetworkTable(SettingsModel):
    host: str
    port: Port | None = None
    timeout_s: PositiveSeconds | None = None


class SerialTable(SettingsModel):
    device: str
    baudrate: PositiveInt | None = None
    timeout_s: PositiveSeconds | None = None


class UsbTable(SettingsModel):
    vendor: UsbId
    product: UsbId
    timeout_ms: PositiveInt | None = None
    in_ep: Annotated[int, Field(ge=0, le=0xFF)] | None = None
    out_ep: Annotated[int, Field(ge=0, le=0xFF)] | None = None


class FileTable(SettingsModel):
    path: str


class CupsTable(SettingsModel):
    name: str


class ConnectionTables(SettingsModel):
    """`[printer.KIND]`: one table per kind of connection (the terminal chooses in pos.toml `[printer]`)."""

    sim: SimTable | None = None
    network: NetworkTable | None = None
    serial: SerialTable | None = None
    usb: UsbTable | None = None
    file: FileTable | None = None
    cups: CupsTable | None = None


#: the kinds of connection, in the order the file documents them
CONNECTION_KINDS: tuple[str, ...] = tuple(ConnectionTables.model_fields)
_DRIVER_SETTINGS: dict[str, type[ConnectionConfig]] = {
    "sim": SimConfig, "network": NetworkConfig, "serial": SerialConfig, "usb": UsbConfig,
    "file": FileConfig, "cups": CupsConfig,
}


class ProfileTable(SettingsModel):
    """`[profile.NAME]`: what a printer model can do (receipts.PrinterProfile)."""

    description: str | None = None
    paper_mm: PositiveInt | None = None
    columns: Annotated[int, Field(ge=24, le=64)]
    dots: int
    chinese: ChineseMode
    native_qr: bool
    escpos_profile: str
    qr_module: Annotated[int, Field(ge=1, le=16)] | None = None
    cjk_font: str | None = None
    labels: LabelLanguage | None = None

    @field_validator("dots")
    @classmethod
    def _dots_per_column(cls, dots: int, info: ValidationInfo) -> int:
        columns = info.data.get("columns")
        if columns is not None and dots < columns * 8:
            raise ValueError(f"must give at least 8 dots per column ({columns} columns)")
        return dots

    @field_validator("escpos_profile")
    @classmethod
    def _known_to_python_escpos(cls, name: str, info: ValidationInfo) -> str:
        try:
            capabilities = get_profile(name)
        except KeyError:
            raise ValueError("is not a python-escpos capability profile") from None
        pixels = capabilities.profile_data["media"]["width"].get("pixels")
        dots = info.data.get("dots")
        if not isinstance(pixels, int) or (dots is not None and dots > pixels):
            raise ValueError(f"allows {pixels} dots, fewer than the profile's dots ({dots}); "
                             f"pick a python-escpos profile with a known, wide enough media width")
        return name

    @field_validator("cjk_font")
    @classmethod
    def _font_file(cls, font: str | None) -> str | None:
        if font and not Path(font).is_file():
            raise ValueError("is not a file")
        return font or None

    def settings(self, name: str) -> PrinterProfile:
        values = self.model_dump(exclude_none=True, exclude={"description", "paper_mm"})
        return PrinterProfile(name=name, **values)


class PrintersFile(SettingsModel):
    """The whole of printers.toml."""

    profile: dict[str, ProfileTable] = Field(min_length=1)
    printer: ConnectionTables = ConnectionTables()


@dataclass(frozen=True)
class PrinterSettings:
    printer: PrinterConfig     # the connection (printers.toml [printer.KIND]) and its status mode
    profile: PrinterProfile    # printers.toml [profile.NAME]: paper width, Chinese mode, QR


def load_profiles(path: Path) -> dict[str, PrinterProfile]:
    """Every `[profile.NAME]` of the printers.toml at `path`, as the renderer's settings."""
    return {name: table.settings(name) for name, table in load_settings(path, PrintersFile).profile.items()}


def load_printer(path: Path, connection: str, profile: str, status: StatusMode | None = None) -> PrinterSettings:
    """The printer pos.toml `[printer]` chose: its `[printer.KIND]` table and `[profile.NAME]` at `path`.

    `status` None: the connection's default (`drivers.printer.config.DEFAULT_STATUS`).
    """
    data = load_settings(path, PrintersFile)
    table = getattr(data.printer, connection)
    if table is None:
        raise SettingsError(str(path), f"printer.{connection}", "missing (pos.toml [printer] connection names it)")
    if profile not in data.profile:
        raise SettingsError(str(path), f"profile.{profile}", f"missing (pos.toml [printer] profile names it; "
                                                            f"have: {', '.join(data.profile)})")
    config = _DRIVER_SETTINGS[connection](**table.model_dump(exclude_none=True))
    return PrinterSettings(PrinterConfig(profile, config, status or DEFAULT_STATUS[type(config)]),
                           data.profile[profile].settings(profile))
