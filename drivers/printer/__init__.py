"""ESC/POS receipt printers: connections from plain settings, status checks, a persisted print queue.

    queue = PrintQueue("var/print-queue.db", PrinterConnection(NetworkConfig("192.0.2.50", 9100)))
    result = queue.submit(PrintJob(data, reference="000123", reprint_data=reprint_bytes))
    if not result.printed: show(result.error)      # typed PrinterError; the job waits in the queue
    queue.retry_pending()                           # e.g. on a timer, or when the cashier asks
    queue.reprint(queue.last("000123").id)

Takes bytes; imports nothing of the app (receipts renders the bytes; the terminal
reads config/printers.toml and hands over the settings, `pos.core.printers_file`).
"""
from drivers.printer.config import (
    ConnectionConfig,
    CupsConfig,
    FileConfig,
    NetworkConfig,
    PrinterConfig,
    SerialConfig,
    SimConfig,
    UsbConfig,
)
from drivers.printer.connection import PrinterConnection
from drivers.printer.errors import (
    CoverOpenError,
    PaperOutError,
    PrinterConfigError,
    PrinterError,
    PrinterNotFoundError,
    PrinterOfflineError,
    PrinterPermissionError,
)
from drivers.printer.queue import JobRecord, PrintJob, PrintQueue, PrintResult
from drivers.printer.status import PrinterStatus

__all__ = [
    "ConnectionConfig",
    "CoverOpenError",
    "CupsConfig",
    "FileConfig",
    "JobRecord",
    "NetworkConfig",
    "PaperOutError",
    "PrintJob",
    "PrintQueue",
    "PrintResult",
    "PrinterConfig",
    "PrinterConfigError",
    "PrinterConnection",
    "PrinterError",
    "PrinterNotFoundError",
    "PrinterOfflineError",
    "PrinterPermissionError",
    "PrinterStatus",
    "SerialConfig",
    "SimConfig",
    "UsbConfig",
]
