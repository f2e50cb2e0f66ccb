"""End to end from the tills: a day of card sales, voids, refunds, wallet payments (Alipay, WeChat Pay
and the UnionPay app, scanned by the till's camera) and a reversal (the line loses an approval; the till
reverses the sale), made by three `pos` terminals of two merchants through `acquirer serve`, which clears the day after its cut-off by itself and serves the
statements. Each merchant's statement must equal what its terminals' journals say was paid, minus the
fees -- computed here from the journal rows and the published rates, not read from the acquirer.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from acquirer.protocol.clock import clearing_date, parse_cutoff
from acquirer.protocol.fee_rounding import fee_fen
from tests.clearing.helpers import SECOND_MERCHANT, SECOND_MERCHANT_TERMS
from tests.clearing.host_clock import WALLET_CODES_AHEAD_S, cutoff_in
from tests.clearing.parse import read_file
from tests.clearing.served import fetch, statements_address, write_auto_clearing
from tests.e2e.proxy import DOWN, Fault, ProxyThread
from tests.pos.support import AcquirerServer, invoke_pos, make_config, set_pos, test_cards

MID_1, MID_2 = "898310048990001", "898310048990002"
KEYS = {MID_1: "test-statement-key-0001", MID_2: "test-statement-key-0002"}

TERMS = SECOND_MERCHANT_TERMS + f'api_key = "{KEYS[MID_2]}"\n'

#: the terminals: tid -> (mid, TMK, MAC) as in acquirer.toml
TERMINALS = {
    "10000001": (MID_1, "6ECAFCE232B9AF939F09493CFC314CD7", "ecb"),
    "10000002": (MID_1, "FB85C77E77D76EF8E5264E9111EC77D8", "x919"),
    "10000003": (MID_2, "0123456789ABCDEFFEDCBA9876543210", "ecb"),
}

# The rates of config/clearing.toml, in parts per million, written out by hand (docs/clearing.md section 3)
DEBIT, DEBIT_CAP, CREDIT, NETWORK, NETWORK_CAP = 3_500, 1_300, 4_500, 325, 325
FOREIGN, FOREIGN_NETWORK, FOREIGN_NETWORK_CAP = 10_000, 1_000, 500
WALLET = {"alipay": 3_800, "wechat": 3_800, "unionpay": 3_000}
ACQUIRER = {MID_1: (1_000, None), MID_2: (500, 500)}      # standard; small-business (capped at 5 CNY)

SALES = ("sale", "wallet_sale", "mpm_sale")
REFUNDS = ("refund", "wallet_refund")


@dataclass
class Till:
    tid: str
    config_dir: Path
    state: Path
    host: str

    def pos(self, *args: str, expect: int = 0) -> dict[str, Any]:
        done = invoke_pos(self.config_dir, self.state, *args, "--json", host=self.host)
        assert done.returncode == expect, f"{self.tid} {args}: {done.stderr}{done.stdout}"
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def wallet(self, kind: str, amount: str, picture: Path) -> dict[str, Any]:
        made = invoke_pos(self.config_dir, self.state, "sim", "wallet-code", kind, "--out", str(picture))
        assert made.returncode == 0, made.stderr + made.stdout
        return self.pos("sale", amount, "--camera", str(picture))

    def journal(self) -> list[dict[str, Any]]:
        conn = sqlite3.connect(self.state / "journal.db")
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM transactions ORDER BY id")]
        finally:
            conn.close()


def expected_fees(row: dict[str, Any], mid: str) -> int:
    """The MDR of one journal row's line (signed like the line): issuer or wallet fee, the acquirer's
    side of the network fee, the acquirer's fee -- each rounded half up, then capped."""
    amount = -row["amount"] if row["type"] in REFUNDS else row["amount"]
    if row["wallet"]:
        issuer, network = fee_fen(amount, WALLET[row["wallet"]]), 0
    else:
        card = next(c for c in test_cards().values()
                    if c["pan"][:6] == row["masked_pan"][:6] and c["pan"][-4:] == row["masked_pan"][-4:])
        if card["scheme"] == "unionpay":
            rate, cap = (CREDIT, None) if card["product"] == "credit" else (DEBIT, DEBIT_CAP)
            issuer, network = fee_fen(amount, rate, cap), fee_fen(amount, NETWORK, NETWORK_CAP)
        else:
            issuer, network = fee_fen(amount, FOREIGN), fee_fen(amount, FOREIGN_NETWORK, FOREIGN_NETWORK_CAP)
    return issuer + network + fee_fen(amount, *ACQUIRER[mid])


def from_journals(rows: list[dict[str, Any]], mid: str) -> tuple[int, int, dict[str, tuple[int, int]]]:
    """(amount, MDR, RRN -> (amount, MDR) of each line that stays) of a merchant's journal rows.

    A sale the till voided or reversed nets to nothing (the acquirer gives its fees back); an
    approved sale counts its amount, an approved refund minus its amount, each with its fees."""
    lines = {}
    for row in rows:
        if row["state"] != "approved" or row["type"] not in SALES + REFUNDS:
            continue
        amount = -row["amount"] if row["type"] in REFUNDS else row["amount"]
        lines[row["rrn"]] = (amount, expected_fees(row, mid))
    return sum(a for a, _ in lines.values()), sum(m for _, m in lines.values()), lines


#: how long the tills have for their day before the host's cut-off (the day takes them 5-10 s)
LEAD_S = 25


@pytest.mark.slow
def test_a_day_of_three_tills_cleared_by_serve_equals_their_journals_minus_fees(tmp_path, monkeypatch):
    # the host's clock runs ahead so that its cut-off comes LEAD_S from now (tests/clearing/host_clock.py)
    from acquirer.cli import CLOCK_OFFSET_ENV

    host_cutoff = cutoff_in(LEAD_S, max_ahead_s=WALLET_CODES_AHEAD_S)   # the tills pay by wallet codes too
    monkeypatch.setenv(CLOCK_OFFSET_ENV, host_cutoff.offset_s)
    cutoff = host_cutoff.text
    config_dir = make_config(tmp_path / "host")
    with (config_dir / "acquirer.toml").open("a") as f:
        f.write(SECOND_MERCHANT)
    write_auto_clearing(config_dir, tmp_path / "clearing", cutoff, TERMS)

    server = AcquirerServer(config_dir, tmp_path / "acquirer.db").start()
    lose_next_answer = threading.Event()

    def line(direction: str, mti: str) -> Fault:
        """Terminal 2's line: passes everything, but loses the one sale answer the test asks it to."""
        if direction == DOWN and mti == "0210" and lose_next_answer.is_set():
            lose_next_answer.clear()
            return Fault.DROP
        return Fault.PASS

    proxy = ProxyThread(server.port, line).__enter__()
    try:
        assert server.process is not None and server.process.stdout is not None
        statements = statements_address(server.process.stdout)
        tills = {}
        for tid, (mid, tmk, mac) in TERMINALS.items():
            till_config = tmp_path / tid / "config"
            shutil.copytree(config_dir, till_config)
            set_pos(till_config, tid=tid, mid=mid, tmk=tmk, mac=mac, timeout_s=2.0 if tid == "10000002" else 10.0)
            tills[tid] = Till(tid, till_config, tmp_path / tid / "state",
                              proxy.address if tid == "10000002" else server.address)
        t1, t2, t3 = tills["10000001"], tills["10000002"], tills["10000003"]
        day = clearing_date(host_cutoff.host_now(), parse_cutoff(cutoff))

        # terminal 1 (merchant 1): a debit sale, a credit sale partly refunded, a voided sale, Alipay
        assert t1.pos("sale", "123.45", "--card", "unionpay-debit")["state"] == "approved"
        credit = t1.pos("sale", "500.00", "--card", "unionpay-credit")
        assert t1.pos("refund", credit["rrn"], "200.00", "--card", "unionpay-credit")["state"] == "approved"
        voided = t1.pos("sale", "70.00", "--card", "unionpay-debit")
        assert t1.pos("void", voided["stan"], "--card", "unionpay-debit")["state"] == "approved"
        assert t1.wallet("alipay", "12.00", tmp_path / "alipay.png")["state"] == "approved"
        # terminal 2 (merchant 1): Visa, WeChat Pay partly refunded, a Mastercard sale the till reverses
        assert t2.pos("sale", "100.00", "--card", "visa")["state"] == "approved"
        wechat = t2.wallet("wechat", "30.00", tmp_path / "wechat.png")
        assert t2.pos("refund", wechat["rrn"], "10.00")["state"] == "approved"
        lose_next_answer.set()      # the host approves, the answer is lost: the till reverses it
        t2.pos("sale", "66.00", "--card", "mastercard", expect=3)   # 3: no answer, reversed
        # terminal 3 (merchant 2), with cards of its own (each till keeps its virtual cards' counters):
        # a phone's debit card, the UnionPay app, a voided sale
        assert t3.pos("sale", "300.00", "--card", "unionpay-phone")["state"] == "approved"
        assert t3.wallet("unionpay", "45.60", tmp_path / "unionpay.png")["state"] == "approved"
        voided_small = t3.pos("sale", "5.00", "--card", "unionpay-low-balance")
        assert t3.pos("void", voided_small["stan"], "--card", "unionpay-low-balance")["state"] == "approved"
        assert host_cutoff.host_now() < host_cutoff.at, "the tills ran past the cut-off the test chose"

        journals = {tid: [{**row, "tid": tid} for row in till.journal()] for tid, till in tills.items()}
        assert any(r["state"] == "reversed" for r in journals["10000002"]), journals["10000002"]
        assert {r["wallet"] for rows in journals.values() for r in rows if r["wallet"]} == {
            "alipay", "wechat", "unionpay"}

        directory = tmp_path / "clearing" / day.isoformat()
        deadline = time.monotonic() + 300
        while not directory.is_dir():
            assert time.monotonic() < deadline, "serve did not clear the day after its cut-off"
            assert server.process.poll() is None
            time.sleep(0.1)

        merchants = {MID_1: journals["10000001"] + journals["10000002"], MID_2: journals["10000003"]}
        for mid, rows in merchants.items():
            status, body = fetch(statements, f"/statements/{mid}/{day}", KEYS[mid])
            assert status == 200, body
            assert body == (directory / f"statement-{mid}.txt").read_bytes()
            statement = read_file(body)
            amount, mdr, lines = from_journals(rows, mid)
            assert (statement.trailer["total_1"], statement.trailer["total_2"], statement.trailer["total_3"]) == (
                amount, mdr, amount - mdr), mid
            # line by line: every journal row that stays is on the statement with its amount and fees ...
            kept = {r["rrn"]: (r["amount"], r["mdr"]) for r in statement.records
                    if r["code"] in ("SAL", "WSL", "MPM", "RFD")}
            for rrn, figures in lines.items():
                assert kept.get(rrn) == figures, (mid, rrn)
            # ... and what the tills voided or reversed is there with its opposite, netting to zero
            # (a reversed sale's row has no RRN: the till never got the answer; terminal and trace name it)
            cancelled = {(r["tid"], r["stan"]) for r in rows if r["state"] in ("voided", "reversed")
                         and r["type"] in SALES}
            assert cancelled
            for tid, stan in cancelled:
                [sale] = [r for r in statement.records if (r["terminal"], r["stan"]) == (tid, stan)
                          and r["code"] in ("SAL", "WSL", "MPM")]
                assert any(r["code"] in ("VOD", "RVS") and (r["amount"], r["mdr"]) == (-sale["amount"], -sale["mdr"])
                           for r in statement.records), sale
            assert "*" in "".join(str(r["account"]) for r in statement.records)
        reversal = [r for r in read_file((directory / f"statement-{MID_1}.txt").read_bytes()).records
                    if r["code"] == "RVS"]
        assert [r["scheme"] for r in reversal] == ["mastercard"]
        assert server.process.poll() is None
    finally:
        proxy.__exit__(None, None, None)
        server.stop()
