"""Snapshots of every screen of the checkout app at 80x24 (pytest-textual-snapshot).

Deterministic by construction: each test has a fresh state directory (so the
batch is 000001 and the status bar reads the same), and where a screen shows
what differs between runs -- an auth code, a time, a path -- the test hands
the screen fixed data through its constructor or its public methods (a fixed
journal row, the paper a fixed receipt prints, fixed settlement figures)
instead of patching anything inside. The receipt snapshot's paper is real:
the fixed transaction's slip rendered by `receipts` for the configured
profile and read back by the simulated printer's ESC/POS interpreter.

Update after an intended change: `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from acquirer.protocol.fields import CardTotals, SettlementTotals
from drivers.sim.escpos_interpreter import Interpreter
from pos.core import events as ev
from pos.core.errors import CardNotRead
from pos.core.outcome import Outcome, SettlementOutcome
from pos.core.payment import ReadFailed
from pos.journal.receipts import transaction_receipt
from pos.journal.store import BatchTotals, Txn
from pos.tui.paper import paper_lines
from pos.tui.screens.dialogs import RefundAmountScreen, SupervisorPinScreen
from pos.tui.screens.history import HistoryScreen
from pos.tui.screens.payment import PaymentScreen
from pos.tui.screens.receipt import ReceiptScreen
from pos.tui.screens.settings import SettingsScreen
from pos.tui.screens.settlement import SettlementScreen
from receipts import render_copies
from tests.tui.support import new_app, no_cursor_blink, screen_name, sign_on, wait_for

SIZE = (80, 24)


def fixed_txn(**values: Any) -> Txn:
    row: dict[str, Any] = dict(
        id=7, type="sale", state="approved", amount=12_34, currency="156", stan="000007", batch="000001",
        processing_code="000000", condition_code="00", entry_mode="072", masked_pan="621483*********0015",
        scheme="unionpay", aid="A000000333010101", app_label="UnionPay Debit", cryptogram="ARQC",
        app_cryptogram="1A2B3C4D5E6F7081", cvm="no_cvm", rrn="000000000007", auth_code="123456",
        response_code="00", txn_date="0314", created_at="2026-03-14T02:15:09.000000Z",
        updated_at="2026-03-14T02:15:09.500000Z")
    row.update(values)
    return Txn.from_row(row)


HISTORY = [
    fixed_txn(id=4, type="refund", amount=20_00, stan="000004", rrn="000000000004", auth_code=None,
              masked_pan="520000*********0016", scheme="mastercard", original_rrn="000000000003",
              created_at="2026-03-14T02:20:00.000000Z"),
    fixed_txn(id=3, amount=45_99, stan="000003", rrn="000000000003", masked_pan="520000*********0016",
              scheme="mastercard", created_at="2026-03-14T02:18:00.000000Z"),
    fixed_txn(id=2, amount=200_00, state="declined", response_code="51", stan="000002", rrn="000000000002",
              auth_code=None, masked_pan="621483*********0171", created_at="2026-03-14T02:16:30.000000Z"),
    fixed_txn(id=1, stan="000001", state="voided", rrn="000000000001", created_at="2026-03-14T02:15:09.000000Z"),
]


async def signed_on(pilot: Pilot[None]) -> None:
    await sign_on(pilot)
    no_cursor_blink(pilot)


async def show(pilot: Pilot[None], screen: Any) -> None:
    await pilot.app.push_screen(screen)
    await wait_for(pilot, lambda: pilot.app.screen is screen and screen.is_mounted)
    no_cursor_blink(pilot)
    await pilot.pause()


def test_sign_on(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: screen_name(pilot) == "SignOnScreen" and pilot.app.engine is not None)
        no_cursor_blink(pilot)
        await pilot.pause()

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_amount_entry(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await pilot.press(*"1234")

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_amount_entry_chinese(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await pilot.press("f9", *"880")

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_waiting_for_payment(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await pilot.press(*"1234", "enter")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "phase", "") == "waiting")

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_simulator_panel(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await pilot.press(*"1234", "enter")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "phase", "") == "waiting")
        await pilot.press("f6")
        await wait_for(pilot, lambda: screen_name(pilot) == "SimulatorScreen")

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_authorizing(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        screen = PaymentScreen("sale", 12_34, None)
        await show(pilot, screen)
        screen.follow(ev.CardRead("621483*********0015", "unionpay", "072", "nfc", "UnionPay Debit"))
        screen.follow(ev.Authorizing("sale", "000007", "000001", 12_34))
        await pilot.pause()

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_customer_confirming_on_the_phone(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        screen = PaymentScreen("sale", 288_00, None)
        await show(pilot, screen)
        screen.follow(ev.WalletCodeRead("alipay", "2812…4321", "camera"))
        screen.follow(ev.CustomerConfirming("alipay", "000007", 45.0))
        await pilot.pause()

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_approved(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        screen = PaymentScreen("sale", 12_34, None)
        await show(pilot, screen)
        screen.finish(Outcome(fixed_txn(), "00 Approved / 交易成功"))
        await pilot.pause()

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_declined(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        screen = PaymentScreen("sale", 200_00, None)
        await show(pilot, screen)
        txn = fixed_txn(amount=200_00, state="declined", response_code="51", auth_code=None,
                        masked_pan="621483*********0171")
        screen.follow(ev.Declined("sale", txn.stan, "51", "Insufficient funds", "余额不足"))
        screen.finish(Outcome(txn, "51 Insufficient funds / 余额不足"))
        await pilot.pause()

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_reversed(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        screen = PaymentScreen("sale", 12_34, None)
        await show(pilot, screen)
        txn = fixed_txn(state="reversed", rrn=None, auth_code=None, response_code=None)
        screen.finish(Outcome(txn, "no answer within 10 s; reversed, no money taken"))
        pilot.app.show_notice("notice.reversal_pending", stan="000007", detail="98: no answer within 10 s",
                              level="warning")
        await pilot.pause()

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_refused_host_down(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        screen = PaymentScreen("sale", 12_34, None)
        await show(pilot, screen)
        detail = "cannot connect to 127.0.0.1:8583: connection refused"
        pilot.app.show_notice("notice.host_down", detail=detail)
        screen.refuse(detail)
        await pilot.pause()

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_card_not_read(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await pilot.press("f9")
        screen = PaymentScreen("sale", 12_34, None)
        await show(pilot, screen)
        failure = ReadFailed("present card again", "Present card again", "card left the field (no answer to READ RECORD)")
        screen.card_not_read(CardNotRead(failure))
        await pilot.pause()

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_receipt_preview(snap_compare, tmp_path: Path) -> None:
    app = new_app(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        txn = fixed_txn()
        printer = app.config.printer
        assert printer is not None
        interpreter = Interpreter()
        interpreter.feed(render_copies(transaction_receipt(txn, app.config), printer.profile))
        await show(pilot, ReceiptScreen(txn, paper=paper_lines(interpreter.finish().items)))

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_history(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await show(pilot, HistoryScreen(rows=lambda: HISTORY))

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_history_search(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await show(pilot, HistoryScreen(rows=lambda: HISTORY))
        await pilot.press("slash", *"0016")
        no_cursor_blink(pilot)

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_supervisor_pin_refused(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await show(pilot, HistoryScreen(rows=lambda: HISTORY))
        await show(pilot, SupervisorPinScreen("Void", "000003"))
        await pilot.press(*"1111", "enter")

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_refund_amount(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await show(pilot, RefundAmountScreen(HISTORY[1]))
        await pilot.press(*"2000")

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


TOTALS = BatchTotals(batch="000001", domestic_debit_amount=262_34, domestic_debit_count=2,
                     foreign_debit_amount=45_99, foreign_debit_count=1, foreign_credit_amount=20_00,
                     foreign_credit_count=1)


def test_settlement(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await show(pilot, SettlementScreen(TOTALS))

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_settled_out_of_balance(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        screen = SettlementScreen(TOTALS)
        await show(pilot, screen)
        counted = SettlementTotals(CardTotals(262_34, 2), CardTotals(45_99, 1, 20_00, 1))
        screen.show_result(SettlementOutcome("000001", False, 4, "000002", counted,
                                             CardTotals(308_33, 3, 20_00, 1)))
        await pilot.pause()

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_settings(snap_compare, tmp_path: Path) -> None:
    app = new_app(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        # the directories differ per run and per checkout: show fixed ones
        app.config = dataclasses.replace(app.config, config_dir=Path("/etc/tillkit"),
                                         state_dir=Path("/var/lib/tillkit"))
        await show(pilot, SettingsScreen())

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _reconciliation(tmp_path: Path) -> Any:
    """A fixed day of two tills against the acquirer's statement (real journals, a real statement file)."""
    from acquirer.protocol.statement import read_statement
    from pos.reconcile.service import reconcile
    from tests.reconcile.helpers import DAY, MID, TERMS, Till, beijing, statement

    a, b = Till(tmp_path, "10000001"), Till(tmp_path, "10000002")
    a.sale(10_000, beijing(9))
    b.wallet_sale(2_500, beijing(10))
    a.visa_sale(7_000, beijing(11))
    a.sale(4_200, beijing(12), cleared=False)
    sale = b.sale(3_000, beijing(13))
    b.void(sale, beijing(13, 1), cleared=False)
    events = a.events + b.events
    return reconcile(a.records() + b.records(), [read_statement(statement(events), MID)], DAY, DAY, TERMS)


def test_reconciliation(snap_compare, tmp_path: Path) -> None:
    from pos.tui.screens.reconcile import ReconcileScreen

    report = _reconciliation(tmp_path / "tills")

    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await show(pilot, ReconcileScreen(report))

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_reconciliation_chinese(snap_compare, tmp_path: Path) -> None:
    from pos.tui.screens.reconcile import ReconcileScreen

    report = _reconciliation(tmp_path / "tills")

    async def run_before(pilot: Pilot[None]) -> None:
        await signed_on(pilot)
        await pilot.press("f9")
        await show(pilot, ReconcileScreen(report))

    assert snap_compare(new_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def _fixed_code(app: Any) -> ev.ShowingCode:
    """The code the engine shows for a ¥67.89 sale (trace 000007), built as the engine builds it."""
    from acquirer.protocol.mpm import build_dynamic_mpm

    config = app.config
    bill = f"{config.terminal.tid}000001000007"
    payload = build_dynamic_mpm(
        amount_fen=67_89, merchant_id=config.terminal.mid, terminal_id=config.terminal.tid,
        merchant_name=config.receipt.merchant_name_en, merchant_city=config.qr.merchant_city, mcc=config.qr.mcc,
        bill_number=bill, currency=config.terminal.currency)
    return ev.ShowingCode(payload, 67_89, "000007", bill, config.qr.mpm_timeout_s)


def _merchant_code(language: str):  # type: ignore[no-untyped-def]
    def test(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        app = new_app(tmp_path)

        async def run_before(pilot: Pilot[None]) -> None:
            await signed_on(pilot)
            if language == "zh":
                await pilot.press("f9")
            screen = PaymentScreen("mpm_sale", 67_89, None)
            await show(pilot, screen)
            screen.follow(ev.Authorizing("mpm_sale", "000007", "000001", 67_89))
            screen.follow(_fixed_code(app))
            await pilot.pause()

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

    return test


test_merchant_presented_code = _merchant_code("en")
test_merchant_presented_code_chinese = _merchant_code("zh")

WALLET_SALE = dict(type="wallet_sale", amount=18_88, masked_pan=None, scheme="alipay", aid=None, app_label=None,
                   cryptogram=None, app_cryptogram=None, cvm=None, entry_mode="032", processing_code="190000",
                   wallet="alipay", wallet_code="2500**********7160")


def _wallet_receipt(language: str):  # type: ignore[no-untyped-def]
    def test(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        app = new_app(tmp_path)

        async def run_before(pilot: Pilot[None]) -> None:
            await signed_on(pilot)
            if language == "zh":
                await pilot.press("f9")
            txn = fixed_txn(**WALLET_SALE)
            printer = app.config.printer
            assert printer is not None
            interpreter = Interpreter()
            interpreter.feed(render_copies(transaction_receipt(txn, app.config), printer.profile))
            await show(pilot, ReceiptScreen(txn, paper=paper_lines(interpreter.finish().items)))

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

    return test


test_wallet_receipt_preview = _wallet_receipt("en")
test_wallet_receipt_preview_chinese = _wallet_receipt("zh")
