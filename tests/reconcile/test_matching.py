"""Matching, category by category: real journal rows of several tills against a real statement file."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from acquirer.clearing.events import LineCode
from acquirer.protocol.statement import read_statement
from pos.reconcile.categories import Category
from pos.reconcile.service import reconcile
from pos.reconcile.terms import MerchantTerms
from tests.reconcile.helpers import DAY, MID, TERMS, Till, beijing, statement


def run(tills, *days_events, plan_of=None, terms=TERMS, late=None, first=DAY, last=DAY):
    events = [e for till in tills for e in till.events]
    statements = [read_statement(statement(events, day, plan_of=plan_of, late=late), MID)
                  for day in sorted({first + timedelta(days=n) for n in range((last - first).days + 1)} |
                                    set(days_events))]
    records = [r for till in tills for r in till.records()]
    return reconcile(records, statements, first, last, terms)


def categories(report):
    return [(line.category, line.record.stan if line.record else None, line.line.code if line.line else None)
            for line in report.lines]


@pytest.fixture
def tills(tmp_path):
    return Till(tmp_path, "10000001"), Till(tmp_path, "10000002"), Till(tmp_path, "10000003")


def test_a_clean_day_of_three_tills_is_all_matched(tills):
    a, b, c = tills
    a.sale(10_000, beijing(9))
    b.wallet_sale(2_500, beijing(10))
    c.visa_sale(7_000, beijing(11))
    sale = a.sale(3_000, beijing(12))
    a.void(sale, beijing(12, 5))
    b.refund(1_000, beijing(13))
    report = run(tills)
    assert report.all_matched
    assert {line.category for line in report.lines} == {Category.MATCHED}
    assert len(report.lines) == 6
    assert report.terminals == ("10000001", "10000002", "10000003")
    total = report.totals()
    assert total.gross == 10_000 + 2_500 + 7_000 + 3_000 - 3_000 - 1_000 == report.terminal_total
    assert total.net == total.gross - total.fees
    channels = {(c.channel, c.entry_mode): c.count for c in report.channels}
    assert channels == {("card unionpay", "contactless"): 4, ("wallet alipay", "QR code"): 1,
                        ("card visa", "contactless"): 1}


def test_amount_differs(tills):
    a = tills[0]
    txn = a.sale(10_000, beijing(9), host_amount=1_000)
    [line] = run(tills).lines
    assert (line.category, line.record.stan) == (Category.AMOUNT_DIFFERS, txn.stan)
    assert "cleared ¥10.00" in line.reason and "¥100.00" in line.reason


def test_terminal_only_a_sale_the_host_never_saw(tills):
    a = tills[0]
    a.sale(5_000, beijing(9))
    txn = a.sale(4_200, beijing(10), cleared=False)
    report = run(tills)
    assert categories(report) == [(Category.MATCHED, "000001", "SAL"), (Category.TERMINAL_ONLY, txn.stan, None)]
    assert not report.all_matched


def test_terminal_only_a_reversal_the_acquirer_never_received(tills):
    a = tills[0]
    txn = a.lost_reply(6_600, beijing(9), reversal_arrives=False)
    [line] = run(tills).lines
    assert (line.category, line.record.stan, line.line.code) == (Category.TERMINAL_ONLY, txn.stan, "SAL")
    assert "its reversal is still due at the terminal and it cleared ¥66.00" in line.reason


def test_a_reversal_that_arrived_nets_to_zero(tills):
    a = tills[0]
    a.lost_reply(6_600, beijing(9), reversal_arrives=True)
    report = run(tills)
    assert [(c, code) for c, _, code in categories(report)] == [(Category.MATCHED, "SAL"), (Category.MATCHED, "RVS")]
    assert report.totals().gross == 0


def test_acquirer_only_a_refund_whose_reply_was_lost(tills):
    a = tills[0]
    txn = a.refund(1_500, beijing(9), answered=False)
    [line] = run(tills).lines
    assert (line.category, line.record.stan, line.line.code) == (Category.ACQUIRER_ONLY, txn.stan, "RFD")
    assert "unknown" in line.reason


def test_acquirer_only_a_till_not_included(tills, tmp_path):
    a = tills[0]
    stranger = Till(tmp_path, "10000009")
    stranger.sale(800, beijing(9))
    a.sale(900, beijing(10))
    events = a.events + stranger.events
    report = reconcile(a.records(), [read_statement(statement(events), MID)], DAY, DAY, TERMS)
    assert categories(report)[1] == (Category.ACQUIRER_ONLY, None, "SAL")
    assert "10000009's journal is not part" in report.lines[1].reason


def test_voided_at_the_terminal_but_cleared(tills):
    a = tills[0]
    sale = a.sale(3_000, beijing(9))
    void = a.void(sale, beijing(9, 3), cleared=False)
    report = run(tills)
    assert categories(report) == [(Category.MATCHED, sale.stan, "SAL"),
                                  (Category.VOIDED_BUT_CLEARED, void.stan, None)]


def test_refunded_or_charged_back_at_the_acquirer(tills):
    a = tills[0]
    sale = a.sale(8_000, beijing(9))
    a.event(sale, LineCode.CHARGEBACK, -8_000, beijing(15), original_date=DAY - timedelta(days=3),
            source="dispute")
    report = run(tills)
    assert categories(report) == [(Category.MATCHED, sale.stan, "SAL"), (Category.REFUNDED_OR_CHARGED_BACK, None, "CHB")]
    assert "chargeback" in report.lines[1].reason


def test_fee_differs_from_the_merchants_terms(tills):
    a = tills[0]
    a.sale(10_000, beijing(9))
    report = run(tills, plan_of={MID: "dear"})        # the acquirer charged 0.2%, the contract says 0.1%
    [line] = report.lines
    assert line.category is Category.FEE_DIFFERS
    assert "acquirer fee 20 fen" in line.reason and "gives 10 fen" in line.reason


def test_no_plan_no_fee_check(tills):
    a = tills[0]
    a.sale(10_000, beijing(9))
    terms = MerchantTerms.model_validate({"merchant": MID})
    assert run(tills, plan_of={MID: "dear"}, terms=terms).all_matched


def test_cleared_on_another_day_a_sale_just_after_cut_off(tills):
    a = tills[0]
    a.sale(1_000, beijing(12))
    # the till's clock says 22:59:59.5; the host took it at 23:00:00: the acquirer clears it on the 4th
    late = a.sale(2_000, beijing(22, 59, 59) + timedelta(milliseconds=500), host_at=beijing(23, 0, 0))
    report = run(tills, DAY + timedelta(days=1))
    assert categories(report) == [(Category.MATCHED, "000001", "SAL"), (Category.OTHER_DAY, late.stan, "SAL")]
    assert "cleared it on 2026-12-04" in report.lines[1].reason


def test_near_cut_off_without_the_next_statement_says_so(tills):
    a = tills[0]
    a.sale(2_000, beijing(22, 59, 59), host_at=beijing(23, 0, 1))
    [line] = run(tills).lines
    assert line.category is Category.TERMINAL_ONLY
    assert "close to the cut-off" in line.reason


def test_each_line_in_exactly_one_category(tills):
    a, b, c = tills
    a.sale(10_000, beijing(9))
    a.sale(4_200, beijing(10), cleared=False)
    b.lost_reply(6_600, beijing(11), reversal_arrives=False)
    b.refund(1_500, beijing(12), answered=False)
    sale = c.sale(3_000, beijing(13))
    c.void(sale, beijing(13, 1), cleared=False)
    report = run(tills)
    statement_lines = [line.line for line in report.lines if line.line is not None]
    assert len(statement_lines) == len({id(x) for x in statement_lines}) == 4   # SAL, SAL, RFD, SAL
    records = [line.record.id for line in report.lines if line.record is not None]
    assert len(records) == len({(r.terminal, r.id) for r in (x.record for x in report.lines if x.record)})
    assert sorted(c.value for c, _, _ in categories(report)) == sorted(
        ["matched", "terminal_only", "terminal_only", "acquirer_only", "matched", "voided_but_cleared"])


def test_fee_plan_changed_mid_day(tills):
    a = tills[0]
    a.sale(10_000, beijing(9))
    late = a.sale(10_000, beijing(15))
    # the merchant's contract went down to 0.05% at 14:00; the acquirer kept charging its 0.1% plan
    terms = MerchantTerms.model_validate({"merchant": MID, "plan": {"acquirer_pct": "0.1"},
                                          "plan_change": [{"from": beijing(14), "acquirer_pct": "0.05"}]})
    report = run(tills, terms=terms)
    assert categories(report) == [(Category.MATCHED, "000001", "SAL"), (Category.FEE_DIFFERS, late.stan, "SAL")]
    assert "acquirer fee 10 fen, the plan (0.05%) gives 5 fen" in report.lines[1].reason


def test_plan_changes_must_be_in_order():
    with pytest.raises(ValueError, match="plan changes must be in time order"):
        MerchantTerms.model_validate({"merchant": MID, "plan_change": [
            {"from": beijing(15), "acquirer_pct": "0.05"}, {"from": beijing(14), "acquirer_pct": "0.2"}]})


def test_cleared_on_the_day_after_the_range_is_reported_in_the_range(tills):
    a = tills[0]
    late = a.sale(2_000, beijing(22, 59, 59) + timedelta(milliseconds=500), host_at=beijing(23, 0, 0))
    report = run(tills, DAY + timedelta(days=1))            # the 4th's statement given as a neighbour only
    assert [(x.category, x.day, x.record.stan) for x in report.lines] == [(Category.OTHER_DAY, DAY, late.stan)]
    assert [d.day for d in report.days] == [DAY]


def test_a_transmission_time_that_is_no_time_of_day_only_orders_the_line():
    """A statement's MMDDhhmmss is only checked for digits; one that is no time orders its line at midnight."""
    from acquirer.protocol.clock import CHINA
    from acquirer.protocol.statement import StatementLine
    from pos.reconcile.matching import transmitted_at

    good = StatementLine("SAL", False, DAY, "1203101502", "000001", "000000000001", "123456", "10000001", MID,
                         "5411", "621483******0015", "unionpay", "cup-bank", "D", 100, 0, 0, 0, 0, 0, 100, None)
    odd = good._replace(transmission_time="1203996199")
    assert transmitted_at(good) == datetime(2026, 12, 3, 10, 15, 2, tzinfo=CHINA)
    assert transmitted_at(odd) == datetime(2026, 12, 3, tzinfo=CHINA)
