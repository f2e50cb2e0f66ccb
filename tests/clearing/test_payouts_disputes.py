"""Payout instructions (minimum payout, negative balances carried) and the dispute state table."""
from __future__ import annotations

import io
from datetime import date

import pytest

from acquirer.clearing.disputes import next_state
from acquirer.clearing.errors import ClearingError
from acquirer.clearing.payouts import payout_lines, write_payouts
from tests.clearing.helpers import MID_A, MID_B, MID_DOWN, config
from tests.clearing.parse import read_file

TERMS = config().merchants


def test_paid_when_due_reaches_the_minimum_else_carried():
    lines = {p.mid: p for p in payout_lines({MID_A: (1, 9_000), MID_B: (3, 40_000)}, {}, TERMS)}
    assert (lines[MID_A].paid, lines[MID_A].carried_out) == (9_000, 0)
    assert (lines[MID_B].days, lines[MID_B].paid, lines[MID_B].carried_out) == (3, 0, 40_000)   # minimum 500 CNY
    later = {p.mid: p for p in payout_lines({MID_B: (1, 20_000)}, {MID_B: 40_000}, TERMS)}
    assert (later[MID_B].carried_in, later[MID_B].paid, later[MID_B].carried_out) == (40_000, 60_000, 0)


def test_refunds_above_sales_carry_a_negative_balance_forward():
    first = payout_lines({MID_DOWN: (1, -7_000)}, {}, TERMS)[0]
    assert (first.paid, first.carried_out) == (0, -7_000)
    second = payout_lines({MID_DOWN: (1, 5_000)}, {MID_DOWN: first.carried_out}, TERMS)[0]
    assert (second.paid, second.carried_out) == (0, -2_000)
    third = payout_lines({MID_DOWN: (1, 3_000)}, {MID_DOWN: second.carried_out}, TERMS)[0]
    assert (third.paid, third.carried_out) == (1_000, 0)


def test_payout_file_reads_back():
    lines = payout_lines({MID_A: (1, 9_000), MID_B: (1, 100)}, {MID_DOWN: -50}, TERMS)
    sink = io.BytesIO()
    write_payouts(sink, "48990000", date(2026, 12, 7), lines)
    parsed = read_file(sink.getvalue())
    assert parsed.header["file_type"] == "PAYO" and parsed.header["settlement_date"] == 20261207
    assert [(r["merchant"], r["payout_account"], r["paid"]) for r in parsed.records] == [
        (MID_A, "310066632018001234567", 9_000), (MID_B, "310066632018007654321", 0),
        (MID_DOWN, "310066632018000000003", 0)]
    assert (parsed.trailer["total_1"], parsed.trailer["total_2"], parsed.trailer["total_3"]) == (9_100, 9_000, 50)


def test_dispute_moves():
    assert next_state(None, "open") == "opened"
    assert next_state("opened", "represent") == "represented"
    assert next_state("represented", "close") == "closed"
    assert next_state("opened", "close") == "closed"
    for state, action in ((None, "represent"), ("opened", "open"), ("closed", "represent"), ("closed", "close")):
        with pytest.raises(ClearingError, match=f"cannot {action}"):
            next_state(state, action)
