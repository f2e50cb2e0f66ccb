"""Reading a merchant statement in its three forms, and every check that refuses one."""
from __future__ import annotations

import hashlib

import pytest

from acquirer.clearing.files import statement_csv, statement_json
from acquirer.clearing.run import price
from acquirer.protocol.clock import DEFAULT_CUTOFF
from acquirer.protocol.statement import StatementError, read_statement, sniff_format
from tests.reconcile.helpers import ACQUIRER, CALENDAR, DAY, MID, Till, beijing, engine, statement


@pytest.fixture
def till(tmp_path):
    t = Till(tmp_path, "10000001")
    t.sale(10_000, beijing(9))
    t.visa_sale(7_000, beijing(10))
    sale = t.sale(3_000, beijing(11))
    t.void(sale, beijing(11, 2))
    return t


def test_the_three_forms_read_the_same(till):
    fixed = read_statement(statement(till.events), MID)
    lines = list(price(DAY, sorted(till.events, key=lambda e: e.occurred_at), engine(), DEFAULT_CUTOFF))
    as_csv = read_statement(statement_csv(lines), MID)
    as_json = read_statement(statement_json(ACQUIRER, MID, DAY, CALENDAR.settlement_date(DAY), lines), MID)
    assert fixed.lines == as_csv.lines == as_json.lines
    assert [line.code for line in fixed.lines] == ["SAL", "SAL", "SAL", "VOD"]
    assert (fixed.total_amount, fixed.total_mdr) == (17_000, as_json.total_mdr)
    assert fixed.checksum is not None and as_csv.checksum is None
    assert [sniff_format(statement(till.events)), sniff_format(statement_csv(lines))] == ["fixed", "csv"]


def _resealed(data: bytes, old: bytes, new: bytes) -> bytes:
    """Change a record and recompute the checksum, as a careful forger would: the totals still give it away."""
    body, trailer = data[:data.rindex(b"\nT") + 1], data[data.rindex(b"\nT") + 1:]
    body = body.replace(old, new, 1)
    return body + trailer[:-65] + hashlib.sha256(body).hexdigest().encode() + b"\n"


def test_a_forged_line_with_a_new_checksum_is_still_caught(till):
    data = statement(till.events)
    forged = _resealed(data, b"+000000010000", b"+000000090000")
    with pytest.raises(StatementError, match="record 2: the settlement amount is not the amount less the MDR"):
        read_statement(forged, MID)


def test_a_trailer_whose_totals_are_not_the_lines_is_refused(till):
    data = statement(till.events)
    cut = data.rindex(b"\nT") + 1
    trailer = data[cut:]
    assert trailer[10:25] == b"+00000000017000"          # count (9), then the amount total
    forged = data[:cut] + trailer[:10] + b"+00000000017100" + trailer[25:]
    with pytest.raises(StatementError, match="amount total 17100 is not the sum of the lines \\(17000\\)"):
        read_statement(forged, MID)
    forged = data[:cut] + b"T000000005" + trailer[10:]
    with pytest.raises(StatementError, match="counts 5 lines, the statement holds 4"):
        read_statement(forged, MID)


def test_refusals(till):
    data = statement(till.events)
    with pytest.raises(StatementError, match="for merchant 898310048990001, not 898310048990002"):
        read_statement(data, "898310048990002")
    with pytest.raises(StatementError, match="not a merchant statement: the header says file type 'DETL'"):
        read_statement(b"HDETL" + data[5:], MID)
    with pytest.raises(StatementError, match="cut short"):
        read_statement(data[:-1], MID)
    with pytest.raises(StatementError, match="altered"):
        read_statement(data.replace(b"N20261203", b"A20261203", 1), MID)
    extra = _resealed(data, b"\nD", b"\nX")
    with pytest.raises(StatementError, match="only D records"):
        read_statement(extra, MID)
    with pytest.raises(StatementError, match="not valid JSON"):
        read_statement(b"{nope", MID)
    with pytest.raises(StatementError, match="first row must name"):
        read_statement(b"a,b\n1,2\n", MID)
