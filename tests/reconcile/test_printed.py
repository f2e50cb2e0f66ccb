"""The printed reconciliation: golden text at 32 columns (58 mm), ESC/POS bytes read back, `--print`."""
from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acquirer.protocol.statement import read_statement
from drivers.sim.escpos_interpreter import interpret
from pos.reconcile.service import reconcile
from pos.reconcile.slip import reconciliation_slip
from pos.core.printers_file import load_profiles
from receipts import Merchant, render_escpos, render_text
from receipts.model import UnmaskedPanError
from receipts.reconciliation import ReconciliationException
from tests.pos.support import CONFIG, invoke_pos, make_config
from tests.reconcile.helpers import DAY, MID, TERMS, Till, beijing, statement

GOLDEN = Path(__file__).parent / "golden"
MERCHANT = Merchant("天天便利店", "Tiantian Convenience Store", MID)
WHEN = datetime(2026, 12, 4, 1, 30, tzinfo=UTC)


def _day(tmp_path):
    a, b = Till(tmp_path, "10000001"), Till(tmp_path, "10000002")
    a.sale(10_000, beijing(9))
    b.wallet_sale(2_500, beijing(10))
    a.visa_sale(7_000, beijing(11))
    a.sale(4_200, beijing(12), cleared=False)
    sale = b.sale(3_000, beijing(13))
    b.void(sale, beijing(13, 1), cleared=False)
    events = a.events + b.events
    return reconcile(a.records() + b.records(), [read_statement(statement(events), MID)], DAY, DAY, TERMS)


def test_golden_printed_summary(tmp_path):
    text = render_text(reconciliation_slip(_day(tmp_path), MERCHANT, WHEN), 32)
    assert text == (GOLDEN / "reconciliation-32.txt").read_text(encoding="utf-8")


def test_the_escpos_bytes_read_back_to_the_same_lines(tmp_path):
    slip = reconciliation_slip(_day(tmp_path), MERCHANT, WHEN)
    profile = load_profiles(CONFIG / "printers.toml")["58mm"]
    printed = [line.strip() for line in interpret(render_escpos(slip, profile)).text_lines]
    assert printed == [line.strip() for line in render_text(slip, profile.columns).splitlines()]
    assert "差错 EXCEPTIONS: 2" in printed and "0002/000003             -¥30.00" in printed


def test_a_full_pan_never_reaches_the_slip():
    with pytest.raises(UnmaskedPanError):
        ReconciliationException("terminal only", "10000001", "000001", 100, "6214830000000015")


def test_pos_reconcile_print(tmp_path):
    config = make_config(tmp_path)
    shutil.copy(CONFIG / "reconcile.toml", config / "reconcile.toml")
    state = tmp_path / "state"
    state.mkdir()
    till = Till(tmp_path, "10000001", journal=state / "journal.db")
    till.sale(10_000, beijing(9))
    path = tmp_path / "statement.txt"
    path.write_bytes(statement(till.events))
    done = invoke_pos(config, state, "reconcile", "--date", DAY.isoformat(), "--statement", str(path), "--print")
    assert done.returncode == 0, done.stderr
    assert "reconciliation printed" in done.stderr
