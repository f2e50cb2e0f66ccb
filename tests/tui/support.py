"""Driving the checkout app in tests: a fresh state directory each, real engine, real simulated devices.

Waits are bounded polls of what the app shows (a screen, a phase), never
timing assertions: a slow machine waits longer, a broken app fails with the
screen it is stuck on.
"""
from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from pos.core.config import PosConfig, load_config
from pos.tui.app import CheckoutApp, make_app
from tests.pos.support import CONFIG

WAIT_S = 60.0   # generous: a shared machine under load is slow, never wrong


def pilot_test(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async pilot test on its own event loop (the suite has no async plugin)."""
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def tui_config(tmp_path: Path, config_dir: Path = CONFIG, host_address: str | None = None) -> PosConfig:
    return load_config(config_dir, state_dir=tmp_path / "state", host_address=host_address)


#: how long notices stay in tests that read them: a loaded machine may take seconds between two checks
READING_S = 600.0


def new_app(tmp_path: Path, **kwargs: object) -> CheckoutApp:
    app = make_app(tui_config(tmp_path, **kwargs))  # type: ignore[arg-type]
    app.notice_seconds = dict.fromkeys(app.notice_seconds, READING_S)
    return app


async def wait_for(pilot: Pilot[None], what: Callable[[], object], why: str = "") -> None:
    """Let the app run until `what()` is true (bounded by WAIT_S)."""
    loops = int(WAIT_S / 0.02)
    for _ in range(loops):
        if what():
            return
        await pilot.pause(0.02)
    app = pilot.app
    raise AssertionError(f"waited {WAIT_S:g} s for {why or what}: screen {type(app.screen).__name__}, "
                         f"notice {getattr(app, 'till', None) and app.till.notice}")  # type: ignore[attr-defined]


def screen_name(pilot: Pilot[None]) -> str:
    return type(pilot.app.screen).__name__


def no_cursor_blink(pilot: Pilot[None]) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False


async def sign_on(pilot: Pilot[None], password: str = "0000") -> None:
    """Type the operator's password on the sign-on screen and wait for the amount screen."""
    app = pilot.app
    assert isinstance(app, CheckoutApp)
    await wait_for(pilot, lambda: screen_name(pilot) == "SignOnScreen", "the sign-on screen")
    await pilot.press(*password, "enter")
    await wait_for(pilot, lambda: screen_name(pilot) == "AmountScreen" and app.signed_on, "signed on")


async def present(pilot: Pilot[None], key: str) -> None:
    """Open the simulator panel (F6) and choose `key` in it, as a person would."""
    app = pilot.app
    assert isinstance(app, CheckoutApp)
    await wait_for(pilot, lambda: getattr(app.screen, "phase", "") == "waiting" and app.station.simulator is not None
                   and app.station.simulator.waiting, "the reader and camera armed")
    await pilot.press("f6")
    await wait_for(pilot, lambda: screen_name(pilot) == "SimulatorScreen", "the simulator panel")
    options = pilot.app.screen.query_one(OptionList)
    options.highlighted = options.get_option_index(key)
    await pilot.press("enter")


async def wait_done(pilot: Pilot[None]) -> None:
    """Until the result is on screen (the phase changes first, the widgets follow on the next refresh)."""
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "phase", "") == "done" and app.screen.query(".verdict"),
                   "the transaction's result")


async def charge(pilot: Pilot[None], keys: str, card: str) -> None:
    """Type an amount on the keypad, charge it and present `card` (a simulator key)."""
    await pilot.press(*keys, "enter")
    await present(pilot, card)
    await wait_done(pilot)


def screen_text(pilot: Pilot[None]) -> str:
    """Everything the current screen shows, as plain text (for checks on words)."""
    from textual.widgets import Static

    parts = []
    for widget in pilot.app.screen.query(Static):
        parts.append(str(widget.render()))
    return "\n".join(parts)
