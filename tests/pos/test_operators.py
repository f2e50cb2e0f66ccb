"""Several cashiers: the registry (hashed passwords), the cashier on every journal row, slip and report line."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest

from pos.core.config import load_config
from pos.journal.operators import OperatorError, OperatorRegistry, password_matches
from pos.journal.receipts import transaction_receipt
from pos.journal.store import Journal
from receipts import render_text
from tests.pos.support import invoke_pos, make_config


def _sale(journal: Journal, **columns: object):
    return journal.begin(type="sale", amount=100, currency="156", processing_code="000000", condition_code="00",
                         reversible=True, **columns)


def test_a_password_is_kept_only_as_its_scrypt_hash(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    registry = OperatorRegistry(journal)
    registry.add("02", "Li Na", "24681357")
    registry.add("01", "Wang Fang")
    journal.close()

    raw = (tmp_path / "journal.db").read_bytes()   # 8 digits: never part of a timestamp's 6 of microseconds
    assert b"24681357" not in raw
    [(stored,)] = sqlite3.connect(tmp_path / "journal.db").execute(
        "SELECT password_hash FROM operators WHERE id = '02'").fetchall()
    assert stored.startswith("scrypt$") and password_matches("24681357", stored) and not password_matches("24681350", stored)

    registry = OperatorRegistry(Journal(tmp_path / "journal.db"))
    assert [(o.id, o.name, o.has_password) for o in registry.all()] == [("01", "Wang Fang", False),
                                                                      ("02", "Li Na", True)]
    assert registry.check("02", "24681357") and not registry.check("02", "000000") and not registry.check("03", "")
    assert registry.check("01", "") and not registry.check("01", "1234")


@pytest.mark.parametrize(("number", "name", "password", "message"), [
    ("1234", "A", None, "must be 1-3 digits"), ("", "A", None, "must be 1-3 digits"),
    ("01", " ", None, "operator name"), ("01", "x" * 21, None, "operator name"),
    ("01", "A", "12", "4-8 digits"), ("01", "A", "abcd", "4-8 digits"),
])
def test_bad_operators_are_refused_before_anything_is_stored(tmp_path, number, name, password, message):
    registry = OperatorRegistry(Journal(tmp_path / "journal.db"))
    with pytest.raises(OperatorError, match=message):
        registry.add(number, name, password)
    assert registry.empty


def test_every_row_names_the_cashier_signed_on_then_and_the_sign_on_outlives_the_process(tmp_path):
    journal = Journal(tmp_path / "journal.db", default_operator="01")
    registry = OperatorRegistry(journal)
    registry.add("07", "Zhao Lei", "1357")
    first = _sale(journal)
    with pytest.raises(OperatorError, match="wrong password"):
        registry.sign_on("07", "0000")
    registry.sign_on("07", "1357")
    second = _sale(journal)
    journal.close()

    reopened = Journal(tmp_path / "journal.db", default_operator="01")
    third = _sale(reopened)
    OperatorRegistry(reopened).sign_off()
    fourth = _sale(reopened)
    assert [t.operator for t in (first, second, third, fourth)] == ["01", "07", "07", "01"]
    OperatorRegistry(reopened).sign_on("07", "1357")
    OperatorRegistry(reopened).remove("07")          # removing the cashier signed on signs it off
    assert reopened.signed_on_operator is None and _sale(reopened).operator == "01"


def test_card_and_wallet_slips_name_the_rows_cashier(tmp_path):
    config = load_config(make_config(tmp_path), state_dir=tmp_path / "state")
    journal = Journal(tmp_path / "journal.db", default_operator=config.terminal.operator)
    journal.sign_on_operator("05")
    card = _sale(journal, entry_mode="072", masked_pan="621483*********0015", scheme="unionpay")
    wallet = journal.begin(type="wallet_sale", amount=880, currency="156", processing_code="000000",
                           condition_code="00", reversible=True, entry_mode="032", scheme="wechat", wallet="wechat",
                           wallet_code="1300****1234")
    for txn in (card, wallet):
        approved = journal.record_reply(txn.id, state="approved", response_code="00", rrn="000000000001",
                                        auth_code="123456")
        lines = render_text(transaction_receipt(approved, config), 32).splitlines()
        assert "操作员号 OPERATOR NO.         05" in lines
    old = replace(journal.get(card.id), operator=None)     # a row from before operators were journalled
    assert transaction_receipt(old, config).operator == config.terminal.operator


def test_operators_on_the_command_line_reach_the_journal_the_slips_and_the_reports(tmp_path):
    config, state = make_config(tmp_path), tmp_path / "state"
    added = invoke_pos(config, state, "operator", "add", "02", "--name", "Li Na", "--password", input="2468\n2468\n")
    assert added.returncode == 0 and "operator 02 (Li Na) added, with a password" in added.stdout
    assert invoke_pos(config, state, "operator", "add", "01", "--name", "Wang Fang").returncode == 0
    refused = invoke_pos(config, state, "operator", "add", "1234", "--name", "X")
    assert refused.returncode == 2 and "must be 1-3 digits" in refused.stderr and "Traceback" not in refused.stderr

    assert invoke_pos(config, state, "sale", "12.34", "--card", "unionpay-debit").returncode == 0  # nobody: default
    wrong = invoke_pos(config, state, "operator", "signon", "02", input="1111\n")
    assert wrong.returncode == 2 and "wrong password" in wrong.stderr
    assert invoke_pos(config, state, "operator", "signon", "02", input="2468\n").returncode == 0
    assert invoke_pos(config, state, "sale", "20.00", "--card", "visa").returncode == 0
    slip = invoke_pos(config, state, "reprint", "--text")
    assert any(line.startswith("操作员号 OPERATOR NO.") and line.endswith(" 02") for line in slip.stdout.splitlines())

    listed = json.loads(invoke_pos(config, state, "operator", "list", "--json").stdout)
    assert listed["signed_on"] == "02" and listed["recording"] == "02"
    assert [(o["id"], o["name"], o["password"]) for o in listed["operators"]] == [("01", "Wang Fang", False),
                                                                                  ("02", "Li Na", True)]
    assert "2468" not in json.dumps(listed)

    x = invoke_pos(config, state, "report", "x", "--json")
    assert x.returncode == 0, x.stderr
    running = json.loads(x.stdout)
    default = load_config(config).terminal.operator
    assert running["operator"] == "02" and running["operator_names"] == {"01": "Wang Fang", "02": "Li Na"}
    assert {name: t["sales"] for name, t in running["by_operator"].items()} == {
        default: {"count": 1, "amount": 1234}, "02": {"count": 1, "amount": 2000}}

    text = invoke_pos(config, state, "report", "x").stdout
    assert "按操作员 BY OPERATOR" in text and "操作员 OPERATOR 02 Li Na" in text

    assert invoke_pos(config, state, "operator", "signoff").returncode == 0
    assert invoke_pos(config, state, "operator", "remove", "02").returncode == 0
    gone = invoke_pos(config, state, "operator", "remove", "02")
    assert gone.returncode == 2 and "not registered" in gone.stderr


def test_the_last_report_and_settlement_reprint_as_first_printed_marked_reprint(tmp_path):
    config, state = make_config(tmp_path), tmp_path / "state"
    nothing = invoke_pos(config, state, "reprint", "--report", "--text")
    assert nothing.returncode == 2 and "no X or Z report printed yet" in nothing.stderr
    unsettled = invoke_pos(config, state, "reprint", "--settlement", "--text")
    assert unsettled.returncode == 2 and "no batch settled yet" in unsettled.stderr

    assert invoke_pos(config, state, "sale", "12.34", "--card", "unionpay-debit").returncode == 0
    x = invoke_pos(config, state, "report", "x")
    assert x.returncode == 0, x.stderr
    assert invoke_pos(config, state, "sale", "1.00", "--card", "visa").returncode == 0   # after the X report
    again = invoke_pos(config, state, "reprint", "--report", "--text")
    assert again.returncode == 0, again.stderr
    lines = [" ".join(line.split()) for line in again.stdout.splitlines()]
    assert lines[:3] == ["交易汇总X报表", "X REPORT", "重打印 REPRINT"]
    assert "消费 SALES 1 / ¥12.34" in lines and "¥1.00" not in again.stdout   # as printed: not the later sale

    z = invoke_pos(config, state, "report", "z")
    assert z.returncode == 0, z.stderr
    settlement = invoke_pos(config, state, "reprint", "--settlement", "--text").stdout.splitlines()
    assert [line.strip() for line in settlement[:3]] == ["结算总计单", "SETTLEMENT", "重打印 REPRINT"]
    assert any("消费 SALE" in line and "2 / ¥13.34" in line for line in settlement)
    z_again = invoke_pos(config, state, "reprint", "--report", "--text").stdout
    assert "结算汇总Z报表" in z_again and "重打印 REPRINT" in z_again

    both = invoke_pos(config, state, "reprint", "000001", "--report")
    assert both.returncode == 2 and "not both" in both.stderr
    paper = invoke_pos(config, state, "reprint", "--report")      # on the configured (simulated) printer
    assert paper.returncode == 0 and "Z report of batch 000001 reprinted" in paper.stdout
