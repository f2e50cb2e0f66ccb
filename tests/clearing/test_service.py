"""Clearing over the acquirer's storage, on SQLite and PostgreSQL: a day of real authorizations
through the host, cleared; files read back and checked against the ledger; re-runs idempotent;
late reversals and disputes on the next day."""
from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from acquirer.clearing.errors import ClearingError
from acquirer.clearing.service import Clearing
from acquirer.clearing.terms import load_clearing
from acquirer.config import load_config
from acquirer.protocol.messages import CardInput, FinancialRequest, reversal_of
from acquirer.protocol.transactions import TxnType
from acquirer.storage import open_store
from tests.acquirer.conftest import make_config
from tests.acquirer.terminal import SHANGHAI, TestCard, TestTerminal, original_of
from tests.acquirer.test_wallet_channel import code
from tests.clearing.helpers import SECOND_MERCHANT, SECOND_MERCHANT_TERMS
from tests.clearing.parse import read_file

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"
MID_1, MID_2 = "898310048990001", "898310048990002"
DAY = date(2026, 12, 3)   # a Thursday: paid on Friday the 4th

TERMS = SECOND_MERCHANT_TERMS


class Day:
    """A host on one backend with a clock the test moves, and clearing on its own connection."""

    def __init__(self, workdir: Path, target: str) -> None:
        from acquirer.host import Host

        config_dir = make_config(workdir / "config", acquirer_extra=SECOND_MERCHANT)
        text = (REPO_CONFIG / "clearing.toml").read_text().replace('output_dir = "var/clearing"',
                                                                    f'output_dir = "{workdir / "clearing"}"')
        (config_dir / "clearing.toml").write_text(text + TERMS)
        shutil.copy(REPO_CONFIG / "holidays.toml", config_dir / "holidays.toml")
        self.config = load_config(config_dir)
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
        self.loop = asyncio.new_event_loop()
        self.host = Host(self.config, open_store(target), clock=lambda: self.now)
        clearing_config, calendar = load_clearing(config_dir)
        self.store = open_store(target)
        self.clearing = Clearing(self.store, clearing_config, calendar, self.config.host.institution,
                                 workdir / "clearing", clock=lambda: self.now.astimezone(UTC))
        self._stans: dict[str, Iterator[int]] = {}

    def handle(self, payload: bytes) -> bytes:
        answer = self.loop.run_until_complete(self.host.handle(payload))
        assert answer is not None
        return answer

    def terminal(self, tid: str) -> TestTerminal:
        t = next(t for (tid_, _), t in self.config.terminals.items() if tid_ == tid)
        terminal = TestTerminal(None, t.tid, t.mid, t.tmk, t.mac, transport=self.handle,
                                stans=self._stans.setdefault(tid, itertools.count(1)))
        assert terminal.sign_on()["39"] == "00"
        return terminal

    def card(self, name: str) -> TestCard:
        return TestCard(next(c for c in self.config.cards if c.name == name))

    def at(self, hour: int, minute: int = 0, second: int = 0, microsecond: int = 0, days: int = 0) -> None:
        self.now = datetime(2026, 12, 3 + days, hour, minute, second, microsecond, tzinfo=SHANGHAI)

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        return list(self.store._x(statement, params).fetchall())

    def close(self) -> None:
        self.store.close()
        self.host.db.close()
        self.loop.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def day(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Day]:
    target = str(tmp_path / "acquirer.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    d = Day(tmp_path, target)
    yield d
    d.close()


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def ledger_balanced(day: Day) -> None:
    assert day.sql("SELECT posting_id FROM legs GROUP BY posting_id HAVING SUM(amount) <> 0") == []
    assert day.sql("SELECT SUM(balance) FROM accounts")[0][0] == 0
    drift = day.sql("SELECT a.id FROM accounts a LEFT JOIN legs l ON l.account_id = a.id GROUP BY a.id, a.balance "
                    "HAVING a.balance <> COALESCE(SUM(l.amount), 0)")
    assert drift == []


def test_a_day_cleared_files_agree_with_the_ledger(day):
    t1, t2, t3 = day.terminal("10000001"), day.terminal("10000002"), day.terminal("10000003")
    debit, credit, visa = day.card("unionpay-debit"), day.card("unionpay-credit"), day.card("visa")
    assert t1.sale(debit, 371_000)["39"] == "00"                       # issuer fee 1298.5 -> 1299
    day.at(10)
    voided = t2.request(TxnType.SALE, credit, 10_000)
    reply = t2.send(voided)
    assert t2.financial(TxnType.VOID, credit, 10_000, original=original_of(reply, voided))["39"] == "00"
    day.at(11)
    reversed_sale = t1.request(TxnType.SALE, debit, 5_000)
    assert t1.send(reversed_sale)["39"] == "00"
    assert t1.reverse(reversed_sale)["39"] == "00"
    day.at(22, 59, 59, 999_000)
    assert t3.sale(visa, 10_000)["39"] == "00"                         # last moment of the 3rd
    day.at(23, 0, 0)
    assert t3.sale(debit, 20_000)["39"] == "00"                        # first moment of the 4th
    day.at(23, 30)

    outcome = day.clearing.clear(DAY)
    assert (outcome.lines, outcome.settlement_date, outcome.already) == (6, date(2026, 12, 4), False)
    files = files_of(outcome.directory)
    statement_1 = read_file(files[f"statement-{MID_1}.txt"])
    assert [(r["code"], r["amount"], r["mdr"]) for r in statement_1.records] == [
        ("SAL", 371_000, 1299 + 121 + 371),
        ("SAL", 10_000, 45 + 3 + 10), ("VOD", -10_000, -(45 + 3 + 10)),
        ("SAL", 5_000, 18 + 2 + 5), ("RVS", -5_000, -(18 + 2 + 5))]
    statement_2 = read_file(files[f"statement-{MID_2}.txt"])
    assert [(r["code"], r["scheme"], r["amount"], r["mdr"]) for r in statement_2.records] == [
        ("SAL", "visa", 10_000, 100 + 10 + 5)]
    for name, data in files.items():
        assert read_file(data).trailer["checksum"] == files_of(outcome.directory)[name][-65:-1].decode()
    # the statements' net is what clearing made payable, and the ledger is balanced
    for mid, statement in ((MID_1, statement_1), (MID_2, statement_2)):
        assert day.sql("SELECT balance FROM accounts WHERE id = ?", (f"payable:{mid}",))[0][0] == \
            statement.trailer["total_3"]
    assert day.sql("SELECT balance FROM accounts WHERE id = 'fee:acquirer'")[0][0] == \
        read_file(files["settlement-48990000.txt"]).trailer["total_3"] == 371 + 5
    ledger_balanced(day)
    payout = read_file((day.clearing.output_dir / "payouts" / "payouts-2026-12-04.txt").read_bytes())
    assert {r["merchant"]: r["paid"] for r in payout.records} == {
        MID_1: statement_1.trailer["total_3"], MID_2: statement_2.trailer["total_3"]}

    # cleared once: a second run changes nothing; lost files are made again, byte for byte
    assert day.clearing.clear(DAY).already
    shutil.rmtree(outcome.directory)
    assert day.clearing.clear(DAY).already
    assert files_of(outcome.directory) == files
    assert day.clearing.statement(MID_1, DAY)[2] == files[f"statement-{MID_1}.txt"]
    ledger_balanced(day)


def test_late_reversal_and_chargeback_clear_the_next_day(day):
    t1 = day.terminal("10000001")
    debit = day.card("unionpay-debit")
    sale = t1.request(TxnType.SALE, debit, 371_000)
    reply = t1.send(sale)
    assert reply["39"] == "00"
    kept = t1.request(TxnType.SALE, debit, 20_000)
    kept_reply = t1.send(kept)
    day.at(23, 30)
    day.clearing.clear(DAY)
    day.at(0, 30, days=1)                       # after the 3rd was cleared
    assert t1.reverse(sale)["39"] == "00"       # a late reversal of a cleared sale
    day.clearing.dispute("open", kept_reply["37"], None, "4837", day.now)
    with pytest.raises(ClearingError, match="cannot open a dispute that is opened"):
        day.clearing.dispute("open", kept_reply["37"], None, "", day.now)
    day.at(23, 30, days=1)
    outcome = day.clearing.clear(date(2026, 12, 4))
    records = read_file((outcome.directory / f"statement-{MID_1}.txt").read_bytes()).records
    reversal = next(r for r in records if r["code"] == "RVS")
    assert (reversal["amount"], reversal["mdr"], reversal["adjustment"], reversal["original_date"]) == (
        -371_000, -(1299 + 121 + 371), "A", 20261203)
    chargeback = next(r for r in records if r["code"] == "CHB")
    assert (chargeback["amount"], chargeback["mdr"], chargeback["rrn"]) == (-20_000, 0, kept_reply["37"])
    ledger_balanced(day)


def test_clear_refuses_a_day_not_over_and_an_unknown_merchant(day):
    day.at(22, 59, 59)
    with pytest.raises(ClearingError, match="clearing day 2026-12-03 is not over"):
        day.clearing.clear(DAY)
    day.at(23, 0)
    with pytest.raises(ClearingError, match="2026-12-03 is not cleared yet"):
        day.clearing.statement(MID_1, DAY)
    with pytest.raises(ClearingError, match="unknown merchant 898310048999999"):
        day.clearing.statement("898310048999999", DAY)
    assert [o.day for o in day.clearing.clear_through()] == [DAY]


def test_an_earlier_day_with_money_is_cleared_first(day):
    assert day.terminal("10000001").sale(day.card("unionpay-debit"), 1_000)["39"] == "00"
    day.at(23, 30, days=1)
    with pytest.raises(ClearingError, match="clearing day 2026-12-03 holds uncleared money"):
        day.clearing.clear(date(2026, 12, 4))
    assert [o.day for o in day.clearing.clear_through()] == [DAY, date(2026, 12, 4)]


def test_wallet_payments_clear_at_the_wallet_rate(day):
    t1 = day.terminal("10000001")

    def pay(kind: str, amount: int) -> tuple[FinancialRequest, dict[str, str]]:
        request = FinancialRequest(TxnType.WALLET_SALE, t1.terminal, t1.next_stan(), t1.batch, CardInput("032"),
                                   amount=amount, wallet_data=code(kind, at=day.now))
        return request, t1.send(request)

    _, paid = pay("alipay", 10_000)
    assert paid["39"] == "00"
    day.at(9, 5)
    reversed_order, answer = pay("wechat", 2_000)
    assert answer["39"] == "00"
    assert t1.exchange(reversal_of(reversed_order, "98").to_message())["39"] == "00"
    day.at(23, 30)
    outcome = day.clearing.clear(DAY)
    records = read_file((outcome.directory / f"statement-{MID_1}.txt").read_bytes()).records
    assert [(r["code"], r["scheme"], r["institution"], r["card_type"], r["amount"], r["issuer_fee"], r["mdr"])
            for r in records] == [
        ("WSL", "alipay", "wallet-alipay", "W", 10_000, 38, 38 + 10),
        ("WSL", "wechat", "wallet-wechat", "W", 2_000, 8, 8 + 2),          # 7.6 -> 8
        ("RVS", "wechat", "wallet-wechat", "W", -2_000, -8, -(8 + 2))]
    assert all("*" in str(r["account"]) for r in records)
    detail = read_file((outcome.directory / "detail-wallet-alipay.txt").read_bytes())
    assert detail.trailer["total_2"] == 48
    ledger_balanced(day)


def test_a_void_and_a_refund_after_the_cutoff_clear_on_the_next_day(day):
    t1 = day.terminal("10000001")
    debit = day.card("unionpay-debit")
    day.at(22, 59, 59, 999_000)
    sale = t1.request(TxnType.SALE, debit, 10_000)
    reply = t1.send(sale)
    refunded = t1.request(TxnType.SALE, debit, 8_000)
    refunded_reply = t1.send(refunded)
    day.at(23, 0, 0)                                          # the 4th's clearing day begins
    assert t1.financial(TxnType.VOID, debit, 10_000, original=original_of(reply, sale))["39"] == "00"
    assert t1.financial(TxnType.REFUND, debit, 3_000,
                        original=original_of(refunded_reply, refunded))["39"] == "00"
    day.at(23, 30)
    first = read_file((day.clearing.clear(DAY).directory / f"statement-{MID_1}.txt").read_bytes())
    assert [(r["code"], r["amount"]) for r in first.records] == [("SAL", 10_000), ("SAL", 8_000)]
    day.at(23, 30, days=1)
    second = read_file((day.clearing.clear(date(2026, 12, 4)).directory / f"statement-{MID_1}.txt").read_bytes())
    assert [(r["code"], r["amount"], r["mdr"], r["adjustment"], r["original_date"]) for r in second.records] == [
        ("VOD", -10_000, -(35 + 3 + 10), "A", 20261203),     # exactly what the sale took
        ("RFD", -3_000, -(11 + 1 + 3), "A", 20261203)]       # 10.5 -> 11, 0.975 -> 1, 3
    assert second.header["settlement_date"] == 20261207    # Friday's clearing day is paid on Monday
    ledger_balanced(day)


def balance(day: Day, account: str) -> int | None:
    rows = day.sql("SELECT balance FROM accounts WHERE id = ?", (account,))
    return int(rows[0][0]) if rows else None


def test_payouts_empty_the_payable_accounts_once_and_carry_a_negative_balance(day):
    t1, t3 = day.terminal("10000001"), day.terminal("10000003")
    debit, visa = day.card("unionpay-debit"), day.card("visa")
    assert t1.sale(debit, 50_000)["39"] == "00"
    sale = t3.request(TxnType.SALE, visa, 10_000)
    sale_reply = t3.send(sale)
    assert sale_reply["39"] == "00"
    day.at(22, 0)
    with pytest.raises(ClearingError, match="clearing day 2026-12-03 is not over"):
        day.clearing.pay(date(2026, 12, 4))                     # Friday's payouts need Thursday cleared
    day.at(23, 30)
    with pytest.raises(ClearingError, match="clearing day 2026-12-03 holds uncleared money"):
        day.clearing.pay(date(2026, 12, 4))
    day.clearing.clear(DAY)
    due_1, due_2 = balance(day, f"payable:{MID_1}"), balance(day, f"payable:{MID_2}")
    assert due_1 is not None and due_2 is not None and due_1 > 0 and due_2 > 0

    path, lines, posted = day.clearing.pay(date(2026, 12, 4))
    assert posted == [date(2026, 12, 4)]
    assert {p.mid: (p.paid, p.carried_out) for p in lines} == {MID_1: (due_1, 0), MID_2: (due_2, 0)}
    assert (balance(day, f"payable:{MID_1}"), balance(day, f"payable:{MID_2}")) == (0, 0)
    assert balance(day, "payout:2026-12-04") == due_1 + due_2
    assert {r["merchant"]: r["paid"] for r in read_file(path.read_bytes()).records} == {MID_1: due_1, MID_2: due_2}
    # paying again posts nothing
    assert day.clearing.pay(date(2026, 12, 4))[2] == []
    assert balance(day, "payout:2026-12-04") == due_1 + due_2
    assert day.sql("SELECT COUNT(*) FROM postings WHERE kind = 'payout'")[0][0] == 1
    ledger_balanced(day)

    # Friday: merchant 2 refunds most of Thursday's sale: its net is negative, carried to Monday's payout
    day.at(10, days=1)
    assert t3.financial(TxnType.REFUND, visa, 8_000, original=original_of(sale_reply, sale))["39"] == "00"
    day.at(23, 30, days=3)                                       # Sunday night: Friday to Sunday are over
    day.clearing.clear_through()
    negative = balance(day, f"payable:{MID_2}")
    assert negative is not None and negative < 0
    _, lines, posted = day.clearing.pay(date(2026, 12, 7))
    assert posted == [date(2026, 12, 7)]
    assert {p.mid: (p.paid, p.carried_out) for p in lines} == {MID_2: (0, negative)}
    assert balance(day, f"payable:{MID_2}") == negative        # what is carried forward stays payable
    assert balance(day, f"payable:{MID_1}") == 0
    assert balance(day, "payout:2026-12-07") == 0
    assert day.sql("SELECT COUNT(*) FROM postings WHERE kind = 'payout'")[0][0] == 1
    ledger_balanced(day)


def test_two_runs_at_once_clear_a_day_once(tmp_path, pg_url):
    """Two clearing runs on one PostgreSQL database at the same moment (two host processes, or
    `acquirer clear` beside `serve`): the clearing lock lets one clear; the other finds it cleared."""
    import threading

    day = Day(tmp_path, pg_url)
    try:
        t1 = day.terminal("10000001")
        cards = [day.card(name) for name in ("unionpay-debit", "unionpay-credit", "visa")]
        for n in range(60):
            assert t1.sale(cards[n % 3], 1_000 + n)["39"] == "00"
        day.at(23, 30)
        other = Clearing(open_store(pg_url), day.clearing.config, day.clearing.calendar, day.clearing.acquirer,
                         day.clearing.output_dir, clock=day.clearing.clock)
        outcomes: list[object] = []
        start = threading.Barrier(2)

        def run(clearing: Clearing) -> None:
            start.wait()
            outcomes.append(clearing.clear(DAY))

        threads = [threading.Thread(target=run, args=(c,)) for c in (day.clearing, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        other.store.close()
        assert sorted(o.already for o in outcomes) == [False, True]   # type: ignore[attr-defined]
        assert day.sql("SELECT COUNT(*) FROM clearing_lines")[0][0] == 60
        assert day.sql("SELECT COUNT(*) FROM clearing_days")[0][0] == 1
        assert read_file((day.clearing.output_dir / DAY.isoformat() / f"statement-{MID_1}.txt").read_bytes()
                         ).trailer["count"] == 60
        assert not (day.clearing.output_dir / f"{DAY.isoformat()}.partial").exists()
        ledger_balanced(day)
    finally:
        day.close()
