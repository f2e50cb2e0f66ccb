"""The ledger and its storage: balanced postings only, no negative card balances, undo, migrations,
and group commit rolling back one request's unit alone."""
import asyncio
import sqlite3

import pytest

from acquirer.commit import GroupCommit
from acquirer.ledger import InsufficientFunds, Ledger, UnbalancedPosting
from acquirer.storage import MIGRATIONS, MigrationError, migrate, open_database, schema_version
from acquirer.storage.store import SQLiteStore


@pytest.fixture
def ledger(tmp_path):
    db = open_database(tmp_path / "ledger.db", enforce_foreign_keys=True)
    ledger = Ledger(SQLiteStore(db))
    ledger.conn = db.conn
    ledger.open_account("issuer:bank", "issuer")
    ledger.open_account("card:t", "cardholder")
    ledger.open_account("merchant:m", "merchant")
    ledger.post("open", [("issuer:bank", -1_000), ("card:t", 1_000)])
    return ledger


def test_postings_must_balance(ledger):
    with pytest.raises(UnbalancedPosting):
        ledger.post("sale", [("card:t", -100), ("merchant:m", 99)])
    with pytest.raises(UnbalancedPosting):
        ledger.post("sale", [("card:t", -1.5), ("merchant:m", 1.5)])
    assert ledger.balance("card:t") == 1_000


def test_a_card_never_goes_negative_and_a_refused_posting_writes_nothing(ledger):
    with pytest.raises(InsufficientFunds) as error:
        ledger.post("sale", [("merchant:m", 1_001), ("card:t", -1_001)])
    assert error.value.account_id == "card:t"
    assert ledger.balance("card:t") == 1_000 and ledger.balance("merchant:m") == 0
    assert ledger.conn.execute("SELECT COUNT(*) FROM postings").fetchone()[0] == 1
    # and the schema refuses it even without the ledger's help
    with pytest.raises(sqlite3.IntegrityError):
        ledger.conn.execute("UPDATE accounts SET balance = -1 WHERE id = 'card:t'")


def test_undo_cancels_a_transaction_once(ledger):
    ledger.conn.execute("INSERT INTO transactions (id, txn_type, tid, mid, batch, stan, local_date, amount, "
                        "currency, status, created_at) VALUES (7, 'sale', 't', 'm', '000001', '000001', "
                        "'2026-01-01', 300, '156', 'approved', 'now')")
    ledger.post("sale", [("card:t", -300), ("merchant:m", 300)], txn_id=7)
    assert ledger.undo(7, "reversal") is not None
    assert ledger.undo(7, "reversal") is None
    assert ledger.balance("card:t") == 1_000 and ledger.legs_of(7) == []


def test_migrations_are_recorded_and_a_newer_database_is_refused(tmp_path):
    db = open_database(tmp_path / "m.db")
    assert schema_version(db) == MIGRATIONS[-1][0]
    assert migrate(db) == MIGRATIONS[-1][0]   # idempotent
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db["_sqlite_migrations"].insert({"migration_set": "acquirer", "name": "0999", "applied_at": "now"})
    with pytest.raises(MigrationError, match="newer than this code"):
        migrate(db)


def test_group_commit_rolls_back_a_failing_unit_alone(tmp_path):
    path = tmp_path / "g.db"
    db = open_database(path)
    sqlite_store = SQLiteStore(db)
    store = GroupCommit(sqlite_store)
    ledger = Ledger(sqlite_store)

    async def requests():
        with store.unit():
            ledger.open_account("card:a", "cardholder")
        with pytest.raises(RuntimeError), store.unit():
            ledger.open_account("card:b", "cardholder")
            raise RuntimeError("a defect in this request")
        with store.unit():
            ledger.open_account("card:c", "cardholder")
        await store.durable()

    asyncio.run(requests())
    reader = sqlite3.connect(path)   # another connection sees only committed data
    assert [r[0] for r in reader.execute("SELECT id FROM accounts ORDER BY id")] == ["card:a", "card:c"]
    assert store.commits == 1
