"""What can go wrong with a receipt printer, as typed errors a face can show.

Every message names the printer (its connection, e.g. "network
127.0.0.1:9100") and, where a person can fix it, how. A job that fails with
one of these stays in the print queue and prints when the printer is back.
"""
from __future__ import annotations

__all__ = [
    "CoverOpenError",
    "PaperOutError",
    "PrinterConfigError",
    "PrinterError",
    "PrinterNotFoundError",
    "PrinterOfflineError",
    "PrinterPermissionError",
    "UDEV_RULE",
]

UDEV_RULE = "config/99-tillkit-printers.rules"


class PrinterError(Exception):
    """Base of every printer problem."""


class PrinterConfigError(PrinterError):
    """The printer configuration is wrong; the message names the file and key."""


class PrinterNotFoundError(PrinterError):
    """No such device: unplugged, wrong path, wrong vendor:product, unknown host or CUPS queue."""


class PrinterPermissionError(PrinterError):
    """The device exists but this user may not open it."""


class PrinterOfflineError(PrinterError):
    """The printer cannot print now: unreachable, not answering, or reporting itself offline."""


class PaperOutError(PrinterOfflineError):
    """The paper roll is empty."""


class CoverOpenError(PrinterOfflineError):
    """The cover is open."""
