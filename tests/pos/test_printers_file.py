"""printers.toml through the kit's one settings loader: the drivers and the renderer get plain settings."""
from __future__ import annotations

from pathlib import Path

import pytest

from acquirer.protocol.settings_file import SettingsError
from drivers.printer import CupsConfig, FileConfig, NetworkConfig, SerialConfig, SimConfig, UsbConfig
from pos.core.printers_file import load_printer, load_profiles
from tests.receipts.samples import CONFIG

SHIPPED = (CONFIG / "printers.toml").read_text(encoding="utf-8")


def printers_file(tmp_path: Path, edit: tuple[str, str] = ("", "")) -> Path:
    assert edit[0] in SHIPPED, edit
    path = tmp_path / "printers.toml"
    path.write_text(SHIPPED.replace(*edit, 1), encoding="utf-8")
    return path


def test_the_shipped_simulator_takes_any_free_port():
    chosen = load_printer(CONFIG / "printers.toml", "sim", "80mm")
    assert (chosen.printer.profile, chosen.printer.connection, chosen.printer.status) == ("80mm", SimConfig(0), "full")
    assert chosen.profile.name == "80mm" and chosen.profile.columns == 48


@pytest.mark.parametrize("kind, expected, status", [
    ("network", NetworkConfig("192.0.2.50", 9100, 3.0), "full"),
    ("serial", SerialConfig("/dev/ttyUSB0", 9600, 0.3), "full"),
    ("usb", UsbConfig(0x0416, 0x5011), "full"),
    ("file", FileConfig("/dev/usb/lp0"), "none"),
    ("cups", CupsConfig("receipt"), "online"),
])
def test_each_example_connection_loads_as_the_drivers_settings(kind, expected, status):
    chosen = load_printer(CONFIG / "printers.toml", kind, "80mm")
    assert chosen.printer.connection == expected and chosen.printer.status == status


def test_a_key_left_out_takes_the_drivers_default(tmp_path):
    path = printers_file(tmp_path, ("port = 9100\ntimeout_s = 3.0\n", ""))
    assert load_printer(path, "network", "80mm").printer.connection == NetworkConfig("192.0.2.50")


def test_a_chosen_status_mode_replaces_the_connections_default():
    assert load_printer(CONFIG / "printers.toml", "network", "80mm", "online").printer.status == "online"


def test_shipped_profiles():
    profiles = load_profiles(CONFIG / "printers.toml")
    assert {(p.name, p.columns, p.dots, p.chinese, p.native_qr, p.labels, p.qr_module)
            for p in profiles.values()} == {
        ("58mm", 32, 384, "gb18030", True, "bilingual", 6), ("58mm-image", 32, 384, "image", False, "english", 3),
        ("80mm", 48, 576, "gb18030", True, "bilingual", 6), ("80mm-image", 48, 576, "image", True, "english", 6)}
    assert all(p.cell_dots == 12 for p in profiles.values())


@pytest.mark.parametrize("edit, key, reason", [
    (('vendor = "0416"', 'vendor = "printer"'), "printer.usb.vendor", "must be 4 hex digits as lsusb shows them"),
    (('vendor = "0416"', "vendor = 1046"), "printer.usb.vendor", "must be 4 hex digits as lsusb shows them"),
    (('host = "192.0.2.50"', 'hostname = "192.0.2.50"'), "printer.network.hostname", "unknown key"),
    (("baudrate = 9600", "baudrate = -1"), "printer.serial.baudrate", "input should be greater than 0, got -1"),
    (("port = 0                    #", "port = 70000 #"), "printer.sim.port",
     "input should be less than or equal to 65535, got 70000"),
    (("timeout_s = 3.0", 'timeout_s = "3"'), "printer.network.timeout_s", "input should be a valid number"),
    (("[printer.sim]", '[printer]\nconnection = "sim"\n[printer.sim]'), "printer.connection", "unknown key"),
    (("[printer.cups]", "[printer.bluetooth]"), "printer.bluetooth", "unknown key"),
    (("columns = 32", "columns = 10"), "profile.58mm.columns", "input should be greater than or equal to 24"),
    (('chinese = "gb18030"', 'chinese = "big5"'), "profile.58mm.chinese", "input should be 'gb18030' or 'image'"),
    (('escpos_profile = "POS-5890"', 'escpos_profile = "NoSuchPrinter"'), "profile.58mm.escpos_profile",
     "is not a python-escpos capability profile"),
    (("dots = 384", "dots = 576"), "profile.58mm.escpos_profile", "allows 384 dots, fewer than the profile's dots"),
    (("dots = 384", "dots = 200"), "profile.58mm.dots", "must give at least 8 dots per column"),
    (("native_qr = true", "native_qr = 1"), "profile.58mm.native_qr", "input should be a valid boolean"),
    (("paper_mm = 58\n", "paper_mm = 58\ncolour = true\n"), "profile.58mm.colour", "unknown key"),
    (("dots = 384\n", ""), "profile.58mm.dots", "missing"),
    (('labels = "english"', 'labels = "french"'), "profile.58mm-image.labels", "input should be 'bilingual' or"),
    (('labels = "english"', 'cjk_font = "/no/such/font.ttc"'), "profile.58mm-image.cjk_font", "is not a file"),
])
def test_a_bad_table_anywhere_in_the_file_is_named_by_file_and_key(tmp_path, edit, key, reason):
    """Every table is checked, not only the one the terminal chose: a typo is found before it is needed."""
    path = printers_file(tmp_path, edit)
    with pytest.raises(SettingsError) as caught:
        load_printer(path, "sim", "80mm")
    assert (caught.value.file, caught.value.key) == (str(path), key)
    assert str(caught.value).startswith(f"{path}: {key}: {reason}"), str(caught.value)


@pytest.mark.parametrize("edit, connection, profile, key", [
    (("[printer.network]", "[printer.network-off]"), "network", "80mm", "printer.network-off"),
    ((SHIPPED[SHIPPED.index("[printer.cups]"):], ""), "cups", "80mm", "printer.cups"),
    (("", ""), "sim", "76mm", "profile.76mm"),
])
def test_the_chosen_table_or_profile_missing_is_named(tmp_path, edit, connection, profile, key):
    path = printers_file(tmp_path, edit)
    with pytest.raises(SettingsError) as caught:
        load_printer(path, connection, profile)
    assert caught.value.key == key
