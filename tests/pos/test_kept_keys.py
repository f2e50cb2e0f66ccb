"""Working keys kept between `pos` commands: one sign-on for many commands, never a clear key on disk.

Against a real `acquirer serve` on loopback behind a proxy that only counts
the messages it forwards (the host's view of the line): two sales in two
`pos` processes are one 0800 and two 0200s with consecutive traces; a host
that lost the session (restarted on a fresh database) gets a fresh sign-on
and the same sale again, approved. The state directory never holds the
clear working keys, in any form.
"""
from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from acquirer.protocol.keys import unpack_field62
from pos.core.config import load_config
from tests.e2e.proxy import DOWN, UP, Fault, ProxyThread
from tests.pos.support import AcquirerServer, HostLedger, invoke_pos, make_config, run_pos


class Line:
    """A proxy policy that passes everything and counts (direction, MTI)."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[str, str]] = Counter()

    def __call__(self, direction: str, mti: str) -> Fault:
        self.seen[(direction, mti)] += 1
        return Fault.PASS

    def up(self, mti: str) -> int:
        return self.seen[(UP, mti)]


def journal_rows(state: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(state / "journal.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_two_sales_in_two_processes_sign_on_once_with_consecutive_traces(tmp_path):
    config_dir = make_config(tmp_path)
    state = tmp_path / "state"
    line = Line()
    with AcquirerServer(config_dir, tmp_path / "acquirer.db") as server, ProxyThread(server.port, line) as proxy:
        first = run_pos(config_dir, state, "sale", "1.00", "--card", "visa", "--json", host=proxy.address)
        second = run_pos(config_dir, state, "sale", "2.00", "--card", "visa", "--json", host=proxy.address)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert (line.up("0800"), line.up("0200"), line.seen[(DOWN, "0210")]) == (1, 2, 2)
    assert "signing on" in first.stderr and "signing on" not in second.stderr
    stans = [json.loads(done.stdout)["stan"] for done in (first, second)]
    assert int(stans[1]) == int(stans[0]) + 1                     # no trace spent on a second sign-on
    host = HostLedger(tmp_path / "acquirer.db", config_dir).transactions()
    assert sorted((t.stan, t.amount, t.status) for t in host.values()) == [
        (stans[0], 100, "approved"), (stans[1], 200, "approved")]
    assert journal_rows(state, "SELECT stan, amount, state FROM transactions ORDER BY id") == [
        (stans[0], 100, "approved"), (stans[1], 200, "approved")]


def test_a_host_that_forgot_the_session_gets_a_fresh_sign_on_and_the_sale_goes_through(tmp_path):
    config_dir = make_config(tmp_path)
    state = tmp_path / "state"
    line = Line()
    with AcquirerServer(config_dir, tmp_path / "first.db") as first_host, \
            ProxyThread(first_host.port, line) as proxy:
        first = run_pos(config_dir, state, "sale", "1.00", "--card", "visa", "--json", host=proxy.address)
        assert first.returncode == 0, first.stderr
        first_host.stop()
        with AcquirerServer(config_dir, tmp_path / "fresh.db") as fresh_host:   # a new database: no session
            proxy.proxy.upstream_port = fresh_host.port
            second = run_pos(config_dir, state, "sale", "2.00", "--card", "visa", "--json")   # the bound host
    assert second.returncode == 0, second.stderr
    sold = json.loads(second.stdout)
    assert sold["state"] == "approved" and sold["response_code"] == "00"
    # the kept keys: 0200 refused (77); sign on; the same 0200 (same trace) again
    assert (line.up("0800"), line.up("0200")) == (2, 3)
    fresh = HostLedger(tmp_path / "fresh.db", config_dir).transactions()
    assert [(t.stan, t.amount, t.status, t.rrn) for t in fresh.values()] == [
        (sold["stan"], 200, "approved", sold["rrn"])]
    assert int(sold["stan"]) == int(json.loads(first.stdout)["stan"]) + 1
    assert journal_rows(state, "SELECT amount, state, response_code FROM transactions ORDER BY id") == [
        (100, "approved", "00"), (200, "approved", "00")]


def _kept(state: Path) -> tuple[str, str, str]:
    [row] = journal_rows(state, "SELECT field62, batch, business_date FROM host_session")
    return row


def _edit_kept(state: Path, sql: str) -> None:
    conn = sqlite3.connect(state / "journal.db")
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_the_state_directory_never_holds_the_clear_working_keys(tmp_path):
    config_dir = make_config(tmp_path)
    state = tmp_path / "state"
    assert invoke_pos(config_dir, state, "sale", "3.00", "--card", "unionpay-debit", "--pin", "123456").returncode == 0
    assert invoke_pos(config_dir, state, "sale", "1.00", "--card", "visa").returncode == 0
    field62 = bytes.fromhex(_kept(state)[0])
    keys = unpack_field62(load_config(config_dir).terminal.tmk, field62)
    clear = [key for key in (keys.pin, keys.mac, keys.track) if key is not None]
    forms = [form for key in clear for form in (key, key.hex().encode(), key.hex().upper().encode())]
    files = {path: path.read_bytes() for path in state.rglob("*") if path.is_file()}
    assert any(path.name == "journal.db" for path in files) and any(
        field62.hex().upper().encode() in data for data in files.values())   # the scan does read the kept row
    found = [(path.name, form[:4]) for path, data in files.items() for form in forms if form in data]
    assert found == []


@pytest.mark.parametrize("change", [
    "UPDATE host_session SET field62 = substr(field62, 1, 32) || '00000000' || substr(field62, 41)",   # a KCV
    "UPDATE host_session SET business_date = '2001-01-01'",                                            # a new day
    "UPDATE host_session SET batch = '999998'",                                                        # another batch
    "UPDATE host_session SET host = '127.0.0.1:9'",                                                    # another host
])
def test_kept_keys_that_will_not_do_mean_a_fresh_sign_on(tmp_path, change):
    config_dir = make_config(tmp_path)
    state = tmp_path / "state"
    assert invoke_pos(config_dir, state, "sale", "1.00", "--card", "visa").returncode == 0
    kept_before = _kept(state)
    kept_again = invoke_pos(config_dir, state, "sale", "1.00", "--card", "visa")
    assert kept_again.returncode == 0 and "signing on" not in kept_again.stderr
    assert _kept(state) == kept_before
    _edit_kept(state, change)
    signed = invoke_pos(config_dir, state, "sale", "1.00", "--card", "visa")
    assert signed.returncode == 0, signed.stderr
    assert "signing on to the host" in signed.stderr
    assert _kept(state)[0] != kept_before[0]                      # fresh keys, kept in their place


def test_signon_signs_on_afresh_and_settlement_starts_a_new_session(tmp_path):
    config_dir = make_config(tmp_path)
    state = tmp_path / "state"
    assert invoke_pos(config_dir, state, "sale", "1.00", "--card", "visa").returncode == 0
    kept = _kept(state)
    again = invoke_pos(config_dir, state, "signon")
    assert again.returncode == 0 and "signing on to the host" in again.stderr and _kept(state)[0] != kept[0]
    assert invoke_pos(config_dir, state, "settle").returncode == 0
    after = invoke_pos(config_dir, state, "sale", "1.00", "--card", "visa")   # batch 000002: sign on for it
    assert after.returncode == 0 and "signing on to the host" in after.stderr
    assert _kept(state)[1] == "000002"


def test_a_host_holding_other_keys_answers_a0_and_the_terminal_signs_on_and_resends(tmp_path):
    """Keys rotated behind the terminal's back: a copy of the terminal signs on and uses the new keys."""
    import shutil

    config_dir = make_config(tmp_path)
    state, twin = tmp_path / "state", tmp_path / "twin"
    line = Line()
    with AcquirerServer(config_dir, tmp_path / "acquirer.db") as server, ProxyThread(server.port, line) as proxy:
        first = run_pos(config_dir, state, "sale", "1.00", "--card", "visa", "--json", host=proxy.address)
        assert first.returncode == 0, first.stderr
        shutil.copytree(state, twin)
        assert run_pos(config_dir, twin, "signon").returncode == 0
        assert run_pos(config_dir, twin, "sale", "4.00", "--card", "mastercard").returncode == 0   # new keys in use
        second = run_pos(config_dir, state, "sale", "2.00", "--card", "visa", "--json")
    assert second.returncode == 0, second.stderr
    sold = json.loads(second.stdout)
    assert (sold["state"], sold["response_code"]) == ("approved", "00")
    assert (line.up("0800"), line.up("0200")) == (3, 4)             # first, twin, the re-sign-on; A0 then the resend
    assert line.seen[(DOWN, "0210")] == 4
    host = HostLedger(tmp_path / "acquirer.db", config_dir).transactions()
    assert host[(sold["batch"], sold["stan"])].status == "approved"
    assert host[(sold["batch"], sold["stan"])].amount == 200
    assert journal_rows(state, "SELECT amount, state, response_code FROM transactions ORDER BY id") == [
        (100, "approved", "00"), (200, "approved", "00")]


def test_a_settlement_under_kept_keys_with_a_host_that_forgot_signs_on_and_settles(tmp_path):
    config_dir = make_config(tmp_path)
    state = tmp_path / "state"
    line = Line()
    with AcquirerServer(config_dir, tmp_path / "first.db") as first_host, \
            ProxyThread(first_host.port, line) as proxy:
        assert run_pos(config_dir, state, "sale", "1.00", "--card", "visa", host=proxy.address).returncode == 0
        first_host.stop()
        with AcquirerServer(config_dir, tmp_path / "fresh.db") as fresh_host:
            proxy.proxy.upstream_port = fresh_host.port
            settled = run_pos(config_dir, state, "settle", "--json")
    assert settled.returncode == 0, settled.stderr
    result = json.loads(settled.stdout)
    assert result["batch"] == "000001" and result["next_batch"] == "000002"
    assert (line.up("0800"), line.up("0500")) == (2, 2)            # 0500 refused (77); sign on; 0500 again
    assert journal_rows(state, "SELECT batch, state FROM batches ORDER BY batch")[0] == ("000001", "closed")
