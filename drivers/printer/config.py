"""The settings of a printer connection, as plain frozen dataclasses with their defaults.

One class per kind of connection (network, serial, USB, device file, CUPS
queue, and `sim`: the kit's simulated printer, drivers.sim.printer, which
whoever starts the terminal runs and then reaches as a network printer on
loopback). The drivers take these and nothing else; reading and checking
config/printers.toml is the terminal's job (`pos.core.printers_file`, the
kit's one settings loader), which the drivers may not import. A key the file
leaves out is left out of the dataclass, so the defaults here are the only ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_STATUS",
    "ConnectionConfig",
    "CupsConfig",
    "FileConfig",
    "NetworkConfig",
    "PrinterConfig",
    "SerialConfig",
    "SimConfig",
    "StatusMode",
    "UsbConfig",
]

StatusMode = Literal["full", "online", "none"]


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
