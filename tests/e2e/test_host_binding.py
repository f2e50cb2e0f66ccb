"""A terminal is bound to one acquirer; `pos demo` runs in its own throw-away state.

Against a real `acquirer serve` on loopback: after `pos --host H sale` on a
fresh terminal, a plain `pos settle` settles with H (the binding, not the
embedded acquirer pos.toml names); naming another host is refused while the
batch is open; the journal never holds one RRN twice; and `pos demo` leaves
the merchant's journal, open batch and binding exactly as they were.
"""
from __future__ import annotations

import json
import sqlite3

from tests.pos.support import AcquirerServer, HostLedger, invoke_pos, make_config


def rows(state_dir) -> list[dict]:
    conn = sqlite3.connect(state_dir / "journal.db")
    conn.row_factory = sqlite3.Row
    found = [dict(r) for r in conn.execute("SELECT * FROM transactions ORDER BY id")]
    found += [{"batch": dict(r)} for r in conn.execute("SELECT * FROM batches ORDER BY batch")]
    conn.close()
    return found


def test_the_binding_settles_with_the_terminals_host_and_refuses_another(tmp_path):
    config_dir = make_config(tmp_path)           # pos.toml: [host] address = "embedded"
    state = tmp_path / "state"
    with AcquirerServer(config_dir, tmp_path / "acquirer.db") as server:
        sale = invoke_pos(config_dir, state, "sale", "12.34", "--json", host=server.address)
        assert sale.returncode == 0, sale.stderr
        rrn = json.loads(sale.stdout)["rrn"]

        other = invoke_pos(config_dir, state, "sale", "1", "--json", host="127.0.0.1:9")
        assert other.returncode == 2
        assert (f"this terminal is bound to the acquirer {server.address}: --host 127.0.0.1:9 is refused "
                f"while batch 000001 is open") in other.stderr and other.stdout == ""

        settle = invoke_pos(config_dir, state, "settle", "--json")          # no --host: the binding
        assert settle.returncode == 0, settle.stderr
        settled = json.loads(settle.stdout)
        assert (settled["batch"], settled["balanced"], settled["debit_amount"]) == ("000001", True, 1234)

    host = HostLedger(tmp_path / "acquirer.db", config_dir).transactions()
    assert [(t.amount, t.rrn, t.status) for t in host.values()] == [(1234, rrn, "approved")]
    assert not (state / "acquirer.db").exists()                              # the embedded host never ran
    journal = [r for r in rows(state) if "rrn" in r]
    assert [r["rrn"] for r in journal if r["rrn"]] == [rrn]                  # one RRN, once
    assert [r["amount"] for r in journal] == [1234]                          # the refused sale: no row


def test_after_settling_the_terminal_may_move_to_another_host(tmp_path):
    config_dir = make_config(tmp_path)
    state = tmp_path / "state"
    with AcquirerServer(config_dir, tmp_path / "first.db") as first:
        assert invoke_pos(config_dir, state, "init", host=first.address).returncode == 0
        assert invoke_pos(config_dir, state, "sale", "5").returncode == 0
        assert invoke_pos(config_dir, state, "settle").returncode == 0
    with AcquirerServer(config_dir, tmp_path / "second.db") as second:
        moved = invoke_pos(config_dir, state, "init", host=second.address)
        assert moved.returncode == 0 and f"bound to the acquirer {second.address}" in moved.stdout
        assert invoke_pos(config_dir, state, "sale", "7").returncode == 0
    assert [t.amount for t in HostLedger(tmp_path / "second.db", config_dir).transactions().values()] == [700]


def test_demo_leaves_the_merchants_journal_and_open_batch_untouched(tmp_path):
    config_dir = make_config(tmp_path)
    state = tmp_path / "state"
    with AcquirerServer(config_dir, tmp_path / "acquirer.db") as server:
        assert invoke_pos(config_dir, state, "sale", "8.88", host=server.address).returncode == 0
        before = rows(state)
        demo = invoke_pos(config_dir, state, "demo")
        assert demo.returncode == 0, demo.stderr
        assert "batch 000001 settled" in demo.stdout                       # the demo's own batch, settled
        assert rows(state) == before                                        # the merchant's: untouched
        settle = invoke_pos(config_dir, state, "settle", "--json")
        assert json.loads(settle.stdout)["debit_amount"] == 888             # still open, with H
    assert not (state / "acquirer.db").exists()
