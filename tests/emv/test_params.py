"""terminal-emv.toml: the defaults the kit ships, and errors that name the file and key."""
from __future__ import annotations

import pytest

from pos.sources.emv import EmvConfigError, load_terminal_emv
from tests.emv.conftest import EMV_CONFIG


def test_shipped_parameters(emv_config):
    by_aid = {p.aid.hex().upper(): p for p in emv_config.aids}
    assert set(by_aid) == {"A000000333010101", "A000000333010102", "A000000333010103",
                           "A0000000031010", "A0000000041010"}
    quickpass = by_aid["A000000333010101"]
    assert (quickpass.scheme, quickpass.cvm_limit, quickpass.cvm) == ("unionpay", 100_000, "online_pin")
    assert emv_config.terminal_type == b"\x22"


def config_with(tmp_path, old: str, new: str):
    text = EMV_CONFIG.read_text()
    assert old in text
    path = tmp_path / "terminal-emv.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("cvm_limit = 100000 ", "cvm_limit = -1 ", r"aid\[0\]\.cvm_limit: input should be greater than or equal to 0"),
    ("cvm_limit = 100000 ", "cvm_limit = 1000.5 ", r"aid\[0\]\.cvm_limit: input should be a valid integer"),
    ('cvm = "online_pin"', 'cvm = "pin"', r"aid\[0\]\.cvm: input should be 'online_pin', 'signature' or 'none'"),
    ('scheme = "unionpay"', 'scheme = "amex"', r"aid\[0\]\.scheme: input should be 'unionpay', 'visa' or 'mastercard'"),
    ('ttq = "36004000"', 'ttq = "3600"', r"aid\[0\]\.ttq: must be 4 bytes, got 2"),
    ('ifd_serial = "TK000001"', 'ifd_serial = "TK1"', r"terminal\.ifd_serial: must be 8 printable characters"),
    ('aid = "A000000333010102"', 'aid = "A000000333010101"', r"aid\[1\]\.aid: A000000333010101 is listed twice"),
    ('name = "UnionPay Debit (QuickPass)"', 'nmae = "UnionPay Debit (QuickPass)"', r"aid\[0\]\.nmae: unknown key"),
])
def test_bad_values_are_named(tmp_path, old, new, message):
    path = config_with(tmp_path, old, new)
    with pytest.raises(EmvConfigError, match=message) as caught:
        load_terminal_emv(path)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(EmvConfigError, match="file not found"):
        load_terminal_emv(tmp_path / "terminal-emv.toml")
