"""Which PostgreSQL driver for the acquirer: the database work of one authorization, three ways.

Not part of `make bench` (asyncpg and SQLAlchemy are not dependencies): run it
by hand after `pip install asyncpg sqlalchemy`:

    .venv/bin/python -m tests.bench.pg_drivers

Each "authorization" is the statements a sale costs the host on PostgreSQL
(acquirer.storage.postgres): the terminal's keys, a transaction id and an RRN
from their sequences, the balances under row locks, the posting and its legs,
the transaction row, the card's ATC. 32 of them share a transaction (group
commit). Measured: wall time per authorization on one connection, with the
client's CPU time per authorization beside it (the host process pays that).
"""
from __future__ import annotations

import asyncio
import time
import uuid

from tests.pgcluster import running_cluster

N = 3_000
GROUP = 32
STATEMENTS = [
    (("SELECT s.batch, s.working_keys, s.signed_on_at, p.working_keys, p.signed_on_at FROM terminal_state s "
      "LEFT JOIN pending_signons p ON p.tid = s.tid AND p.mid = s.mid WHERE s.tid = $1 AND s.mid = $2 ORDER BY p.id"),
     lambda i: ("90000001", "898310048990001")),
    ("SELECT nextval('transactions_id_seq')", lambda i: ()),
    ("SELECT nextval('rrn_seq')", lambda i: ()),
    (("WITH v (id, amount) AS (VALUES ($1::text, $2::bigint), ($3, $4)), locked AS (SELECT a.id, "
      "a.balance + v.amount AS after, a.may_go_negative FROM accounts a JOIN v ON v.id = a.id ORDER BY a.id "
      "FOR UPDATE OF a) UPDATE accounts a SET balance = locked.after FROM locked WHERE a.id = locked.id "
      "AND NOT EXISTS (SELECT 1 FROM locked WHERE may_go_negative = 0 AND after < 0)"),
     lambda i: ("card:bench", -1, "merchant:bench", 1)),
    ("INSERT INTO postings (txn_id, kind, created_at) VALUES (NULL, 'sale', 'now') RETURNING id", lambda i: ()),
    (("INSERT INTO transactions (txn_type, tid, mid, batch, stan, local_date, amount, currency, status, "
      "created_at) VALUES ('sale', '90000001', '898310048990001', '000001', $1, '2026-03-14', 1, '156', "
      "'approved', 'now') ON CONFLICT ON CONSTRAINT transactions_tid_mid_batch_stan_local_date_key DO NOTHING"),
     lambda i: (f"{i:06d}-{uuid.uuid4().hex[:6]}",)),
    ("UPDATE cards SET last_atc = $1 WHERE token = $2 AND last_atc < $1", lambda i: (i, "bench")),
]


def _setup(url: str) -> None:
    import psycopg

    from acquirer.storage.postgres import migrate_postgres
    migrate_postgres(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts VALUES ('card:bench', 'cardholder', 1000000000, 0), "
                     "('merchant:bench', 'merchant', 0, 1)")
        conn.execute("INSERT INTO cards (token, masked_pan, name, issuer, scheme, product) "
                     "VALUES ('bench', '621483******0000', 'bench', 'cup-bank', 'unionpay', 'debit')")


def _psycopg(url: str) -> tuple[float, float]:
    import psycopg
    statements = [(sql.replace("$1", "%(a)s").replace("$2", "%(b)s").replace("$3", "%(c)s").replace("$4", "%(d)s"),
                   args) for sql, args in STATEMENTS]
    with psycopg.connect(url, autocommit=True) as conn:
        start, cpu = time.perf_counter(), time.process_time()
        for n in range(N):
            if n % GROUP == 0:
                conn.execute("BEGIN")
            for sql, args in statements:
                conn.execute(sql, dict(zip("abcd", args(n))))  # type: ignore[arg-type]
            if n % GROUP == GROUP - 1:
                conn.execute("COMMIT")
        conn.execute("COMMIT")
        return (time.perf_counter() - start) / N, (time.process_time() - cpu) / N


async def _asyncpg(url: str) -> tuple[float, float]:
    import asyncpg
    conn = await asyncpg.connect(url)
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(N):
        if n % GROUP == 0:
            await conn.execute("BEGIN")
        for sql, args in STATEMENTS:
            await conn.fetch(sql, *args(n))
        if n % GROUP == GROUP - 1:
            await conn.execute("COMMIT")
    await conn.execute("COMMIT")
    result = (time.perf_counter() - start) / N, (time.process_time() - cpu) / N
    await conn.close()
    return result


def _sqlalchemy(url: str) -> tuple[float, float]:
    import sqlalchemy
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    statements = [(sqlalchemy.text(sql.replace("$1", ":a").replace("$2", ":b").replace("$3", ":c")
                                   .replace("$4", ":d").replace("::text", "").replace("::bigint", "")), args)
                  for sql, args in STATEMENTS]
    with engine.connect() as conn:
        start, cpu = time.perf_counter(), time.process_time()
        for n in range(N):
            for statement, args in statements:
                conn.execute(statement, dict(zip("abcd", args(n))))
            if n % GROUP == GROUP - 1:
                conn.commit()
        conn.commit()
        return (time.perf_counter() - start) / N, (time.process_time() - cpu) / N


def main() -> None:
    with running_cluster() as cluster:
        for name, run in (("psycopg 3 (sync, auto-prepared)", _psycopg),
                          ("asyncpg (await per statement)", lambda url: asyncio.run(_asyncpg(url))),
                          ("SQLAlchemy Core 2 over psycopg", _sqlalchemy)):
            url = cluster.create_database()
            _setup(url)
            wall, cpu = run(url)
            print(f"{name:36s} {wall * 1e6:7.0f} µs per authorization, client CPU {cpu * 1e6:5.0f} µs")


if __name__ == "__main__":
    main()
