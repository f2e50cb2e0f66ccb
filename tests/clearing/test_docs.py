"""docs/clearing.md's layout tables are the code's layouts, and the tests' reader agrees."""
from __future__ import annotations

import re
from pathlib import Path

from acquirer.protocol.clearing_layouts import LAYOUTS
from tests.clearing import parse

DOC = (Path(__file__).resolve().parents[2] / "docs" / "clearing.md").read_text()
TITLES = {"H": "### Header `H`", "D": "### Transaction record `D`", "S": "### Settlement position `S`",
          "P": "### Payout `P`", "T": "### Trailer `T`"}
READER = {"H": parse.HEADER, "D": parse.DETAIL, "S": parse.POSITION, "P": parse.PAYOUT, "T": parse.TRAILER}


def documented(record: str) -> list[tuple[str, int, str]]:
    section = DOC.split(TITLES[record], 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| (\w+) \| +(\d+) \| ([ans]) \|", section, flags=re.MULTILINE)
    return [(name, int(width), kind) for name, width, kind in rows]


def test_layout_tables_match_the_code_and_the_reader():
    for record, layout in LAYOUTS.items():
        table = documented(record)
        assert table == [(f.name, f.width, f.kind) for f in layout.fields], record
        assert table == READER[record], record


def test_worked_fee_examples_are_what_the_engine_computes():
    from acquirer.clearing.events import Channel, LineCode
    from acquirer.clearing.fees import FeeEngine
    from tests.clearing.helpers import config, event

    engine = FeeEngine(config())
    section = DOC.split("### Worked examples", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| (-?\d+) \| (-?\d+)[^|]*\| (-?\d+)[^|]*\| (-?\d+) \| (-?\d+) \| (-?\d+) \|",
                      section, flags=re.MULTILINE)
    assert len(rows) == 8
    for label, amount, issuer, network, acquirer, mdr, net in rows:
        kw: dict[str, object] = {}
        if label.startswith("credit"):
            kw["credit"] = True
        if label.startswith("Visa"):
            kw.update(channel=Channel.FOREIGN, scheme="visa", institution="visa-bank")
        if label.startswith("Alipay"):
            kw.update(channel=Channel.WALLET, scheme="alipay", institution="wallet-alipay")
        if "refund" in label:
            kw["code"] = LineCode.REFUND
        f = engine.fees(event(int(amount), **kw))  # type: ignore[arg-type]
        assert (f.issuer, f.network_acquirer, f.acquirer, f.mdr, int(amount) - f.mdr) == (
            int(issuer), int(network), int(acquirer), int(mdr), int(net)), label
