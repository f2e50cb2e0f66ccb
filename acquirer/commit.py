"""Group commit: many requests' writes share one database transaction, replies wait for it.

Why: a durable authorization must not be answered before its postings are
committed, but one COMMIT per request would cap the host at the rate SQLite
can commit. Here every request does its database work synchronously inside
`unit()` -- a SAVEPOINT within the transaction that is currently open -- and
then awaits `durable()`. The commit is scheduled when the transaction begins: on the
next event-loop turn by default (`[database] commit_interval_ms` = 0), so it
runs once the loop has handled everything that was ready -- one COMMIT covers
every request that arrived together -- or `interval` seconds later, and at
once when `max_units` requests wait. The default needs no timer and is
self-clocking: the longer a COMMIT takes (synchronous=FULL syncs the disk),
the more requests queue behind it and the larger the next group. The
benchmark measured the same throughput with a 2 ms window and a lower
latency without one.

Rules that make this safe:
- A unit never awaits (the context manager is synchronous), so savepoints of
  different requests never interleave and the commit never lands inside one.
- A unit that raises is rolled back to its savepoint alone; the others in the
  same transaction keep their work.
- In-memory state that mirrors the database (sessions) is changed only after
  `durable()` returned: if a COMMIT fails, the transaction is rolled back and
  every waiter gets `CommitFailed`, with nothing half-applied in memory.
- A speculative unit (`unit(speculative=True)`) may be rolled back after it
  ended, alone, when the store finds that a check it assumed did not pass
  (`Store.take_failed_units`); its waiter (`durable(unit)`) gets
  `Misspeculation` and runs its request again, the group's other units are
  committed. So a unit changes nothing outside the database that a rerun
  would change twice.
"""
from __future__ import annotations

import asyncio
from types import TracebackType

from acquirer.metrics import GROUP_COMMIT_UNITS
from acquirer.storage.store import Misspeculation, OutcomeUnknown, StorageUnavailable, Store

__all__ = ["CommitFailed", "CommitOutcomeUnknown", "GroupCommit", "Misspeculation"]


class CommitFailed(RuntimeError):
    """The shared transaction could not be committed; its writes were rolled back."""


class CommitOutcomeUnknown(CommitFailed):
    """Whether the shared transaction committed is unknown (connection lost during COMMIT)."""


class GroupCommit:
    """The host's writer (its `Store`) and its shared transaction.

    On PostgreSQL each host process has its own group commit over its own
    connection; row locks and constraints keep the processes correct together.
    """

    def __init__(self, store: Store, interval: float = 0.0, max_units: int = 512) -> None:
        self.store = store
        self.interval = interval
        self.max_units = max_units
        self._open = False
        self._pending_units = 0
        self._serial = 0   # the last unit's number (`_Unit.number`)
        # each waiter with the number of the unit it waits for (0: everything so far)
        self._waiters: list[tuple[asyncio.Future[None], int]] = []
        self.commits = 0   # transactions committed (for the benchmark's batch-size figure)
        self.units = 0     # units written (the benchmark divides by commits)

    def unit(self, *, speculative: bool = False) -> _Unit:
        """One request's writes: all of them, or none if the block raises.

        Use as `with group.unit() as unit:`. `speculative`: the store may assume
        the unit's checks pass (`Store.savepoint`) and learn only later whether
        they did: when one did not, the unit is rolled back and `Misspeculation`
        raised, in the block if it is still running, else by `durable(unit)`, for
        the caller to run the block again without speculation.
        """
        return _Unit(self, speculative)

    def _begin_unit(self, speculative: bool) -> int:
        if not self._open:
            self.store.begin(pipeline=True)   # a unit reads few of its statements' results
            self._open = True
            self._schedule_commit()
        self._serial += 1
        self.store.savepoint(speculative=speculative, unit=self._serial)
        return self._serial

    def _end_unit(self, failed: bool) -> None:
        if failed:
            try:
                self.store.rollback_to()
            except StorageUnavailable:
                self._lost()   # the connection went with the transaction: nothing of it stays
            return
        self.store.release()
        self.units += 1
        self._pending_units += 1
        if self._pending_units >= self.max_units:
            self._schedule_commit(at_once=True)

    async def durable(self, unit: _Unit | None = None) -> None:
        """Return once everything written so far (by anyone) is committed.

        Raises `CommitFailed` if that commit failed, and `Misspeculation` if
        `unit` (a speculative unit that just ended) was rolled back instead
        because a check it assumed did not pass. Each waiter has a future of
        its own, so a waiter that is cancelled cancels nobody else.
        """
        if not self._open:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((waiter, 0 if unit is None else unit.number))
        await waiter

    def _schedule_commit(self, at_once: bool = False) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (start-up seeding, CLI, tests): `commit_now` is called by the owner
        if at_once or self.interval <= 0:
            loop.call_soon(self.commit_now)
        else:
            loop.call_later(self.interval, self.commit_now)

    def commit_now(self) -> None:
        """Commit the open transaction (if any) and wake every waiter."""
        if not self._open:
            return
        waiters, self._waiters = self._waiters, []
        units, self._pending_units = self._pending_units, 0
        try:
            self.store.commit()
        except StorageUnavailable as e:
            failure: CommitFailed
            if isinstance(e, OutcomeUnknown):
                failure = CommitOutcomeUnknown(f"commit outcome unknown: {e}")
            else:
                self._rollback()
                failure = CommitFailed(f"commit failed, transaction rolled back: {e}")
            self._open = False
            self.store.take_failed_units()
            for waiter, _ in waiters:
                if not waiter.done():
                    waiter.set_exception(failure)
            return
        self._open = False
        failed = self.store.take_failed_units()
        units -= len(failed)
        self.units -= len(failed)
        self.commits += 1
        if units:
            GROUP_COMMIT_UNITS.observe(units)
        for waiter, number in waiters:
            if waiter.done():
                continue
            if number in failed:
                waiter.set_exception(Misspeculation())
            else:
                waiter.set_result(None)


    def _rollback(self) -> None:
        try:
            self.store.rollback()
        except StorageUnavailable:
            pass   # a lost connection took its transaction with it

    def _lost(self) -> None:
        """The open transaction is gone (connection lost): fail its waiters, start afresh next time."""
        if not self._open:
            return
        self._rollback()
        self._open = False
        waiters, self._waiters = self._waiters, []
        self._pending_units = 0
        self.store.take_failed_units()
        failure = CommitFailed("database connection lost, transaction rolled back")
        for waiter, _ in waiters:
            if not waiter.done():
                waiter.set_exception(failure)


class _Unit:
    """The context manager of `GroupCommit.unit` (a class: cheaper than a generator-based
    one, and every authorization enters one)."""

    __slots__ = ("_speculative", "_store", "number")

    def __init__(self, store: GroupCommit, speculative: bool) -> None:
        self._store = store
        self._speculative = speculative
        self.number = 0   # the unit's number in its group commit, once entered

    def __enter__(self) -> _Unit:
        self.number = self._store._begin_unit(self._speculative)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._store._end_unit(failed=exc_type is not None)   # an exception then propagates
