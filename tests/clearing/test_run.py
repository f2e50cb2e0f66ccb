"""The clearing run over a day's events: files read back by the independent reader,
trailer totals equal to the postings, postings balanced, re-runs byte-identical."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

from acquirer.protocol.clock import DEFAULT_CUTOFF
from acquirer.clearing.errors import ClearingError
from acquirer.clearing.events import Channel, LineCode
from acquirer.clearing.fees import FeeEngine
from acquirer.clearing.run import DayResult, clear_day
from acquirer.clearing.terms import HolidaysFile
from tests.clearing.helpers import MID_A, MID_B, Files, beijing, config, event
from tests.clearing.parse import BadFile, read_file

DAY = date(2026, 12, 3)
ACQUIRER = "48990000"
ENGINE = FeeEngine(config())
CALENDAR = HolidaysFile().calendar()


def day_events() -> list:
    sale = event(371_000, at=beijing(2026, 12, 3, 9))                  # debit: issuer 1299
    return sorted([
        sale,
        event(-371_000, code=LineCode.VOID, at=beijing(2026, 12, 3, 9, 5), original_date=DAY,
              original_fees=ENGINE.fees(sale)),
        event(1_200_000, credit=True, at=beijing(2026, 12, 3, 10)),     # network capped
        event(10_000, channel=Channel.FOREIGN, scheme="visa", institution="visa-bank", at=beijing(2026, 12, 3, 11)),
        event(-5_000, code=LineCode.REFUND, at=beijing(2026, 12, 3, 12), original_date=date(2026, 12, 1)),
        event(10_000, code=LineCode.WALLET_SALE, channel=Channel.WALLET, scheme="alipay",
              institution="wallet-alipay", at=beijing(2026, 12, 3, 13), mid=MID_B),
        event(1_001, mid=MID_B, at=beijing(2026, 12, 3, 22, 59, 59, 999_000)),
        # a reversal that arrived after 2 December was cleared: an adjustment today
        event(-20_000, code=LineCode.REVERSAL, at=beijing(2026, 12, 2, 22, 30), mid=MID_B,
              original_date=date(2026, 12, 2)),
        event(-30_000, code=LineCode.CHARGEBACK, mid=MID_B, at=beijing(2026, 12, 3, 14),
              original_date=date(2026, 11, 20), source="dispute"),
    ], key=lambda e: (e.mid, e.occurred_at))


EVENTS = day_events()   # built once: every run sees the same STANs and RRNs


def run(events=None) -> tuple[DayResult, Files]:
    files = Files()
    result = clear_day(DAY, events if events is not None else EVENTS, ENGINE, CALENDAR, ACQUIRER, files,
                       DEFAULT_CUTOFF)
    return result, files


def test_every_file_reads_back_and_checks():
    result, files = run()
    assert sorted(files.data) == sorted(result.checksums)
    assert set(files.data) == {
        f"statement-{MID_A}.txt", f"statement-{MID_B}.txt", "detail-cup-bank.txt", "detail-visa-bank.txt",
        "detail-wallet-alipay.txt", "settlement-cup-bank.txt", "settlement-visa-bank.txt",
        "settlement-wallet-alipay.txt", "settlement-unionpay.txt", "settlement-visa.txt", f"settlement-{ACQUIRER}.txt"}
    for name, data in files.data.items():
        parsed = read_file(data)
        assert parsed.trailer["checksum"] == result.checksums[name]
        assert parsed.header["acquirer"] == ACQUIRER
        assert parsed.header["clearing_date"] == 20261203
        assert parsed.header["settlement_date"] == 20261204


def test_no_full_pan_in_any_file():
    _, files = run()
    for data in files.data.values():
        for record in read_file(data).records:
            account = str(record.get("account", ""))
            assert account == "" or "*" in account


def test_statement_totals_equal_the_postings():
    result, files = run()
    payable: dict[str, int] = defaultdict(int)
    for posting in result.postings:
        assert sum(amount for _, amount in posting.legs) == 0
        for account, amount in posting.legs:
            if account.startswith("payable:"):
                payable[account.removeprefix("payable:")] += amount
    for mid in (MID_A, MID_B):
        statement = read_file(files.data[f"statement-{mid}.txt"])
        assert statement.header["owner"] == mid
        assert statement.trailer["total_3"] == payable[mid] == result.merchants[mid].settlement


def test_hand_computed_statement_of_merchant_a():
    _, files = run()
    lines = read_file(files.data[f"statement-{MID_A}.txt"]).records
    by_code = {(r["code"], r["amount"]): r for r in lines}
    credit = by_code[("SAL", 1_200_000)]
    assert (credit["issuer_fee"], credit["network_fee"], credit["acquirer_fee"], credit["mdr"],
            credit["settlement_amount"], credit["card_type"]) == (5400, 325, 1200, 6925, 1_193_075, "C")
    sale, void = by_code[("SAL", 371_000)], by_code[("VOD", -371_000)]
    assert sale["mdr"] == 1299 + 121 + 371 == -void["mdr"]
    refund = by_code[("RFD", -5_000)]
    assert (refund["mdr"], refund["adjustment"], refund["original_date"]) == (-(18 + 2 + 5), "A", 20261201)
    visa = by_code[("SAL", 10_000)]
    assert (visa["scheme"], visa["mdr"]) == ("visa", 120)


def test_late_reversal_is_an_adjustment_and_chargeback_has_no_fee():
    _, files = run()
    lines = read_file(files.data[f"statement-{MID_B}.txt"]).records
    reversal = next(r for r in lines if r["code"] == "RVS")
    assert (reversal["adjustment"], reversal["clearing_date"], reversal["amount"]) == ("A", 20261203, -20_000)
    chargeback = next(r for r in lines if r["code"] == "CHB")
    assert (chargeback["mdr"], chargeback["settlement_amount"]) == (0, -30_000)


def test_settlement_positions_match_the_ledger():
    result, files = run()
    legs: dict[str, int] = defaultdict(int)
    for posting in result.postings:
        for account, amount in posting.legs:
            legs[account] += amount
    day_total = sum(legs.values())
    assert day_total == 0
    for institution in ("cup-bank", "visa-bank", "wallet-alipay"):
        report = read_file(files.data[f"settlement-{institution}.txt"])
        to_acquirer = report.records[0]
        assert to_acquirer["counterparty"] == ACQUIRER
        # the institution pays the acquirer the cleared gross less its fee; the fee is its ledger income
        assert to_acquirer["issuer_fee"] == legs[f"fee:issuer:{institution}"]
        assert -to_acquirer["position"] == to_acquirer["gross"] - legs[f"fee:issuer:{institution}"]
    own = read_file(files.data[f"settlement-{ACQUIRER}.txt"])
    assert own.trailer["total_3"] == legs["fee:acquirer"]          # what the acquirer keeps
    network = read_file(files.data["settlement-unionpay.txt"])
    assert network.trailer["total_3"] == legs["fee:network:unionpay"]


def test_re_run_is_byte_identical():
    _, first = run()
    _, second = run()
    assert first.data == second.data


def test_a_sale_and_its_void_net_to_nothing_in_the_ledger():
    sale = event(371_000, at=beijing(2026, 12, 3, 9))
    void = event(-371_000, code=LineCode.VOID, at=beijing(2026, 12, 3, 9, 1), original_date=DAY,
                 original_fees=ENGINE.fees(sale))
    result, files = run([sale, void])
    assert result.postings == []
    assert read_file(files.data[f"statement-{MID_A}.txt"]).trailer["count"] == 2


def test_tampered_or_truncated_files_are_caught_by_the_reader():
    _, files = run()
    data = files.data[f"statement-{MID_A}.txt"]
    with pytest.raises(BadFile, match="checksum"):
        read_file(data.replace(b"+000000371000", b"+000000371001", 1))
    with pytest.raises(BadFile):
        read_file(data[:-10])


def test_events_after_the_day_or_unsorted_are_refused():
    with pytest.raises(ClearingError, match="belongs to 2026-12-04"):
        run([event(100, at=beijing(2026, 12, 3, 23))])
    with pytest.raises(ClearingError, match="sorted by merchant"):
        run([event(100), event(100, mid=MID_B), event(100)])
