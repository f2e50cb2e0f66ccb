"""Amount input: what a cashier may type, and the message for what is refused."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.core.amount import AmountError, format_amount, parse_amount

MAX = 5_000_000


@pytest.mark.parametrize("text, fen", [("12.34", 1234), ("12", 1200), ("0.01", 1), ("0.1", 10),
                                       (" 7.5 ", 750), ("50000.00", MAX)])
def test_accepted_amounts_become_fen(text, fen):
    assert parse_amount(text, max_fen=MAX) == fen


@pytest.mark.parametrize("text, words", [
    ("-5", "negative"), ("-0.01", "negative"), ("0", "zero"), ("0.00", "zero"),
    ("1.234", "more than two decimals"), ("50000.01", "over this terminal's maximum of ¥50,000.00"),
    ("abc", "not a number"), ("1e3", "not a number"), ("12,34", "not a number"), ("", "empty"),
    ("1.", "not a number"), (".5", "not a number"), ("NaN", "not a number"), ("+5", "not a number"),
])
def test_refused_amounts_say_why(text, words):
    with pytest.raises(AmountError, match=words):
        parse_amount(text, max_fen=MAX)


@given(st.integers(min_value=1, max_value=MAX))
def test_displayed_amount_parses_back(fen):
    shown = format_amount(fen).removeprefix("¥").replace(",", "")
    assert parse_amount(shown, max_fen=MAX) == fen


def test_format_amount():
    assert format_amount(123456) == "¥1,234.56"
    assert format_amount(5) == "¥0.05"
    assert format_amount(-1200) == "-¥12.00"


def test_a_pasted_5000_digit_amount_is_over_the_maximum_and_the_message_stays_short():
    with pytest.raises(AmountError, match=r"'9999999999\.\.\.9999999999' \(5000 characters\) is over this "
                                          r"terminal's maximum of ¥50,000\.00") as refused:
        parse_amount("9" * 5000, max_fen=MAX)
    assert len(str(refused.value)) < 120
    assert parse_amount("0" * 5000 + "12.34", max_fen=MAX) == 1234   # leading zeros are only zeros
