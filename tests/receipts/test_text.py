"""Plain-text receipts: what a screen, a log or `pos reprint --text` shows."""
from __future__ import annotations

import re

import pytest

from receipts import Cvm, Merchant, render_text
from receipts.width import display_width, wrap
from tests.receipts import samples

ALL = {
    "sale": samples.sale, "void": samples.void, "refund": samples.refund, "decline": samples.decline,
    "reprint": lambda: samples.sale().as_reprint(), "settlement": samples.settlement,
}


@pytest.mark.parametrize("columns", [32, 48])
@pytest.mark.parametrize("kind", ALL)
def test_every_line_fits_the_paper_counting_chinese_as_two_columns(kind, columns):
    lines = render_text(ALL[kind](), columns).splitlines()
    assert max(display_width(line) for line in lines) <= columns
    # a label and its value share a line padded to the full width: Chinese counted double
    terminal = next(line for line in lines if line.startswith("终端编号"))
    assert display_width(terminal) == columns and len(terminal) == columns - 4


def test_a_long_merchant_name_wraps_inside_the_paper():
    long_name = Merchant("天天便利店（浦东新区世纪大道第一千二百三十四号分店）",
                         "Tiantian Convenience Store, Century Avenue No. 1234 Branch, Pudong", "898310048990001")
    lines = render_text(samples.sale(merchant=long_name), 32).splitlines()
    assert max(display_width(line) for line in lines) <= 32
    assert "（浦东新区世纪大道第一千二百三十四号分店）" in "".join(line.strip() for line in lines)


def test_sale_slip_shows_the_bilingual_fields():
    text = render_text(samples.sale(), 32)
    for expected in ("POS签购单", "持卡人存根 CARDHOLDER COPY", "商户名称 MERCHANT NAME", "天天便利店",
                     "898310048990001", "621483*********0015", "银联 UNIONPAY", "非接 CONTACTLESS",
                     "消费 SALE", "000123", "240501123456", "A1B2C3", "2024-05-01 12:34:56", "¥12.34",
                     "交易成功 APPROVED", "A000000333010101", "UnionPay Debit", "8A1F2E3D4C5B6A79",
                     "免签名 NO SIGNATURE REQUIRED", "（密码验证 PIN VERIFIED）", samples.E_RECEIPT_URL[:32]):
        assert expected in text, expected
    assert samples.full_pan() not in text
    assert "REPRINT" not in text


def test_void_and_refund_show_negative_amounts_and_the_original_voucher():
    void = render_text(samples.void(), 32)
    assert "消费撤销 VOID" in void and "-¥12.34" in void
    assert re.search(r"原凭证号 ORIG\. VOUCHER +000123", void)
    refund = render_text(samples.refund(), 32)
    assert "退货 REFUND" in refund and "-¥5.00" in refund


def test_decline_shows_the_response_code_and_reason_and_no_signature_block():
    text = render_text(samples.decline(), 32)
    assert "交易失败 DECLINED" in text
    assert re.search(r"应答码 RESP\. CODE +51", text)
    assert "余额不足 INSUFFICIENT FUNDS" in text
    assert "APPROVED" not in text and "SIGNATURE" not in text and "授权码" not in text


def test_signature_line_only_on_the_merchant_copy_of_a_signature_transaction():
    merchant, cardholder = samples.sale(cvm=Cvm.SIGNATURE).copies()
    assert "持卡人签名 CARDHOLDER SIGNATURE" in render_text(merchant, 32)
    assert "_" * 32 in render_text(merchant, 32)
    assert "SIGNATURE" not in render_text(cardholder, 32)
    assert "本人确认以上交易，同意将其记入本卡账户。" in render_text(cardholder, 48)


@pytest.mark.parametrize("cvm, why", [(Cvm.CDCVM, "VERIFIED ON DEVICE"), (Cvm.NO_CVM, "UNDER CVM LIMIT")])
def test_no_signature_says_why(cvm, why):
    text = render_text(samples.sale(cvm=cvm), 48)
    assert "免签名 NO SIGNATURE REQUIRED" in text and why in text


def test_reprint_is_marked():
    assert "重打印 REPRINT" in render_text(samples.sale().as_reprint(), 32)
    assert "重打印 REPRINT" in render_text(samples.settlement(reprint=True), 32)


def test_settlement_lists_counts_totals_and_the_balance():
    text = render_text(samples.settlement(), 32)
    assert re.search(r"消费 SALE +3 / ¥37\.02", text)
    assert re.search(r"消费撤销 VOID +1 / -¥12\.34", text)
    assert re.search(r"退货 REFUND +1 / -¥5\.00", text)
    assert re.search(r"净额 NET TOTAL +¥19\.68", text)
    assert "对账平 BALANCED" in text
    assert "对账不平 OUT OF BALANCE" in render_text(samples.settlement(balanced=False), 32)


def test_too_narrow_paper_is_refused():
    with pytest.raises(ValueError, match="at least 24 columns"):
        render_text(samples.sale(), 20)


def test_wrap_breaks_words_then_characters():
    assert wrap("I ACKNOWLEDGE SATISFACTORY RECEIPT", 14) == ["I ACKNOWLEDGE", "SATISFACTORY", "RECEIPT"]
    assert wrap("本人确认以上交易", 6) == ["本人确", "认以上", "交易"]
