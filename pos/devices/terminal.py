"""Assembling a running terminal: lock, journal, host link (embedded or TCP), engine.

Every face (CLI, TUI, daemon) opens the terminal through `open_terminal`, so
they all get the same start-up: one process per state directory (an flock,
released by the kernel even when the process is killed), the journal
recovered, signed on.

Embedded host: with `[host] address = "embedded"` the acquirer runs in this
process on its own database under the state directory, configured from the
same configuration directory -- how `pos` works on a fresh checkout. With a
wallet channel it also serves the wallet apps' endpoint on a loopback port
written to `<state dir>/wallet-apps.addr` while the terminal is open, so a
customer's app (`pos sim pay-mpm`) can pay the code this terminal shows.
"""
from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from acquirer.protocol.errors import ErrorKind, TillkitError
from pos.core import events as ev
from pos.core.config import PosConfig
from pos.core.engine import Engine
from pos.core.observers import Observers
from pos.core.outcome import Printer
from pos.core.pinpad import PinPad
from pos.devices.binding import bind
from pos.devices.printing import ReceiptPrinter, open_receipt_printer
from pos.hostlink.link import EmbeddedLink, HostLink, TcpLink
from pos.journal.store import Journal

LOCK_FILE = "pos.lock"
WALLET_APPS_FILE = "wallet-apps.addr"   # HOST:PORT of an embedded host's wallet apps' endpoint


class TerminalBusy(TillkitError, RuntimeError):
    """Another pos process is using this state directory (the terminal cannot work until it ends)."""

    kind = ErrorKind.TERMINAL
    message_key = "terminal.state_locked"


class StateDirUnusable(TillkitError, RuntimeError):
    """The state directory cannot be created or written (journal, counters, lock live there)."""

    kind = ErrorKind.TERMINAL
    message_key = "terminal.state_dir"


class TerminalLock:
    """An exclusive flock on `<state dir>/pos.lock`, waited for up to `wait_s`."""

    def __init__(self, state_dir: Path, wait_s: float) -> None:
        self.path = state_dir / LOCK_FILE
        self.wait_s = wait_s
        self._fd: int | None = None

    async def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StateDirUnusable(
                f"state directory {self.path.parent} is not usable ({error.strerror}): "
                "give a writable directory with --state-dir or [state] dir in pos.toml",
                directory=str(self.path.parent), reason=error.strerror or str(error)) from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if loop.time() > deadline:
                    os.close(fd)
                    raise TerminalBusy(f"another pos process is using {self.path.parent} "
                                       f"(waited {self.wait_s:g} s for {self.path})") from None
                await asyncio.sleep(0.05)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)   # closing the descriptor drops the flock
            self._fd = None


@asynccontextmanager
async def embedded_link(config: PosConfig) -> AsyncIterator[EmbeddedLink]:
    """The acquirer host in this process, on `<state dir>/acquirer.db`."""
    # imported here: a terminal on a TCP host never loads the acquirer's host code
    from acquirer.config import load_config as load_acquirer_config
    from acquirer.host import Host
    from acquirer.storage import open_store
    from acquirer.wallet_apps import WalletAppServer

    acquirer = load_acquirer_config(config.config_dir)
    db = open_store(config.embedded_db_path, acquirer.database.synchronous)
    address_file = config.state_dir / WALLET_APPS_FILE
    apps: WalletAppServer | None = None
    try:
        host = Host(acquirer, db)
        link = EmbeddedLink(host.handle)
        if acquirer.wallets is not None:
            apps = WalletAppServer(host)
            address, port = await apps.start("127.0.0.1", 0)
            address_file.write_text(f"{address}:{port}\n")
        try:
            yield link
        finally:
            await link.close()
    finally:
        if apps is not None:
            address_file.unlink(missing_ok=True)
            await apps.close()
        db.close()


@asynccontextmanager
async def tcp_link(config: PosConfig, observer: ev.Observer | None) -> AsyncIterator[TcpLink]:
    host, port = config.host.host_port
    settings = config.host

    def retrying(error: str, delay: float) -> None:
        if observer is not None:
            observer(ev.HostUnreachable(f"{host}:{port}", error, delay))

    link = TcpLink(host, port, connect_timeout_s=settings.connect_timeout_s,
                   connect_budget_s=settings.timeout_s, backoff_initial_s=settings.backoff_initial_s,
                   backoff_max_s=settings.backoff_max_s, on_retry=retrying)
    try:
        yield link
    finally:
        await link.close()


async def _open_state(stack: AsyncExitStack, config: PosConfig, lock_wait_s: float) -> Journal:
    """The state directory locked for this process, and its journal."""
    lock = TerminalLock(config.state_dir, lock_wait_s)
    await lock.acquire()
    stack.callback(lock.release)
    journal = Journal(config.journal_path, default_operator=config.terminal.operator)
    stack.callback(journal.close)
    return journal


@asynccontextmanager
async def open_terminal(config: PosConfig, observer: ev.Observer | None = None, *,
                        printer: Printer | None = None, pinpad: PinPad | None = None, sign_on: bool = True,
                        resume: bool = False, lock_wait_s: float = 30.0) -> AsyncIterator[Engine]:
    """Lock the state directory, open the journal, the printer and the link, recover, sign on.

    `printer` None: the printer pos.toml `[printer]` names (none with connection "none").
    `pinpad`: the face's PIN pad (the TUI's dialog, the CLI's `--pin`); None: no PIN pad.
    `resume`: use the working keys kept from the last sign-on when they are still good
    (`Engine.start`); the command line does, a long-running face signs on at start.
    The printer's and the link's events reach every observer the engine has
    (`Engine.add_observer`), not only `observer`.
    """
    observers = Observers(observer)
    async with AsyncExitStack() as stack:
        journal = await _open_state(stack, config, lock_wait_s)
        config = bind(config, journal)
        if printer is None:
            printer = stack.enter_context(open_receipt_printer(config, journal, observers))
        link: HostLink
        if config.host.embedded:
            link = await stack.enter_async_context(embedded_link(config))
        else:
            link = await stack.enter_async_context(tcp_link(config, observers))
        engine = Engine(config, journal, link, observers=observers, printer=printer, pinpad=pinpad)
        if sign_on:
            await engine.start(resume=resume)
        else:
            journal.recover()
        yield engine


@asynccontextmanager
async def open_journal(config: PosConfig, *, lock_wait_s: float = 30.0) -> AsyncIterator[Journal]:
    """The journal alone, the state directory locked (`pos operator`: no host, no printer)."""
    async with AsyncExitStack() as stack:
        yield await _open_state(stack, config, lock_wait_s)


@asynccontextmanager
async def open_receipts(config: PosConfig, observer: ev.Observer | None = None, *,
                        lock_wait_s: float = 30.0) -> AsyncIterator[ReceiptPrinter | None]:
    """The journal and the configured printer, without the host (`pos reprint`); None: no printer."""
    async with AsyncExitStack() as stack:
        journal = await _open_state(stack, config, lock_wait_s)
        yield stack.enter_context(open_receipt_printer(config, journal, observer))
