"""Every TOML file is read by one schema loader: a typo, a wrong type, binary garbage or a missing file
is one line `file: key: reason` from the command line, exit 4, and no traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

import subprocess

from tests.pos.support import BIN, make_config, run_pos

GARBAGE = bytes(range(256)) * 4   # not UTF-8, not TOML


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} has no {old!r}"
    path.write_text(text.replace(old, new, 1))


#: (file, how to break it, the command that reads it, the key the line must name)
CASES = [
    ("pos.toml", ("reversal_attempts = 5", "reversal_atempts = 5"), "host.reversal_atempts: unknown key"),
    ("pos.toml", ("timeout_s = 10.0", 'timeout_s = "soon"'), "host.timeout_s: input should be a valid number"),
    ("pos.toml", ('language = "en"', "language = true"), "tui.language: input should be 'en' or 'zh'"),
    ("pos.toml", GARBAGE, "(file): not UTF-8 text"),
    ("pos.toml", None, "(file): file not found"),
    ("acquirer.toml", ("switch_timeout_ms = 3000", "switch_timout_ms = 3000"), "host.switch_timout_ms: unknown key"),
    ("acquirer.toml", ("delay_ms = 0", 'delay_ms = "soon"'), "issuer[0].delay_ms: input should be a valid integer"),
    ("acquirer.toml", GARBAGE, "(file): not UTF-8 text"),
    ("acquirer.toml", None, "(file): file not found"),
    ("acquirer.toml", ("[server]", "[server"), "(file): not valid TOML"),
    ("cards.toml", ('pin = "123456"', 'pni = "123456"'), "card[0].pni: unknown key"),
    ("cards.toml", ('psn = "01"', "psn = 1"), "card[0].psn: input should be a valid string"),
    ("cards.toml", GARBAGE, "(file): not UTF-8 text"),
    ("cards.toml", None, "(file): file not found"),
    ("cards.toml", ('expiry = "3012"', 'expiry = "3013"'), "card[0].expiry: must be YYMM with month 01-12"),
    ("wallets.toml", ("confirm_delay_s = 8", "confirm_dealy_s = 8"), "wallet.alipay.confirm_dealy_s: unknown key"),
    ("wallets.toml", ("password_free_limit = 20000", 'password_free_limit = "lots"'),
     "wallet.alipay.password_free_limit: input should be a valid integer"),
    ("wallets.toml", GARBAGE, "(file): not UTF-8 text"),
    ("wallets.toml", None, "(file): file not found"),
    ("terminal-emv.toml", ('cvm = "online_pin"', 'cvn = "online_pin"'), "aid[0].cvn: unknown key"),
    ("terminal-emv.toml", ("cvm_limit = 100000", 'cvm_limit = "1000"'), "aid[0].cvm_limit: input should be a valid integer"),
    ("terminal-emv.toml", GARBAGE, "(file): not UTF-8 text"),
    ("terminal-emv.toml", None, "(file): file not found"),
]

#: the command that reads each file (the acquirer's files: its own command line reads them the same way)
READERS = {
    "pos.toml": ["history"],
    "terminal-emv.toml": ["sale", "1.00"],
    "wallets.toml": ["sim", "wallet-code", "alipay", "--out", "code.png"],
}


@pytest.mark.parametrize(("name", "damage", "expected"), CASES)
def test_a_bad_settings_file_is_one_line_and_exit_4(tmp_path, name, damage, expected):
    config = make_config(tmp_path)
    path = config / name
    if damage is None:
        path.unlink()
    elif isinstance(damage, bytes):
        path.write_bytes(damage)
    else:
        _edit(path, *damage)
    if name in READERS:
        done = run_pos(config, tmp_path / "state", *READERS[name])
    else:
        done = subprocess.run([str(BIN / "acquirer"), "terminals", "--config", str(config)],
                              capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 4, done.stderr
    assert lines == [f"Error: {path}: {expected}" + lines[0].split(expected, 1)[1]], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize(("damage", "expected"), [
    (GARBAGE, "(file): not UTF-8 text"),
    (('form = "phone"', 'from = "phone"'), "card[9].from: unknown key"),
])
def test_the_virtual_cards_read_cards_toml_through_the_same_loader(tmp_path, damage, expected):
    config = make_config(tmp_path)
    path = config / "cards.toml"
    if isinstance(damage, bytes):
        path.write_bytes(damage)
    else:
        _edit(path, *damage)
    done = run_pos(config, tmp_path / "state", "sim", "wallet-code", "cpm", "--out", str(tmp_path / "code.png"))
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 4, done.stderr
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}: {expected}"), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
