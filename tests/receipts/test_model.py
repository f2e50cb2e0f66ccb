"""The receipt model: what it accepts, and the card data it refuses."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acquirer.protocol.cardholder import mask_pan
from receipts import (
    CardDetails,
    Outcome,
    ReceiptFieldError,
    TransactionType,
    UnmaskedPanError,
    format_amount,
    from_json,
    to_json,
)
from tests.receipts import samples


def test_a_full_pan_is_refused_and_not_repeated_in_the_error():
    pan = samples.full_pan()
    with pytest.raises(UnmaskedPanError) as caught:
        replace(samples.card(), masked_pan=pan)
    assert pan not in str(caught.value)
    assert "card.masked_pan" in str(caught.value)


@pytest.mark.parametrize("masked", [
    "6214830*********015",    # seven leading digits
    "621483********00015",    # five trailing digits
    "621483****5***0015",     # a digit in the middle
    "6214 83** **** 0015",    # not digits and '*'
])
def test_more_than_first_six_and_last_four_is_refused(masked):
    with pytest.raises(UnmaskedPanError):
        replace(samples.card(), masked_pan=masked)


@given(st.text(alphabet="0123456789", min_size=12, max_size=19))
def test_any_pan_masked_by_the_terminal_is_accepted_and_unmasked_refused(pan):
    card = replace(samples.card(), masked_pan=mask_pan(pan))
    assert card.masked_pan.startswith(pan[:6]) and card.masked_pan.endswith(pan[-4:])
    with pytest.raises(UnmaskedPanError):
        replace(samples.card(), masked_pan=pan)


@pytest.mark.parametrize("change, field", [
    ({"when": datetime(2024, 5, 1, 12, 0)}, "when"),
    ({"amount_fen": -1}, "amount_fen"),
    ({"amount_fen": 12.34}, "amount_fen"),
    ({"currency": 840}, "currency"),
    ({"trace": 1_000_000}, "trace"),
    ({"terminal_id": "123"}, "terminal_id"),
    ({"rrn": "12345"}, "rrn"),
    ({"e_receipt_url": "javascript:alert(1)"}, "e_receipt_url"),
])
def test_bad_fields_are_named(change, field):
    with pytest.raises(ReceiptFieldError) as caught:
        samples.sale(**change)
    assert caught.value.field == field


def test_a_decline_needs_its_reason_and_chip_fields_are_checked():
    with pytest.raises(ReceiptFieldError, match="outcome.reason"):
        Outcome(False, "51")
    with pytest.raises(ReceiptFieldError, match="card.cryptogram"):
        replace(samples.card(), cryptogram="XYZ")
    with pytest.raises(ReceiptFieldError, match="cryptogram_kind"):
        CardDetails("unionpay", "621483*********0015", "07", cryptogram="8A1F2E3D4C5B6A79")


def test_money_back_to_the_cardholder_is_negative():
    assert samples.sale().signed_amount_fen == 1234
    assert samples.void().signed_amount_fen == -1234
    assert samples.refund().signed_amount_fen == -500
    assert samples.settlement().net_fen == 3702 - 1234 - 500
    assert [TransactionType(t).returns_money for t in ("sale", "void", "refund")] == [False, True, True]


@pytest.mark.parametrize("fen, shown", [
    (1234, "¥12.34"), (-1234, "-¥12.34"), (5, "¥0.05"), (0, "¥0.00"), (123456789, "¥1,234,567.89")])
def test_amounts_show_as_yuan(fen, shown):
    assert format_amount(fen) == shown


def test_format_amount_refuses_floats():
    with pytest.raises(TypeError):
        format_amount(12.34)


@pytest.mark.parametrize("make", [samples.sale, samples.void, samples.refund, samples.decline,
                                  samples.settlement, lambda: samples.sale().as_reprint()])
def test_json_round_trip(make):
    document = make()
    text = to_json(document)
    assert from_json(text) == document
    assert samples.full_pan() not in text


def test_copies_come_merchant_first():
    merchant, cardholder = samples.sale().copies()
    assert (merchant.copy, cardholder.copy) == ("merchant", "cardholder")
