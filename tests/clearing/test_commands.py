"""The clearing commands as a user runs them: clear, statement, payouts, dispute, and their errors
(one line, no traceback)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acquirer.protocol.clock import clearing_date
from tests.acquirer.conftest import make_config
from tests.clearing.parse import read_file

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"
MID = "898310048990001"


@pytest.fixture
def setup(tmp_path: Path) -> Path:
    config = make_config(tmp_path / "config")
    text = (REPO_CONFIG / "clearing.toml").read_text().replace('output_dir = "var/clearing"',
                                                                f'output_dir = "{tmp_path / "out"}"')
    (config / "clearing.toml").write_text(text)
    shutil.copy(REPO_CONFIG / "holidays.toml", config / "holidays.toml")
    return tmp_path


def acquirer(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TILLKIT_CONFIG": str(workdir / "config")}
    return subprocess.run([sys.executable, "-m", "acquirer", *args, "--db", str(workdir / "a.db")],
                          check=False, capture_output=True, text=True, env=env, cwd=workdir, timeout=120)


def test_clear_an_empty_day_then_its_statement_and_payouts(setup):
    day = clearing_date(datetime.now(UTC)).toordinal() - 2
    date_text = datetime.fromordinal(day).date().isoformat()
    first = acquirer(setup, "clear", "--date", date_text)
    assert first.returncode == 0, first.stderr
    assert f"{date_text} cleared: 0 lines" in first.stdout
    again = acquirer(setup, "clear", "--date", date_text)
    assert f"{date_text} already cleared" in again.stdout
    statement = acquirer(setup, "statement", "--merchant", MID, "--date", date_text)
    parsed = read_file(statement.stdout.encode())
    assert (parsed.header["owner"], parsed.trailer["count"]) == (MID, 0)
    as_json = acquirer(setup, "statement", "--merchant", MID, "--date", date_text, "--format", "json")
    assert '"count": 0' in as_json.stdout
    payouts = acquirer(setup, "payouts", "--date", date_text)
    assert payouts.returncode == 0 and "payout instructions in" in payouts.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("clear", "--date", "2026-13-01"), "'2026-13-01' is not a date (YYYY-MM-DD)"),
    (("clear", "--date", "2099-01-01"), "clearing day 2099-01-01 is not over"),
    (("statement", "--merchant", "898310048999999", "--date", "2026-12-01"), "unknown merchant 898310048999999"),
    (("statement", "--merchant", MID, "--date", "2026-12-01"), "clearing day 2026-12-01 is not cleared yet"),
    (("dispute", "open", "--rrn", "999999999999"), "no transaction with RRN 999999999999"),
    (("clear", "--date", "2003-06-02"), "no holiday calendar for 2003"),
])
def test_errors_are_one_line(setup, args, message):
    result = acquirer(setup, *args)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_clearing_toml_is_named(setup):
    path = setup / "config" / "clearing.toml"
    path.write_text(path.read_text().replace("issuer_debit_pct = 0.35", "issuer_debit_pct = 0.5"))
    result = acquirer(setup, "clear")
    assert result.returncode == 4   # kind "terminal" (docs/errors.md), as for every settings file
    assert "clearing.toml: fees: issuer debit fee is at most 0.35%" in result.stderr
