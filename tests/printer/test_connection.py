"""Printer connections from config/printers.toml, and the errors a person can act on."""
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
    load_printer_config,
)
from tests.receipts.samples import CONFIG

SHIPPED = (CONFIG / "printers.toml").read_text(encoding="utf-8")


def config_with(tmp_path, connection: str, edit: tuple[str, str] = ("", ""), status=None):
    path = tmp_path / "printers.toml"
    path.write_text(SHIPPED.replace(*edit), encoding="utf-8")
    return load_printer_config(path, connection, "80mm", status)


def test_the_shipped_simulator_takes_any_free_port():
    config = load_printer_config(CONFIG / "printers.toml", "sim", "80mm")
    assert (config.profile, config.connection, config.status) == ("80mm", SimConfig(0), "full")


@pytest.mark.parametrize("kind, expected, status", [
    ("network", NetworkConfig("192.0.2.50", 9100, 3.0), "full"),
    ("serial", SerialConfig("/dev/ttyUSB0", 9600, 0.3), "full"),
    ("usb", UsbConfig(0x0416, 0x5011), "full"),
    ("file", FileConfig("/dev/usb/lp0"), "none"),
    ("cups", CupsConfig("receipt"), "online"),
])
def test_each_example_connection_loads(tmp_path, kind, expected, status):
    config = config_with(tmp_path, kind)
    assert config.connection == expected and config.status == status


def test_a_chosen_status_mode_replaces_the_connections_default(tmp_path):
    assert config_with(tmp_path, "network", status="online").status == "online"


@pytest.mark.parametrize("kind, edit, message", [
    ("usb", ('vendor = "0416"', 'vendor = "printer"'), "[printer.usb] vendor must be 4 hex digits"),
    ("network", ('host = "192.0.2.50"', 'hostname = "192.0.2.50"'), "[printer.network] has unknown key 'hostname'"),
    ("serial", ("baudrate = 9600", "baudrate = -1"), "[printer.serial] baudrate must be positive"),
    ("sim", ("port = 0                    #", "port = 70000 #"), "[printer.sim] port must be 0..65535"),
    ("sim", ("[printer.sim]", '[printer]\nconnection = "sim"\n[printer.sim]'), "[printer] connection is not a connection table"),
])
def test_bad_config_names_file_and_key(tmp_path, kind, edit, message):
    assert edit[0] in SHIPPED
    with pytest.raises(PrinterConfigError) as caught:
        config_with(tmp_path, kind, edit)
    assert message in str(caught.value) and str(tmp_path / "printers.toml") in str(caught.value)


@pytest.mark.parametrize("kind, status, message", [
    ("bluetooth", None, "connection must be one of"), ("sim", "sometimes", "status must be")])
def test_bad_choices_are_named(kind, status, message):
    with pytest.raises(PrinterConfigError, match=message):
        load_printer_config(CONFIG / "printers.toml", kind, "80mm", status)


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

