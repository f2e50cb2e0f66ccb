"""`pos reconcile` as a merchant runs it: exit statuses, messages, the files it writes."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from acquirer.clearing.events import LineCode
from pos.reconcile.chart import HEIGHT_PX, WIDTH_PX
from tests.pos.support import CONFIG, invoke_pos, make_config
from tests.reconcile.helpers import DAY, MID, OTHER_MID, Till, beijing, statement

TID = "10000001"   # config/pos.toml's terminal


@pytest.fixture
def shop(tmp_path):
    config = make_config(tmp_path)
    shutil.copy(CONFIG / "reconcile.toml", config / "reconcile.toml")
    state = tmp_path / "state"
    state.mkdir()
    till = Till(tmp_path, TID, journal=state / "journal.db")
    return config, state, till


def reconcile(shop, *args: str):
    config, state, _ = shop
    done = invoke_pos(config, state, "reconcile", "--date", DAY.isoformat(), *args)
    assert "Traceback" not in done.stdout + done.stderr
    return done


def write(tmp_path: Path, data: bytes, name: str = "statement.txt") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_every_line_matched_exits_0(shop, tmp_path):
    _, _, till = shop
    till.sale(10_000, beijing(9))
    till.wallet_sale(2_500, beijing(10))
    done = reconcile(shop, "--statement", write(tmp_path, statement(till.events)))
    assert done.returncode == 0, done.stderr
    assert "every line matched" in done.stdout
    assert "card unionpay" in done.stdout and "wallet alipay" in done.stdout
    assert "expected payout on 2026-12-04" in done.stdout


def test_exceptions_exit_1_with_what_to_do_and_json_csv_chart(shop, tmp_path):
    _, _, till = shop
    till.sale(10_000, beijing(9))
    missing = till.sale(4_200, beijing(10), cleared=False)
    path = write(tmp_path, statement(till.events))
    done = reconcile(shop, "--statement", path)
    assert done.returncode == 1
    text = " ".join(done.stdout.split())
    assert "1 exception(s)" in text and "terminal only" in text and f"trace {missing.stan}" in text
    assert "what to do:" in text

    chart, table = tmp_path / "out" / "day.png", tmp_path / "out" / "day.csv"
    done = reconcile(shop, "--statement", path, "--json", "--csv", str(table), "--chart", str(chart))
    assert done.returncode == 1
    body = json.loads(done.stdout)
    assert body["all_matched"] is False
    assert [(x["category"], x["stan"]) for x in body["lines"]] == [("matched", "000001"),
                                                                   ("terminal_only", missing.stan)]
    assert body["totals"] == {"count": 1, "gross": 10_000, "fees": 48, "net": 9_952, "terminal_gross": 14_200}
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [(r["category"], r["terminal_amount"], r["acquirer_amount"]) for r in rows] == [
        ("matched", "10000", "10000"), ("terminal_only", "4200", "")]
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size == (WIDTH_PX, HEIGHT_PX)


def test_a_tampered_statement_is_refused_exit_4(shop, tmp_path):
    _, _, till = shop
    till.sale(10_000, beijing(9))
    data = bytearray(statement(till.events))
    at = data.index(b"+000000010000")   # the sale's amount in its D record: 10000 becomes 90000
    data[at + 8] = ord("9")
    done = reconcile(shop, "--statement", write(tmp_path, bytes(data)))
    assert done.returncode == 4
    assert "refused: the statement was altered after the acquirer wrote it" in done.stderr


def test_a_truncated_statement_is_refused(shop, tmp_path):
    _, _, till = shop
    till.sale(10_000, beijing(9))
    data = statement(till.events)
    done = reconcile(shop, "--statement", write(tmp_path, data[:-40]))
    assert done.returncode == 4 and "refused" in done.stderr


def test_another_merchants_statement_is_refused(shop, tmp_path):
    config, state, _ = shop
    other = Till(tmp_path, "20000001", mid=OTHER_MID)
    other.sale(10_000, beijing(9))
    done = reconcile(shop, "--statement", write(tmp_path, statement(other.events, mid=OTHER_MID)))
    assert done.returncode == 4
    assert f"this statement is for merchant {OTHER_MID}, not 898310048990001" in done.stderr


def test_an_unmasked_account_is_refused_and_never_shown(shop, tmp_path):
    _, _, till = shop
    sale = till.sale(10_000, beijing(9))
    till.events.clear()
    event = till.event(sale, LineCode.SALE, 10_000, beijing(9))
    object.__setattr__(event, "masked_account", "6214830000000015")
    done = reconcile(shop, "--statement", write(tmp_path, statement(till.events)))
    assert done.returncode == 4 and "the account is not masked" in done.stderr
    assert "6214830000000015" not in done.stdout + done.stderr


def test_an_empty_day_is_all_matched(shop, tmp_path):
    done = reconcile(shop, "--statement", write(tmp_path, statement([])), "--json")
    assert done.returncode == 0
    body = json.loads(done.stdout)
    assert body["lines"] == [] and body["totals"]["gross"] == 0 and body["all_matched"] is True


def test_a_day_without_its_statement_cannot_be_reconciled(shop, tmp_path):
    _, _, till = shop
    till.sale(10_000, beijing(9))
    config, state, _ = shop
    done = invoke_pos(config, state, "reconcile", "--from", "2026-12-03", "--to", "2026-12-04",
                      "--statement", write(tmp_path, statement(till.events)))
    assert done.returncode == 4
    assert "no statement for 2026-12-04" in done.stderr
    done = reconcile(shop)
    assert done.returncode == 4 and "no statement: give --statement FILE" in done.stderr


def test_bad_input_is_one_line_exit_4(shop, tmp_path):
    done = reconcile(shop, "--statement", str(tmp_path / "absent.txt"))
    assert done.returncode == 4 and "no such statement file" in done.stderr
    done = reconcile(shop, "--statement", write(tmp_path, b"\x00\xffgarbage"))
    assert done.returncode == 4 and "refused" in done.stderr
    config, state, _ = shop
    done = invoke_pos(config, state, "reconcile", "--date", "2026-13-40")
    assert done.returncode == 4 and "a date is YYYY-MM-DD" in done.stderr
    (config / "reconcile.toml").write_text('merchant = "898310048990001"\nplan = { acquirer_pct = "x" }\n')
    done = reconcile(shop, "--statement", write(tmp_path, statement([])))
    assert done.returncode == 4 and "reconcile.toml: plan.acquirer_pct:" in done.stderr


def test_three_tills_reconciled_together_through_exports(shop, tmp_path):
    config, state, till = shop
    till.sale(10_000, beijing(9))
    events = list(till.events)
    exports = []
    for n, tid in enumerate(("10000002", "10000003"), start=2):
        other_state = tmp_path / f"state-{tid}"
        other_state.mkdir()
        other = Till(tmp_path, tid, journal=other_state / "journal.db")
        other.sale(1_000 * n, beijing(10 + n))
        events += other.events
        other_config = make_config(tmp_path / tid)
        text = (other_config / "pos.toml").read_text().replace(f'tid = "{TID}"', f'tid = "{tid}"')
        (other_config / "pos.toml").write_text(text)
        out = tmp_path / f"{tid}.json"
        done = invoke_pos(other_config, other_state, "reconcile", "export", "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert "621483******0015" in out.read_text() and "pan_token" not in out.read_text()
        exports += ["--journal", str(out)]
    path = write(tmp_path, statement(events))
    alone = reconcile(shop, "--statement", path)
    assert alone.returncode == 1 and "journal is not part of this reconciliation" in " ".join(alone.stdout.split())
    together = reconcile(shop, "--statement", path, *exports, "--json")
    assert together.returncode == 0, together.stdout
    body = json.loads(together.stdout)
    assert body["terminals"] == ["10000001", "10000002", "10000003"]
    assert body["totals"]["gross"] == 10_000 + 2_000 + 3_000


def test_another_merchants_export_is_refused(shop, tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"format": "tillkit-journal", "version": 1, "terminal": "20000001",
                                "merchant": OTHER_MID, "records": []}))
    done = reconcile(shop, "--statement", write(tmp_path, statement([])), "--journal", str(path))
    assert done.returncode == 4 and f"belongs to merchant {OTHER_MID}" in done.stderr


def test_the_summary_prints_every_exception_as_written_not_as_markup():
    """The exceptions go out as one text: a reason holding what looks like Rich markup is shown as is."""
    import io

    from rich.console import Console

    from pos.cli.reconcile import show
    from pos.reconcile.categories import Category
    from pos.reconcile.matching import ReconciledLine
    from pos.reconcile.report import Report

    odd = ReconciledLine(Category.ACQUIRER_ONLY, "SAL 1.00 on terminal [bold]10000009[/bold] (trace 000001)", DAY,
                         None, None)
    late = ReconciledLine(Category.TERMINAL_ONLY, "sale 2.00: approved at the terminal", DAY, None, None)
    console = Console(file=io.StringIO(), width=80, highlight=False)
    show(Report(MID, ("10000001",), DAY, DAY, [odd, late]), console)
    out = console.file.getvalue()
    assert "2 exception(s)" in out
    assert f"acquirer only ({DAY}): SAL 1.00 on terminal [bold]10000009[/bold] (trace 000001)" in out
    assert f"terminal only ({DAY}): sale 2.00: approved at the terminal\n  what to do: the acquirer has" in out
    terminal = Console(file=io.StringIO(), width=80, highlight=False, force_terminal=True, color_system="standard")
    show(Report(MID, ("10000001",), DAY, DAY, [odd, late]), terminal)
    coloured = terminal.file.getvalue()
    assert "\x1b[1macquirer only\x1b[0m" in coloured           # the title bold on a terminal ...
    assert "terminal [bold]10000009[/bold] (trace" in coloured  # ... the reason as written
