"""ESC/POS rendering, read back by the simulator's interpreter: what the paper would show."""
from __future__ import annotations

from dataclasses import replace

import pytest
import zxingcpp

from drivers.sim.escpos_interpreter import interpret
from receipts import CjkFontMissing, Copy, render_copies, render_escpos, render_text
from receipts.width import display_width
from tests.receipts import samples


def test_chinese_goes_as_gb18030_inside_the_printers_chinese_mode(profiles):
    data = render_escpos(samples.sale(), profiles["80mm"])
    assert b"\x1c&" + "商户名称".encode("gb18030") + b" MERCHANT NAME\x1c.\n" in data
    document = interpret(data)
    assert "商户名称 MERCHANT NAME" in document.text_lines
    assert "本人确认以上交易，同意将其记入本卡账户。" in document.text_lines
    assert "（密码验证 PIN VERIFIED）" in document.text_lines


def test_yen_is_one_byte_of_code_page_437_outside_chinese_mode(profiles):
    data = render_escpos(samples.refund(), profiles["58mm"])
    assert b"\x1bt\x00" in data[:16]               # code page 437 selected at the start of the job
    assert b"-\x9d5.00\n" in data                   # ¥ is 0x9D there: one narrow character
    assert "¥".encode("gb18030") not in data
    assert "-¥5.00" in interpret(data).text_lines


@pytest.mark.parametrize("profile_name", ["58mm", "80mm"])
def test_printed_lines_match_the_text_rendering(profiles, profile_name):
    profile = profiles[profile_name]
    document = interpret(render_escpos(samples.sale(), profile))
    printed = [line.text.strip() for line in document.lines if line.text.strip()]
    expected = [line.strip() for line in render_text(samples.sale(), profile.columns).splitlines() if line.strip()]
    assert printed == expected


def test_styles_and_alignment(profiles):
    document = interpret(render_escpos(samples.sale(), profiles["80mm"]))
    title = document.lines[0]
    assert (title.text, title.align, title.bold, title.width, title.height) == ("POS签购单", "center", True, 2, 2)
    amount = next(line for line in document.lines if line.text == "¥12.34")
    assert (amount.align, amount.bold, amount.width) == ("right", True, 2)
    body = next(line for line in document.lines if line.text.startswith("终端编号"))
    assert (body.align, body.bold, body.width) == ("left", False, 1)
    assert document.cuts == 1


def test_native_qr_keeps_the_e_receipt_link(profiles):
    document = interpret(render_escpos(samples.sale(), profiles["80mm"]))
    assert document.qr_payloads == [samples.E_RECEIPT_URL]
    assert document.images == []


def test_raster_qr_decodes_back_to_the_e_receipt_link(profiles):
    profile = profiles["58mm-image"]
    document = interpret(render_escpos(samples.sale(), profile))
    assert document.qr_payloads == []
    qr = document.images[-1]
    # the bare symbol and its 4-module quiet zone at 3 dots a module, centred by ESC a, not padded
    assert qr.align == "center" and qr.width < profile.dots // 2
    assert [code.text for code in zxingcpp.read_barcodes(qr.image)] == [samples.E_RECEIPT_URL]
    assert samples.E_RECEIPT_URL.split("?")[1] in document.text   # and its link under it


@pytest.mark.parametrize("profile_name, dots", [("58mm-image", 384), ("80mm-image", 576)])
def test_bilingual_image_mode_sends_chinese_lines_as_raster_never_as_text(profiles, profile_name, dots):
    profile = replace(profiles[profile_name], labels="bilingual")
    data = render_escpos(samples.sale(), profile)
    document = interpret(data)
    assert "商户名称".encode("gb18030") not in data and b"\x1c&" not in data
    assert not any(display_width(line.text) != len(line.text) for line in document.lines)
    assert "MERCHANT NAME" not in document.text   # the Chinese labels' lines are images
    assert "621483*********0015" in [line.text for line in document.lines]   # ASCII lines stay text
    text_images = document.images if profile.native_qr else document.images[:-1]
    assert text_images and all(image.width <= dots for image in text_images)
    # one image row of 24 dots per line drawn, 48 for double size: every Chinese line is there
    chinese_lines = [line for line in render_text(samples.sale(), profile.columns).splitlines()
                     if display_width(line.strip()) != len(line.strip())]
    assert sum(image.height for image in text_images) == 24 * (len(chinese_lines) + 1)  # +1: the title is double
    assert all(image.image.getextrema() == (0, 255) for image in text_images)   # ink on every image


@pytest.mark.parametrize("profile_name", ["58mm-image", "80mm-image"])
def test_english_image_mode_draws_only_the_chinese_content(profiles, profile_name):
    document = interpret(render_escpos(samples.sale(), profiles[profile_name]))
    lines = document.text_lines
    assert lines[:2] == ["POS SLIP", "CARDHOLDER COPY"]
    assert any(line.startswith("MERCHANT NO.") and line.endswith("898310048990001") for line in lines)
    assert "(PIN VERIFIED)" in lines and "¥12.34" in lines
    merchant_zh = document.images[0]      # 天天便利店, right-aligned, cut to its ink
    assert merchant_zh.align == "right" and merchant_zh.height == 24 and merchant_zh.width <= 5 * 24 + 8


BYTES_IN_5_S_AT_9600_BAUD = 5 * 9600 // 10   # 8N1: ten bits on the wire a byte


def test_a_sale_slip_fits_the_9600_baud_byte_budget_on_every_shipped_profile(profiles):
    # a slip is the merchant and the cardholder copy in one job (bench_printing prints the figures)
    for name, profile in profiles.items():
        for slip in (samples.sale(), samples.void(), samples.refund()):
            job = render_copies(slip, profile)
            assert len(job) < BYTES_IN_5_S_AT_9600_BAUD, (name, len(job))
            document = interpret(job)
            [cardholder_qr] = document.qr_payloads or [
                code.text for image in document.images for code in zxingcpp.read_barcodes(image.image)]
            assert cardholder_qr == samples.E_RECEIPT_URL, name   # one QR: on the cardholder copy


def test_image_mode_without_a_font_names_what_to_install(profiles):
    profile = replace(profiles["58mm-image"], cjk_font="/nonexistent/wqy-microhei.ttc")
    with pytest.raises(CjkFontMissing, match="/nonexistent/wqy-microhei.ttc"):
        render_escpos(samples.sale(), profile)


@pytest.mark.parametrize("profile_name", ["58mm", "58mm-image", "80mm", "80mm-image"])
def test_settlement_prints_on_every_profile(profiles, profile_name):
    profile = profiles[profile_name]
    document = interpret(render_escpos(samples.settlement(), profile))
    assert not document.truncated and document.qr_payloads == []
    if profile.chinese == "gb18030":
        void = next(line for line in document.text_lines if line.startswith("消费撤销 VOID"))
        assert void.endswith(" 1 / -¥12.34") and display_width(void) == profile.columns
        assert document.images == []
    else:
        assert all(display_width(line) == len(line) for line in document.text_lines)
        void = next(line for line in document.text_lines if line.startswith("VOID"))
        assert void.endswith(" 1 / -¥12.34") and display_width(void) == profile.columns
        assert document.images and all(image.width <= profile.dots for image in document.images)


def test_copies_an_approved_slip_gets_two_a_decline_one(profiles):
    profile = profiles["80mm"]
    approved = interpret(render_copies(samples.sale(copy=Copy.CARDHOLDER), profile))
    assert [page.lines[2].text for page in approved.pages()] == ["商户存根 MERCHANT COPY", "持卡人存根 CARDHOLDER COPY"]
    declined = interpret(render_copies(samples.decline(), profile))
    assert [page.lines[2].text for page in declined.pages()] == ["持卡人存根 CARDHOLDER COPY"]
    assert interpret(render_copies(samples.settlement(), profile)).cuts == 1
