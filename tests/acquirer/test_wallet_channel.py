"""The wallet channel on the host: wallet sales, "user paying", queries, reversals, merchant-presented codes.

A test terminal sends the wallet channel's messages (docs/protocol.md section
11) to the real host in process, whose clock the test moves: the simulated
customer confirms when the host's clock passes the order's confirm time, so
no test sleeps. Codes are made as the virtual wallet app makes them, with the
keys of the shipped wallets file.
"""
from __future__ import annotations

import itertools
import sqlite3
from datetime import datetime, timedelta

import pytest

from acquirer.config import ConfigError, load_config
from acquirer.protocol.fields import CardTotals, SettlementTotals
from acquirer.protocol.messages import (
    CardInput,
    FinancialRequest,
    Original,
    Settlement,
    reversal_of,
)
from acquirer.protocol.mpm import build_dynamic_mpm
from acquirer.protocol.transactions import TxnType
from acquirer.protocol.wallet_app import MerchantCodePayment
from acquirer.protocol.wallet_codes import make_code
from acquirer.protocol.wallets import load_wallets
from acquirer.storage import MIGRATIONS, open_database, schema_version
from acquirer.wallet_apps import WalletAppServer
from tests.acquirer.conftest import REPO_CONFIG, EmbeddedHost, make_config
from tests.acquirer.terminal import SHANGHAI, TestTerminal

WALLETS = load_wallets(REPO_CONFIG / "wallets.toml")
PREFIX = {"alipay": 28, "wechat": 13, "unionpay": 62}
MID = "898310048990001"
_nonces = itertools.count(1)


def code(kind: str, account: int = 1, *, at: datetime, key: bytes | None = None) -> str:
    """A fresh payment code of `account`, issued at `at`, as the wallet app makes it."""
    length = {"alipay": 18, "wechat": 18, "unionpay": 19}[kind]
    nonce = f"{next(_nonces):08d}"[-(length - 16):]
    return make_code(kind, key or WALLETS.settings[kind].key, account=account, issued_at=at.timestamp(),
                     prefix=PREFIX[kind], nonce=nonce)


class Till:
    """A terminal on the embedded host, speaking the wallet channel."""

    def __init__(self, host: EmbeddedHost) -> None:
        self.host = host
        self.t: TestTerminal = host.terminal()

    def order(self, txn: TxnType, amount: int, data: str) -> tuple[FinancialRequest, dict[str, str]]:
        request = FinancialRequest(txn, self.t.terminal, self.t.next_stan(), self.t.batch, CardInput("032"),
                                   amount=amount, wallet_data=data)
        return request, self.t.send(request)

    def pay(self, wallet_code: str, amount: int) -> tuple[FinancialRequest, dict[str, str]]:
        return self.order(TxnType.WALLET_SALE, amount, wallet_code)

    def query(self, order: FinancialRequest, amount: int | None = None) -> dict[str, str]:
        request = FinancialRequest(TxnType.WALLET_QUERY, self.t.terminal, self.t.next_stan(), self.t.batch,
                                   CardInput("032"), amount=order.amount if amount is None else amount,
                                   original=Original(batch=order.batch, stan=order.stan))
        return self.t.send(request)

    def reverse(self, order: FinancialRequest) -> dict[str, str]:
        return self.t.exchange(reversal_of(order, "98").to_message())

    def wallet(self, kind: str, number: int) -> int:
        return self.host.host.ledger.balance(f"wallet:{kind}:{number:03d}")

    def merchant(self) -> int:
        return self.host.host.ledger.balance(f"merchant:{MID}")

    def record(self, request: FinancialRequest) -> tuple:
        with self.host.db() as conn:
            return conn.execute(
                "SELECT txn_type, status, response_code, scheme, entry_mode, rrn, masked_pan FROM transactions "
                "WHERE tid = ? AND stan = ?", (request.terminal.tid, request.stan)).fetchone()

    def order_row(self, request: FinancialRequest) -> tuple:
        with self.host.db() as conn:
            return conn.execute(
                "SELECT o.state, o.wallet, o.account, o.masked_code FROM wallet_orders o JOIN transactions t "
                "ON t.id = o.txn_id WHERE t.tid = ? AND t.stan = ?", (request.terminal.tid, request.stan)).fetchone()

    def app_pays(self, wallet: str, wallet_code: str, merchant_code: str):
        server = WalletAppServer(self.host.host)
        return self.host.loop.run_until_complete(server.pay(MerchantCodePayment(wallet, wallet_code, merchant_code)))

    def later(self, seconds: float) -> None:
        self.host.now += timedelta(seconds=seconds)


@pytest.fixture
def till(embedded: EmbeddedHost) -> Till:
    return Till(embedded)


def ledger_consistent(host: EmbeddedHost) -> None:
    with host.db() as conn:
        assert conn.execute("SELECT posting_id FROM legs GROUP BY posting_id HAVING SUM(amount) != 0").fetchall() == []
        assert conn.execute(
            "SELECT a.id FROM accounts a LEFT JOIN legs l ON l.account_id = a.id GROUP BY a.id "
            "HAVING a.balance != COALESCE(SUM(l.amount), 0)").fetchall() == []
        assert conn.execute("SELECT SUM(balance) FROM accounts").fetchone()[0] == 0
        if not host.postgres:   # PostgreSQL checks every foreign key itself
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("kind", ["alipay", "wechat", "unionpay"])
def test_each_wallet_pays_at_once_within_the_password_free_limit(till: Till, kind: str) -> None:
    before, merchant = till.wallet(kind, 1), till.merchant()
    request, answer = till.pay(code(kind, at=till.host.now), 1234)
    assert answer["39"] == "00" and len(answer["37"]) == 12 and len(answer["38"]) == 6
    assert (till.wallet(kind, 1), till.merchant()) == (before - 1234, merchant + 1234)
    assert till.record(request) == ("wallet_sale", "approved", "00", kind, "032", answer["37"], None)
    state, wallet, account, masked = till.order_row(request)
    assert (state, wallet, account) == ("paid", kind, 1)
    assert masked == request.wallet_data[:4] + "*" * (len(request.wallet_data) - 8) + request.wallet_data[-4:]
    ledger_consistent(till.host)


def test_expired_reused_and_forged_codes_are_declined_and_take_nothing(till: Till) -> None:
    now = till.host.now
    fresh = code("alipay", at=now)
    assert till.pay(fresh, 100)[1]["39"] == "00"
    balance = till.wallet("alipay", 1)
    forged = fresh[:-1] + str((int(fresh[-1]) + 1) % 10)
    assert till.pay(fresh, 100)[1]["39"] == "12"                                          # used once already
    assert till.pay(code("alipay", at=now - timedelta(seconds=61)), 100)[1]["39"] == "54"  # older than 60 s
    assert till.pay(code("alipay", at=now - timedelta(seconds=60)), 100)[1]["39"] == "00"  # 60 s still works
    balance -= 100
    assert till.pay(forged, 100)[1]["39"] == "14"                                          # MAC does not verify
    assert till.pay(code("alipay", 999, at=now), 100)[1]["39"] == "14"                     # no such account
    other_key = WALLETS.settings["wechat"].key
    assert till.pay(code("alipay", at=now, key=other_key), 100)[1]["39"] == "14"           # another wallet's key
    request, answer = till.pay(code("wechat", at=now), 0)
    assert answer["39"] == "13" and till.record(request)[1] == "declined"
    assert till.wallet("alipay", 1) == balance
    ledger_consistent(till.host)


def test_a_code_declined_for_its_age_was_not_used(till: Till) -> None:
    issued = till.host.now
    early = code("wechat", at=issued + timedelta(seconds=30))
    assert till.pay(early, 100)[1]["39"] == "54"   # 30 s ahead, beyond the 5 s skew: read as 27.7 hours old
    till.later(30)
    assert till.pay(early, 100)[1]["39"] == "00"


def test_user_paying_completes_when_the_customer_confirms(till: Till) -> None:
    before = till.wallet("alipay", 2)
    request, answer = till.pay(code("alipay", 2, at=till.host.now), 500)   # account asks for the password always
    assert answer["39"] == "09" and "37" not in answer
    assert till.record(request)[:3] == ("wallet_sale", "pending", "09")
    till.later(7)
    assert till.query(request)["39"] == "09" and till.wallet("alipay", 2) == before
    till.later(1)                                                          # confirm_delay_s = 8
    paid = till.query(request)
    assert paid["39"] == "00" and len(paid["37"]) == 12
    assert till.query(request)["37"] == paid["37"]                         # asked again: the same payment
    assert till.record(request)[1:3] == ("approved", "00") and till.wallet("alipay", 2) == before - 500
    assert till.order_row(request)[0] == "paid"
    assert till.query(request, amount=501)["39"] == "64"
    ledger_consistent(till.host)


def test_above_the_password_free_limit_the_customer_confirms_and_a_poor_account_fails(till: Till) -> None:
    request, answer = till.pay(code("unionpay", at=till.host.now), 20001)
    assert answer["39"] == "09"
    within, answer = till.pay(code("unionpay", at=till.host.now), 20000)
    assert answer["39"] == "00"
    poor, answer = till.pay(code("alipay", 4, at=till.host.now), 20001)   # ¥5 in the account
    assert answer["39"] == "09"
    till.later(8)
    assert till.query(request)["39"] == "00"
    assert till.query(poor)["39"] == "51" and till.order_row(poor)[0] == "failed"
    assert till.pay(code("alipay", 4, at=till.host.now), 600)[1]["39"] == "51"
    assert till.wallet("alipay", 4) == 500


def test_an_order_never_confirmed_is_closed_by_the_reversal(till: Till) -> None:
    before, merchant = till.wallet("wechat", 3), till.merchant()
    request, answer = till.pay(code("wechat", 3, at=till.host.now), 700)   # this customer never confirms
    assert answer["39"] == "09"
    till.later(45)
    assert till.query(request)["39"] == "09"
    till.later(1)
    assert till.reverse(request)["39"] == "00"
    assert till.record(request)[1] == "reversed" and till.order_row(request)[0] == "closed"
    assert till.query(request)["39"] == "12"
    assert (till.wallet("wechat", 3), till.merchant()) == (before, merchant)
    with till.host.db() as conn:
        assert conn.execute("SELECT outcome FROM reversals").fetchall() == [("nothing_to_undo",)]
    assert till.reverse(request)["39"] == "00"                             # resent: acknowledged again


def test_a_confirmation_due_before_the_reversal_arrives_is_paid_then_given_back(till: Till) -> None:
    before = till.wallet("wechat", 2)
    request, _ = till.pay(code("wechat", 2, at=till.host.now), 300)
    till.later(20)                                                          # confirmed at 8 s; nobody asked
    assert till.reverse(request)["39"] == "00"
    assert till.record(request)[1] == "reversed" and till.wallet("wechat", 2) == before
    with till.host.db() as conn:
        assert conn.execute("SELECT outcome FROM reversals").fetchall() == [("reversed",)]
        assert [r[0] for r in conn.execute("SELECT kind FROM postings WHERE txn_id IS NOT NULL ORDER BY id")] == [
            "wallet_payment", "reversal"]
    ledger_consistent(till.host)


def test_a_resent_wallet_sale_is_a_duplicate_and_pays_once(till: Till) -> None:
    request, answer = till.pay(code("alipay", at=till.host.now), 250)
    assert answer["39"] == "00"
    assert till.t.send(request)["39"] == "94"
    assert till.wallet("alipay", 1) == WALLETS.account("alipay-alice").balance - 250


def merchant_code(amount: int, bill: str, *, guid: str | None = None) -> str:
    extra = {"account_guid": guid} if guid else {}
    return build_dynamic_mpm(amount_fen=amount, merchant_id=MID, terminal_id="10000001", merchant_name="Tiantian",
                             merchant_city="Shanghai", mcc="5411", bill_number=bill, **extra)


def test_a_merchant_code_is_paid_by_the_wallet_app_and_the_terminal_learns_it_by_query(till: Till) -> None:
    now = till.host.now
    order, answer = till.order(TxnType.MPM_SALE, 4321, "B0001")
    assert answer["39"] == "09" and till.record(order)[:3] == ("mpm_sale", "pending", "09")
    assert till.query(order)["39"] == "09"
    assert till.order(TxnType.MPM_SALE, 100, "B0001")[1]["39"] == "12"   # the bill number has an open order
    refused = {
        "30": till.app_pays("alipay", code("alipay", at=now), "not a merchant code"),
        "03": till.app_pays("alipay", code("alipay", at=now), merchant_code(4321, "B0001", guid="com.other")),
        "25": till.app_pays("alipay", code("alipay", at=now), merchant_code(4321, "B0002")),
        "64": till.app_pays("alipay", code("alipay", at=now), merchant_code(4320, "B0001")),
        "54": till.app_pays("alipay", code("alipay", at=now - timedelta(seconds=90)), merchant_code(4321, "B0001")),
        "14": till.app_pays("wechat", code("alipay", at=now), merchant_code(4321, "B0001")),
    }
    assert {c: a.response_code for c, a in refused.items()} == {c: c for c in refused}
    assert refused["54"].message.startswith("Payment code expired")
    before = till.wallet("unionpay", 1)
    paid = till.app_pays("unionpay", code("unionpay", at=now), merchant_code(4321, "B0001"))
    assert (paid.response_code, paid.amount, paid.merchant) == ("00", 4321, "Tiantian Convenience Store")
    assert till.wallet("unionpay", 1) == before - 4321
    answer = till.query(order)
    assert answer["39"] == "00" and answer["37"] == paid.rrn
    assert till.order_row(order)[:3] == ("paid", "unionpay", 1)
    again = till.app_pays("unionpay", code("unionpay", at=now), merchant_code(4321, "B0001"))
    assert again.response_code == "25" and till.wallet("unionpay", 1) == before - 4321
    ledger_consistent(till.host)


def test_a_merchant_code_not_paid_is_cancelled_by_the_reversal(till: Till) -> None:
    order, _ = till.order(TxnType.MPM_SALE, 999, "B0009")
    assert till.reverse(order)["39"] == "00"
    late = till.app_pays("alipay", code("alipay", at=till.host.now), merchant_code(999, "B0009"))
    assert late.response_code == "25" and till.record(order)[1] == "reversed"


def test_wallet_payments_stay_out_of_the_card_settlement(till: Till) -> None:
    assert till.pay(code("alipay", at=till.host.now), 1000)[1]["39"] == "00"
    zero = CardTotals(0, 0, 0, 0)
    answer = till.t.exchange(Settlement(till.t.terminal, till.t.next_stan(), till.t.batch,
                                        SettlementTotals(zero, zero)).to_message(), sign=False)
    assert answer["39"] == "00" and SettlementTotals.parse(answer["48"]).domestic.result == "1"   # balanced


def test_without_a_wallets_file_the_channel_answers_40(tmp_path) -> None:
    config_dir = make_config(tmp_path / "config")
    (config_dir / "wallets.toml").unlink()
    host = EmbeddedHost(config_dir, tmp_path, datetime(2026, 3, 14, 12, 0, tzinfo=SHANGHAI))
    try:
        answer = Till(host).pay(code("alipay", at=host.now), 100)[1]
        assert answer["39"] == "40" and "64" in answer      # answered, MACed, not recorded
    finally:
        host.close()


def test_a_bad_wallets_file_stops_the_host_naming_the_key(tmp_path) -> None:
    config_dir = make_config(tmp_path / "config")
    path = config_dir / "wallets.toml"
    path.write_text(path.read_text().replace("confirm_delay_s = 8", "confirm_delay_s = -1", 1))
    with pytest.raises(ConfigError, match=r"wallets\.toml: wallet\.alipay\.confirm_delay_s: input should be greater than or equal to 0"):
        load_config(config_dir)


def test_migration_2_keeps_a_version_1_database(tmp_path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0][2])
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)")
    conn.execute("INSERT INTO schema_migrations VALUES (1, 'v1', 'then')")
    conn.execute("INSERT INTO transactions (id, txn_type, tid, mid, batch, stan, local_date, amount, currency, "
                 "status, rrn, created_at) VALUES (1, 'sale', 't', 'm', '000001', '000001', '2026-03-14', 5, '156', "
                 "'approved', '000000000001', 'then')")
    conn.execute("INSERT INTO postings (txn_id, kind, created_at) VALUES (1, 'sale', 'then')")
    conn.commit()
    conn.close()
    db = open_database(path, enforce_foreign_keys=True)
    assert schema_version(db) == MIGRATIONS[-1][0]   # 2 and every later one
    assert db.execute("SELECT id, status, rrn FROM transactions").fetchall() == [(1, "approved", "000000000001")]
    db.execute("UPDATE transactions SET status = 'pending' WHERE id = 1")   # the new status is allowed
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert "wallet_orders" in db.table_names() and "wallet_codes" in db.table_names()
    db.close()


# --- wallet void and refund ---------------------------------------------------------------

def give_back(till: Till, txn: TxnType, order: FinancialRequest, rrn: str,
              amount: int) -> tuple[FinancialRequest, dict[str, str]]:
    request = FinancialRequest(txn, till.t.terminal, till.t.next_stan(), till.t.batch, CardInput("032"),
                               amount=amount, original=Original(rrn=rrn, batch=order.batch, stan=order.stan))
    return request, till.t.send(request)


def test_a_wallet_void_gives_the_whole_order_back_once_and_its_reversal_takes_it_again(till: Till) -> None:
    before, merchant = till.wallet("wechat", 1), till.merchant()
    order, paid = till.pay(code("wechat", at=till.host.now), 880)
    assert give_back(till, TxnType.WALLET_VOID, order, paid["37"], 879)[1]["39"] == "64"   # not the order's amount
    void, answer = give_back(till, TxnType.WALLET_VOID, order, paid["37"], 880)
    assert answer["39"] == "00" and len(answer["37"]) == 12
    assert (till.wallet("wechat", 1), till.merchant()) == (before, merchant)
    assert till.record(order)[1] == "voided" and till.record(void)[:4] == ("wallet_void", "approved", "00", "wechat")
    assert give_back(till, TxnType.WALLET_VOID, order, paid["37"], 880)[1]["39"] == "12"   # voided already
    assert till.reverse(void)["39"] == "00"                                                 # the void undone
    assert till.record(order)[1] == "approved" and till.wallet("wechat", 1) == before - 880
    ledger_consistent(till.host)


def test_a_wallet_refund_gives_back_at_most_what_is_left_and_its_reversal_restores_it(till: Till) -> None:
    before = till.wallet("alipay", 1)
    order, paid = till.pay(code("alipay", at=till.host.now), 1000)
    zero = CardTotals(0, 0, 0, 0)
    settled = till.t.exchange(Settlement(till.t.terminal, till.t.next_stan(), till.t.batch,
                                         SettlementTotals(zero, zero)).to_message(), sign=False)
    assert settled["39"] == "00"
    till.later(2 * 86400)                                                    # a later day, the next batch
    till.t.sign_on()
    assert till.t.batch != order.batch
    first, answer = give_back(till, TxnType.WALLET_REFUND, order, paid["37"], 600)
    assert answer["39"] == "00" and till.wallet("alipay", 1) == before - 400
    assert give_back(till, TxnType.WALLET_REFUND, order, paid["37"], 401)[1]["39"] == "61"  # 400 left
    assert give_back(till, TxnType.WALLET_VOID, order, paid["37"], 1000)[1]["39"] == "12"   # settled or refunded
    assert till.reverse(first)["39"] == "00"
    assert till.wallet("alipay", 1) == before - 1000
    assert give_back(till, TxnType.WALLET_REFUND, order, paid["37"], 1000)[1]["39"] == "00"
    assert till.wallet("alipay", 1) == before
    assert give_back(till, TxnType.WALLET_REFUND, order, "999999999999", 1)[1]["39"] == "25"
    ledger_consistent(till.host)
