"""Receipts printed by the terminal, end to end: engine -> journal -> receipt -> ESC/POS -> python-escpos's
real Network or Serial class -> the simulated printer, whose interpreted paper the tests read.

Cards are tapped on the simulated PN532 (the real kernel over nfcpy), the host
is the real acquirer in process; nothing between the sale and the paper is
replaced.
"""
from __future__ import annotations

import asyncio
import re
import sqlite3

import pytest

from drivers.sim.printer import SimulatedPrinter
from pos.core import events as ev
from pos.core.config import load_config
from acquirer.protocol.cardholder import mask_pan
from pos.devices.contactless import open_contactless
from pos.devices.terminal import open_receipts, open_terminal
from receipts import from_json
from tests.pos.printing_support import E_RECEIPT, card_numbers, slips, use_printer
from tests.pos.support import make_config, test_cards

CARDS = test_cards()


@pytest.fixture
def printer():
    with SimulatedPrinter() as sim:
        yield sim


def terminal_config(tmp_path, sim: SimulatedPrinter, transport: str):
    """A terminal printing to `sim`: as a network printer (80 mm) or a serial one on a pty (58 mm, raster QR)."""
    config_dir = make_config(tmp_path)
    if transport == "network":
        host, port = sim.serve_tcp(0)
        use_printer(config_dir, "network", "80mm", host=host, port=port, timeout_s=2.0)
    else:
        use_printer(config_dir, "serial", "58mm", device=sim.open_pty(), baudrate=115200, timeout_s=0.15)
    return load_config(config_dir, state_dir=tmp_path / "state")


def run(config, work, events=None):
    """`work(engine, cards)` on an open terminal, cards tapped on its simulated reader."""
    async def go():
        with open_contactless(config) as contactless:
            async with open_terminal(config, None if events is None else events.append) as engine:
                return await work(engine, contactless.cards)
    return asyncio.run(go())


def reprint(config, trace=None, events=None):
    async def go():
        async with open_receipts(config, None if events is None else events.append) as receipts:
            return await receipts.reprint(trace)
    return asyncio.run(go())


def assert_only_masked_card_numbers(text: str) -> None:
    for number in card_numbers(text):
        assert re.fullmatch(r"\d{6}\*+\d{4}|\d{6,}", number), number   # masked PAN, or a reference/number
        assert number not in {c["pan"] for c in CARDS.values()}
    for card in CARDS.values():
        assert card["pan"] not in text


@pytest.mark.parametrize("transport", ["network", "serial"])
def test_a_day_of_receipts_on_the_printer(tmp_path, printer, transport):
    config = terminal_config(tmp_path, printer, transport)

    async def day(engine, cards):
        sale = await engine.sale(1234, [cards.card("unionpay-debit")])
        visa = await engine.sale(8800, [cards.card("visa")])
        void = await engine.void(visa.txn.stan, [cards.card("visa")])
        refund = await engine.refund(sale.txn.rrn, 500, [cards.card("unionpay-debit")])
        declined = await engine.sale(20000, [cards.card("unionpay-low-balance")])
        balance = await engine.balance([cards.card("unionpay-debit")])
        return sale, visa, void, refund, declined, balance, await engine.settle()

    sale, visa, void, refund, declined, balance, settled = run(config, day)
    _, again = reprint(config, sale.txn.stan)

    assert again.printed
    printed = slips(printer.document)
    # every slip whole, once: approved ones twice (merchant, cardholder), the decline once, no balance slip
    assert [(s.value("凭证号 VOUCHER NO."), s.copy, s.value("交易类型 TRANS TYPE"), s.amount) for s in printed] == [
        (sale.txn.stan, "商户存根 MERCHANT COPY", "消费 SALE", "¥12.34"),
        (sale.txn.stan, "持卡人存根 CARDHOLDER COPY", "消费 SALE", "¥12.34"),
        (visa.txn.stan, "商户存根 MERCHANT COPY", "消费 SALE", "¥88.00"),
        (visa.txn.stan, "持卡人存根 CARDHOLDER COPY", "消费 SALE", "¥88.00"),
        (void.txn.stan, "商户存根 MERCHANT COPY", "消费撤销 VOID", "-¥88.00"),
        (void.txn.stan, "持卡人存根 CARDHOLDER COPY", "消费撤销 VOID", "-¥88.00"),
        (refund.txn.stan, "商户存根 MERCHANT COPY", "退货 REFUND", "-¥5.00"),
        (refund.txn.stan, "持卡人存根 CARDHOLDER COPY", "退货 REFUND", "-¥5.00"),
        (declined.txn.stan, "持卡人存根 CARDHOLDER COPY", "消费 SALE", "¥200.00"),
        (None, None, None, None),                                    # the settlement summary
        (sale.txn.stan, "商户存根 MERCHANT COPY", "消费 SALE", "¥12.34"),   # the reprint
        (sale.txn.stan, "持卡人存根 CARDHOLDER COPY", "消费 SALE", "¥12.34"),
    ]
    assert all(s.complete for s in printed)
    assert balance.approved and balance.txn.stan not in [s.value("凭证号 VOUCHER NO.") for s in printed]
    *day_slips, summary, reprint_merchant, reprint_cardholder = printed

    for slip in day_slips + [reprint_merchant, reprint_cardholder]:
        text = slip.text
        assert_only_masked_card_numbers(text)
        for label in ("商户名称 MERCHANT NAME", "天天便利店", "Tiantian Convenience Store", "卡号 CARD NO."):
            assert label in slip.lines, label
        assert slip.value("商户编号 MERCHANT NO.") == "898310048990001"
        assert slip.value("终端编号 TERMINAL NO.") == "10000001"
        assert slip.value("批次号 BATCH NO.") == "000001"
        link = E_RECEIPT.format(batch="000001", trace=slip.value("凭证号 VOUCHER NO."))
        if slip.copy == "商户存根 MERCHANT COPY":   # the e-receipt is the customer's: not on the merchant copy
            assert slip.qr_links == [] and "电子签购单 E-RECEIPT" not in slip.lines
        else:
            assert slip.qr_links == [link] and slip.link == link      # the QR decodes back to the printed link
        assert ("重打印 REPRINT" in slip.lines) == (slip in (reprint_merchant, reprint_cardholder))

    masked = {sale.txn.stan: "621483*********0015", visa.txn.stan: "476173******0011",
              void.txn.stan: "476173******0011", refund.txn.stan: "621483*********0015",
              declined.txn.stan: mask_pan(CARDS["unionpay-low-balance"]["pan"])}
    for slip in day_slips:
        trace = slip.value("凭证号 VOUCHER NO.")
        assert masked[trace] in slip.lines
        if slip.value("交易类型 TRANS TYPE") == "消费 SALE" and trace != declined.txn.stan:
            assert "交易成功 APPROVED" in slip.lines and slip.value("授权码 AUTH NO.")
            assert re.fullmatch(r"[0-9A-F]{16}", slip.value("ARQC") or "")   # the chip's cryptogram
        assert slip.value("日期时间 DATE/TIME").startswith("20")

    void_slip, refund_slip, declined_slip = day_slips[4], day_slips[6], day_slips[8]
    assert void_slip.value("原凭证号 ORIG. VOUCHER") == visa.txn.stan
    assert refund_slip.value("原凭证号 ORIG. VOUCHER") == sale.txn.stan
    assert refund_slip.value("参考号 REF. NO.") == refund.txn.rrn
    assert "交易失败 DECLINED" in declined_slip.lines and "余额不足 INSUFFICIENT FUNDS" in declined_slip.lines
    assert declined_slip.value("应答码 RESP. CODE") == "51" and "免签名 NO SIGNATURE REQUIRED" not in declined_slip.lines

    assert summary.lines[:2] == ["结算总计单", "SETTLEMENT"]
    rows = {line.split("  ")[0]: line.split()[-3:] for line in summary.lines if " / " in line}
    assert rows == {"消费 SALE": ["2", "/", "¥100.34"], "消费撤销 VOID": ["1", "/", "-¥88.00"],
                    "退货 REFUND": ["1", "/", "-¥5.00"]}
    closed = settled.closed_on
    assert closed.debit_amount - closed.credit_amount == 734           # what the host settled ...
    assert summary.value("净额 NET TOTAL") == "¥7.34"                    # ... is the printed net
    assert "对账平 BALANCED" in summary.lines

    # the journal keeps each slip as printed (masked PAN only), and nothing on disk holds a PAN
    conn = sqlite3.connect(config.journal_path)
    kept = dict(conn.execute("SELECT stan, receipt FROM transactions WHERE receipt IS NOT NULL").fetchall())
    summary_json = conn.execute("SELECT receipt FROM batches WHERE batch = '000001'").fetchone()[0]
    conn.close()
    assert set(kept) == {sale.txn.stan, visa.txn.stan, void.txn.stan, refund.txn.stan, declined.txn.stan}
    assert from_json(kept[refund.txn.stan]).card.masked_pan == "621483*********0015"
    assert from_json(summary_json).net_fen == 734
    for path in config.state_dir.rglob("*"):
        assert path.is_dir() or all(c["pan"].encode() not in path.read_bytes() for c in CARDS.values()), path


@pytest.mark.parametrize("fault", ["paper_out", "offline"])
def test_a_printer_failing_mid_receipt_prints_it_once_when_it_is_back(tmp_path, printer, fault):
    config = terminal_config(tmp_path, printer, "network")
    events: list[ev.Event] = []

    async def work(engine, cards):
        first = await engine.sale(100, [cards.card("unionpay-debit")])
        printer.fail_after(1000, fault)                       # inside the merchant copy of the next slip
        second = await engine.sale(200, [cards.card("unionpay-debit")])
        cut_off = slips(printer.document)[-1]
        printer.come_back()
        third = await engine.sale(300, [cards.card("unionpay-debit")])
        return first, second, cut_off, third

    first, second, cut_off, third = run(config, work, events)

    assert first.approved and second.approved and third.approved     # the printer changed no outcome
    assert not cut_off.complete and cut_off.value("凭证号 VOUCHER NO.") in (None, second.txn.stan)
    [queued] = [e for e in events if isinstance(e, ev.ReceiptQueued)]
    assert queued.what == f"receipt of trace {second.txn.stan} (batch 000001)"
    assert "interrupted" in queued.error and "prints again in full" in queued.error
    whole = [(s.value("凭证号 VOUCHER NO."), s.copy) for s in slips(printer.document) if s.complete]
    assert whole == [(t.txn.stan, copy) for t in (first, second, third)
                     for copy in ("商户存根 MERCHANT COPY", "持卡人存根 CARDHOLDER COPY")]


def test_a_receipt_queued_while_the_printer_is_off_prints_at_the_next_start(tmp_path, printer):
    config = terminal_config(tmp_path, printer, "network")
    printer.run_out_of_paper()
    events: list[ev.Event] = []

    outcome = run(config, lambda engine, cards: engine.sale(4321, [cards.card("visa")]), events)

    assert outcome.approved and printer.document.items == []
    assert any(isinstance(e, ev.ReceiptQueued) and "out of paper" in e.error for e in events)
    printer.load_paper()
    restarted: list[ev.Event] = []
    run(config, lambda engine, cards: asyncio.sleep(0), restarted)    # the terminal starts, and does nothing else

    assert [e for e in restarted if isinstance(e, ev.ReceiptPrinted)] == [
        ev.ReceiptPrinted(f"receipt of trace {outcome.txn.stan} (batch 000001)")]
    assert [(s.value("凭证号 VOUCHER NO."), s.amount) for s in slips(printer.document) if s.complete] == [
        (outcome.txn.stan, "¥43.21")] * 2


def test_asking_for_a_reprint_while_out_of_paper_gives_one_slip(tmp_path, printer):
    config = terminal_config(tmp_path, printer, "network")
    sale = run(config, lambda engine, cards: engine.sale(999, [cards.card("mastercard")]))
    printer.run_out_of_paper()

    _, first_try = reprint(config)
    _, second_try = reprint(config)
    printer.load_paper()
    events: list[ev.Event] = []
    txn, printed = reprint(config, events=events)

    assert not first_try.printed and "out of paper" in str(first_try.error) and not second_try.printed
    assert printed.printed and txn.stan == sale.txn.stan
    reprints = [s for s in slips(printer.document) if "重打印 REPRINT" in s.lines]
    assert [(s.value("凭证号 VOUCHER NO."), s.copy) for s in reprints] == [
        (sale.txn.stan, "商户存根 MERCHANT COPY"), (sale.txn.stan, "持卡人存根 CARDHOLDER COPY")]
    assert events == [ev.ReceiptPrinted(f"receipt of trace {sale.txn.stan} (batch 000001), reprint")]


def test_pre_auth_and_completion_slips_and_their_settlement_line(tmp_path, printer):
    config = terminal_config(tmp_path, printer, "network")

    async def work(engine, cards):
        hold = await engine.preauth(30000, [cards.card("unionpay-credit")])
        done = await engine.complete(hold.txn.stan, 25000, [cards.card("unionpay-credit")])
        return hold, done, await engine.settle()

    hold, done, settled = run(config, work)

    *cardholder_slips, summary = [s for s in slips(printer.document) if s.copy != "商户存根 MERCHANT COPY"]
    assert [(s.value("凭证号 VOUCHER NO."), s.value("交易类型 TRANS TYPE"), s.amount) for s in cardholder_slips] == [
        (hold.txn.stan, "预授权 PRE-AUTH", "¥300.00"), (done.txn.stan, "预授权完成 AUTH COMPLETE", "¥250.00")]
    assert cardholder_slips[1].value("原凭证号 ORIG. VOUCHER") == hold.txn.stan
    assert settled.closed_on.debit_amount == 25000
    assert any(line.startswith("预授权完成 AUTH COMPLETE") and line.endswith("1 / ¥250.00") for line in summary.lines)
    assert summary.value("净额 NET TOTAL") == "¥250.00"
