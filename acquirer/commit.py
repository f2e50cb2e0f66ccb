"""Group commit: many requests' writes share one SQLite transaction, replies wait for it.

Why: a durable authorization must not be answered before its postings are
committed, but one COMMIT per request would cap the host at the rate SQLite
can commit. Here every request does its database work synchronously inside
`unit()` -- a SAVEPOINT within the transaction that is currently open -- and
then awaits `durable()`. The commit is scheduled with `loop.call_soon` when
the transaction begins, so it runs once the event loop has handled everything
that was ready at that moment: under load one COMMIT covers every request that
arrived together, and an idle host commits on the next loop turn (no timer,
no added latency).

Rules that make this safe:
- A unit never awaits (the context manager is synchronous), so savepoints of
  different requests never interleave and the commit never lands inside one.
- A unit that raises is rolled back to its savepoint alone; the others in the
  same transaction keep their work.
- In-memory state that mirrors the database (sessions) is changed only after
  `durable()` returned: if a COMMIT fails, the transaction is rolled back and
  every waiter gets `CommitFailed`, with nothing half-applied in memory.
"""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["CommitFailed", "GroupCommit"]


class CommitFailed(RuntimeError):
    """The shared transaction could not be committed; its writes were rolled back."""


class GroupCommit:
    """The host's single writer connection and its shared transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        if conn.isolation_level is not None:
            raise ValueError("GroupCommit needs a connection in autocommit mode (isolation_level=None)")
        self.conn = conn
        self._open = False
        self._done: asyncio.Future[None] | None = None
        self.commits = 0   # transactions committed (for the benchmark's batch-size figure)
        self.units = 0     # units committed

    @contextmanager
    def unit(self) -> Iterator[sqlite3.Connection]:
        """One request's writes: all of them, or none if the block raises."""
        if not self._open:
            self.conn.execute("BEGIN IMMEDIATE")
            self._open = True
            self._schedule_commit()
        self.conn.execute("SAVEPOINT unit")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK TO unit")
            self.conn.execute("RELEASE unit")
            raise
        self.conn.execute("RELEASE unit")
        self.units += 1

    async def durable(self) -> None:
        """Return once everything written so far (by anyone) is committed.

        Raises `CommitFailed` if that commit failed.
        """
        if not self._open:
            return
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._done)

    def _schedule_commit(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (start-up seeding, CLI, tests): `commit_now` is called by the owner
        loop.call_soon(self.commit_now)

    def commit_now(self) -> None:
        """Commit the open transaction (if any) and wake every waiter."""
        if not self._open:
            return
        done, self._done = self._done, None
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as e:
            self.conn.execute("ROLLBACK")
            self._open = False
            if done is not None:
                done.set_exception(CommitFailed(f"commit failed, transaction rolled back: {e}"))
                done.exception()  # retrieved here so an unawaited failure is not logged twice
            return
        self._open = False
        self.commits += 1
        if done is not None:
            done.set_result(None)
