"""When the database cannot be written, requests get 96, nothing half-done stays, and the host
serves again once it can write."""
import sqlite3

from acquirer.protocol.transactions import TxnType


def test_locked_database_answers_96_then_recovers(embedded_sqlite):
    t = embedded_sqlite.terminal("10000001")
    card = embedded_sqlite.card("unionpay-debit")
    before = embedded_sqlite.available(card)
    embedded_sqlite.host.db.conn.execute("PRAGMA busy_timeout=50")   # do not wait the default 5 s
    locker = sqlite3.connect(embedded_sqlite.db_path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")                             # another process holds the write lock
    try:
        sale = t.request(TxnType.SALE, card, 700)
        assert t.send(sale)["39"] == "96"
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert embedded_sqlite.available(card) == before
    # the same request again: it was never recorded, so it is processed now
    assert t.send(sale)["39"] == "00"
    assert embedded_sqlite.available(card) == before - 700
