"""The `pos` command line against a real `acquirer serve` process on loopback: a day of business,
then settlement.

Afterwards the terminal's journal and the acquirer's records agree
transaction by transaction, and every card's balance is its opening balance
less exactly what the journal says was taken.
"""
from __future__ import annotations

import json
import sqlite3

import pytest

from tests.e2e.proxy import DOWN, Fault, ProxyThread
from tests.pos.support import (
    AcquirerServer,
    HostLedger,
    disagreements,
    invoke_pos,
    make_config,
    set_pos,
    test_cards,
)

CARDS = test_cards()


@pytest.fixture
def acquirer(tmp_path):
    config_dir = make_config(tmp_path, pos={"timeout_s": 3.0})
    with AcquirerServer(config_dir, tmp_path / "acquirer.db") as server:
        yield config_dir, server


def journal(state_dir) -> list[dict]:
    conn = sqlite3.connect(state_dir / "journal.db")
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM transactions ORDER BY id")]
    conn.close()
    return rows


def test_a_day_of_business_then_a_balanced_settlement(acquirer, tmp_path):
    config_dir, server = acquirer
    state = tmp_path / "state"

    def pos(*args: str, expect: int = 0) -> dict | list:
        done = invoke_pos(config_dir, state, *args, "--json", host=server.address)
        assert done.returncode == expect, done.stderr + done.stdout
        return json.loads(done.stdout)

    first = pos("sale", "12.34")
    assert (first["state"], first["amount"], first["masked_pan"], first["entry_mode"]) == (
        "approved", 1234, "621483*********0015", "072")
    visa = pos("sale", "88", "--card", "visa")
    voided = pos("void", visa["stan"])
    refund = pos("refund", first["rrn"], "5.00")
    hold = pos("preauth", "100", "--card", "mastercard")
    completion = pos("complete", hold["stan"], "80.00")
    balance = pos("balance", "--card", "unionpay-credit")
    declined = pos("sale", "200", "--card", "unionpay-low-balance", expect=1)
    assert declined["response_code"] == "51" and declined["state"] == "declined"
    assert balance["balance"] == CARDS["unionpay-credit"]["credit_limit"]
    assert all(o["approved"] for o in (voided, refund, hold, completion))
    assert voided["original_rrn"] == visa["rrn"]

    settled = pos("settle")
    assert settled == {"batch": "000001", "balanced": True, "uploaded": 0, "next_batch": "000002",
                       "debit_amount": 1234 + 8000, "debit_count": 2, "credit_amount": 500, "credit_count": 1}
    after = pos("sale", "1.00", "--card", "visa")
    assert after["batch"] == "000002" and int(after["stan"]) > int(declined["stan"])

    history = pos("history")
    assert {"stan", "batch", "type", "amount", "currency", "masked_pan", "entry_mode", "response_code",
            "rrn", "auth_code", "state"} <= set(history[0])
    assert [h["type"] for h in reversed(history)] == [
        "sale", "sale", "void", "refund", "preauth", "completion", "balance", "sale", "sale"]
    host = HostLedger(tmp_path / "acquirer.db", config_dir)
    assert disagreements(journal(state), host.transactions()) == []
    assert host.balance("unionpay-debit") == CARDS["unionpay-debit"]["balance"] - 1234 + 500
    assert host.balance("visa") == CARDS["visa"]["credit_limit"] - 100
    assert host.balance("mastercard") == CARDS["mastercard"]["balance"] - 8000
    assert host.unbalanced_postings() == 0


def test_refused_input_sends_nothing(acquirer, tmp_path):
    config_dir, server = acquirer
    state = tmp_path / "state"
    for amount, words in (("-1", "negative"), ("0", "zero"), ("1.234", "more than two decimals"),
                          ("50000.01", "over this terminal's maximum"), ("ten", "not a number")):
        done = invoke_pos(config_dir, state, "sale", amount, host=server.address)
        assert done.returncode == 2 and words in done.stderr, done.stderr
    done = invoke_pos(config_dir, state, "sale", "1", "--card", "amex", host=server.address)
    assert done.returncode == 2 and "no test card named 'amex'" in done.stderr
    assert not (state / "journal.db").exists()      # not even a sign-on happened
    assert HostLedger(tmp_path / "acquirer.db", config_dir).transactions() == {}


def test_manual_entry_is_sent_as_012(acquirer, tmp_path):
    config_dir, server = acquirer
    visa = CARDS["visa"]
    done = invoke_pos(config_dir, tmp_path / "state", "sale", "3.00", "--manual", "--json", host=server.address,
                   input=f"{visa['pan']}\n{visa['expiry']}\n")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert (outcome["entry_mode"], outcome["masked_pan"]) == ("012", "476173******0011")
    host = HostLedger(tmp_path / "acquirer.db", config_dir).transactions()
    assert host[(outcome["batch"], outcome["stan"])].status == "approved"


def test_out_of_balance_settlement_uploads_the_batch_and_closes_on_the_hosts_figures(acquirer, tmp_path):
    config_dir, server = acquirer
    state = tmp_path / "state"
    # the terminal is bound to one host address: here a line (a fault proxy) to the acquirer
    losing = False
    # the answer to the refund is lost on the line: the host refunded, the terminal cannot know
    lose_refund_answer = lambda direction, mti: (Fault.DROP if losing and (direction, mti) == (DOWN, "0230")
                                                 else Fault.PASS)
    with ProxyThread(server.port, lose_refund_answer) as proxy:
        sale = json.loads(invoke_pos(config_dir, state, "sale", "50", "--json", host=proxy.address).stdout)
        set_pos(config_dir, timeout_s=0.5)
        losing = True
        done = invoke_pos(config_dir, state, "refund", sale["rrn"], "20", "--json", host=proxy.address)
        losing = False
        refund = json.loads(done.stdout)
        assert done.returncode == 3 and refund["state"] == "unknown"
        host = HostLedger(tmp_path / "acquirer.db", config_dir)
        assert disagreements(journal(state), host.transactions()) == [
            f"trace {refund['stan']} batch 000001 refund: journal unknown, host approved"]

        done = invoke_pos(config_dir, state, "settle", "--json", host=proxy.address)
    assert done.returncode == 0, done.stderr
    settled = json.loads(done.stdout)
    assert (settled["balanced"], settled["uploaded"]) == (False, 1)
    assert (settled["credit_amount"], settled["credit_count"]) == (2000, 1)   # the host's figures
    assert settled["next_batch"] == "000002"
