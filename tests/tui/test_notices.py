"""Device and host trouble on the checkout screen: a notice says what happened and what to do,
and the transaction stays on screen.
"""
from __future__ import annotations

import socket
from pathlib import Path

from pos.core import events as ev
from tests.pos.support import make_config
from tests.tui.support import (
    charge,
    new_app,
    pilot_test,
    screen_name,
    screen_text,
    sign_on,
    wait_for,
)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pilot_test
async def test_host_down_at_sign_on(tmp_path: Path) -> None:
    config_dir = make_config(tmp_path, pos={"timeout_s": 0.6, "connect_timeout_s": 0.2,
                                            "backoff_initial_s": 0.05, "backoff_max_s": 0.1})
    app = new_app(tmp_path, config_dir=config_dir, host_address=f"127.0.0.1:{closed_port()}")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "SignOnScreen" and app.engine is not None)
        await pilot.press(*"0000", "enter")
        await wait_for(pilot, lambda: app.till.notice is not None and app.till.notice.key == "notice.signon_failed",
                       "the sign-on failure notice")
        shown = screen_text(pilot)
        assert "Sign-on failed" in shown and "Press F10 to try again" in shown
        assert "Host down" in shown
        assert screen_name(pilot) == "SignOnScreen" and not app.signed_on
        seen: list[ev.Event] = []
        assert app.engine is not None
        app.engine.add_observer(seen.append)
        await pilot.press("f10")                                # what the notice offers, on this screen
        await wait_for(pilot, lambda: any(isinstance(e, ev.SigningOn) for e in seen), "a new sign-on attempt")
        await wait_for(pilot, lambda: any(isinstance(e, ev.HostUnreachable) for e in seen), "its failure")
        assert screen_name(pilot) == "SignOnScreen" and not app.signed_on
        await app.action_quit()


@pilot_test
async def test_printer_out_of_paper_keeps_the_sale_on_screen(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        simulator = app.engine.printer.simulator   # type: ignore[union-attr]
        simulator.run_out_of_paper()
        await charge(pilot, "1234", "card:unionpay-debit")
        shown = screen_text(pilot)
        assert "APPROVED" in shown                                  # the sale stands
        assert "Printer problem" in shown and "press P to print again" in shown
        assert "Printer fault" in shown
        assert "POS SLIP" not in simulator.document.text            # nothing came out
        simulator.load_paper()
        await pilot.press("p")
        await wait_for(pilot, lambda: "POS SLIP" in simulator.document.text, "the receipt on paper")
        await wait_for(pilot, lambda: "Printer sim" in screen_text(pilot), "the printer back in the status bar")
        assert "APPROVED" in screen_text(pilot)
        await app.action_quit()


@pilot_test
async def test_no_answer_reverses_and_says_so(tmp_path: Path) -> None:
    # the terminal gives up after 2 s; the issuer answers after 2.8 s, inside the switch's 3 s
    config_dir = make_config(tmp_path, pos={"timeout_s": 2.0}, issuers={"cup-bank": ("slow", 2800)})
    app = new_app(tmp_path, config_dir=config_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await charge(pilot, "1234", "card:unionpay-debit")
        shown = screen_text(pilot)
        assert "NOT APPROVED" in shown
        assert "No answer from the host" in shown
        assert app.till.notice is not None and app.till.notice.key == "notice.reversal_pending"
        assert "Reversal of trace" in shown
        assert app.till.last is not None and app.till.last.state in ("reversed", "reversal_due")
        await app.action_quit()


@pilot_test
async def test_reader_unplugged_at_start(tmp_path: Path) -> None:
    config_dir = make_config(tmp_path, pos={"reader": "/dev/ttyUSB97"})
    app = new_app(tmp_path, config_dir=config_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.till.notice is not None, "a notice")
        shown = screen_text(pilot)
        assert "Card reader problem" in shown and "Check the reader's cable" in shown
        assert "Reader fault" in shown
        await app.action_quit()


@pilot_test
async def test_language_switch(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press("f9")
        await wait_for(pilot, lambda: all(text in screen_text(pilot) for text in ("主机 在线", "消费", "F9 English")),
                       "the Chinese screen")
        await pilot.press("f9")
        await wait_for(pilot, lambda: "Host online" in screen_text(pilot), "English again")
        await app.action_quit()


@pilot_test
async def test_another_pos_on_the_same_state_directory(tmp_path: Path) -> None:
    from pos.devices.terminal import TerminalLock

    app = new_app(tmp_path)
    lock = TerminalLock(app.config.state_dir, 0.0)
    await lock.acquire()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.till.notice is not None, "a notice")
            assert "another pos process is using" in screen_text(pilot)
            await pilot.press(*"0000", "enter")
            await pilot.pause()
            assert not app.signed_on and screen_name(pilot) == "SignOnScreen"
            await app.action_quit()
    finally:
        lock.release()


@pilot_test
async def test_p_on_the_amount_screen_prints_what_the_printer_notice_asks_for(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        simulator = app.engine.printer.simulator   # type: ignore[union-attr]
        simulator.run_out_of_paper()
        await charge(pilot, "1234", "card:unionpay-debit")
        await pilot.press("enter")                              # on to the next sale, the notice still up
        await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen")
        assert "press P to print again" in screen_text(pilot)
        simulator.load_paper()
        await pilot.press("p")
        await wait_for(pilot, lambda: "POS SLIP" in simulator.document.text, "the receipt on paper")
        await app.action_quit()


@pilot_test
async def test_notices_replace_each_other_never_toast_and_expire(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        # short, so the test need not wait long; long enough to be seen on a loaded machine
        app.notice_seconds = {"error": 3.0, "warning": 3.0, "information": 3.0}
        await pilot.press("f2")
        await wait_for(pilot, lambda: screen_name(pilot) == "HistoryScreen")
        await pilot.press("v")                                  # nothing selected
        await wait_for(pilot, lambda: "Select a transaction first." in screen_text(pilot))
        await pilot.press("escape", "f6")
        await wait_for(pilot, lambda: screen_name(pilot) == "SimulatorScreen")
        await pilot.press("enter")                              # a card, but no payment waits for it
        await wait_for(pilot, lambda: "No payment is waiting" in screen_text(pilot))
        shown = screen_text(pilot)
        assert "Select a transaction first." not in shown         # replaced, not piled up
        assert not app.screen.query("Toast")                     # nothing drawn over the screen
        await wait_for(pilot, lambda: app.till.notice is None and not app.screen.query_one("#notice-bar").display,
                       "the notice gone after its time")
        assert "No payment is waiting" not in screen_text(pilot)
        await app.action_quit()


def test_every_text_a_cashier_sees_has_its_chinese() -> None:
    """Every label and notice of the checkout screen, in Chinese: not the English left in, not empty."""
    from pos.tui.i18n import TEXTS

    def cjk(text: str) -> bool:
        return any("\u4e00" <= c <= "\u9fff" for c in text)

    words_only = {key for key, (en, zh) in TEXTS.items() if en.replace("{detail}", "").strip() == ""}
    missing = [key for key, (en, zh) in TEXTS.items() if key not in words_only and not cjk(zh)
               and key not in ("key.language",)]   # F9's label names the other language: "English"
    assert missing == []
