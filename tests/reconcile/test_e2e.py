"""End to end: three tills of one merchant sell through `acquirer serve`, the host clears the day by
itself after the cut-off, and `pos reconcile --fetch` gets the statement over HTTP and sorts every line.

Engineered through real traffic: a refund whose reply a fault proxy loses (acquirer only), a sale whose
reply and reversals the proxy loses (terminal only, reversal still due), a sale whose reply is lost but
whose reversal arrives (matched, net zero), a chargeback opened at the acquirer (refunded or charged
back), and a fee plan on the acquirer that is not the merchant's contract for one of the tills' merchant
terms (fee differs, checked with a second `reconcile.toml`). Before the day is cleared, and with a
wrong API key, `--fetch` exits 4 with one line.

The second test makes the other three at the cut-off: a till whose clock runs ahead of the acquirer's
(cleared on another day), a void held on the line past the host's cut-off (voided at the terminal but
cleared), and a man in the middle holding the working keys (amount differs; docs/reconcile.md says why
nothing less can). Between them every category happens through live traffic at least once.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from acquirer.protocol.clock import CHINA, clearing_date, parse_cutoff
from tests.acquirer.conftest import REPO_CONFIG, make_config, start_host
from tests.clearing.host_clock import cutoff_in
from tests.clearing.served import statements_address, write_auto_clearing
from tests.e2e.proxy import DOWN, UP, Fault, ProxyThread
from tests.pos.support import BIN, invoke_pos, set_pos, test_cards
from tests.pos.support import make_config as make_pos_config
from tests.reconcile.wire import AmountTamper, HoldUntil

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


def till(tmp_path, tid: str, host: str, statements: str, timeout_s: float = 2.0, cutoff: str = "23:00"):
    config = make_pos_config(tmp_path / f"till-{tid}", pos={"timeout_s": timeout_s, "reversal_attempts": 2,
                                                             "address": host})
    tmk, mac = TMK[tid]
    set_pos(config, tid=tid, tmk=tmk, mac=mac)
    shutil.copy(REPO_CONFIG / "reconcile.toml", config / "reconcile.toml")
    text = (config / "reconcile.toml").read_text().replace("http://127.0.0.1:8584", f"http://{statements}")
    (config / "reconcile.toml").write_text(text.replace('cutoff = "23:00"', f'cutoff = "{cutoff}"'))
    state = tmp_path / f"state-{tid}"

    def pos(*args: str, input: str | None = None):
        done = invoke_pos(config, state, *args, input=input)
        assert "Traceback" not in done.stdout + done.stderr
        return done
    return config, state, pos


def json_of(done) -> dict:
    return json.loads(done.stdout)


def cutoff_ahead(lead_s: float) -> tuple[datetime, str]:
    """The first whole minute (Beijing) at least `lead_s` from now, as a moment and as a cut-off "HH:MM"."""
    at = datetime.now(CHINA) + timedelta(seconds=lead_s)
    if at.second or at.microsecond:
        at = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return at, f"{at.hour:02d}:{at.minute:02d}"


def serve_clearing(tmp_path, cutoff: str):
    """`acquirer serve` with three tills, clearing by itself right after `cutoff`, statements on an ephemeral
    port; returns its configuration directory, the running host and the statement endpoint's address."""
    config_dir = make_config(tmp_path / "acquirer", acquirer_extra=THIRD_TILL)
    write_auto_clearing(config_dir, tmp_path / "clearing", cutoff)
    host = start_host(config_dir, tmp_path)
    try:
        return config_dir, host, statements_address(host.process.stdout, host.log())
    except AssertionError:
        host.stop()
        raise


def wait_cleared(tmp_path, day, host, limit_s: float = 150) -> None:
    """Until the host's automatic clearing has written the files of `day`."""
    directory = tmp_path / "clearing" / day.isoformat()
    deadline = time.monotonic() + limit_s
    while not directory.is_dir():
        assert time.monotonic() < deadline, host.log()
        time.sleep(0.1)


#: how long the first test's tills have for their day before the host's cut-off (it takes them 10-20 s)
DAY_LEAD_S = 40


@pytest.mark.slow
def test_three_tills_a_day_through_serve_reconciled(tmp_path, monkeypatch):
    from acquirer.cli import CLOCK_OFFSET_ENV

    host_cutoff = cutoff_in(DAY_LEAD_S)     # the host's clock runs ahead so that its cut-off is DAY_LEAD_S away
    monkeypatch.setenv(CLOCK_OFFSET_ENV, host_cutoff.offset_s)
    cutoff = host_cutoff.text
    config_dir, host, statements = serve_clearing(tmp_path, cutoff)
    losing = Losing()
    try:
        day = clearing_date(host_cutoff.host_now(), parse_cutoff(cutoff))
        address = f"{host.address[0]}:{host.address[1]}"
        with ProxyThread(host.address[1], losing) as proxy:
            config1, state1, t1 = till(tmp_path, "10000001", address, statements, cutoff=cutoff)
            _, state2, t2 = till(tmp_path, "10000002", proxy.address, statements, cutoff=cutoff)
            config4, state4, t4 = till(tmp_path, "10000004", proxy.address, statements, cutoff=cutoff)

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
            assert host_cutoff.host_now() < host_cutoff.at, "the test's traffic ran past the cut-off it chose"

            early = t1("reconcile", "--date", day.isoformat(), "--fetch")
            assert early.returncode == 4 and "the day is not cleared" in early.stderr

        wait_cleared(tmp_path, day, host)

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


HOST_BEHIND_S = 8.0   # the acquirer's clock runs this far behind the tills' (TILLKIT_TEST_HOST_CLOCK_OFFSET_S)
VOID_LEAD_S = 10.0    # the void starts this long before the cut-off (its process needs a moment to start)


@pytest.mark.slow
def test_cut_off_late_void_and_tampered_amount_through_serve(tmp_path, monkeypatch):
    """The three categories the first test cannot reach, each made by live traffic at the cut-off.

    - cleared on another day: till 1's clock is 8 s ahead of the acquirer's; a sale taken 0.3 s after the
      cut-off by the till's clock is on the next clearing day at the till, and the host, which received it
      7.7 s before the cut-off by its own clock, clears it on this one.
    - voided at the terminal but cleared: till 4 voids a sale 10 s before the cut-off; the line holds the
      void's request until the cut-off has passed at the host, so the host clears the sale today and the
      void tomorrow, while the till, answered in time, shows the sale voided today.
    - amount differs: a man in the middle with till 2's working keys turns its 50.00 sale into 55.00 at
      the host and back to 50.00 in the answer (wire.AmountTamper says why nothing less can).
    """
    from acquirer.cli import CLOCK_OFFSET_ENV

    cutoff_at, cutoff = cutoff_ahead(20)
    monkeypatch.setenv(CLOCK_OFFSET_ENV, str(-HOST_BEHIND_S))
    config_dir, host, statements = serve_clearing(tmp_path, cutoff)
    try:
        day = clearing_date(cutoff_at - timedelta(seconds=1), parse_cutoff(cutoff))
        address = f"{host.address[0]}:{host.address[1]}"
        tamper, hold = AmountTamper(*TMK["10000002"]), HoldUntil()
        with ProxyThread(host.address[1], lambda d, m: Fault.PASS, rewrite=tamper) as middle, \
                ProxyThread(host.address[1], hold) as slow:
            _, _, t1 = till(tmp_path, "10000001", address, statements, cutoff=cutoff)
            _, _, t2 = till(tmp_path, "10000002", middle.address, statements, cutoff=cutoff)
            config4, state4, t4 = till(tmp_path, "10000004", slow.address, statements, timeout_s=45.0,
                                       cutoff=cutoff)

            assert json_of(t1("sale", "12.34", "--card", "unionpay-debit", "--json"))["state"] == "approved"
            tamper.arm(5_000, 5_500)
            # key-entered: a chip card's cryptogram signs the amount too (9F02), and its issuer declines the change
            visa = test_cards()["visa"]
            keyed = json_of(t2("sale", "50.00", "--manual", "--json", input=f"{visa['pan']}\n{visa['expiry']}\n"))
            assert keyed["state"] == "approved" and keyed["masked_pan"] == "476173******0011"
            assert tamper.tampered == 2, "the man in the middle did not change the sale and its answer"
            voided = json_of(t4("sale", "70.00", "--card", "unionpay-credit", "--json"))   # each till its own card
            assert voided["state"] == "approved"

            start = cutoff_at - timedelta(seconds=VOID_LEAD_S)
            assert datetime.now(CHINA) < start, "the test's traffic ran past the moment it chose for the void"
            time.sleep((start - datetime.now(CHINA)).total_seconds())
            hold.arm(slow.proxy, (cutoff_at + timedelta(seconds=HOST_BEHIND_S + 1)).timestamp())
            void = subprocess.Popen([str(BIN / "pos"), "--config", str(config4), "--state-dir", str(state4),
                                     "void", voided["stan"], "--card", "unionpay-credit"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(max(0.0, (cutoff_at - datetime.now(CHINA)).total_seconds() + 0.3))
            late = json_of(t1("sale", "8.88", "--card", "unionpay-debit", "--json"))
            assert late["state"] == "approved"
            out, err = void.communicate(timeout=90)
            assert void.returncode == 0 and "Traceback" not in out + err, out + err
            assert hold.held == 1

            export2, export4 = tmp_path / "till2.json", tmp_path / "till4.json"
            assert t2("reconcile", "export", "--out", str(export2)).returncode == 0
            assert t4("reconcile", "export", "--out", str(export4)).returncode == 0
        records4 = json.loads(export4.read_text())["records"]
        void_record = next(r for r in records4 if r["type"] == "void")
        assert void_record["state"] == "approved"
        assert datetime.fromisoformat(void_record["created_at"]) < cutoff_at, \
            "the void started after the cut-off: the machine was too slow for this test's timing"
        wait_cleared(tmp_path, day, host)

        done = t1("reconcile", "--date", day.isoformat(), "--fetch", "--journal", str(export2),
                  "--journal", str(export4), "--json")
        assert done.returncode == 1, done.stderr
        report = json_of(done)
        got = sorted((x["terminal"], x["code"], x["category"], x["terminal_amount"], x["acquirer_amount"],
                      x["cleared_on"]) for x in report["lines"])
        today = day.isoformat()
        assert got == sorted([
            ("10000001", "SAL", "matched", 1_234, 1_234, today),
            ("10000001", "SAL", "cleared_on_another_day", 888, 888, today),   # the till's next day
            ("10000002", "SAL", "amount_differs", 5_000, 5_500, today),
            ("10000004", "SAL", "matched", 7_000, 7_000, today),             # voided at the till ...
            ("10000004", "", "voided_but_cleared", -7_000, None, None),      # ... its void cleared tomorrow
        ]), report["lines"]
        other_day = next(x for x in report["lines"] if x["category"] == "cleared_on_another_day")
        assert f"counts it on {day + timedelta(days=1)}" in other_day["reason"]
        late_void = next(x for x in report["lines"] if x["category"] == "voided_but_cleared")
        assert late_void["reason"].endswith("it may be on the next day's statement")
        gross = 1_234 + 888 + 5_500 + 7_000
        assert report["totals"]["gross"] == gross
        assert report["totals"]["net"] == gross - report["totals"]["fees"] > 0
        assert report["totals"]["terminal_gross"] == 1_234 + 888 + 5_000 + 7_000 - 7_000
        categories = {c["category"]: (c["lines"], c["amount"]) for c in report["categories"]}
        assert categories == {"matched": (2, 8_234), "amount_differs": (1, 5_500), "terminal_only": (0, 0),
                              "acquirer_only": (0, 0), "voided_but_cleared": (1, -7_000),
                              "refunded_or_charged_back": (0, 0), "fee_differs": (0, 0),
                              "cleared_on_another_day": (1, 888)}
        assert host.process.poll() is None
    finally:
        host.stop()
