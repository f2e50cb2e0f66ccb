"""Fixed-width records: exact widths, and a value that does not fit is an error naming its field."""
from __future__ import annotations

import pytest

from acquirer.protocol.clearing_layouts import PAYOUT, TRAILER


def test_record_is_exactly_as_wide_as_its_layout():
    record = PAYOUT.format(("P", "898310048990001", "310066632018001234567", 2, 9_000, -50, 8_950, 0))
    assert len(record) == PAYOUT.width == 109
    assert record[46:49] == "002" and record[49:64] == "+00000000009000" and record[64:79] == "-00000000000050"


@pytest.mark.parametrize(("values", "message"), [
    (("P", "8983100489900011", "x", 1, 0, 0, 0, 0), "field merchant"),        # 16 characters in 15
    (("P", "898310048990001", "x", -1, 0, 0, 0, 0), "field days: -1"),        # unsigned
    (("P", "898310048990001", "x", 1000, 0, 0, 0, 0), "field days: 1000"),    # 4 digits in 3
    (("P", "898310048990001", "x", 1, 10**15, 0, 0, 0), "field due"),         # sign + 14 digits
    (("P", "898310048990001", "x", "1", 0, 0, 0, 0), "field days: integer expected"),
    (("P", "8983100489900é1", "x", 1, 0, 0, 0, 0), "field merchant"),         # ASCII only
])
def test_values_that_do_not_fit_are_refused(values, message):
    with pytest.raises((ValueError, TypeError), match=message):
        PAYOUT.format(values)


def test_missing_text_is_blank():
    record = TRAILER.format(("T", 0, 0, 0, 0, None))
    assert record.endswith(" " * 64)
