"""`pos refund --trace`: the original found by the trace on its slip, through the real CLI and the embedded acquirer.

Each case reads what a peer would: the exit status and message, the
terminal's journal rows and the acquirer's own records (its database under
the state directory).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.pos.support import HostLedger, invoke_pos, make_config


def journal(state: Path) -> list[tuple]:
    conn = sqlite3.connect(state / "journal.db")
    try:
        return conn.execute("SELECT type, amount, state, response_code, original_stan, original_rrn "
                            "FROM transactions ORDER BY id").fetchall()
    finally:
        conn.close()


def sell(config: Path, state: Path, amount: str, card: str = "visa") -> dict:
    done = invoke_pos(config, state, "sale", amount, "--card", card, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_refund_by_trace_refunds_that_sale_on_both_sides(tmp_path):
    config, state = make_config(tmp_path), tmp_path / "state"
    sold = sell(config, state, "30.00")
    sell(config, state, "5.00", "mastercard")
    done = invoke_pos(config, state, "refund", "--trace", str(int(sold["stan"])), "12.00", "--json")
    assert done.returncode == 0, done.stderr
    refunded = json.loads(done.stdout)
    assert (refunded["type"], refunded["amount"], refunded["state"]) == ("refund", 1200, "approved")
    assert (refunded["original_stan"], refunded["original_rrn"]) == (sold["stan"], sold["rrn"])
    assert journal(state)[-1] == ("refund", 1200, "approved", "00", sold["stan"], sold["rrn"])
    host = HostLedger(state / "acquirer.db", config).transactions()
    assert host[(refunded["batch"], refunded["stan"])].status == "approved"
    assert host[(refunded["batch"], refunded["stan"])].txn_type == "refund"
    assert host[(refunded["batch"], refunded["stan"])].rrn == refunded["rrn"]


def test_a_refund_over_what_is_left_is_the_acquirers_decline(tmp_path):
    config, state = make_config(tmp_path), tmp_path / "state"
    sold = sell(config, state, "10.00")
    assert invoke_pos(config, state, "refund", "--trace", sold["stan"], "8.00").returncode == 0
    over = invoke_pos(config, state, "refund", "--trace", sold["stan"], "3.00", "--json")
    assert over.returncode == 1                                         # declined (docs/errors.md)
    answer = json.loads(over.stdout)
    assert (answer["state"], answer["response_code"]) == ("declined", "61")
    assert journal(state)[-1] == ("refund", 300, "declined", "61", sold["stan"], sold["rrn"])
    host = HostLedger(state / "acquirer.db", config).transactions()
    assert host[(answer["batch"], answer["stan"])].response_code == "61"


def test_refusals_of_a_refund_by_trace_send_nothing(tmp_path):
    config, state = make_config(tmp_path), tmp_path / "state"
    fresh = invoke_pos(config, state, "refund", "--trace", "7", "1.00")
    assert fresh.returncode == 2 and "no transaction with trace 000007 in this terminal's journal" in fresh.stderr
    sold = sell(config, state, "10.00")
    declined = invoke_pos(config, state, "sale", "100", "--card", "unionpay-low-balance", "--json")
    assert declined.returncode == 1
    refund = invoke_pos(config, state, "refund", "--trace", sold["stan"], "1.00", "--json")
    assert refund.returncode == 0
    before = journal(state)

    unknown = invoke_pos(config, state, "refund", "--trace", "424242", "1.00")
    assert unknown.returncode == 2 and "no transaction with trace 424242" in unknown.stderr
    too_much = invoke_pos(config, state, "refund", "--trace", sold["stan"], "10.01")
    assert too_much.returncode == 2
    assert f"a refund of ¥10.01 is more than the ¥10.00 of trace {sold['stan']}: nothing was sent" in too_much.stderr
    not_a_sale = invoke_pos(config, state, "refund", "--trace", json.loads(refund.stdout)["stan"], "1.00")
    assert not_a_sale.returncode == 2 and "is a refund (approved): only an approved sale" in not_a_sale.stderr
    not_approved = invoke_pos(config, state, "refund", "--trace", json.loads(declined.stdout)["stan"], "1.00")
    assert not_approved.returncode == 2 and "is a sale (declined)" in not_approved.stderr
    bad = invoke_pos(config, state, "refund", "--trace", "12ab", "1.00")
    assert bad.returncode == 2 and "must be up to 6 digits" in bad.stderr
    both = invoke_pos(config, state, "refund", "--trace", sold["stan"], sold["rrn"], "1.00")
    assert both.returncode == 2 and "give RRN AMOUNT, or --trace TRACE AMOUNT" in both.stderr
    for done in (unknown, too_much, not_a_sale, not_approved, bad, both):
        assert "Traceback" not in done.stderr and done.stdout == ""
    assert journal(state) == before                                    # not one row more
    host = HostLedger(state / "acquirer.db", config).transactions()
    assert sorted(t.txn_type for t in host.values()) == ["refund", "sale", "sale"]


def test_the_rrn_form_still_refunds(tmp_path):
    config, state = make_config(tmp_path), tmp_path / "state"
    sold = sell(config, state, "4.00")
    done = invoke_pos(config, state, "refund", sold["rrn"], "4.00", "--json")
    assert done.returncode == 0, done.stderr
    assert journal(state)[-1] == ("refund", 400, "approved", "00", sold["stan"], sold["rrn"])
    negative = invoke_pos(config, state, "refund", sold["rrn"], "-5")
    assert negative.returncode == 2 and "negative" in negative.stderr
