"""The X/Z report screen (F8) and operator sign-on, driven as a cashier would, plus their 80x24 snapshots.

The flows run the real engine, the simulated reader and printer: what is
checked is the table on screen, the journal (rows, batches, kept reports)
and the paper. The snapshots show fixed reports (`tests.receipts.samples`:
two cashiers, cards and all three wallets) so they read the same every run.

Update after an intended change: `pytest tests/tui/test_report_screen.py --snapshot-update`.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from pos.journal.operators import OperatorRegistry
from pos.journal.store import Journal
from pos.tui.app import CheckoutApp
from pos.tui.screens.report import ReportScreen
from tests.receipts import samples
from tests.tui.support import charge, new_app, no_cursor_blink, pilot_test, screen_name, screen_text, sign_on, wait_for

SIZE = (80, 24)


def table_rows(pilot: Pilot[None]) -> dict[str, list[str]]:
    """The report table as the cashier reads it: the row's name -> its cells."""
    table: DataTable[Any] = pilot.app.screen.query_one("#report-table", DataTable)
    rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return {row[0].strip(): row[1:] for row in rows}


def journal(app: CheckoutApp, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(app.config.journal_path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def sell(pilot: Pilot[None], keys: str, card: str) -> None:
    await charge(pilot, keys, card)
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen", "back on amount entry")


@pilot_test
async def test_f8_shows_the_x_report_and_z_settles_closes_and_prints(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await sign_on(pilot)
        await sell(pilot, "1234", "card:unionpay-debit")
        await pilot.press("f8")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReportScreen")
        rows = table_rows(pilot)
        assert rows["Totals"][0] == "1 ¥12.34" and rows["Totals"][-1] == "¥12.34"
        assert rows["01"][0] == "1 ¥12.34"                          # by operator: the one signed on
        assert "X report: running totals of batch 000001" in screen_text(pilot)
        assert journal(app, "SELECT state FROM batches WHERE batch = '000001'") == [("open",)]

        await pilot.press("z")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmZScreen")
        await pilot.press("escape")                                  # not now: nothing closed
        await wait_for(pilot, lambda: screen_name(pilot) == "ReportScreen")
        assert journal(app, "SELECT state FROM batches WHERE batch = '000001'") == [("open",)]

        await pilot.press("z")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmZScreen")
        await pilot.press("enter", "enter")                          # a burst confirms once
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        await wait_for(pilot, lambda: screen.report is not None and screen.report.kind == "Z"
                       and "Z report: batch 000001 settled and closed" in screen_text(pilot), "the Z report")
        assert "Balanced with the host" in screen_text(pilot)
        assert journal(app, "SELECT batch, state, balanced FROM batches ORDER BY batch") == [
            ("000001", "closed", 1), ("000002", "open", None)]
        await wait_for(pilot, lambda: journal(app, "SELECT kind, batch FROM reports") == [("Z", "000001")],
                       "the Z report kept as printed")
        simulator = app.paper.simulator
        assert simulator is not None
        await wait_for(pilot, lambda: "Z REPORT" in simulator.document.text, "the Z report on paper")

        await pilot.press("r")                                       # reprint the Z report
        await wait_for(pilot, lambda: simulator.document.text.count("Z REPORT") == 2, "the reprint")
        assert "REPRINT" in simulator.document.text.split("Z REPORT")[-1]
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen")
        assert app.till.batch == "000002"
        await app.action_quit()


@pilot_test
async def test_registered_cashiers_sign_on_switch_with_f10_and_each_sale_names_its_cashier(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    registry = OperatorRegistry(Journal(app.config.journal_path))
    registry.add("05", "Li Na", "2468")
    registry.add("07", "Zhao Lei")
    registry.journal.close()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "SignOnScreen" and app.engine is not None)
        app.screen.query_one("#operator", Input).value = "05"
        await pilot.press(*"0000", "enter")                         # the test operators' password: not here
        await wait_for(pilot, lambda: "Wrong operator number or password" in screen_text(pilot))
        await pilot.press(*"2468", "enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen" and app.signed_on)
        await sell(pilot, "500", "card:unionpay-debit")

        await pilot.press("f10")                                     # the next cashier takes the till
        await wait_for(pilot, lambda: screen_name(pilot) == "SignOnScreen")
        app.screen.query_one("#operator", Input).value = "07"
        await pilot.press("enter")                                   # no password
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen" and app.till.operator == "07")
        await sell(pilot, "300", "card:visa")

        assert journal(app, "SELECT amount, operator FROM transactions ORDER BY id") == [(500, "05"), (300, "07")]
        await pilot.press("f8")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReportScreen")
        rows = table_rows(pilot)
        assert rows["05 Li Na"][0] == "1 ¥5.00" and rows["07 Zhao Lei"][0] == "1 ¥3.00"
        assert "Operator 07 Zhao Lei" in screen_text(pilot)
        await app.action_quit()


def _report_app(tmp_path: Path, report: Any, language: str) -> tuple[CheckoutApp, Any]:
    app = new_app(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await sign_on(pilot)
        if language == "zh":
            await pilot.press("f9")
        screen = ReportScreen(report)
        await pilot.app.push_screen(screen)
        await wait_for(pilot, lambda: pilot.app.screen is screen and screen.is_mounted)
        no_cursor_blink(pilot)
        await pilot.pause()

    return app, run_before


def test_x_report_screen(snap_compare, tmp_path: Path) -> None:
    app, run_before = _report_app(tmp_path, samples.x_report(), "en")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_x_report_screen_chinese(snap_compare, tmp_path: Path) -> None:
    app, run_before = _report_app(tmp_path, samples.x_report(), "zh")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_z_report_screen(snap_compare, tmp_path: Path) -> None:
    app, run_before = _report_app(tmp_path, samples.z_report(balanced=False), "en")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_z_report_screen_chinese(snap_compare, tmp_path: Path) -> None:
    app, run_before = _report_app(tmp_path, samples.z_report(), "zh")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
