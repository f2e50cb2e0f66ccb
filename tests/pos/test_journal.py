"""The journal's rows: STANs, batches, the reversal record's life, totals, and what is never stored."""
import sqlite3

import pytest

from acquirer.protocol.cardholder import pan_token
from pos.journal import store as j
from pos.journal.store import Journal, JournalError

KEY = bytes.fromhex("5C1E0A7F3B92D64E8A17C0F5B3D9264E")
PAN = "6214830000000000015"


def card(pan=PAN, scheme="unionpay"):
    return {"masked_pan": pan[:6] + "*" * (len(pan) - 10) + pan[-4:], "pan_token": pan_token(KEY, pan),
            "scheme": scheme, "expiry": "3012", "psn": "001", "entry_mode": "072"}


def sale(journal, amount=1234, **extra):
    return journal.begin(type="sale", amount=amount, currency="156", processing_code="000000",
                         condition_code="00", reversible=True, **{**card(), **extra})


def test_stans_rise_wrap_after_999999_and_survive_reopen(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    assert [journal.next_stan() for _ in range(3)] == ["000001", "000002", "000003"]
    journal.db["counters"].update("stan", {"value": 999_998})
    assert journal.next_stan() == "999999"
    assert sale(journal).stan == "000001"
    journal.close()
    assert Journal(tmp_path / "journal.db").next_stan() == "000002"


def test_migrations_are_recorded_by_sqlite_utils_and_a_newer_journal_is_refused(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    applied = [m.name for m in j.JOURNAL_MIGRATIONS.applied(journal.db)]
    assert applied[:4] == list(j.USER_VERSION_MIGRATIONS) and applied[4:] == [
        "0005_host_binding", "0006_pan_token_lower_case", "0007_host_session", "0008_operators_and_reports"]
    assert journal.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    journal.db["_sqlite_migrations"].insert({"migration_set": "pos.journal", "name": "0099_from_the_future",
                                             "applied_at": "2030-01-01"})
    journal.close()
    with pytest.raises(JournalError, match="0099_from_the_future are newer than this pos"):
        Journal(tmp_path / "journal.db")


def _old_journal(path, version: int) -> None:
    """A journal as a pos before the migration set wrote it: migrations 1..version, numbered in user_version."""
    import sqlite_utils

    db = sqlite_utils.Database(path)
    for migration in j.JOURNAL_MIGRATIONS.pending(db)[:version]:
        migration.fn(db)
    db.execute(f"PRAGMA user_version = {version}")
    db["transactions"].insert({"type": "sale", "state": "approved", "amount": 1234, "currency": "156",
                               "stan": "000007", "batch": "000001", "rrn": "123456789012",
                               "pan_token": "0A1B2C3D4E5F60718293A4B5C6D7E8F9",
                               "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})
    db.close()


@pytest.mark.parametrize("version", [1, 4])
def test_an_old_user_version_journal_opens_and_is_migrated_forward(tmp_path, version):
    _old_journal(tmp_path / "journal.db", version)
    journal = Journal(tmp_path / "journal.db")
    [old] = journal.history()
    assert (old.stan, old.amount, old.rrn, old.wallet, old.arpc_check) == ("000007", 1234, "123456789012", None, None)
    assert "wallet" in journal.db["transactions"].columns_dict and journal.db["host_binding"].exists()
    applied = [m.name for m in j.JOURNAL_MIGRATIONS.applied(journal.db)]
    assert applied[-3:] == ["0006_pan_token_lower_case", "0007_host_session", "0008_operators_and_reports"]
    assert journal.db["host_session"].exists()
    assert old.operator is None and journal.db["operators"].exists()
    assert old.pan_token == "0a1b2c3d4e5f60718293a4b5c6d7e8f9"   # the token rule the terminal uses now
    journal.close()
    Journal(tmp_path / "journal.db").close()   # opening again applies nothing twice


def test_a_user_version_newer_than_this_pos_is_refused(tmp_path):
    _old_journal(tmp_path / "journal.db", 4)
    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "journal.db")
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(JournalError, match="schema version 99 is newer"):
        Journal(tmp_path / "journal.db")


def test_pending_row_and_armed_reversal_are_written_together(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    txn = sale(journal)
    assert txn.state == j.PENDING and txn.batch == "000001"
    other = sqlite3.connect(tmp_path / "journal.db")  # what another process sees right now
    assert other.execute("SELECT state FROM reversals WHERE txn_id = ?", [txn.id]).fetchone() == (j.ARMED,)
    approved = journal.record_reply(txn.id, state=j.APPROVED, response_code="00", rrn="000000000001",
                                    auth_code="123456")
    assert approved.state == j.APPROVED
    assert other.execute("SELECT state FROM reversals WHERE txn_id = ?", [txn.id]).fetchone() == (j.CLEARED,)
    assert journal.due_reversals() == []


def test_a_reply_after_the_reversal_was_decided_is_refused(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    txn = sale(journal)
    journal.decide_reversal(txn.id, "98")
    with pytest.raises(JournalError, match="reversal already due"):
        journal.record_reply(txn.id, state=j.APPROVED, response_code="00")
    journal.note_late_reply(txn.id, "00")
    [due] = journal.due_reversals()
    assert (due.txn.id, due.reason, due.txn.state, due.txn.late_reply_code) == (txn.id, "98", j.REVERSAL_DUE, "00")
    assert journal.reversal_acknowledged(txn.id).state == j.REVERSED
    assert journal.due_reversals() == []


def test_recover_makes_every_armed_reversal_due(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    first, second = sale(journal), sale(journal)
    journal.record_reply(first.id, state=j.APPROVED, response_code="00")
    balance = journal.begin(type="balance", amount=0, currency="156", processing_code="310000",
                            condition_code="00", reversible=False, **card())
    journal.close()
    journal = Journal(tmp_path / "journal.db")
    assert journal.recover() == 1
    assert [r.txn.stan for r in journal.due_reversals()] == [second.stan]
    assert journal.get(first.id).state == j.APPROVED
    assert journal.get(balance.id).state == j.UNKNOWN


def test_void_marks_the_original_and_its_reversal_restores_it(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    original = sale(journal)
    journal.record_reply(original.id, state=j.APPROVED, response_code="00", rrn="R1", auth_code="A1")
    void = journal.begin(type="void", amount=original.amount, currency="156", processing_code="200000",
                         condition_code="00", reversible=True, original_id=original.id, **card())
    journal.record_reply(void.id, state=j.APPROVED, response_code="00", original_becomes=j.VOIDED)
    assert journal.get(original.id).state == j.VOIDED
    journal.reversal_acknowledged(void.id)
    assert journal.get(original.id).state == j.APPROVED


def test_totals_count_approved_sales_completions_and_refunds_by_region(tmp_path):
    journal = Journal(tmp_path / "journal.db")

    def approved(type_, amount, scheme):
        txn = journal.begin(type=type_, amount=amount, currency="156", processing_code="000000",
                            condition_code="00", reversible=type_ != "refund", **card(scheme=scheme))
        return journal.record_reply(txn.id, state=j.APPROVED, response_code="00")

    approved("sale", 1000, "unionpay")
    approved("completion", 500, "unionpay")
    approved("refund", 300, "unionpay")
    approved("sale", 2000, "visa")
    approved("preauth", 9999, "visa")
    voided = approved("sale", 7777, "unionpay")
    journal.db["transactions"].update(voided.id, {"state": j.VOIDED})
    reversed_ = sale(journal, amount=4444)
    journal.decide_reversal(reversed_.id, "98")
    declined = sale(journal, amount=5555)
    journal.record_reply(declined.id, state=j.DECLINED, response_code="51")

    totals = journal.totals()
    assert (totals.domestic_debit_amount, totals.domestic_debit_count) == (1500, 2)
    assert (totals.domestic_credit_amount, totals.domestic_credit_count) == (300, 1)
    assert (totals.foreign_debit_amount, totals.foreign_debit_count) == (2000, 1)
    assert (totals.foreign_credit_amount, totals.foreign_credit_count) == (0, 0)


def test_close_batch_opens_the_next_and_stans_continue(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    sale(journal)
    stan = journal.last_stan
    assert journal.close_batch(balanced=False, uploaded=1, debit_amount=1234, debit_count=1,
                               credit_amount=0, credit_count=0) == "000002"
    assert journal.batch == "000002"
    assert sale(journal).stan == f"{int(stan) + 1:06d}"
    rows = {b["batch"]: b for b in journal.batches()}
    assert rows["000001"]["state"] == "closed" and rows["000001"]["balanced"] == 0
    assert rows["000002"]["state"] == "open"


def test_following_the_host_batch(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    assert journal.follow_host_batch("000042") is None and journal.batch == "000042"
    txn = sale(journal)
    journal.record_reply(txn.id, state=j.APPROVED, response_code="00")
    assert journal.follow_host_batch("000042") is None
    # the host moved on: it settled 000042 (say the terminal died after sending the 0500)
    assert journal.follow_host_batch("000043") == "000042"
    rows = {b["batch"]: b for b in journal.batches()}
    assert rows["000042"]["state"] == "closed" and rows["000042"]["debit_amount"] == 1234
    assert rows["000043"]["state"] == "open" and journal.batch == "000043"
    assert "000001" not in rows


def test_no_full_pan_anywhere_in_the_files(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    txn = sale(journal)
    journal.record_reply(txn.id, state=j.APPROVED, response_code="00")
    journal.close()
    for path in tmp_path.iterdir():
        assert PAN.encode() not in path.read_bytes(), path
