"""clearing.toml and holidays.toml: every mistake is one line naming the file and the key."""
from __future__ import annotations

from pathlib import Path

import pytest

from acquirer.clearing.terms import load_clearing
from acquirer.protocol.settings_file import SettingsError

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


def write(tmp_path: Path, clearing: str, holidays: str = "year = []\n") -> Path:
    (tmp_path / "clearing.toml").write_text(clearing)
    (tmp_path / "holidays.toml").write_text(holidays)
    return tmp_path


PLAN = '[[rate_plan]]\nname = "standard"\nacquirer_pct = 0.1\n'


def test_shipped_configuration_loads():
    config, calendar = load_clearing(REPO_CONFIG)
    assert config.merchants["898310048990001"].rate_plan == "standard"
    assert "2026" in calendar.covered()


@pytest.mark.parametrize(("text", "message"), [
    (PLAN + "[clearing]\ncutof = \"23:00\"\n", "clearing.toml: clearing.cutof: unknown key"),
    (PLAN + "[clearing]\ncutoff = \"11pm\"\n", "clearing.toml: clearing.cutoff: cut-off must be HH:MM"),
    (PLAN + "[fees]\nissuer_debit_pct = 0.36\n", "clearing.toml: fees: issuer debit fee is at most 0.35%"),
    (PLAN + "[fees]\nnetwork_cap_fen = \"325\"\n", "clearing.toml: fees.network_cap_fen: input should be a valid integer"),
    (PLAN + "[fees]\nissuer_credit_pct = 0.12345\n", "clearing.toml: fees.issuer_credit_pct: "),
    (('[[rate_plan]]\nname = "a"\nacquirer_pct = 0.1\n[[merchant]]\nmid = "898310048990001"\nmcc = "5411"\n'
     'rate_plan = "gold"\npayout_account = "310066632018001234567"\n'), "unknown rate plan 'gold'"),
    ("", "clearing.toml: rate_plan: missing"),
])
def test_bad_values(tmp_path, text, message):
    with pytest.raises(SettingsError) as e:
        load_clearing(write(tmp_path, text))
    assert message in str(e.value)


def test_binary_garbage_and_missing_files(tmp_path):
    (tmp_path / "clearing.toml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SettingsError, match=r"/clearing.toml: \(file\): not UTF-8 text"):
        load_clearing(tmp_path)
    with pytest.raises(SettingsError, match=r"/clearing.toml: \(file\): file not found"):
        load_clearing(tmp_path / "nowhere")
    write(tmp_path, PLAN)
    (tmp_path / "holidays.toml").unlink()
    with pytest.raises(SettingsError, match=r"/holidays.toml: \(file\): file not found"):
        load_clearing(tmp_path)


def test_bad_holiday_year(tmp_path):
    with pytest.raises(SettingsError, match=r"holidays.toml: year\[0\]: 2028-01-01 is not in 2027"):
        load_clearing(write(tmp_path, PLAN, '[[year]]\nyear = 2027\nholidays = ["2028-01-01"]\n'))
