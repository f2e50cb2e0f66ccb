"""Receipts on the `pos` command line: `pos reprint [TRACE] [--text]`, printer trouble, and the demo's printing."""
from __future__ import annotations

import json

import pytest

from drivers.sim.printer import SimulatedPrinter
from receipts.width import display_width
from tests.pos.printing_support import E_RECEIPT, slips, use_printer
from tests.pos.support import invoke_pos, make_config


@pytest.fixture
def printer():
    with SimulatedPrinter() as sim:
        yield sim


def on_network_printer(tmp_path, sim: SimulatedPrinter, profile: str = "80mm"):
    config_dir = make_config(tmp_path)
    host, port = sim.serve_tcp(0)
    use_printer(config_dir, "network", profile, host=host, port=port, timeout_s=2.0)
    return config_dir


def sale(config_dir, state, amount: str, card: str) -> dict:
    done = invoke_pos(config_dir, state, "sale", amount, "--card", card, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_reprint_text_writes_the_receipt_as_the_paper_shows_it(tmp_path):
    config_dir, state = make_config(tmp_path), tmp_path / "state"
    first = sale(config_dir, state, "12.34", "unionpay-debit")
    sale(config_dir, state, "8", "visa")

    last = invoke_pos(config_dir, state, "reprint", "--text")
    chosen = invoke_pos(config_dir, state, "reprint", first["stan"], "--text")

    assert last.returncode == 0 and chosen.returncode == 0, last.stderr + chosen.stderr
    lines = chosen.stdout.splitlines()
    assert [line.strip() for line in lines[:4]] == ["POS签购单", "POS SLIP", "重打印 REPRINT", "持卡人存根 CARDHOLDER COPY"]
    assert max(display_width(line) for line in lines) == 48              # the 80 mm profile's columns
    assert lines[lines.index("卡号 CARD NO.") + 1].strip() == "621483*********0015"
    assert lines[lines.index("金额 AMOUNT") + 1].strip() == "¥12.34"
    assert f"凭证号 VOUCHER NO.{' ' * 24}{first['stan']}" in lines
    assert any(line.startswith("参考号 REF. NO.") and line.endswith(first["rrn"]) for line in lines)
    link = [line.strip() for line in lines].index("电子签购单 E-RECEIPT") + 1
    assert "".join(lines[link:]) == E_RECEIPT.format(batch="000001", trace=first["stan"])
    assert "476173******0011" in last.stdout and "¥8.00" in last.stdout and "621483" not in last.stdout


def test_reprint_refuses_what_has_no_receipt(tmp_path):
    config_dir, state = make_config(tmp_path), tmp_path / "state"
    assert invoke_pos(config_dir, state, "reprint", "--text").returncode == 2     # nothing yet
    balance = invoke_pos(config_dir, state, "balance", "--card", "unionpay-debit", "--json")
    trace = json.loads(balance.stdout)["stan"]

    unknown = invoke_pos(config_dir, state, "reprint", "424242")
    inquiry = invoke_pos(config_dir, state, "reprint", trace, "--text")
    nothing = invoke_pos(config_dir, state, "reprint")

    assert unknown.returncode == 2 and "no transaction with trace 424242 in the journal" in unknown.stderr
    assert inquiry.returncode == 2 and f"trace {trace} is a balance inquiry" in inquiry.stderr
    assert nothing.returncode == 2 and "no transaction with a receipt" in nothing.stderr


def test_reprint_on_a_printer_out_of_paper_says_so_and_prints_once_it_is_back(tmp_path, printer):
    config_dir, state = on_network_printer(tmp_path, printer), tmp_path / "state"
    printer.run_out_of_paper()

    sold = invoke_pos(config_dir, state, "sale", "3.21", "--card", "mastercard", "--json")
    stuck = invoke_pos(config_dir, state, "reprint")

    assert sold.returncode == 0                                         # approved, printer or not
    assert "not printed" in sold.stderr and "out of paper" in sold.stderr
    assert stuck.returncode == 4
    assert "out of paper" in stuck.stderr and "stays in the print queue" in stuck.stderr
    assert printer.document.items == []

    printer.load_paper()
    done = invoke_pos(config_dir, state, "reprint")

    trace = json.loads(sold.stdout)["stan"]
    assert done.returncode == 0 and f"receipt of trace {trace} (batch 000001) printed" in done.stdout
    printed = [(s.value("凭证号 VOUCHER NO."), s.copy, "重打印 REPRINT" in s.lines) for s in slips(printer.document)]
    assert printed == [(trace, "商户存根 MERCHANT COPY", False), (trace, "持卡人存根 CARDHOLDER COPY", False)]


def test_reprint_without_a_printer_points_at_the_text(tmp_path):
    config_dir, state = make_config(tmp_path), tmp_path / "state"
    use_printer(config_dir, "none")
    sale(config_dir, state, "1", "unionpay-debit")
    done = invoke_pos(config_dir, state, "reprint")
    assert done.returncode == 4 and "pos reprint --text" in done.stderr
    assert invoke_pos(config_dir, state, "reprint", "--text").stdout.count("\n") > 20


def test_the_demo_prints_on_the_simulated_printer_and_shows_each_receipt(tmp_path):
    done = invoke_pos(make_config(tmp_path), tmp_path / "state", "demo")

    assert done.returncode == 0, done.stderr
    # 6 sales (2 declined), the void, the refund and the settlement; the balance inquiry prints nothing
    assert done.stdout.count("printed on the simulated printer") == 9
    assert done.stdout.count("持卡人存根 CARDHOLDER COPY") == 8 and done.stdout.count("结算总计单") == 1
    assert done.stdout.count("交易失败 DECLINED") == 2 and "余额不足 INSUFFICIENT FUNDS" in done.stdout
    assert "621483*********0015" in done.stdout and "-¥88.00" in done.stdout and "对账平 BALANCED" in done.stdout


def test_the_demo_prints_on_the_printer_the_configuration_names(tmp_path, printer):
    done = invoke_pos(on_network_printer(tmp_path, printer, "58mm"), tmp_path / "state", "demo")

    assert done.returncode == 0, done.stderr
    assert "printed on the simulated printer" not in done.stdout        # no in-process simulator started
    printed = slips(printer.document)
    assert len(printed) == 6 * 2 - 2 + 2 * 2 + 1 and all(s.complete for s in printed)
    assert [s.lines[0] for s in printed].count("结算总计单") == 1
