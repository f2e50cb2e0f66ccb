"""Changes of terminal sessions, announced by PostgreSQL to every host process (LISTEN/NOTIFY).

Why: with several host processes a terminal may sign on, use new keys, sign
off or settle through any of them, so each process used to read the
terminal's session rows again for every request -- one statement and one
round trip of a sale's few. Now a trigger (migration 5) sends a notification
on channel `terminal_sessions` with "tid mid" whenever a terminal's rows
change, delivered to every listening process when the change commits, and a
process re-reads a terminal only after such a notification
(`acquirer.sessions.Sessions.changed`). While the listening connection is
down (PostgreSQL restarting, or before it is up) the processes read every
request's session as before (`Sessions.listening(False)`), and when it is up
again everything cached is read afresh once.

The connection is psycopg's, driven by the host's event loop: its socket is
watched with `loop.add_reader`, and each readable event consumes the input
and takes the notifications from libpq (`PGconn.notifies`). Connecting runs
in a thread (a blocking connect must not stall the loop while PostgreSQL is
down); it is tried again every `retry_s` until it succeeds.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import pq

__all__ = ["CHANNEL", "SessionChanges"]

log = logging.getLogger("acquirer.storage.pg_listen")

#: the channel the trigger of migration 5 notifies, payload "tid mid"
CHANNEL = "terminal_sessions"


class SessionChanges:
    """Listens on `CHANNEL` for one host process: `changed(tid, mid)` for each notification,
    `listening(True)` once LISTEN is in place, `listening(False)` when the connection is lost."""

    def __init__(self, url: str, changed: Callable[[str, str], None], listening: Callable[[bool], None],
                 retry_s: float = 1.0) -> None:
        self.url = url
        self.changed = changed
        self.listening = listening
        self.retry_s = retry_s
        self._conn: psycopg.Connection[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Future[Any] | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._closed = False

    def start(self) -> SessionChanges:
        self._loop = asyncio.get_running_loop()
        self._connect()
        return self

    def _connect(self) -> None:
        assert self._loop is not None
        self._retry = None
        if self._closed:
            return
        self._connecting = self._loop.run_in_executor(None, self._open)
        self._connecting.add_done_callback(self._opened)

    def _open(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _opened(self, future: asyncio.Future[Any]) -> None:
        assert self._loop is not None
        self._connecting = None
        error = None if future.cancelled() else future.exception()
        if future.cancelled() or error is not None:
            if error is not None:
                log.warning("cannot listen for session changes (every request reads its session): %s", error)
            self._retry = self._loop.call_later(self.retry_s, self._connect)
            return
        conn = future.result()
        if self._closed:
            conn.close()
            return
        self._conn = conn
        self._loop.add_reader(conn.fileno(), self._readable)
        self.listening(True)   # from here on no change goes unannounced
        log.info("listening for session changes")

    def _readable(self) -> None:
        conn = self._conn
        if conn is None:
            return
        pgconn = conn.pgconn
        try:
            pgconn.consume_input()
        except psycopg.OperationalError as e:
            self._lost(str(e))
            return
        while (notice := pgconn.notifies()) is not None:
            tid, _, mid = notice.extra.decode("utf-8", "replace").partition(" ")
            self.changed(tid, mid)
        if pgconn.status == pq.ConnStatus.BAD:
            self._lost("connection closed")

    def _lost(self, reason: str) -> None:
        assert self._loop is not None
        self.listening(False)
        log.warning("lost the session-change listener (every request reads its session until it is back): %s",
                    reason)
        self._drop()
        self._retry = self._loop.call_later(self.retry_s, self._connect)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._loop is not None:
            try:
                self._loop.remove_reader(conn.fileno())
            except (OSError, ValueError, psycopg.Error):
                pass
        conn.close()

    def close(self) -> None:
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
        self._drop()
