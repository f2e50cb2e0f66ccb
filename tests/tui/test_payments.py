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

from tests.tui.support import new_app, pilot_test, screen_name, screen_text, sign_on, wait_done, wait_for
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
        await app.action_quit()
