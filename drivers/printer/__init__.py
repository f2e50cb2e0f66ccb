"""ESC/POS receipt printers: connections from config, status checks, a persisted print queue.

    config = load_printer_config("config/printers.toml", connection="network", profile="80mm")
    queue = PrintQueue("var/print-queue.db", PrinterConnection(config.connection, config.status))
    result = queue.submit(PrintJob(data, reference="000123", reprint_data=reprint_bytes))
    if not result.printed: show(result.error)      # typed PrinterError; the job waits in the queue
    queue.retry_pending()                           # e.g. on a timer, or when the cashier asks
    queue.reprint(queue.last("000123").id)

Takes bytes; imports nothing of the app (receipts renders the bytes).
"""
from drivers.printer.config import (
    CONNECTION_KINDS,
    STATUS_MODES,
    ConnectionConfig,
    CupsConfig,
    FileConfig,
    NetworkConfig,
    PrinterConfig,
    SerialConfig,
    SimConfig,
    UsbConfig,
    load_printer_config,
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
    "CONNECTION_KINDS",
    "STATUS_MODES",
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
    "load_printer_config",
]
