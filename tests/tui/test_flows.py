"""The checkout app driven as a cashier drives it (Textual pilot), over the real engine and devices.

Each test has its own state directory (journal, embedded acquirer, ATCs,
print queue); cards are tapped on the simulated PN532 through nfcpy and the
EMV kernel, codes shown to the camera path, receipts printed on the
simulated ESC/POS printer. What is checked is what the cashier sees and what
the journal and the printer's paper hold.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import OptionList

from pos.journal.store import Journal
from pos.tui.app import CheckoutApp
from tests.tui.support import (
    charge,
    new_app,
    pilot_test,
    present,
    screen_name,
    screen_text,
    sign_on,
    wait_done,
    wait_for,
)


def journal_rows(app: CheckoutApp) -> list[dict[str, object]]:
    """The journal as the engine wrote it (read through a second connection)."""
    db = sqlite3.connect(app.config.journal_path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM transactions ORDER BY id")]
    finally:
        db.close()


@pilot_test
async def test_wrong_operator_password_is_refused(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "SignOnScreen")
        await pilot.press(*"1111", "enter")
        await wait_for(pilot, lambda: "Wrong operator number or password" in screen_text(pilot))
        assert not app.signed_on and app.till.host == "offline"    # nothing went to the host
        await sign_on(pilot)                                         # the right one then works
        assert app.till.operator == "01" and app.till.host == "online"
        await app.action_quit()


@pilot_test
async def test_sale_by_card(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"1234")
        assert "¥12.34" in screen_text(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Tap, insert or show your code" in screen_text(pilot))
        await present(pilot, "card:unionpay-debit")
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["type"], row["state"], row["amount"], row["response_code"]) == ("sale", "approved", 1234, "00")
        assert row["entry_mode"].startswith("07")     # contactless, read by the kernel through nfcpy
        shown = screen_text(pilot)
        assert "APPROVED" in shown and "¥12.34" in shown
        assert row["rrn"] in shown and row["auth_code"] in shown and row["stan"] in shown
        assert "621483…0015" in shown
        # the receipt preview is the simulated printer's paper for this sale
        await pilot.press("r")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReceiptScreen")
        paper = screen_text(pilot)
        assert "MERCHANT COPY" in paper and row["rrn"] in paper and "12.34" in paper
        await pilot.press("escape", "enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen")
        assert "¥0.00" in screen_text(pilot)       # the next sale starts from zero
        await app.action_quit()


@pilot_test
async def test_the_mouse_works_too(tmp_path: Path) -> None:
    """Keypad, Charge, the simulator list and the key hints, all by clicks."""
    from pos.tui.widgets import KeyHint

    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        for key in ("key-4", "key-5", "key-00"):
            await pilot.click(f"#{key}")
        assert "¥45.00" in screen_text(pilot)
        await pilot.click("#charge")
        await wait_for(pilot, lambda: getattr(app.screen, "phase", "") == "waiting"
                       and app.station.simulator is not None and app.station.simulator.waiting)
        simulator_hint = next(h for h in app.screen.query(KeyHint) if h.hint.action == "app.simulator")
        await pilot.click(simulator_hint)
        await wait_for(pilot, lambda: screen_name(pilot) == "SimulatorScreen")
        options = app.screen.query_one(OptionList)
        options.scroll_to(y=0, animate=False)
        await pilot.pause()
        await pilot.click(OptionList, offset=(4, 2))           # the first card's line, under its heading
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["state"], row["amount"], row["masked_pan"]) == ("approved", 4500, "621483*********0015")
        await app.action_quit()


@pilot_test
async def test_sale_by_wallet_payment_code(tmp_path: Path) -> None:
    """An Alipay payment code on the customer's phone, shown to the camera: the acquirer's wallet channel pays."""
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await charge(pilot, "1888", "code:alipay")
        [row] = journal_rows(app)
        assert (row["type"], row["state"], row["amount"], row["wallet"]) == ("wallet_sale", "approved", 1888, "alipay")
        shown = screen_text(pilot)
        assert "APPROVED" in shown and "Wallet Alipay" in shown and row["wallet_code"] in shown
        await app.action_quit()


@pilot_test
async def test_sale_by_qr(tmp_path: Path) -> None:
    """A customer's EMVCo QR code (CPM), shown to the camera: decoded, classified, authorized."""
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await charge(pilot, "2500", "code:cpm")
        [row] = journal_rows(app)
        assert (row["type"], row["state"], row["amount"]) == ("sale", "approved", 2500)
        assert row["entry_mode"].startswith("03")     # entry by QR code
        assert "APPROVED" in screen_text(pilot)
        await app.action_quit()


@pilot_test
async def test_a_configured_camera_is_armed_with_the_reader(tmp_path: Path) -> None:
    """[tui] camera names a real camera source (here an image file, read through OpenCV like a device)."""
    from drivers.sim.wallet import write_wallet_code
    from tests.pos.support import make_config

    config_dir = make_config(tmp_path)
    image = tmp_path / "phone.png"
    write_wallet_code("cpm", image, cards_file=config_dir / "cards.toml", state_dir=tmp_path / "state" / "cards")
    pos_toml = config_dir / "pos.toml"
    pos_toml.write_text(pos_toml.read_text().replace('camera = "sim"', f'camera = "{image}"', 1))
    app = new_app(tmp_path, config_dir=config_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        assert "Camera ok" in screen_text(pilot)
        await pilot.press(*"777", "enter")                     # nothing to present: the camera sees the code
        await wait_done(pilot)
        [row] = journal_rows(app)
        assert (row["type"], row["state"], row["amount"]) == ("sale", "approved", 777)
        assert row["entry_mode"].startswith("03")
        await app.action_quit()


@pilot_test
async def test_decline_shows_the_reason_in_both_languages(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await charge(pilot, "2000", "card:unionpay-low-balance")   # ¥20.00 on a ¥10.00 balance
        [row] = journal_rows(app)
        assert (row["state"], row["response_code"]) == ("declined", "51")
        shown = screen_text(pilot)
        assert "DECLINED" in shown and "(51)" in shown
        assert "Insufficient funds" in shown or "insufficient funds" in shown.lower()
        assert "余额不足" in shown
        await app.action_quit()


@pilot_test
async def test_sale_over_the_cvm_limit_asks_for_the_pin(tmp_path: Path) -> None:
    """Above the CVM limit the kernel asks for online PIN: the engine asks the screen's PIN pad, one tap."""
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"150000", "enter")                  # ¥1,500.00 > the ¥1,000.00 CVM limit
        await present(pilot, "card:unionpay-debit")
        await wait_for(pilot, lambda: screen_name(pilot) == "CardPinScreen")
        assert journal_rows(app) == []                          # nothing sent while the PIN is typed
        await pilot.press(*"123456", "enter")                  # cards.toml: the card's TEST PIN
        await wait_done(pilot)                                  # no second tap: the card stayed read
        [row] = journal_rows(app)
        assert (row["state"], row["amount"]) == ("approved", 150000)
        assert row["entry_mode"] == "071"                       # contactless, PIN entered
        await app.action_quit()


@pilot_test
async def test_a_card_pulled_away_too_soon_sends_nothing(tmp_path: Path) -> None:
    """The simulator's trouble: the card leaves the field mid-read. The engine disarms the reader alone
    (the camera still waits) and says why; nothing is sent. Esc, charge again, a good tap."""
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"1234", "enter")
        await present(pilot, "trouble:pulled-away")
        await wait_for(pilot, lambda: "Reader stopped waiting: Present card again" in screen_text(pilot),
                       "the failed tap's notice")
        await wait_for(pilot, lambda: "Waiting on: Camera" in screen_text(pilot), "the camera still armed")
        assert journal_rows(app) == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen" and "¥12.34" in screen_text(pilot))
        await charge(pilot, "", "card:unionpay-debit")         # Enter again, and a good tap
        assert [r["state"] for r in journal_rows(app)] == ["approved"]
        await app.action_quit()


@pilot_test
async def test_cancel_while_waiting_for_a_card_sends_nothing(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press(*"500", "enter")
        await wait_for(pilot, lambda: getattr(app.screen, "phase", "") == "waiting")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen")
        assert "¥5.00" in screen_text(pilot)        # the amount is kept for another try
        assert app.till.notice is not None and app.till.notice.key == "pay.cancelled"
        assert journal_rows(app) == []              # nothing journaled, nothing sent
        await wait_for(pilot, lambda: app.station.simulator is not None and not app.station.simulator.waiting,
                       "the sources disarmed")
        # and the till goes on: the same amount, charged again
        await pilot.press("enter")
        await present(pilot, "card:visa")
        await wait_done(pilot)
        assert [r["state"] for r in journal_rows(app)] == ["approved"]
        await app.action_quit()


async def _history_pick(pilot, stan: str) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import DataTable

    await pilot.press("f2")
    await wait_for(pilot, lambda: screen_name(pilot) == "HistoryScreen")
    table = pilot.app.screen.query_one("#txns", DataTable)
    await wait_for(pilot, lambda: table.row_count > 0, "history rows")
    table.focus()
    row = next(i for i in range(table.row_count) if table.get_row_at(i)[0] == stan)
    table.move_cursor(row=row)
    await pilot.pause()


@pilot_test
async def test_void_needs_the_supervisor_pin(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await charge(pilot, "8800", "card:visa")
        sale = journal_rows(app)[0]
        await pilot.press("enter")
        await _history_pick(pilot, sale["stan"])
        await pilot.press("v")
        await wait_for(pilot, lambda: screen_name(pilot) == "SupervisorPinScreen")
        await pilot.press("escape")                            # no supervisor at hand: nothing starts
        await wait_for(pilot, lambda: screen_name(pilot) == "HistoryScreen")
        assert len(journal_rows(app)) == 1
        await pilot.press("v")
        await wait_for(pilot, lambda: screen_name(pilot) == "SupervisorPinScreen")
        await pilot.press(*"123456", "enter")                 # wrong PIN
        await pilot.pause()
        assert screen_name(pilot) == "SupervisorPinScreen"
        assert "Wrong supervisor PIN" in screen_text(pilot)
        assert len(journal_rows(app)) == 1                     # refused: nothing started
        await pilot.press(*"888888", "enter")                 # config/pos.toml [tui] supervisor_pin (TEST)
        await present(pilot, "card:visa")
        await wait_done(pilot)
        sale_after, void = journal_rows(app)
        assert (void["type"], void["state"], void["amount"]) == ("void", "approved", 8800)
        assert void["original_stan"] == sale["stan"]
        assert sale_after["state"] == "voided"
        assert "APPROVED" in screen_text(pilot)
        await app.action_quit()


@pilot_test
async def test_refund_from_history(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await charge(pilot, "4599", "card:mastercard")
        sale = journal_rows(app)[0]
        await pilot.press("enter")
        await _history_pick(pilot, sale["stan"])
        await pilot.press("f")
        await wait_for(pilot, lambda: screen_name(pilot) == "SupervisorPinScreen")
        await pilot.press(*"888888", "enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "RefundAmountScreen")
        assert "¥45.99" in screen_text(pilot)                  # the whole sale by default
        await pilot.press(*"5000")                              # more than the sale: refused
        assert "At most ¥45.99" in screen_text(pilot)
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"2000", "enter")
        await wait_for(pilot, lambda: "Present the original's card 541333…0019" in screen_text(pilot)
                       and app.station.simulator is not None and app.station.simulator.waiting)
        await pilot.press("f6")                                 # the simulator offers the original's card
        await wait_for(pilot, lambda: screen_name(pilot) == "SimulatorScreen")
        options = app.screen.query_one(OptionList)
        assert options.get_option_at_index(options.highlighted).id == "card:mastercard"
        await pilot.press("enter")
        await wait_done(pilot)
        refund = journal_rows(app)[1]
        assert (refund["type"], refund["state"], refund["amount"]) == ("refund", "approved", 2000)
        assert refund["original_rrn"] == sale["rrn"]
        await app.action_quit()


@pilot_test
async def test_reprint_puts_a_marked_copy_on_paper(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await charge(pilot, "1234", "card:unionpay-debit")
        simulator = app.engine.printer.simulator   # type: ignore[union-attr]
        assert "重打印 REPRINT" not in simulator.document.text
        await pilot.press("r")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReceiptScreen")
        assert "REPRINT" not in screen_text(pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: "REPRINT" in screen_text(pilot), "the reprint in the preview")
        assert simulator.document.text.count("重打印 REPRINT") >= 1
        await app.action_quit()


@pilot_test
async def test_settlement_closes_the_batch(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await charge(pilot, "10034", "card:visa")
        await pilot.press("enter")
        await pilot.press("f3")
        await wait_for(pilot, lambda: screen_name(pilot) == "SettlementScreen")
        shown = screen_text(pilot)
        assert "Batch 000001" in shown
        await pilot.press("enter")
        await wait_for(pilot, lambda: "settled" in screen_text(pilot), "the settlement result")
        shown = screen_text(pilot)
        assert "Batch 000001 settled: balanced" in shown
        assert "sales ¥100.34 (1)" in shown and "Next batch 000002" in shown
        assert "Batch 000002" in shown                          # the status bar follows
        journal = Journal(app.config.journal_path)
        try:
            closed = journal.db["batches"].get("000001")
        finally:
            journal.close()
        assert (closed["state"], closed["balanced"], closed["debit_amount"], closed["debit_count"]) == \
            ("closed", 1, 10034, 1)
        await app.action_quit()
