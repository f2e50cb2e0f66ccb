"""Every TOML file the kit reads, through the command that reads it: an unknown key, a wrong type,
binary garbage and a missing file are each one line `file: key: reason`, exit 4, and no traceback.

One table: for each file, the command that reads it and the two edits (a typo in a key, a value of
the wrong type); garbage and a missing file are tried on every file. docs/configuration.md lists the
files; `test_the_table_covers_every_file_the_docs_list` keeps the two in step.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pos.support import BIN, REPO, make_config, run_pos

GARBAGE = bytes(range(256)) * 4   # not UTF-8, not TOML

#: the command that reads each file, run in a shell's way ({config}: the directory, {tmp}: a scratch dir)
POS = ["pos", "--config", "{config}", "--state-dir", "{tmp}/state"]
READERS: dict[str, list[str]] = {
    "pos.toml": [*POS, "history"],
    "printers.toml": [*POS, "history"],
    "terminal-emv.toml": [*POS, "sale", "1.00"],
    "wallets.toml": [*POS, "sim", "wallet-code", "alipay", "--out", "{tmp}/code.png"],
    "reconcile.toml": [*POS, "reconcile", "--date", "2026-03-14"],
    "daemon.toml": [*POS, "daemon"],
    "acquirer.toml": ["acquirer", "terminals", "--config", "{config}"],
    "cards.toml": ["acquirer", "terminals", "--config", "{config}"],
    "clearing.toml": ["acquirer", "clear", "--config", "{config}", "--db", "{tmp}/acquirer.db"],
    "holidays.toml": ["acquirer", "clear", "--config", "{config}", "--db", "{tmp}/acquirer.db"],
}

#: (file, (text in the shipped file, what it becomes), the start of the line after `file: `)
EDITS = [
    ("pos.toml", ("reversal_attempts = 5", "reversal_atempts = 5"), "host.reversal_atempts: unknown key"),
    ("pos.toml", ("timeout_s = 10.0", 'timeout_s = "soon"'), "host.timeout_s: input should be a valid number"),
    ("pos.toml", ('language = "en"', "language = true"), "tui.language: input should be 'en' or 'zh'"),
    ("printers.toml", ('host = "192.0.2.50"', 'hostname = "192.0.2.50"'), "printer.network.hostname: unknown key"),
    ("printers.toml", ("columns = 32", 'columns = "32"'), "profile.58mm.columns: input should be a valid integer"),
    ("terminal-emv.toml", ('cvm = "online_pin"', 'cvn = "online_pin"'), "aid[0].cvn: unknown key"),
    ("terminal-emv.toml", ("cvm_limit = 100000", 'cvm_limit = "1000"'),
     "aid[0].cvm_limit: input should be a valid integer"),
    ("wallets.toml", ("confirm_delay_s = 8", "confirm_dealy_s = 8"), "wallet.alipay.confirm_dealy_s: unknown key"),
    ("wallets.toml", ("password_free_limit = 20000", 'password_free_limit = "lots"'),
     "wallet.alipay.password_free_limit: input should be a valid integer"),
    ("reconcile.toml", ('fee_rounding = "half_up"', 'fee_rounding = "half_up"\nfee_roundng = "up"'),
     "plan.fee_roundng: unknown key"),
    ("reconcile.toml", ('cutoff = "23:00"', "cutoff = 2300"), "cutoff: input should be a valid string"),
    ("daemon.toml", ("max_body_bytes = 65536", "max_body_byte = 65536"), "daemon.max_body_byte: unknown key"),
    ("daemon.toml", ("baudrate = 9600", 'baudrate = "fast"'), "daemon.baudrate: input should be a valid integer"),
    ("acquirer.toml", ("switch_timeout_ms = 3000", "switch_timout_ms = 3000"), "host.switch_timout_ms: unknown key"),
    ("acquirer.toml", ("delay_ms = 0", 'delay_ms = "soon"'), "issuer[0].delay_ms: input should be a valid integer"),
    ("acquirer.toml", ("[server]", "[server"), "(file): not valid TOML"),
    ("cards.toml", ('pin = "123456"', 'pni = "123456"'), "card[0].pni: unknown key"),
    ("cards.toml", ('psn = "01"', "psn = 1"), "card[0].psn: input should be a valid string"),
    ("cards.toml", ('expiry = "3012"', 'expiry = "3013"'), "card[0].expiry: must be YYMM with month 01-12"),
    ("clearing.toml", ('cutoff = "23:00"', 'cutof = "23:00"'), "clearing.cutof: unknown key"),
    ("clearing.toml", ("network_cap_fen = 325", 'network_cap_fen = "325"'),
     "fees.network_cap_fen: input should be a valid integer"),
    ("holidays.toml", ("year = []", "year = []\nyears = []"), "years: unknown key"),
    ("holidays.toml", ("year = []", 'year = "2026"'), "year: input should be a valid list"),
]
#: files a command may do without: their absence is a choice, not a mistake (docs/configuration.md)
OPTIONAL = {"daemon.toml"}
CASES = [
    *((name, damage, expected) for name, damage, expected in EDITS),
    *((name, GARBAGE, "(file): not UTF-8 text") for name in READERS),
    *((name, None, "(file): file not found") for name in READERS if name not in OPTIONAL),
]


def configuration(tmp_path: Path) -> Path:
    """The shipped configuration, every file of it, in a scratch directory."""
    config = make_config(tmp_path)
    for name in READERS:
        if not (config / name).exists():
            shutil.copy(REPO / "config" / name, config / name)
    return config


def run(name: str, config: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    program, *args = (part.format(config=config, tmp=tmp_path) for part in READERS[name])
    return subprocess.run([str(BIN / program), *args], capture_output=True, text=True, timeout=60, cwd=tmp_path)


@pytest.mark.parametrize(("name", "damage", "expected"), CASES,
                         ids=[f"{n}-{'garbage' if isinstance(d, bytes) else 'missing' if d is None else e.split(':')[0]}"
                              for n, d, e in CASES])
def test_a_bad_settings_file_is_one_line_and_exit_4(tmp_path, name, damage, expected):
    config = configuration(tmp_path)
    path = config / name
    if damage is None:
        path.unlink()
    elif isinstance(damage, bytes):
        path.write_bytes(damage)
    else:
        text = path.read_text()
        assert damage[0] in text, f"{name} has no {damage[0]!r}"
        path.write_text(text.replace(*damage, 1))
    done = run(name, config, tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 4, done.stderr
    assert len(lines) == 1 and f"{path}: {expected}" in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_the_table_covers_every_file_the_docs_list():
    documented = set(re.findall(r"^\| `([a-z-]+\.toml)` \|", (REPO / "docs" / "configuration.md").read_text(), re.M))
    assert documented == set(READERS)
    shipped = {path.name for path in (REPO / "config").glob("*.toml")}
    assert shipped == set(READERS)
    for name in READERS:
        kinds = {e.split(":")[1].strip().split(" (")[0] for n, _, e in EDITS if n == name}
        assert "unknown key" in kinds, f"{name}: no unknown-key case"
        assert len([n for n, _, _ in EDITS if n == name]) >= 2, f"{name}: no wrong-type case"


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
        text = path.read_text()
        assert damage[0] in text
        path.write_text(text.replace(*damage, 1))
    done = run_pos(config, tmp_path / "state", "sim", "wallet-code", "cpm", "--out", str(tmp_path / "code.png"))
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 4, done.stderr
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}: {expected}"), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
