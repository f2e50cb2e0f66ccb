"""pos.toml loading: the shipped defaults load, and each bad value is named with its file."""
from pathlib import Path

import pytest

from pos.core.config import ConfigError, load_config

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_shipped_config_is_terminal_10000001_on_the_embedded_host():
    cfg = load_config(CONFIG)
    assert (cfg.terminal.tid, cfg.terminal.mid, cfg.terminal.mac) == ("10000001", "898310048990001", "ecb")
    assert cfg.host.embedded
    assert cfg.journal_path == Path("var/pos/journal.db")


def test_the_terminal_tmk_is_the_acquirers(tmp_path):
    import tomllib
    acquirer = tomllib.loads((CONFIG / "acquirer.toml").read_text())
    registered = {t["tid"]: t["tmk"] for t in acquirer["terminal"]}
    assert load_config(CONFIG).terminal.tmk.hex().upper() == registered["10000001"]


@pytest.mark.parametrize("setting", ["tty:USB0:pn532", "usb", "usb:072f:2200", "/dev/ttyS0:pn532"])
def test_a_real_reader_is_accepted_by_its_path(tmp_path, setting):
    cfg = load_config(_write(tmp_path, 'reader = "sim"', f'reader = "{setting}"'))
    assert cfg.nfc.reader == setting and not cfg.nfc.simulated
    assert load_config(CONFIG).nfc.simulated


def test_overrides(tmp_path):
    cfg = load_config(CONFIG, state_dir=tmp_path, host_address="127.0.0.1:9999")
    assert cfg.host.host_port == ("127.0.0.1", 9999) and not cfg.host.embedded
    assert cfg.journal_path == tmp_path / "journal.db"


def _write(tmp_path, old, new):
    text = (CONFIG / "pos.toml").read_text()
    assert old in text
    (tmp_path / "pos.toml").write_text(text.replace(old, new))
    (tmp_path / "printers.toml").write_text((CONFIG / "printers.toml").read_text())
    return tmp_path


@pytest.mark.parametrize("old, new, message", [
    ('tid = "10000001"', 'tid = "1000"', r"pos.toml: terminal.tid: must be 8 characters, got '1000'"),
    ('mac = "ecb"', 'mac = "md5"', r"pos.toml: terminal.mac: input should be 'ecb' or 'x919', got 'md5'"),
    ('tmk = "6ECAFCE232B9AF939F09493CFC314CD7"', 'tmk = "XYZ"', r"pos.toml: terminal.tmk: must be 32 hex digits \(a double-length key\), got a str$"),
    ("timeout_s = 10.0", 'timeout_s = "soon"', r"pos.toml: host.timeout_s: input should be a valid number, got 'soon'"),
    ('address = "embedded"', 'address = "localhost"', r"pos.toml: host.address: must be \"embedded\" or \"HOST:PORT\", got 'localhost'"),
    ("max_amount_fen = 5000000", "max_amount_fen = 0", r"pos.toml: terminal.max_amount_fen: input should be greater than or equal to 1, got 0"),
    ("[state]", "[status]", r"pos.toml: status: unknown key"),
    ('reader = "sim"', 'reader = "bluetooth:reader"', r"pos.toml: nfc.reader: must be \"sim\" or a reader path: "
                                                    r"reader path 'bluetooth:reader' is not understood"),
    ('reader = "sim"', 'reader = "tty:USB0:pn533"', r"pos.toml: nfc.reader: must be .*names driver 'pn533'"),
    ('reader = "sim"', 'reader = "tty:USB0"', r"pos.toml: nfc.reader: .*needs both a port and a driver"),
    ("[nfc]", "[reader]", r"pos.toml: reader: unknown key"),
])
def test_bad_values_name_file_and_key(tmp_path, old, new, message):
    directory = _write(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(directory)
    assert str(directory / "pos.toml") in str(info.value)


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match=r"pos.toml: \(file\): file not found"):
        load_config(tmp_path)
    (tmp_path / "pos.toml").write_text("[terminal\n")
    with pytest.raises(ConfigError, match=r"pos.toml: \(file\): not valid TOML"):
        load_config(tmp_path)


@pytest.mark.parametrize("old, new, message", [
    ('connection = "sim"', 'connection = "bluetooth"', r'pos.toml: printer.connection: must be "sim" or "network"'),
    ('profile = "80mm"', 'profile = "80mm"\nstatus = "sometimes"', r"pos.toml: printer.status: input should be 'full', 'online' or 'none'"),
    ('merchant_name_zh = "天天便利店"', 'merchant_name_zh = ""', r"pos.toml: receipt.merchant_name_zh: .*non-empty"),
    ("/{batch}/{trace}", "/{batch}/{stan}", r"pos.toml: receipt.url: uses stan; known placeholders: \{mid\}"),
    ('url = "https://', 'url = "ftp://', r"pos.toml: receipt.url: must be an http\(s\) link"),
])
def test_bad_receipt_and_printer_values_are_named(tmp_path, old, new, message):
    directory = _write(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(directory)
    assert str(directory / "pos.toml") in str(info.value)


def test_a_profile_printers_toml_lacks_is_named_in_that_file(tmp_path):
    directory = _write(tmp_path, 'profile = "80mm"', 'profile = "76mm"')
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    assert str(info.value).startswith(f"{directory / 'printers.toml'}: profile.76mm: missing (pos.toml [printer] "
                                      f"profile names it; have: 58mm, ")


def test_the_shipped_terminal_prints_on_the_simulated_printer():
    cfg = load_config(CONFIG)
    assert cfg.printer is not None and type(cfg.printer.printer.connection).__name__ == "SimConfig"
    assert (cfg.printer.profile.name, cfg.printer.profile.columns, cfg.printer.printer.status) == ("80mm", 48, "full")
    assert cfg.receipt.url == "https://receipts.tillkit.example/{mid}/{tid}/{batch}/{trace}"
    assert cfg.print_queue_path == Path("var/pos/print-queue.db")
