"""The cashier's mistakes at the payment screen: every key is handled once, by the screen it was meant for.

A payment ends only by its outcome, an explicit cancel or a timeout; keys that
arrive while it is being decided are never taken as a decision, and the
screen shows the outcome of *this* payment, the one in the journal's last
row. Each test drives the app as a hurried cashier would (keys in one burst)
over the real engine, the simulated reader and the embedded acquirer.
"""
from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import OptionList

from tests.tui.support import new_app, pilot_test, present, screen_name, screen_text, sign_on, wait_done, wait_for
from tests.tui.test_flows import journal_rows


def shows_the_journal_row(shown: str, row: dict[str, object]) -> bool:
    return str(row["stan"]) in shown and (row["rrn"] is None or str(row["rrn"]) in shown)


_CHARACTERS = {"enter": "\r", "escape": "\x1b"}


async def burst(pilot, *keys: str) -> None:
    """Keys typed faster than the app answers: all of them arrive (are stamped) before the first is handled,
    as a terminal delivers a burst it read in one go. (`pilot.press` waits for each key to be handled.)"""
    for key in keys:
        pilot.app.post_message(events.Key(key, _CHARACTERS.get(key, key)))
    await pilot.pause()


async def choose_in_simulator(pilot, key: str, *extra: str) -> None:
    """Like `present`, with `extra` keys typed in the same burst as the choosing Enter."""
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "phase", "") == "waiting" and app.station.simulator is not None
                   and app.station.simulator.waiting, "the reader and camera armed")
    await pilot.press("f6")
    await wait_for(pilot, lambda: screen_name(pilot) == "SimulatorScreen", "the simulator panel")
    options = app.screen.query_one(OptionList)
    options.highlighted = options.get_option_index(key)
    await burst(pilot, "enter", *extra)


@pilot_test
async def test_double_enter_while_the_card_is_read_neither_drops_nor_repeats_the_sale(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"300", "enter")
        await choose_in_simulator(pilot, "card:unionpay-debit", "enter", "enter")
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["type"], row["state"], row["amount"]) == ("sale", "approved", 300)
        shown = screen_text(pilot)
        assert "APPROVED" in shown and "¥3.00" in shown and shows_the_journal_row(shown, row)
        assert screen_name(pilot) == "PaymentScreen"        # the result stays until the cashier moves on
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen")
        await pilot.press("enter")                           # nothing typed: no sale starts
        assert screen_name(pilot) == "AmountScreen" and len(journal_rows(app)) == 1
        await app.action_quit()


@pilot_test
async def test_enter_pressed_again_after_the_pin_is_not_a_decision(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"150000", "enter")                 # over the CVM limit: online PIN
        await present(pilot, "card:unionpay-debit")
        await wait_for(pilot, lambda: screen_name(pilot) == "CardPinScreen")
        await burst(pilot, *"123456", "enter", "enter", "enter")
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["state"], row["amount"]) == ("approved", 150000)
        shown = screen_text(pilot)
        assert "APPROVED" in shown and "¥1,500.00" in shown and shows_the_journal_row(shown, row)
        await app.action_quit()


@pilot_test
async def test_esc_while_the_customer_confirms_on_the_phone_reverses_the_order(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"30000", "enter")                  # over the wallet's password-free limit
        await present(pilot, "code:alipay")
        await wait_for(pilot, lambda: getattr(app.screen, "confirming", None) is not None,
                       "the customer confirming on the phone")
        await pilot.press("escape")
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["type"], row["state"], row["amount"]) == ("wallet_sale", "reversed", 30000)
        shown = screen_text(pilot)
        assert "NOT APPROVED" in shown and "cancelled at the terminal while the customer was paying" in shown
        assert "reversed, no money taken" in shown and str(row["stan"]) in shown
        assert screen_name(pilot) == "PaymentScreen"          # the outcome of this payment, on screen
        await app.action_quit()


@pilot_test
async def test_keys_typed_before_the_result_neither_dismiss_nor_print_it_again(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"1234", "enter")
        # typed with the Enter that presents the card, so before the sale is decided and its receipt prints
        await choose_in_simulator(pilot, "card:visa", "p", "r", "enter")
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["state"], row["amount"]) == ("approved", 1234)
        for _ in range(10):                        # the burst has long been handled: nothing moved
            await pilot.pause(0.05)
        assert screen_name(pilot) == "PaymentScreen"
        shown = screen_text(pilot)
        assert "APPROVED" in shown and "¥12.34" in shown and shows_the_journal_row(shown, row)
        paper = app.engine.printer.simulator.document   # type: ignore[union-attr]
        assert "重打印 REPRINT" not in paper.text           # P typed before the result printed nothing again
        await app.action_quit()
