"""Every receipt kind printed through python-escpos's Network and Serial classes to the simulator.

The bytes go the way the terminal sends them (PrintQueue -> PrinterConnection ->
escpos.printer.Network / Serial -> loopback TCP or a pty) and come back as the
lines, images and QR codes the simulated printer put on paper.
"""
from __future__ import annotations

import re

import pytest
import zxingcpp

from tests.printer.conftest import card_numbers, job_for
from tests.receipts import samples

KINDS = {
    "sale": (samples.sale, "消费 SALE", "¥12.34"),
    "void": (samples.void, "消费撤销 VOID", "-¥12.34"),
    "refund": (samples.refund, "退货 REFUND", "-¥5.00"),
    "decline": (samples.decline, "消费 SALE", "¥9,999.99"),
    "reprint": (lambda: samples.sale().as_reprint(), "消费 SALE", "¥12.34"),
}
TRANSPORTS = {"network": ("queue", "80mm"), "serial": ("serial_queue", "58mm")}   # queue fixture, profile


def qr_links(page, profile) -> list[str]:
    if profile.native_qr:
        return page.qr_payloads
    return [code.text for image in page.images for code in zxingcpp.read_barcodes(image.image)]


def assert_card_data_masked(text: str) -> None:
    numbers = card_numbers(text)
    assert "621483*********0015" in numbers
    for number in numbers:
        if "*" in number:
            assert re.fullmatch(r"\d{0,6}\*+\d{0,4}", number), number
    assert samples.full_pan() not in text


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
def test_transaction_slips(request, sim, profiles, transport, kind):
    queue_fixture, profile_name = TRANSPORTS[transport]
    queue, profile = request.getfixturevalue(queue_fixture), profiles[profile_name]
    make, type_label, amount = KINDS[kind]

    result = queue.submit(job_for(make(), profile, reference="000123"))

    assert result.printed and result.error is None
    paper = sim.document
    text = paper.text
    assert_card_data_masked(text)
    copy_labels = ["商户存根 MERCHANT COPY", "持卡人存根 CARDHOLDER COPY"]
    copies = copy_labels[1:] if kind == "decline" else copy_labels   # a declined sale: cardholder copy only
    if kind == "decline":
        assert "交易失败 DECLINED" in text and "余额不足 INSUFFICIENT FUNDS" in text and "APPROVED" not in text
    else:
        assert text.count("交易成功 APPROVED") == 2
    n = len(copies)
    assert [line for line in paper.text_lines if line in copy_labels] == copies
    assert paper.text_lines.count(amount) == n
    assert text.count("交易类型 TRANS TYPE") == n and text.count(type_label) == n
    for label in ("商户名称 MERCHANT NAME", "天天便利店", "Tiantian Convenience Store"):
        assert paper.text_lines.count(label) == n
    assert qr_links(paper, profile) == [samples.E_RECEIPT_URL]   # on the cardholder copy only
    assert ("重打印 REPRINT" in text) == (kind == "reprint")
    if profile.name == "80mm":
        assert paper.cuts == n and len(paper.pages()) == n


@pytest.mark.parametrize("queue_fixture", ["queue", "serial_queue"])
def test_image_mode_chinese_arrives_as_raster_lines(request, sim, profiles, queue_fixture):
    """A printer without a Chinese font: English labels as text, the Chinese content as images cut to their ink."""
    profile = profiles["80mm-image"]
    result = request.getfixturevalue(queue_fixture).submit(job_for(samples.sale(), profile, "000123"))

    assert result.printed
    paper = sim.document
    assert all(line.isascii() or line in ("-¥12.34", "¥12.34") for line in paper.text_lines)
    assert "621483*********0015" in paper.text_lines
    assert "MERCHANT NAME" in paper.text_lines and "天天便利店" not in paper.text
    assert len(paper.images) == 2 and all(image.width < 576 for image in paper.images)   # 天天便利店 per copy
    assert paper.qr_payloads == [samples.E_RECEIPT_URL] and paper.cuts == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_settlement_summary(request, sim, profiles, transport):
    queue_fixture, profile_name = TRANSPORTS[transport]
    queue = request.getfixturevalue(queue_fixture)

    result = queue.submit(job_for(samples.settlement(balanced=False), profiles[profile_name], "settlement 000001"))

    assert result.printed
    lines = sim.document.text_lines
    assert "结算总计单" in lines and "SETTLEMENT" in lines
    rows = {line.split("  ")[0]: line.split()[-3:] for line in lines if " / " in line}
    assert rows == {"消费 SALE": ["3", "/", "¥37.02"], "消费撤销 VOID": ["1", "/", "-¥12.34"],
                    "退货 REFUND": ["1", "/", "-¥5.00"]}
    assert any(line.startswith("净额 NET TOTAL") and line.endswith("¥19.68") for line in lines)
    assert "对账不平 OUT OF BALANCE" in lines


def test_reprint_of_a_queued_job_prints_the_reprint_rendition(queue, sim, profiles):
    first = queue.submit(job_for(samples.sale(), profiles["80mm"], "000123"))
    assert "REPRINT" not in sim.document.text

    again = queue.reprint(queue.last("000123").id)

    assert again.printed and again.job_id != first.job_id
    pages = sim.document.pages()
    assert len(pages) == 4
    assert ["重打印 REPRINT" in page.text_lines for page in pages] == [False, False, True, True]
    assert queue.get(again.job_id).reprint_of == first.job_id
    assert queue.last("000123").id == first.job_id    # `last` finds originals, not reprints
