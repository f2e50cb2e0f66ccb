"""X and Z reports from plain transaction data: the sums, the paper and the JSON.

The golden files under tests/receipts/golden/ are the reports of
`samples.day_of_transactions()` (two cashiers, UnionPay and Visa cards, all
three wallets, a void, a refund and a reversal), checked by hand once:
sales 6 / ¥112.63 (the reversed ¥3.00 is not a sale), net ¥94.79.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from drivers.sim.escpos_interpreter import interpret
from receipts import (
    Count,
    EntryMode,
    ReceiptFieldError,
    ReportTransaction,
    ShiftReport,
    TransactionType,
    render_copies,
    render_escpos,
    render_text,
    report_from_json,
    report_to_dict,
    report_to_json,
)
from receipts.width import display_width
from tests.receipts import samples

GOLDEN = Path(__file__).parent / "golden"


def test_the_batch_totals_net_sales_against_voids_and_refunds_and_leave_reversals_out():
    totals = samples.x_report().totals
    assert totals.sales == Count(6, 1234 + 2000 + 4550 + 880 + 1999 + 600)
    assert totals.voids == Count(1, 1234) and totals.refunds == Count(1, 550)
    assert totals.reversals == Count(1, 300)                     # approved, taken back: no money moved
    assert totals.net_fen == 11263 - 1234 - 550 == 9479


def test_each_wallet_and_each_card_scheme_is_its_own_channel():
    channels = samples.x_report().by_channel()
    assert list(channels) == ["card:unionpay", "card:visa", "wallet:alipay", "wallet:unionpay", "wallet:wechat"]
    assert channels["card:unionpay"].net_fen == 600               # 12.34 sold and voided, 6.00 keyed in
    assert channels["wallet:unionpay"].sales == Count(1, 1999)    # the UnionPay app is not the card
    assert channels["wallet:alipay"].net_fen == 4000
    assert channels["wallet:wechat"].reversals == Count(1, 300) and channels["wallet:wechat"].net_fen == 880
    assert sum(t.net_fen for t in channels.values()) == samples.x_report().totals.net_fen


def test_by_entry_mode_and_by_operator_add_up_to_the_batch():
    report = samples.x_report()
    for grouped in (report.by_entry_mode(), report.by_operator()):
        assert sum(t.net_fen for t in grouped.values()) == report.totals.net_fen
        assert sum(t.sales.count for t in grouped.values()) == report.totals.sales.count
    assert set(report.by_entry_mode()) == {EntryMode.CONTACTLESS, EntryMode.QR, EntryMode.MANUAL}
    assert report.by_operator()["02"].net_fen == 4550 - 550 + 880 + 1999


def test_completions_count_in_the_net_and_pre_auths_do_not():
    report = samples.x_report(transactions=(
        ReportTransaction(TransactionType.PRE_AUTH, 5000, "visa", False, EntryMode.CONTACTLESS, "01"),
        ReportTransaction(TransactionType.COMPLETION, 4800, "visa", False, EntryMode.CONTACTLESS, "01"),
        ReportTransaction(TransactionType.BALANCE, 0, "visa", False, EntryMode.CONTACTLESS, "01"),
    ))
    totals = report.totals
    assert totals.completions == Count(1, 4800) and totals.other == Count(2, 5000) and totals.net_fen == 4800


def test_x_report_golden_58mm():
    assert render_text(samples.x_report(), 32) == (GOLDEN / "x_report_32.txt").read_text(encoding="utf-8")


def test_z_report_golden_80mm():
    assert render_text(samples.z_report(), 48) == (GOLDEN / "z_report_48.txt").read_text(encoding="utf-8")


def test_z_report_json_golden():
    expected = json.loads((GOLDEN / "z_report.json").read_text(encoding="utf-8"))
    assert report_to_dict(samples.z_report()) == expected
    assert json.loads(json.dumps(report_to_dict(samples.z_report()))) == expected   # JSON-ready as it is


@pytest.mark.parametrize("profile_name", ["58mm", "80mm"])
def test_printed_reports_are_the_golden_lines(profiles, profile_name):
    profile = profiles[profile_name]
    golden = {32: "x_report_32.txt", 48: "z_report_48.txt"}[profile.columns]
    report = samples.x_report() if profile.columns == 32 else samples.z_report()
    document = interpret(render_copies(report, profile))
    printed = [line.text.strip() for line in document.lines if line.text.strip()]
    expected = [line.strip() for line in (GOLDEN / golden).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert printed == expected and document.cuts <= 1 and document.qr_payloads == []
    title = document.lines[0]
    assert (title.align, title.bold, title.width) == ("center", True, 2)
    net = next(line for line in document.lines if line.text.startswith("净额 NET"))
    assert net.bold and net.text.endswith("¥94.79") and display_width(net.text) == profile.columns


@pytest.mark.parametrize("profile_name", ["58mm-image", "80mm-image"])
def test_reports_on_printers_without_a_chinese_font_print_english_text(profiles, profile_name):
    document = interpret(render_escpos(samples.z_report(balanced=False), profiles[profile_name]))
    lines = document.text_lines
    assert lines[0] == "Z REPORT" and "OUT OF BALANCE" in lines
    assert "ALIPAY" in lines and "UNIONPAY APP" in lines and "WECHAT PAY" in lines and "OPERATOR 02 Li Na" in lines
    assert all(line.isascii() or "¥" in line for line in lines)
    assert len(document.images) == 1   # the merchant's Chinese name, and nothing else, is drawn


def test_an_empty_batch_says_so():
    text = render_text(samples.x_report(transactions=()), 32)
    assert "无交易 NO TRANSACTIONS" in text and "净额 NET                   ¥0.00" in text
    assert "BY CHANNEL" not in text


@pytest.mark.parametrize("change, message", [
    ({"kind": "Y"}, "kind must be"),
    ({"balanced": True}, "an X report none"),
])
def test_bad_reports_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        replace(samples.x_report(), **change)


def test_a_z_report_needs_the_hosts_verdict():
    with pytest.raises(ValueError, match="carries the host's verdict"):
        ShiftReport("Z", samples.MERCHANT, samples.TERMINAL_ID, 1, samples.WHEN, "01")


def test_amounts_are_non_negative_integer_fen():
    for amount in (-1, 1.5, True):
        with pytest.raises(ValueError, match="non-negative integer"):
            ReportTransaction(TransactionType.SALE, amount, "visa", False, EntryMode.CHIP, "01")  # type: ignore[arg-type]


def test_a_reprinted_report_is_marked_and_otherwise_the_same_paper():
    first = render_text(samples.z_report(), 48).splitlines()
    again = render_text(samples.z_report().as_reprint(), 48).splitlines()
    assert again[2].strip() == "重打印 REPRINT"
    assert again[:2] + again[3:] == first


def test_a_kept_report_reads_back_as_the_report_printed():
    for report in (samples.x_report(), samples.z_report(balanced=False)):
        kept = report_from_json(report_to_json(report))
        assert kept == report
        assert render_text(kept, 32) == render_text(report, 32)


def test_a_kept_report_that_is_not_one_is_refused():
    with pytest.raises(ReceiptFieldError, match="report"):
        report_from_json('{"kind": "X"}')


def test_the_operator_section_names_each_registered_cashier_and_numbers_an_unregistered_one():
    report = samples.x_report(operator_names=(("01", "Wang Fang"),))
    lines = render_text(report, 48).splitlines()
    assert "操作员 OPERATOR 01 Wang Fang" in lines and "操作员 OPERATOR 02" in lines
    assert report_to_dict(report)["operator_names"] == {"01": "Wang Fang"}
