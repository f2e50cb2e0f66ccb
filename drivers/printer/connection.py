"""Open a configured printer through python-escpos, send a job, ask its status.

The printer classes are python-escpos's own (`Network`, `Serial`, `Usb`, `File`,
`CupsPrinter`); this module builds them from the configuration, opens one per
job (a printer may be switched off between receipts), and turns what they
raise into the kit's typed errors. python-escpos wraps every open failure in
`DeviceNotFoundError`, so the cause is read from the exception it was raised
during (`__context__`): errno 13 means permission (the message names the udev
rule in config/), errno 2 or no such USB device means not found, a refused or
timed-out connection means offline.

Raw bytes go through `_raw`, python-escpos's raw sink (its `escpos raw` CLI
command uses it): the jobs are rendered already (receipts.render_escpos).

A network printer's socket gets TCP_NODELAY: the status query after a job is
a 3-byte write right behind the job, which Nagle's algorithm holds until the
printer acknowledges the job -- and printers, like most TCP stacks, delay that
acknowledgement (about 40 ms on Linux), every receipt.
"""
from __future__ import annotations

import errno
import socket
from contextlib import contextmanager
from collections.abc import Iterator

from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import CupsPrinter, File, Network, Serial, Usb

from drivers.printer.config import (
    DEFAULT_STATUS,
    ConnectionConfig,
    CupsConfig,
    FileConfig,
    NetworkConfig,
    SerialConfig,
    SimConfig,
    StatusMode,
    UsbConfig,
)
from drivers.printer.errors import (
    UDEV_RULE,
    PrinterConfigError,
    PrinterError,
    PrinterNotFoundError,
    PrinterOfflineError,
    PrinterPermissionError,
)
from drivers.printer.status import PrinterStatus, read_status

__all__ = ["PrinterConnection", "describe"]


def describe(config: ConnectionConfig) -> str:
    """How a person would name the printer: "network 127.0.0.1:9100", "usb 0416:5011", ..."""
    match config:
        case NetworkConfig(host=host, port=port):
            return f"network printer {host}:{port}"
        case SerialConfig(device=device, baudrate=baud):
            return f"serial printer {device} ({baud} baud)"
        case UsbConfig():
            return f"USB printer {config}"
        case FileConfig(path=path):
            return f"printer file {path}"
        case CupsConfig(name=name):
            return f"CUPS printer {name!r}"
        case SimConfig(port=port):
            return f"simulated printer (port {port})"
    raise TypeError(f"not a printer connection: {config!r}")


def _errno_of(exc: BaseException | None) -> int | None:
    """The OS error number behind an exception chain (pyserial and pyusb set `errno` too)."""
    while exc is not None:
        number = getattr(exc, "errno", None)
        if isinstance(number, int):
            return number
        exc = exc.__context__ or exc.__cause__
    return None


class PrinterConnection:
    """One configured printer. Use `with connection.open() as printer:` per job."""

    def __init__(self, config: ConnectionConfig, status: StatusMode | None = None) -> None:
        if isinstance(config, SimConfig):
            raise PrinterConfigError(
                "connection 'sim' is the kit's simulated printer: start drivers.sim.printer.SimulatedPrinter "
                "(serve_tcp(port)) and connect to it with NetworkConfig('127.0.0.1', port)")
        self.config = config
        self.status_mode: StatusMode = status or DEFAULT_STATUS[type(config)]
        self.name = describe(config)

    def _build(self) -> Escpos:
        config = self.config
        try:
            match config:
                case NetworkConfig():
                    return Network(config.host, config.port, timeout=config.timeout_s)
                case SerialConfig():
                    return Serial(config.device, baudrate=config.baudrate, timeout=config.timeout_s)
                case UsbConfig():
                    return Usb(config.vendor, config.product, timeout=config.timeout_ms,
                               in_ep=config.in_ep, out_ep=config.out_ep)
                case FileConfig():
                    return File(config.path)
                case CupsConfig():
                    return CupsPrinter(config.name)
        except RuntimeError as exc:   # python-escpos: the optional dependency is not installed
            raise PrinterConfigError(f"{self.name}: {exc}") from exc
        raise TypeError(f"not a printer connection: {config!r}")

    def _open_error(self, exc: BaseException) -> PrinterError:
        number = _errno_of(exc.__context__)
        if number in (errno.EACCES, errno.EPERM):
            return PrinterPermissionError(
                f"{self.name}: permission denied; install {UDEV_RULE} and add this user to the "
                "groups it names (lp, dialout), then log in again")
        if number in (errno.ENOENT, errno.ENODEV, errno.ENXIO) or isinstance(exc.__context__, AssertionError):
            return PrinterNotFoundError(f"{self.name}: not found (unplugged, or wrong device in config/printers.toml)")
        if isinstance(exc.__context__, socket.gaierror):
            return PrinterNotFoundError(f"{self.name}: unknown host ({exc.__context__})")
        if isinstance(self.config, CupsConfig):
            return PrinterNotFoundError(f"{self.name}: no such CUPS queue ({exc})")
        return PrinterOfflineError(f"{self.name}: cannot connect ({exc.__context__ or exc})")

    @contextmanager
    def open(self) -> Iterator[Escpos]:
        printer = self._build()
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            raise self._open_error(exc) from exc
        except ValueError as exc:      # pyusb without a libusb backend (NoBackendError is a ValueError)
            if not isinstance(self.config, UsbConfig):
                raise
            raise PrinterConfigError(f"{self.name}: {exc}; install libusb (Debian: libusb-1.0-0)") from exc
        if isinstance(printer, Network):
            printer.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            yield printer
        finally:
            try:
                printer.close()
            except (OSError, ValueError):
                pass    # a printer that went away while open: nothing left to close
            printer.device = False   # python-escpos closes again on garbage collection otherwise

    def send(self, printer: Escpos, data: bytes) -> None:
        try:
            printer._raw(data)
        except OSError as exc:   # sockets, pyserial's SerialException and pyusb's USBError are all OSError
            raise PrinterOfflineError(f"{self.name}: sending the job failed ({exc})") from exc

    def status(self, printer: Escpos) -> PrinterStatus | None:
        """The printer's condition, or None when this connection cannot ask (status "none")."""
        if self.status_mode == "none":
            return None
        try:
            return read_status(printer, self.status_mode, self.name)
        except OSError as exc:
            raise PrinterOfflineError(f"{self.name}: status query failed ({exc})") from exc
