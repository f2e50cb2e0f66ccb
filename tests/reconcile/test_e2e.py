"""End to end: three tills of one merchant sell through `acquirer serve`, the host clears the day by
itself after the cut-off, and `pos reconcile --fetch` gets the statement over HTTP and sorts every line.

Engineered through real traffic: a refund whose reply a fault proxy loses (acquirer only), a sale whose
reply and reversals the proxy loses (terminal only, reversal still due), a sale whose reply is lost but
whose reversal arrives (matched, net zero), a chargeback opened at the acquirer (refunded or charged
back), and a fee plan on the acquirer that is not the merchant's contract for one of the tills' merchant
terms (fee differs, checked with a second `reconcile.toml`). Before the day is cleared, and with a
wrong API key, `--fetch` exits 4 with one line.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from acquirer.protocol.clock import CHINA, clearing_date, parse_cutoff
from tests.acquirer.conftest import REPO_CONFIG, make_config, start_host
from tests.e2e.proxy import DOWN, UP, Fault, ProxyThread
from tests.pos.support import invoke_pos, set_pos
from tests.pos.support import make_config as make_pos_config

MID = "898310048990001"
KEY = "test-statement-key-0001"
THIRD_TILL = """
[[terminal]]
tid = "10000004"
mid = "898310048990001"
tmk = "0123456789ABCDEFFEDCBA9876543210"   # TEST KEY
mac = "ecb"
"""
TMK = {"10000001": ("6ECAFCE232B9AF939F09493CFC314CD7", "ecb"),
       "10000002": ("FB85C77E77D76EF8E5264E9111EC77D8", "x919"),
       "10000004": ("0123456789ABCDEFFEDCBA9876543210", "ecb")}


class Losing:
    """A proxy policy: while armed, the next frames of the given (direction, MTI)s vanish."""

    def __init__(self) -> None:
        self.drop: set[tuple[str, str]] = set()

    def __call__(self, direction: str, mti: str) -> Fault:
        return Fault.DROP if (direction, mti) in self.drop else Fault.PASS


def till(tmp_path, tid: str, host: str, statements: str):
    config = make_pos_config(tmp_path / f"till-{tid}", pos={"timeout_s": 2.0, "reversal_attempts": 2,
                                                             "address": host})
    tmk, mac = TMK[tid]
    set_pos(config, tid=tid, tmk=tmk, mac=mac)
    shutil.copy(REPO_CONFIG / "reconcile.toml", config / "reconcile.toml")
    text = (config / "reconcile.toml").read_text().replace("http://127.0.0.1:8584", f"http://{statements}")
    (config / "reconcile.toml").write_text(text)
    state = tmp_path / f"state-{tid}"

    def pos(*args: str):
        done = invoke_pos(config, state, *args)
        assert "Traceback" not in done.stdout + done.stderr
        return done
    return config, state, pos


def json_of(done) -> dict:
    return json.loads(done.stdout)


@pytest.mark.slow
def test_three_tills_a_day_through_serve_reconciled(tmp_path):
    now = datetime.now(CHINA)
    cutoff_at = (now + timedelta(seconds=75)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    cutoff = f"{cutoff_at.hour:02d}:{cutoff_at.minute:02d}"
    config_dir = make_config(tmp_path / "acquirer", acquirer_extra=THIRD_TILL)
    text = (REPO_CONFIG / "clearing.toml").read_text()
    for old, new in (('cutoff = "23:00"', f'cutoff = "{cutoff}"'),
                     ('output_dir = "var/clearing"', f'output_dir = "{tmp_path / "clearing"}"'),
                     ("auto_clear_grace_s = 60", "auto_clear_grace_s = 0"),
                     ("statement_port = 8586", "statement_port = 0")):
        assert old in text
        text = text.replace(old, new)
    (config_dir / "clearing.toml").write_text(text)
    shutil.copy(REPO_CONFIG / "holidays.toml", config_dir / "holidays.toml")
    host = start_host(config_dir, tmp_path)
    losing = Losing()
    try:
        line = host.process.stdout.readline()
        while not line.startswith("statements listening on "):
            assert line, host.log()
            line = host.process.stdout.readline()
        statements = line.rsplit(" ", 1)[1].strip()
        day = clearing_date(datetime.now(UTC), parse_cutoff(cutoff))
        address = f"{host.address[0]}:{host.address[1]}"
        with ProxyThread(host.address[1], losing) as proxy:
            config1, state1, t1 = till(tmp_path, "10000001", address, statements)
            _, state2, t2 = till(tmp_path, "10000002", proxy.address, statements)
            config4, state4, t4 = till(tmp_path, "10000004", proxy.address, statements)

            sale = json_of(t1("sale", "123.45", "--card", "unionpay-debit", "--json"))
            assert sale["state"] == "approved"
            voided = json_of(t1("sale", "70.00", "--card", "unionpay-debit", "--json"))
            assert t1("void", voided["stan"], "--card", "unionpay-debit").returncode == 0
            credit = json_of(t2("sale", "500.00", "--card", "unionpay-credit", "--json"))
            visa = json_of(t4("sale", "100.00", "--card", "visa", "--json"))
            assert credit["state"] == visa["state"] == "approved"

            losing.drop = {(DOWN, "0210")}                      # the sale's answer is lost; the reversal arrives
            assert t4("sale", "30.00", "--card", "visa").returncode == 3
            losing.drop = {(DOWN, "0230")}                      # a refund's answer is lost: outcome unknown
            assert t2("refund", credit["rrn"], "200.00", "--card", "unionpay-credit").returncode == 3
            losing.drop = {(DOWN, "0210"), (UP, "0400")}         # answer and every reversal lost
            assert t2("sale", "66.00", "--card", "unionpay-credit").returncode == 3
            losing.drop = set()

            export2, export4 = tmp_path / "till2.json", tmp_path / "till4.json"
            assert t2("reconcile", "export", "--out", str(export2)).returncode == 0
            assert t4("reconcile", "export", "--out", str(export4)).returncode == 0

            opened = subprocess.run([sys.executable, "-m", "acquirer", "dispute", "open", "--rrn", visa["rrn"],
                                     "--reason", "4837", "--db", str(host.db_path), "--config", str(config_dir)],
                                    capture_output=True, text=True, cwd=tmp_path)
            assert opened.returncode == 0, opened.stderr
            assert datetime.now(CHINA) < cutoff_at, "the test's traffic ran past the cut-off it chose"

            early = t1("reconcile", "--date", day.isoformat(), "--fetch")
            assert early.returncode == 4 and "the day is not cleared" in early.stderr

        directory = tmp_path / "clearing" / day.isoformat()
        deadline = time.monotonic() + 150
        while not directory.is_dir():
            assert time.monotonic() < deadline, host.log()
            time.sleep(0.5)

        wrong = config1 / "reconcile.toml"
        good = wrong.read_text()
        wrong.write_text(good.replace(KEY, "wrong-key-0000000000"))
        refused = t1("reconcile", "--date", day.isoformat(), "--fetch")
        assert refused.returncode == 4 and "refused the API key" in refused.stderr
        wrong.write_text(good)

        done = t1("reconcile", "--date", day.isoformat(), "--fetch", "--journal", str(export2),
                  "--journal", str(export4), "--json")
        assert done.returncode == 1, done.stderr
        report = json_of(done)
        got = sorted((x["terminal"], x["code"], x["category"], x["acquirer_amount"]) for x in report["lines"])
        assert got == sorted([
            ("10000001", "SAL", "matched", 12_345),
            ("10000001", "SAL", "matched", 7_000),
            ("10000001", "VOD", "matched", -7_000),
            ("10000002", "SAL", "matched", 50_000),
            ("10000002", "RFD", "acquirer_only", -20_000),       # its answer was lost: unknown at the till
            ("10000002", "SAL", "terminal_only", 6_600),         # reversal never arrived, still due
            ("10000004", "SAL", "matched", 10_000),
            ("10000004", "SAL", "matched", 3_000),               # answer lost, reversal arrived ...
            ("10000004", "RVS", "matched", -3_000),              # ... net zero
            ("10000004", "CHB", "refunded_or_charged_back", -10_000),
        ])
        assert report["totals"]["gross"] == 12_345 + 50_000 - 20_000 + 6_600 + 10_000 - 10_000
        assert report["totals"]["net"] == report["totals"]["gross"] - report["totals"]["fees"]

        # the acquirer's plan is 0.1%; a merchant whose contract says 0.05% sees every fee differ
        wrong.write_text(good.replace("acquirer_pct = 0.1", "acquirer_pct = 0.05"))
        fees = json_of(t1("reconcile", "--date", day.isoformat(), "--fetch", "--journal", str(export2),
                          "--journal", str(export4), "--json"))
        assert {x["category"] for x in fees["lines"] if x["code"] == "SAL" and x["acquirer_amount"] in
                (12_345, 50_000)} == {"fee_differs"}
        assert host.process.poll() is None
    finally:
        host.stop()
