"""The host's statements on PostgreSQL, sent through libpq's pipeline below psycopg's cursors.

Why by hand: on the host's hot path psycopg's `Connection.execute` costs
about 40 µs of Python per statement (a cursor built per call, its generators,
the prepared-statement bookkeeping), whether or not the statement waits for
the server; a sale is 7 statements and a group 4 more. Measured on this
2-core machine (one connection, the same UPDATE 5,000 times, client CPU only):
`conn.execute` in psycopg's pipeline mode 42 µs a statement, a reused cursor
28 µs, the same statement through `psycopg.pq` in libpq's pipeline mode
4.3 µs. No maintained library offers a lighter path (asyncpg would make
every statement an await, which the group commit's units may not do), so
this module drives the connection's own `psycopg.pq.PGconn` directly and
keeps psycopg for everything else: parameters are dumped and rows loaded by
psycopg's `Transformer` (the C adapters its cursors use), errors are
psycopg's classes (`psycopg.errors.error_from_result`), and the connection
is psycopg's, from the same pool.

Each statement text is prepared once per connection (`send_prepare`, named
`tk<n>`) and executed by name with its parameters in text form, the server
inferring their types from the statement, as it does for psycopg's.
`send` queues a statement and returns its `Result`, filled at the next
`sync`: one round trip for everything queued. Reading a result that is not
filled yet syncs first. At a sync the first error among the results is
raised (PostgreSQL skipped the statements after it, up to the sync), and
`failed` names the statement's result, so that the caller can tell whose it
was and send the skipped ones again (`send(..., slot=)`).

A connection is in libpq's pipeline mode only while this module has
statements on it; `leave` (called before psycopg uses the connection again:
clearing's cursors and COPY) syncs and leaves it.
"""
from __future__ import annotations

import itertools
import select
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import abc, errors, pq
from psycopg.adapt import PyFormat, Transformer

__all__ = ["Pipeline", "Result"]

#: prepared statements kept on one connection; texts beyond it run unprepared (never in the host's
#: own statements, which are fewer: a safety valve for texts built from varying parts)
_MAX_PREPARED = 256

_OK = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)


class Result:
    """A statement's outcome, read as the store's callers read a cursor (`fetchone`,
    `fetchall`, iteration, `rowcount`); filled when its pipeline syncs. Rows are made from
    libpq's result as they are read, in chunks when iterated (a day's clearing lines)."""

    __slots__ = ("_pipeline", "_result", "_transformer", "_next", "_count", "rowcount")

    def __init__(self, pipeline: Pipeline) -> None:
        self._reset(pipeline)

    def _reset(self, pipeline: Pipeline) -> None:
        """Not filled yet: waiting for `pipeline`'s next sync (again, when sent again)."""
        self._pipeline: Pipeline | None = pipeline
        self._result: pq.abc.PGresult | None = None
        self._transformer: abc.Transformer | None = None
        self._next = self._count = 0
        self.rowcount = -1

    def _fill(self, result: pq.abc.PGresult, transformer: abc.Transformer) -> None:
        self._pipeline = None
        if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples:
            self._result, self._transformer, self._count = result, transformer, result.ntuples
        tuples = result.command_tuples
        self.rowcount = -1 if tuples is None else tuples

    @property
    def ready(self) -> bool:
        """Its pipeline has synced: reading it sends nothing."""
        return self._pipeline is None

    def _rows(self, stop: int) -> list[tuple[Any, ...]]:
        """Rows from the next one up to `stop`, made by psycopg's loaders."""
        if self._pipeline is not None:
            self._pipeline.sync()
        stop = min(stop, self._count)
        if self._next >= stop or self._transformer is None:
            return []
        self._transformer.set_pgresult(self._result)
        rows = self._transformer.load_rows(self._next, stop, tuple)
        self._next = stop
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._rows(self._next + 1)
        return rows[0] if rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows(1 << 62)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while rows := self._rows(self._next + 1000):
            yield from rows


#: names of prepared statements, never reused (a failed prepare leaves a gap)
_NAMES = itertools.count()

#: the statements prepared on each connection (text -> name); dies with the connection
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection[Any], dict[str, bytes]] = weakref.WeakKeyDictionary()


class Pipeline:
    """One connection's queue of statements in libpq's pipeline mode (see the module docstring).

    Errors: a statement PostgreSQL refused raises its psycopg error class at
    the sync; a failure of the connection itself raises `psycopg.OperationalError`
    (the caller drops the connection: what was queued is lost with it).
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._pgconn = conn.pgconn
        self._transformer: abc.Transformer = Transformer(conn)
        self._encoding = conn.info.encoding
        self._prepared = _PREPARED.setdefault(conn, {})
        # what the server will answer, in order: a Result, or the text of a statement being prepared
        self._pending: deque[Result | str] = deque()
        self._active = False
        #: after a sync that raised: the result of the statement PostgreSQL refused
        self.failed: Result | None = None

    def send(self, text: str, params: Sequence[Any] = (), slot: Result | None = None) -> Result:
        """Queue a statement (placeholders $1, $2, ...) and return its result, filled at the next sync.
        `slot`: a result of this pipeline whose statement PostgreSQL skipped, to be filled by
        this sending instead (the store sends a unit's statements again after an earlier unit
        failed, and whoever holds the result reads it as if nothing had happened)."""
        pgconn = self._pgconn
        if not self._active:
            self._enter()
        values = self._transformer.dump_sequence(params, [PyFormat.TEXT] * len(params)) if params else None
        name = self._prepared.get(text)
        try:
            if name is None and len(self._prepared) < _MAX_PREPARED:
                name = f"tk{next(_NAMES)}".encode()
                pgconn.send_prepare(name, text.encode(self._encoding))
                self._prepared[text] = name
                self._pending.append(text)
            if name is None:
                pgconn.send_query_params(text.encode(self._encoding), values)
            else:
                pgconn.send_query_prepared(name, values)
        except psycopg.OperationalError:
            raise
        except psycopg.Error as e:   # pq's own refusals (e.g. a connection already broken)
            raise psycopg.OperationalError(str(e)) from None
        if slot is None:
            slot = Result(self)
        else:
            slot._reset(self)
        self._pending.append(slot)
        return slot

    def sync(self) -> None:
        """Send what is queued with a sync point, read every result; raise the first error."""
        if not self._pending:
            return
        pgconn = self._pgconn
        pending, self._pending = self._pending, deque()
        first_error: psycopg.Error | None = None
        self.failed = None
        prepare_failed = False
        pgconn.pipeline_sync()
        while pgconn.flush():   # nonblocking: the rest goes once the socket takes it
            select.select([], [pgconn.socket], [])
        for slot in pending:
            result = pgconn.get_result()
            if result is None:
                raise psycopg.OperationalError(f"PostgreSQL connection lost: {_message(pgconn)}")
            while pgconn.get_result() is not None:   # each statement's results end with a NULL
                pass
            status = result.status
            if status in _OK:
                if isinstance(slot, Result):
                    slot._fill(result, self._transformer)
                continue
            if isinstance(slot, str):
                self._prepared.pop(slot, None)   # not prepared: the next use prepares it again
            else:
                slot._pipeline = None   # stays empty
                if prepare_failed:   # the statement whose prepare failed is the one that failed
                    self.failed, prepare_failed = slot, False
            if status != pq.ExecStatus.PIPELINE_ABORTED and first_error is None:
                first_error = self._error(result)
                if isinstance(slot, str):
                    prepare_failed = True
                else:
                    self.failed = slot
        end = pgconn.get_result()
        if end is None or end.status != pq.ExecStatus.PIPELINE_SYNC:
            raise psycopg.OperationalError(f"PostgreSQL connection lost: {_message(pgconn)}")
        if first_error is not None:
            raise first_error

    def _error(self, result: pq.abc.PGresult) -> psycopg.Error:
        """The psycopg error of a failed result; a failure without SQLSTATE is libpq's own
        (the connection), raised as `OperationalError`."""
        if not result.error_field(pq.DiagnosticField.SQLSTATE):
            return psycopg.OperationalError(result.error_message.decode(self._encoding, "replace").strip())
        return errors.error_from_result(result, encoding=self._encoding)

    def _enter(self) -> None:
        try:
            self._pgconn.enter_pipeline_mode()
        except psycopg.Error as e:
            raise psycopg.OperationalError(str(e)) from None
        self._active = True

    def leave(self) -> None:
        """Sync what is queued and leave pipeline mode, so that psycopg may use the connection."""
        if not self._active:
            return
        try:
            self.sync()
        finally:
            if not self._pending:
                try:
                    self._pgconn.exit_pipeline_mode()
                except psycopg.Error as e:
                    raise psycopg.OperationalError(str(e)) from None
                self._active = False


def _message(pgconn: pq.abc.PGconn) -> str:
    return pgconn.error_message.decode("utf-8", "replace").strip() or "no result"
