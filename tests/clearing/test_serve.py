"""End to end through `acquirer serve`: a day of sales, voids, refunds and a reversal from several
terminals of two merchants; the host clears it by itself after the cut-off and serves each
merchant's statement over HTTP (per-merchant API key, loopback)."""
from __future__ import annotations

import time
import pytest

from acquirer.protocol.clock import clearing_date, parse_cutoff
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import make_config, start_host
from tests.acquirer.terminal import original_of
from tests.clearing.host_clock import cutoff_in
from tests.clearing.parse import read_file
from tests.clearing.served import fetch, statements_address, write_auto_clearing
from tests.clearing.test_service import (
    MID_1,
    MID_2,
    SECOND_MERCHANT,
    TERMS,
)

KEY_1 = "test-statement-key-0001"


#: how long the terminals have for their day before the host's cut-off (the sales take about a second)
LEAD_S = 10


@pytest.mark.slow
def test_a_day_through_serve_cleared_after_the_cutoff_and_fetched(tmp_path, monkeypatch):
    from acquirer.cli import CLOCK_OFFSET_ENV

    host_cutoff = cutoff_in(LEAD_S)          # the host's clock runs ahead so that its cut-off is LEAD_S away
    monkeypatch.setenv(CLOCK_OFFSET_ENV, host_cutoff.offset_s)
    cutoff = host_cutoff.text
    config_dir = make_config(tmp_path / "config", acquirer_extra=SECOND_MERCHANT)
    write_auto_clearing(config_dir, tmp_path / "clearing", cutoff, TERMS)
    host = start_host(config_dir, tmp_path)
    try:
        address = statements_address(host.process.stdout, host.log())
        day = clearing_date(host_cutoff.host_now(), parse_cutoff(cutoff))

        t1, t2, t3 = host.terminal("10000001"), host.terminal("10000002"), host.terminal("10000003")
        debit, credit, visa = host.card("unionpay-debit"), host.card("unionpay-credit"), host.card("visa")
        assert t1.sale(debit, 12_345)["39"] == "00"
        sale = t2.request(TxnType.SALE, credit, 50_000)
        reply = t2.send(sale)
        assert t2.financial(TxnType.REFUND, credit, 20_000, original=original_of(reply, sale))["39"] == "00"
        voided = t1.request(TxnType.SALE, debit, 7_000)
        voided_reply = t1.send(voided)
        assert t1.financial(TxnType.VOID, debit, 7_000, original=original_of(voided_reply, voided))["39"] == "00"
        reversed_sale = t1.request(TxnType.SALE, debit, 3_000)
        assert t1.send(reversed_sale)["39"] == "00"
        assert t1.reverse(reversed_sale)["39"] == "00"
        assert t3.sale(visa, 10_000)["39"] == "00"
        assert host_cutoff.host_now() < host_cutoff.at, "the test's sales ran past the cut-off it chose"
        status, _ = fetch(address, f"/statements/{MID_1}/{day}", KEY_1)
        assert status == 404                                   # not cleared yet

        directory = tmp_path / "clearing" / day.isoformat()
        deadline = time.monotonic() + LEAD_S + 120
        while not directory.is_dir():
            assert time.monotonic() < deadline, host.log()
            time.sleep(0.1)

        status, body = fetch(address, f"/statements/{MID_1}/{day}", KEY_1)
        assert status == 200
        assert body == (directory / f"statement-{MID_1}.txt").read_bytes()
        statement = read_file(body)
        assert statement.header["owner"] == MID_1
        # what the terminals did, minus fees: 12,345 + 50,000 - 20,000 (sale, refund); the void and reversal net out
        assert statement.trailer["total_1"] == 12_345 + 50_000 - 20_000
        # unionpay debit 12,345: issuer 43 (43.2075), network 4 (4.012), acquirer 12; credit 50,000: 225, 16, 50;
        # refund 20,000: -90, -7 (6.5 half up), -20; void and reversal give back what their sales took
        assert statement.trailer["total_2"] == (43 + 4 + 12) + (225 + 16 + 50) - (90 + 7 + 20)
        assert host.balance(f"payable:{MID_1}") == statement.trailer["total_3"]
        assert statement.trailer["count"] == 7

        status, body = fetch(address, f"/statements/{MID_1}/{day}?format=json", KEY_1)
        assert status == 200 and b'"total_settlement": %d' % statement.trailer["total_3"] in body
        assert fetch(address, f"/statements/{MID_1}/{day}", "wrong-key-000000000")[0] == 401
        assert fetch(address, f"/statements/{MID_1}/{day}", None)[0] == 401
        assert fetch(address, f"/statements/{MID_2}/{day}", KEY_1)[0] == 401    # merchant 2 has no key
        assert fetch(address, f"/statements/{MID_1}/not-a-date", KEY_1)[0] == 400
        assert fetch(address, f"/statements/{MID_1}/{day}?format=xml", KEY_1)[0] == 400
        assert host.process.poll() is None
    finally:
        host.stop()


@pytest.mark.slow
def test_statements_served_under_the_supervisor_on_postgresql(tmp_path, pg_url):
    """`acquirer serve --processes 3`: the supervisor binds the statement endpoint once, process 0
    serves it; every request (whichever connection) gets the statement, a wrong key gets 401."""
    from tests.clearing.test_service import DAY, Day

    day = Day(tmp_path, pg_url)
    t1 = day.terminal("10000001")
    assert t1.sale(day.card("unionpay-debit"), 12_345)["39"] == "00"
    day.at(23, 30)
    directory = day.clearing.clear(DAY).directory
    expected = (directory / f"statement-{MID_1}.txt").read_bytes()
    day.close()
    path = tmp_path / "config" / "clearing.toml"
    path.write_text(path.read_text().replace("statement_port = 8586", "statement_port = 0"))

    host = start_host(tmp_path / "config", tmp_path, pg_url, processes=3)
    try:
        address = statements_address(host.process.stdout, host.log())
        for _ in range(6):
            assert fetch(address, f"/statements/{MID_1}/{DAY}", KEY_1) == (200, expected)
        assert read_file(expected).trailer["total_1"] == 12_345
        assert fetch(address, f"/statements/{MID_1}/{DAY}", "wrong-key-000000000")[0] == 401
        assert fetch(address, f"/statements/{MID_1}/{DAY}", None)[0] == 401
        assert fetch(address, f"/statements/{MID_1}/2026-12-01", KEY_1)[0] == 404
        assert host.process.poll() is None
    finally:
        host.stop()
    assert "Traceback" not in host.log()


def test_a_taken_statement_port_stops_the_supervised_host_with_one_line(tmp_path, pg_url):
    import socket
    import subprocess
    import sys

    from tests.clearing.test_service import Day

    Day(tmp_path, pg_url).close()          # the configuration (with clearing.toml) and a migrated database
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        path = tmp_path / "config" / "clearing.toml"
        path.write_text(path.read_text().replace("statement_port = 8586",
                                                 f"statement_port = {taken.getsockname()[1]}"))
        done = subprocess.run([sys.executable, "-m", "acquirer", "serve", "--port", "0", "--db", pg_url,
                               "--processes", "2", "--config", str(tmp_path / "config")],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "statement endpoint: cannot listen: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
