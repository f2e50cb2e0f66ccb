"""Printer connections from their settings, and the errors a person can act on."""
from __future__ import annotations

import socket
import threading

import pytest

from drivers.printer import (
    CupsConfig,
    FileConfig,
    NetworkConfig,
    PrinterConfigError,
    PrinterConnection,
    PrinterNotFoundError,
    PrinterOfflineError,
    PrinterPermissionError,
    PrintJob,
    PrintQueue,
    SerialConfig,
    SimConfig,
    UsbConfig,
)
from tests.receipts.samples import CONFIG


def test_the_simulator_is_not_a_device_connection():
    with pytest.raises(PrinterConfigError, match="SimulatedPrinter"):
        PrinterConnection(SimConfig(9100))


def submit(tmp_path, connection: PrinterConnection):
    queue = PrintQueue(tmp_path / "q.db", connection)
    result = queue.submit(PrintJob(b"\x1b@hello\n", "x"))
    queue.close()
    assert not result.printed
    return result.error


def test_serial_device_that_does_not_exist(tmp_path):
    error = submit(tmp_path, PrinterConnection(SerialConfig(str(tmp_path / "ttyUSB9"))))
    assert isinstance(error, PrinterNotFoundError) and "ttyUSB9" in str(error)


def test_file_in_a_missing_directory(tmp_path):
    error = submit(tmp_path, PrinterConnection(FileConfig(str(tmp_path / "usb" / "lp0"))))
    assert isinstance(error, PrinterNotFoundError)


def test_usb_printer_not_plugged_in(tmp_path):
    error = submit(tmp_path, PrinterConnection(UsbConfig(0x0416, 0x5011)))
    assert isinstance(error, PrinterNotFoundError) and "0416:5011" in str(error)


def test_cups_without_pycups_or_queue_is_explained(tmp_path):
    error = submit(tmp_path, PrinterConnection(CupsConfig("receipt")))
    assert isinstance(error, (PrinterConfigError, PrinterNotFoundError))
    assert "CUPS printer 'receipt'" in str(error)


def denied_path() -> str:
    """A path even root may not open for writing (sysfs checks its own modes)."""
    path = "/sys/kernel/notes"
    try:
        with open(path, "wb"):
            pass
    except PermissionError:
        return path
    except OSError:
        pass
    pytest.skip(f"{path} is not permission-protected on this machine")


@pytest.mark.parametrize("make", [
    lambda path: FileConfig(path), lambda path: SerialConfig(path)])
def test_permission_denied_names_the_udev_rule(tmp_path, make):
    error = submit(tmp_path, PrinterConnection(make(denied_path())))
    assert isinstance(error, PrinterPermissionError)
    assert "config/99-tillkit-printers.rules" in str(error) and "/sys/kernel/notes" in str(error)
    assert (CONFIG / "99-tillkit-printers.rules").is_file()


def test_a_printer_that_never_answers_status_is_offline(tmp_path):
    """A raw port-9100 device that takes bytes but does not answer DLE EOT."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    connection = PrinterConnection(NetworkConfig("127.0.0.1", server.getsockname()[1], timeout_s=0.3))
    error = submit(tmp_path, connection)
    assert isinstance(error, PrinterOfflineError) and "status query failed" in str(error)
    thread.join(2)
    for s in (*accepted, server):
        s.close()


def test_a_file_printer_takes_the_bytes_without_status(tmp_path):
    target = tmp_path / "lp0"
    queue = PrintQueue(tmp_path / "q.db", PrinterConnection(FileConfig(str(target))))
    assert queue.submit(PrintJob(b"\x1b@hello\n\x1dV\x00", "1")).printed
    assert target.read_bytes() == b"\x1b@hello\n\x1dV\x00"
    queue.close()

