"""The checkout app: a Textual face over the engine (`pos` with no command).

The app owns the terminal for its lifetime (`open_terminal` in a worker that
waits until the app closes), shows the engine's events on whichever screen
runs the transaction, and keeps the till's state (host link, devices, batch,
operator, the latest notice) for the status and notice bars. Every payment
decision is the engine's: screens ask it for a sale, void, refund or
settlement and show what it answers.

`make_app(config)` builds the app on the configuration's devices (simulated
by default); tests build it on their own state directory and, where they
need fixed data on a screen, push that screen with the data.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer

from acquirer.protocol.errors import TillkitError
from pos.core import events as ev
from pos.core.config import PosConfig
from pos.core.engine import Engine
from pos.core.errors import ReversalOutstanding
from pos.devices.kinds import ABSENT, CAMERA, FAULT, OK, PRINTER, READER, SIMULATED, NotArmed
from pos.devices.printing import ReceiptPrinter
from pos.devices.station import Station, open_station
from pos.devices.terminal import open_terminal
from pos.journal.receipts import ReceiptNotFound
from pos.journal.store import Txn
from pos.tui.i18n import error_text, translate
from pos.tui.messages import DeviceProblem
from pos.tui.paper import PaperTrail
from pos.tui.pinpad import DialogPinPad
from pos.tui.settings import TuiSettings, load_tui_settings
from pos.tui.state import NOTICE_SECONDS, Notice, Till
from pos.tui.till_app import TillApp, TransactionView
from pos.tui.widgets import NoticeBar, StatusBar

log = logging.getLogger(__name__)

#: another pos on the same state directory: say so after this long rather than wait for it
LOCK_WAIT_S = 2.0


class CheckoutApp(App[None]):
    """The cashier's screen."""

    CSS_PATH = "checkout.tcss"
    TITLE = "tillkit"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("f2", "history", show=False),
        Binding("f3", "settle", show=False),
        Binding("f4", "settings", show=False),
        Binding("f5", "receipt", show=False),
        Binding("f6", "simulator", show=False),
        Binding("f7", "reconcile", show=False),
        Binding("f8", "reports", show=False),
        Binding("f9", "language", show=False),
        Binding("f10", "sign_on", show=False),
        Binding("ctrl+q", "quit", show=False, priority=True),
    ]

    def __init__(self, config: PosConfig, settings: TuiSettings) -> None:
        super().__init__()
        self.config = config
        self.settings = settings
        self.language = settings.language
        self.till = Till()
        self.paper = PaperTrail(None)
        self._printer_state = ABSENT
        self.station = Station(sources=[], devices={})   # the real one once the devices are open
        self.engine: Engine | None = None
        self.txn_listener: TransactionView | None = None    # the screen running a transaction
        self._loop_thread = threading.get_ident()
        self._engine_ready = asyncio.Event()
        self._terminal_closing = asyncio.Event()
        self._notice_timer: Timer | None = None
        self.notice_seconds = dict(NOTICE_SECONDS)   # by level; a test may give itself longer to read

    # --- words ------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return translate(self.language, key, **values)

    def error_text(self, error: TillkitError) -> str:
        """An engine error in the cashier's language (its message key), else its English sentence."""
        return error_text(self.language, error)

    # --- life cycle ---------------------------------------------------------------

    def on_mount(self) -> None:
        from pos.tui.screens.amount import AmountScreen
        from pos.tui.screens.signon import SignOnScreen

        self.push_screen(AmountScreen())
        self.push_screen(SignOnScreen())
        # the sign-on form first: devices and terminal open once it is on screen
        self.call_after_refresh(self.run_terminal)

    @work(group="terminal", exit_on_error=False)
    async def run_terminal(self) -> None:
        """Hold the devices and the terminal (lock, journal, link) open until the app closes."""
        try:
            with open_station(self.config, self.settings.camera) as station:
                self._use_station(station)
                async with open_terminal(self.config, self._observe, pinpad=DialogPinPad(self), sign_on=False,
                                         lock_wait_s=LOCK_WAIT_S) as engine:
                    self.engine = engine
                    self._use_printer(engine)
                    self.till.batch = engine.journal.batch
                    self._engine_ready.set()
                    self.refresh_bars()
                    await self._terminal_closing.wait()
        except TillkitError as e:   # the till cannot work: the reason stays on screen
            self.show_notice("notice.terminal_closed", detail=self.error_text(e), lasting=True)
        except OSError as e:
            self.show_notice("notice.terminal_closed", detail=str(e), lasting=True)
        except Exception as e:   # whatever stops the terminal from opening is shown, never a crash
            log.exception("the terminal could not open")
            self.show_notice("notice.terminal_closed", detail=f"{type(e).__name__}: {e}", lasting=True)
        finally:
            self.engine = None
            self._engine_ready.set()

    def _use_printer(self, engine: Engine) -> None:
        printer = engine.printer
        simulator = printer.simulator if isinstance(printer, ReceiptPrinter) else None
        self.paper = PaperTrail(simulator)
        self.till.devices[PRINTER] = ABSENT if printer is None else SIMULATED if simulator is not None else OK
        self._printer_state = self.till.devices[PRINTER]

    def _device_problem(self, device: str, text: str) -> None:
        self.post_message(DeviceProblem(device, text))

    def _use_station(self, station: Station) -> None:
        self.station = station
        self.till.devices = dict(station.devices)
        station.problems.append(self._device_problem)
        for device, text in station.opening_problems:
            self.post_message(DeviceProblem(device, text))
        self.refresh_bars()

    async def wait_engine(self) -> Engine | None:
        """The engine once the terminal is open (None when it could not open)."""
        await self._engine_ready.wait()
        return self.engine

    async def action_quit(self) -> None:
        self._terminal_closing.set()
        for worker in [w for w in self.workers if w.group == "terminal"]:
            await worker.wait()
        self.exit()

    # --- the engine's events --------------------------------------------------------

    def _observe(self, event: ev.Event) -> None:
        """The engine's observer: followed at once, in order, before the engine goes on.

        The engine runs on the app's loop, so its events are handled right
        here; one reported from another thread is handed over to the loop.
        """
        if threading.get_ident() == self._loop_thread:
            self.follow(event)
        else:
            self.call_from_thread(self.follow, event)

    def follow(self, event: ev.Event) -> None:
        till = self.till
        match event:
            case ev.SigningOn():
                till.host = "signing_on"
            case ev.SignedOn(batch):
                till.host, till.batch = "online", batch
            case ev.HostUnreachable(address, error, _):
                till.host = "down"
                self.show_notice("notice.host_down", detail=f"{address}: {error}", level="warning")
            case ev.ReversalPending(_, stan, code, reason):
                till.host = "reversal"
                self.show_notice("notice.reversal_pending", stan=stan, detail=f"{code}: {reason}",
                                 level="warning")
            case ev.Reversed():
                till.host = "online"
            case ev.Settled(_, _, _, next_batch):
                till.batch = next_batch
            case ev.ReceiptPrinted(_, near_end):
                self.paper.follow(event)
                till.devices[PRINTER] = self._printer_state
                if near_end:
                    self.show_notice("notice.paper_low", level="warning")
            case ev.ReceiptQueued(what, error):
                till.devices[PRINTER] = FAULT
                self.show_notice("notice.printer", detail=f"{what}: {error}")
        self.refresh_bars()
        if self.txn_listener is not None:
            self.txn_listener.follow(event)

    def on_device_problem(self, message: DeviceProblem) -> None:
        if message.device != CAMERA:   # a refused code is the customer's, not the camera's fault
            self.till.devices[message.device] = FAULT
        key = {READER: "notice.reader", CAMERA: "notice.camera", PRINTER: "notice.printer"}[message.device]
        self.show_notice(key, detail=message.text)

    # --- notices and bars ------------------------------------------------------------

    def show_notice(self, key: str, *, level: str = "error", lasting: bool = False, **values: object) -> None:
        """One notice at a time, in the notice line (never a toast over the result); it expires.

        A new notice replaces the one shown (the same one again only restarts
        its time); it goes after `notice_seconds[level]`, unless `lasting`:
        the reason the till cannot work at all stays until something replaces it.
        """
        self.till.notice = Notice(key, values, level)
        if self._notice_timer is not None:
            self._notice_timer.stop()
            self._notice_timer = None
        if not lasting:
            self._notice_timer = self.set_timer(self.notice_seconds[level], self._expire_notice)
        self.refresh_bars()

    def _expire_notice(self) -> None:
        self._notice_timer = None
        self.clear_notice()

    def clear_notice(self) -> None:
        self.till.notice = None
        self.refresh_bars()

    def refresh_bars(self) -> None:
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.refresh()
            for notice in screen.query(NoticeBar):
                notice.sync()

    # --- host ------------------------------------------------------------------------

    async def sign_on(self, operator: str) -> bool:
        """Sign on to the host for `operator` and send any reversal still due; False if the host refused."""
        engine = await self.wait_engine()
        if engine is None:
            return False
        try:
            await engine.sign_on()
            self.till.operator = operator
            await engine.flush_reversals()
        except ReversalOutstanding as e:
            self.till.host = "reversal"
            self.show_notice("notice.reversal_outstanding", detail=self.error_text(e))
            return True
        except TillkitError as e:
            self.till.host = "down"
            self.show_notice("notice.signon_failed", detail=self.error_text(e))
            return False
        if self.till.notice is not None and self.till.notice.key.startswith(("notice.signon", "notice.host",
                                                                              "notice.reversal")):
            self.clear_notice()
        self.refresh_bars()
        return True

    @property
    def signed_on(self) -> bool:
        return self.engine is not None and bool(self.till.operator) and self.till.host != "offline"

    # --- actions available everywhere ----------------------------------------------------

    def _top_is(self, kind: type[Screen[Any]]) -> bool:
        return isinstance(self.screen, kind)

    def action_language(self) -> None:
        self.language = "zh" if self.language == "en" else "en"
        for screen in self.screen_stack:
            screen.refresh(recompose=True)
        self.refresh_bars()

    def action_sign_on(self) -> None:
        from pos.tui.screens.signon import SignOnScreen

        if self.txn_listener is None and not self._top_is(SignOnScreen):
            self.push_screen(SignOnScreen())

    def _open(self, screen: Screen[Any]) -> None:
        if self.txn_listener is not None:
            self.show_notice("notice.busy", level="warning")
            return
        if not self.signed_on:
            self.show_notice("notice.not_signed_on", level="warning")
            return
        if type(self.screen) is not type(screen):
            self.push_screen(screen)

    def action_history(self) -> None:
        from pos.tui.screens.history import HistoryScreen

        self._open(HistoryScreen())

    def action_settle(self) -> None:
        from pos.tui.screens.settlement import SettlementScreen

        self._open(SettlementScreen())

    def action_reconcile(self) -> None:
        """F7: the last complete clearing day against the acquirer's statement (fetched, reconcile.toml)."""
        from pos.tui.screens.reconcile import ReconcileScreen

        if not self._top_is(ReconcileScreen):
            self.show_notice("recon.fetching", level="information")
            self._reconcile()

    @work(thread=True, group="reconcile", exclusive=True, exit_on_error=False)
    def _reconcile(self) -> None:
        from pos.reconcile.inputs import gather_statements, last_complete_day, own_records, terms_of
        from pos.reconcile.service import reconcile
        from pos.tui.screens.reconcile import ReconcileScreen

        try:
            terms = terms_of(self.config)
            day = last_complete_day(terms.cutoff_time)
            statements = gather_statements(terms, (), True, day, day)
            report = reconcile(own_records(self.config, day), statements, day, day, terms)
        except TillkitError as e:   # a refused statement or reconcile.toml, the acquirer unreachable
            self.call_from_thread(self.show_notice, "recon.failed", detail=str(e))
            return
        self.call_from_thread(self.push_screen, ReconcileScreen(report))

    def action_reports(self) -> None:
        """F8: the X report of the open batch; Z settles and closes (`pos.tui.screens.report`)."""
        from pos.tui.screens.report import ReportScreen

        self._open(ReportScreen())

    def action_settings(self) -> None:
        from pos.tui.screens.settings import SettingsScreen

        if not self._top_is(SettingsScreen):
            self.push_screen(SettingsScreen())

    def action_receipt(self) -> None:
        from pos.tui.screens.receipt import ReceiptScreen

        if self.till.last is not None and not self._top_is(ReceiptScreen):
            self.push_screen(ReceiptScreen(self.till.last))

    def action_simulator(self) -> None:
        from pos.tui.screens.payment import PaymentScreen
        from pos.tui.screens.simulator import SimulatorScreen

        if self.station.simulator is None:
            self.show_notice("sim.none", level="information")
            return
        if not self._top_is(SimulatorScreen):
            running = self.txn_listener
            original = running.original if isinstance(running, PaymentScreen) else None
            suggested = (self.station.simulator.card_of(self.config.terminal.token_key, original)
                         if original is not None else None)
            self.push_screen(SimulatorScreen(self.station.simulator, suggested), self.present)

    def present(self, key: str | None) -> None:
        """Put the simulator's choice in front of the till (a card on the reader, a code to the camera)."""
        simulator = self.station.simulator
        if key is None or simulator is None:
            return
        try:
            simulator.present(key)
        except NotArmed:
            self.show_notice("sim.not_waiting", level="information")

    async def reprint(self, txn: Txn) -> bool:
        """Print the receipt of `txn` again; False when it did not print (a notice says why)."""
        printer = self.engine.printer if self.engine is not None else None
        if not isinstance(printer, ReceiptPrinter):
            self.show_notice("receipt.no_printer", level="information")
            return False
        try:
            _, result = await printer.reprint(txn.stan)
        except ReceiptNotFound as e:
            self.show_notice("notice.refused", detail=self.error_text(e), level="warning")
            return False
        return result.printed


def make_app(config: PosConfig, *, settings: TuiSettings | None = None) -> CheckoutApp:
    """The checkout app over `config` and its devices (`[nfc] reader`, `[tui] camera`, `[printer]`)."""
    return CheckoutApp(config, settings or load_tui_settings(config.config_dir))


#: the screens type their app as `TillApp` (no import back to this module); mypy checks the app is one
_SCREENS_SEE: type[TillApp] = CheckoutApp
