"""The other payments at the checkout screen, driven as a cashier drives them (Textual pilot).

A merchant-presented code on screen (paid by the simulated customer's wallet
app through the acquirer's wallet-apps endpoint, or cancelled with Esc),
pre-auth and its completion, balance inquiry, and the reprint, void and
refund of wallet sales. Each over the real engine, the simulated devices and
the embedded acquirer; what is checked is what the screen shows, the journal
row it must match and the simulated printer's paper.
"""
from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from tests.tui.support import new_app, pilot_test, present, screen_name, screen_text, sign_on, wait_done, wait_for
from tests.tui.test_flows import journal_rows


async def wait_code(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "phase", "") == "showing_code"
                   and pilot.app.screen.query("#code"), "the merchant-presented code on screen")


@pilot_test
async def test_a_merchant_presented_code_paid_by_the_customers_wallet(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"6789", "q")
        await wait_code(pilot)
        shown = screen_text(pilot)
        assert "¥67.89" in shown and "Scan with Alipay, WeChat Pay or the UnionPay app" in shown
        code = app.screen.query_one("#code")
        assert code.region.height == 22 and code.region.y + code.region.height <= 23   # whole, above the keys
        [pending] = journal_rows(app)
        assert (pending["type"], pending["state"]) == ("mpm_sale", "pending")
        await pilot.press("f6")                                  # the customer scans it with WeChat
        await wait_for(pilot, lambda: screen_name(pilot) == "PayShownCodeScreen")
        options = app.screen.query_one(OptionList)
        options.highlighted = options.get_option_index("wechat")
        await pilot.press("enter")
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["type"], row["state"], row["amount"]) == ("mpm_sale", "approved", 6789)
        shown = screen_text(pilot)
        assert "APPROVED" in shown and "¥67.89" in shown and row["stan"] in shown and row["rrn"] in shown
        await app.action_quit()


@pilot_test
async def test_esc_while_the_code_is_shown_cancels_the_order(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"1500", "q")
        await wait_code(pilot)
        await pilot.press("escape")
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["type"], row["state"], row["amount"]) == ("mpm_sale", "reversed", 1500)
        shown = screen_text(pilot)
        assert "NOT APPROVED" in shown and "reversed, no money taken" in shown and row["stan"] in shown
        assert screen_name(pilot) == "PaymentScreen"             # the outcome of this payment stays
        await pilot.press("f10")                                 # what a host notice offers, here too
        await wait_for(pilot, lambda: screen_name(pilot) == "SignOnScreen", "the sign-on screen")
        await app.action_quit()


@pilot_test
async def test_preauth_with_the_pin_then_its_completion(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"150000", "a")                        # over the CVM limit: the PIN pad opens
        await present(pilot, "card:unionpay-debit")
        await wait_for(pilot, lambda: screen_name(pilot) == "CardPinScreen", "the PIN pad")
        await pilot.press(*"123456", "enter")                   # config/cards.toml: unionpay-debit's PIN
        await wait_done(pilot)
        [hold] = journal_rows(app)
        assert (hold["type"], hold["state"], hold["amount"]) == ("preauth", "approved", 150000)
        shown = screen_text(pilot)
        assert "Pre-auth  ¥1,500.00" in shown and "APPROVED" in shown and hold["stan"] in shown
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen")
        await pilot.press(*"90000", "c")                         # complete it for less than the hold
        await wait_for(pilot, lambda: screen_name(pilot) == "PreauthTraceScreen", "the pre-auth's trace asked")
        assert "completing ¥900.00" in screen_text(pilot)
        await pilot.press(*str(int(hold["stan"])), "enter")      # as on the slip, leading zeros optional
        await present(pilot, "card:unionpay-debit")
        await wait_done(pilot)
        _, completion = journal_rows(app)
        assert (completion["type"], completion["state"], completion["amount"]) == ("completion", "approved", 90000)
        assert completion["original_stan"] == hold["stan"]
        shown = screen_text(pilot)
        assert "Completion  ¥900.00" in shown and "APPROVED" in shown and completion["stan"] in shown
        await app.action_quit()


@pilot_test
async def test_completion_of_an_unknown_preauth_is_refused_with_its_reason(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press("f9", *"5000", "c")                    # in Chinese
        await wait_for(pilot, lambda: screen_name(pilot) == "PreauthTraceScreen")
        await pilot.press(*"4242", "enter")
        await wait_done(pilot)
        assert journal_rows(app) == []                            # nothing was sent
        assert "没有流水号 004242 的成功预授权" in screen_text(pilot)
        await app.action_quit()


@pilot_test
async def test_balance_inquiry_shows_the_cards_balance(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press("b")                                   # no amount needed
        await present(pilot, "card:unionpay-debit")
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["type"], row["state"]) == ("balance", "approved")
        shown = screen_text(pilot)
        assert "Balance" in shown and "APPROVED" in shown and "Available balance ¥" in shown and row["stan"] in shown
        assert "Balance  ¥0.00" not in shown                   # no amount is asked, none is shown
        assert "R: receipt" not in shown and "Enter: done" in shown   # its slip is the screen: nothing to print
        await pilot.press("p")
        assert app.till.notice is None                            # not offered, so not tried
        await app.action_quit()



def slip_of(paper: str, row: dict[str, object]) -> str:
    """The last slip on the paper whose voucher number is `row`'s trace ("" if none printed)."""
    slips = [slip for slip in paper.split("✂") if f"VOUCHER NO.                        {row['stan']}" in slip]
    return slips[-1] if slips else ""


async def wallet_sale(pilot, keys: str, wallet: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A sale paid by a customer's wallet code shown to the camera; its journal row."""
    await pilot.press(*keys, "enter")
    await present(pilot, f"code:{wallet}")
    await wait_done(pilot)
    row = journal_rows(pilot.app)[-1]
    assert (row["type"], row["state"], row["wallet"]) == ("wallet_sale", "approved", wallet)
    return row


def shows(shown: str, row: dict[str, object]) -> bool:
    """The screen shows this journal row's outcome: its trace, reference number and auth code."""
    return all(str(row[field]) in shown for field in ("stan", "rrn", "auth_code"))


@pilot_test
async def test_wallet_sale_receipt_and_reprint(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        sale = await wallet_sale(pilot, "1888", "alipay")
        printer = app.engine.printer.simulator   # type: ignore[union-attr]
        slip = slip_of(printer.document.text, sale)
        assert "支付宝 ALIPAY" in slip and "10000001000001" in slip and sale["wallet_code"] in slip
        assert "REPRINT" not in printer.document.text
        await pilot.press("r")                                   # the receipt the printer printed
        await wait_for(pilot, lambda: screen_name(pilot) == "ReceiptScreen")
        shown = screen_text(pilot)
        assert "支付宝 ALIPAY" in shown and str(sale["rrn"]) in shown and "Nothing printed" not in shown
        await pilot.press("p")                                   # again: a marked copy
        await wait_for(pilot, lambda: "重打印 REPRINT" in printer.document.text, "the reprint on paper")
        assert str(sale["rrn"]) in printer.document.text.split("重打印 REPRINT")[-1]
        assert "REPRINT" in screen_text(pilot)                  # the preview shows the copy printed
        assert len(journal_rows(app)) == 1                      # a reprint is no transaction
        await app.action_quit()


@pilot_test
async def test_wallet_sale_void_from_history(tmp_path: Path) -> None:
    from tests.tui.test_flows import _history_pick

    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        sale = await wallet_sale(pilot, "2345", "wechat")
        await pilot.press("enter")
        await _history_pick(pilot, str(sale["stan"]))
        await pilot.press("v")
        await wait_for(pilot, lambda: screen_name(pilot) == "SupervisorPinScreen")
        await pilot.press(*"888888", "enter")                   # no card to present: back to the wallet
        await wait_done(pilot)
        sale_after, void = journal_rows(app)
        assert (void["type"], void["state"], void["amount"]) == ("wallet_void", "approved", 2345)
        assert void["original_stan"] == sale["stan"] and sale_after["state"] == "voided"
        shown = screen_text(pilot)
        assert "Void  ¥23.45" in shown and "APPROVED" in shown and shows(shown, void)
        slip = slip_of(app.engine.printer.simulator.document.text, void)   # type: ignore[union-attr]
        assert "消费撤销 VOID" in slip and "微信" in slip and f"ORIG. VOUCHER                    {sale['stan']}" in slip
        await pilot.press("enter")                               # back in the history: both rows, in words
        await wait_for(pilot, lambda: screen_name(pilot) == "HistoryScreen")
        await wait_for(pilot, lambda: "Wallet void" in screen_text(pilot) or
                       app.screen.query_one("#txns").row_count == 2, "the void in the history")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen")
        assert f"Last: Wallet void ¥23.45 approved · Trace {void['stan']}" in screen_text(pilot)
        await app.action_quit()


@pilot_test
async def test_wallet_sale_partial_refund_from_history(tmp_path: Path) -> None:
    from tests.tui.test_flows import _history_pick

    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        sale = await wallet_sale(pilot, "5000", "unionpay")
        await pilot.press("enter")
        await _history_pick(pilot, str(sale["stan"]))
        await pilot.press("f")
        await wait_for(pilot, lambda: screen_name(pilot) == "SupervisorPinScreen")
        await pilot.press(*"888888", "enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "RefundAmountScreen")
        await pilot.press(*"1200", "enter")
        await wait_done(pilot)
        _, refund = journal_rows(app)
        assert (refund["type"], refund["state"], refund["amount"]) == ("wallet_refund", "approved", 1200)
        assert refund["original_rrn"] == sale["rrn"]
        shown = screen_text(pilot)
        assert "Refund  ¥12.00" in shown and "APPROVED" in shown and shows(shown, refund)
        slip = slip_of(app.engine.printer.simulator.document.text, refund)   # type: ignore[union-attr]
        assert "REFUND" in slip and "云闪付" in slip and "¥12.00" in slip
        await app.action_quit()


@pilot_test
async def test_the_receipt_preview_scrolls_to_the_cardholder_copy(tmp_path: Path) -> None:
    from textual.containers import VerticalScroll

    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await wallet_sale(pilot, "1888", "alipay")
        await pilot.press("r")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReceiptScreen")
        scroll = app.screen.query_one("#receipt-scroll", VerticalScroll)
        await wait_for(pilot, lambda: scroll.max_scroll_y > 0, "a receipt longer than the screen")
        assert scroll.scroll_y == 0
        await pilot.press("end")                                 # the keys a cashier tries: End, PgDn, arrows
        await wait_for(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y, "the end of the paper")
        await pilot.press("home", "pagedown")
        await wait_for(pilot, lambda: 0 < scroll.scroll_y, "a page down")
        await app.action_quit()


def test_every_transaction_type_has_its_words() -> None:
    """No internal name on screen ("wallet_sale", "mpm_sale"): every type the engine journals, in both languages."""
    from acquirer.protocol.transactions import TxnType
    from pos.tui.format import kind_text

    for txn_type in TxnType:
        en, zh = kind_text("en", txn_type.value), kind_text("zh", txn_type.value)
        assert "_" not in en and en != txn_type.value and zh != en
