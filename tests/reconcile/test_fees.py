"""The fee check against the merchant's plan and the regulated maxima, on both sides of each limit."""
from __future__ import annotations

from datetime import date

import pytest

from acquirer.protocol.statement import StatementLine
from pos.reconcile.terms import MerchantTerms, fee_problem

PLAN = MerchantTerms.model_validate({"merchant": "898310048990001", "plan": {"acquirer_pct": "0.1"}}).plan


def line(amount: int, issuer: int, network: int, acquirer: int, card_type: str = "D") -> StatementLine:
    mdr = issuer + network + acquirer
    return StatementLine("SAL", False, date(2026, 12, 3), "1203120000", "000001", "000000000001", "123456",
                         "10000001", "898310048990001", "5411", "621483******0015", "unionpay", "cup-bank",
                         card_type, amount, issuer, network, network, acquirer, mdr, amount - mdr, None)


@pytest.mark.parametrize(("amount", "issuer", "network", "acquirer", "card", "problem"), [
    (1_200_000, 1300, 325, 1200, "D", None),                           # both caps exactly
    (1_200_000, 1301, 325, 1200, "D", "issuer fee 1301 fen is above the regulated maximum (1300 fen)"),
    (1_200_000, 1300, 326, 1200, "D", "network fee 326 fen is above the regulated maximum (325 fen)"),
    (1_000, 4, 0, 1, "D", None),                                       # 3.5 fen rounds half up to 4
    (1_000, 5, 0, 1, "D", "issuer fee 5 fen is above the regulated maximum (4 fen)"),
    (1_200_000, 5400, 325, 1200, "C", None),                           # credit: 0.45%, no cap
    (1_200_000, 5401, 325, 1200, "C", "issuer fee 5401 fen is above the regulated maximum (5400 fen)"),
    (10_000, 35, 3, 11, "D", "acquirer fee 11 fen, the plan (0.1%) gives 10 fen"),
    (-5_000, -18, -2, -5, "D", None),                                  # a refund: fees signed like it
])
def test_fee_limits(amount, issuer, network, acquirer, card, problem):
    assert fee_problem(line(amount, issuer, network, acquirer, card), PLAN) == problem


def test_a_dispute_carries_no_fee():
    chargeback = line(-10_000, 0, 0, 0)._replace(code="CHB")
    assert fee_problem(chargeback, PLAN) is None
    charged = chargeback._replace(acquirer_fee=-10, mdr=-10, settlement_amount=-9_990)
    assert fee_problem(charged, PLAN) == "a dispute line carries no fee, this one -10 fen"
