"""Clearing inside `acquirer serve`: the day cleared after its cut-off, statements over HTTP.

Why in the host process: an acquirer clears every day without an operator,
and a merchant's terminal fetches its statement from the acquirer it already
talks to (`pos reconcile --fetch`, a later issue). Both run on the host's
event loop; the database work runs in a thread on a connection of its own, so
the loop keeps answering terminals.

Endpoint (aiohttp, loopback by default, `[clearing] statement_host/port`):

    GET /statements/<mid>/<YYYY-MM-DD>?format=fixed|csv|json
    X-API-Key: <the merchant's api_key from clearing.toml>

200 with the statement (`text/plain` fixed-width, `text/csv`, or
`application/json`); 401 for a missing or wrong key (compared in constant
time; a merchant without a key cannot fetch); 404 for an unknown merchant
or a day not cleared; 400 for a bad date or format. Nothing but those paths
is served, and no answer holds a full PAN.

Automatic clearing: after each cut-off plus `auto_clear_grace_s`, the days up
to the one just ended are cleared (`Clearing.clear_through`).

Under `acquirer serve --processes N` the supervisor binds the endpoint's
socket once (`statement_socket`) and only process 0 runs a `ClearingServer`:
it serves the statements and clears, so a day is cleared by one process; a
restarted process 0 takes over the same socket. A clearing started anyway
beside it (`acquirer clear` by hand) waits for the day's lock
(`Clearing.clear`) and then finds the day cleared.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiohttp import web

from acquirer.protocol.clock import clearing_date, day_window
from acquirer.clearing.errors import ClearingError
from acquirer.clearing.files import statement_csv, statement_json
from acquirer.clearing.service import Clearing
from acquirer.clearing.settlement_calendar import SettlementCalendar
from acquirer.clearing.terms import CLEARING_FILE, ClearingConfig, load_clearing
from acquirer.supervisor import listening_socket

__all__ = ["ClearingServer"]

log = logging.getLogger("acquirer.clearing")

_TYPES = {"fixed": "text/plain", "csv": "text/csv", "json": "application/json"}


def statement_socket(directory: Path) -> socket.socket | None:
    """The statement endpoint's listening socket, from `clearing.toml` in the configuration
    directory (None: no clearing, or no `statement_port`). Raises `SettingsError` for a bad file."""
    if not (directory / CLEARING_FILE).exists():
        return None
    config, _ = load_clearing(directory)
    if config.clearing.statement_port is None:
        return None
    return listening_socket(config.clearing.statement_host, config.clearing.statement_port)


class ClearingServer:
    """Automatic clearing and the statement endpoint for one host process."""

    def __init__(self, config: ClearingConfig, calendar: SettlementCalendar, acquirer: str,
                 open_store: Callable[[], object], clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config = config
        self.calendar = calendar
        self.acquirer = acquirer
        self.open_store = open_store
        self.clock = clock
        self._lock = threading.Lock()   # one clearing or statement read at a time on the connection
        self._clearing: Clearing | None = None
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None

    def _service(self) -> Clearing:
        if self._clearing is None:
            self._clearing = Clearing(self.open_store(), self.config, self.calendar,  # type: ignore[arg-type]
                                      self.acquirer, Path(self.config.clearing.output_dir), self.clock)
        return self._clearing

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self, *, sock: socket.socket | None = None) -> tuple[str, int] | None:
        """Start the clearing timer and the statement endpoint (on `sock` when the supervisor bound
        it); returns where the endpoint listens (None: no endpoint configured)."""
        if self.config.clearing.auto_clear:
            self._task = asyncio.create_task(self._auto_clear())
        port = self.config.clearing.statement_port
        if port is None:
            return None
        app = web.Application(client_max_size=1024)
        app.router.add_get("/statements/{mid}/{day}", self._statement)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        if sock is not None:
            await web.SockSite(self._runner, sock).start()
            bound_host, bound_port = sock.getsockname()[:2]
            return str(bound_host), int(bound_port)
        site = web.TCPSite(self._runner, self.config.clearing.statement_host, port)
        await site.start()
        server = site._server   # the bound socket (port 0 picks one)
        sockets = getattr(server, "sockets", None) or []
        host, bound = sockets[0].getsockname()[:2] if sockets else (self.config.clearing.statement_host, port)
        return str(host), int(bound)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        with self._lock:
            if self._clearing is not None:
                self._clearing.store.close()
                self._clearing = None

    # --- automatic clearing ------------------------------------------------------------------------

    def next_run(self) -> datetime:
        """When the day now running ends, plus the grace period."""
        cutoff = self.config.clearing.cutoff_time
        end = day_window(clearing_date(self.clock(), cutoff), cutoff)[1]
        return end + timedelta(seconds=self.config.clearing.auto_clear_grace_s)

    async def _auto_clear(self) -> None:
        while True:
            wait = (self.next_run() - self.clock()).total_seconds()
            await asyncio.sleep(max(wait, 0.0) + 0.01)
            try:
                outcomes = await asyncio.to_thread(self._clear_now)
                for o in outcomes:
                    log.info("clearing day %s: %s lines, paid on %s", o.day, o.lines, o.settlement_date)
            except ClearingError as e:
                log.error("automatic clearing stopped: %s", e)
            except Exception:   # a defect must not stop the host; the next cut-off tries again
                log.exception("automatic clearing failed")

    def _clear_now(self) -> list:
        with self._lock:
            return self._service().clear_through()

    # --- the statement endpoint --------------------------------------------------------------------

    async def _statement(self, request: web.Request) -> web.Response:
        mid = request.match_info["mid"]
        terms = self.config.merchants.get(mid)
        given = request.headers.get("X-API-Key", "")
        expected = terms.api_key if terms is not None else None
        if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=401, text="wrong or missing API key\n")
        try:
            day = date.fromisoformat(request.match_info["day"])
        except ValueError:
            return web.Response(status=400, text="the date must be YYYY-MM-DD\n")
        fmt = request.query.get("format", "fixed")
        if fmt not in _TYPES:
            return web.Response(status=400, text="format must be fixed, csv or json\n")
        try:
            settlement, lines, fixed = await asyncio.to_thread(self._read, mid, day)
        except ClearingError as e:
            return web.Response(status=404, text=f"{e}\n")
        body = (fixed if fmt == "fixed" else statement_csv(lines) if fmt == "csv"
                else statement_json(self.acquirer, mid, day, settlement, lines))
        return web.Response(status=200, body=body, content_type=_TYPES[fmt])

    def _read(self, mid: str, day: date):
        with self._lock:
            return self._service().statement(mid, day)
