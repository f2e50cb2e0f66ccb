"""Fees against hand-computed cases (rates: debit 0.35% capped 1300 fen, credit 0.45%,
network 0.0325% per side capped 325 fen, acquirer 0.1% standard / 0.05% capped 500 small)."""
from __future__ import annotations

import pytest

from acquirer.clearing.errors import ClearingError
from acquirer.clearing.events import Channel, Fees, LineCode
from acquirer.clearing.fees import FeeEngine
from acquirer.protocol.fee_rounding import fee_fen
from tests.clearing.helpers import MID_B, MID_DOWN, config, event

ENGINE = FeeEngine(config())


def fees(amount: int, **kw: object) -> Fees:
    return ENGINE.fees(event(amount, **kw))  # type: ignore[arg-type]


def test_debit_sale_of_100_yuan():
    # issuer 10000 x 0.35% = 35; network 3.25 -> 3 (half up); acquirer 10
    f = fees(10_000)
    assert (f.issuer, f.network_acquirer, f.network_issuer, f.acquirer, f.mdr) == (35, 3, 3, 10, 48)


def test_debit_issuer_fee_just_below_the_13_yuan_cap():
    # 3,710.00 CNY x 0.35% = 1298.5 fen -> 1299 (half up), under the 1300 cap
    assert fees(371_000).issuer == 1299


def test_debit_issuer_fee_at_and_above_the_cap():
    assert fees(371_429).issuer == 1300      # 1300.0015 -> 1300
    assert fees(400_000).issuer == 1300      # 1400 capped
    assert fees(10_000_000).issuer == 1300   # 35000 capped


def test_network_fee_on_both_sides_of_its_cap():
    below = fees(990_000)     # 321.75 -> 322
    at = fees(1_000_000)      # 325 exactly
    above = fees(1_200_000)   # 390 capped at 325
    assert (below.network_acquirer, at.network_acquirer, above.network_acquirer) == (322, 325, 325)
    assert (below.network_issuer, above.network_issuer) == (322, 325)


def test_debit_above_both_caps_mdr():
    f = fees(1_200_000)   # issuer capped 1300, network capped 325, acquirer 1200
    assert f.mdr == 1300 + 325 + 1200


def test_credit_has_no_issuer_cap():
    f = fees(1_200_000, credit=True)
    assert (f.issuer, f.network_acquirer, f.acquirer, f.mdr) == (5400, 325, 1200, 6925)
    assert fees(10_000, credit=True).issuer == 45


def test_foreign_scheme_contract_rates():
    f = fees(10_000, channel=Channel.FOREIGN, scheme="visa", institution="visa-bank")
    assert (f.issuer, f.network_acquirer, f.network_issuer, f.acquirer, f.mdr) == (100, 10, 10, 10, 120)
    capped = fees(1_000_000, channel=Channel.FOREIGN, scheme="visa", institution="visa-bank")
    assert capped.network_acquirer == 500    # 1000 capped by the contract's 500


def test_wallet_channel_fee_in_place_of_the_issuer_fee():
    f = fees(10_000, channel=Channel.WALLET, scheme="alipay", institution="wallet-alipay")
    assert (f.issuer, f.network_acquirer, f.network_issuer, f.acquirer, f.mdr) == (38, 0, 0, 10, 48)
    assert fees(10_000, channel=Channel.WALLET, scheme="unionpay", institution="wallet-unionpay").issuer == 30


def test_odd_fen_round_half_up():
    assert fees(1).mdr == 0                  # 0.0035 + 0.000325 + 0.001
    assert fees(142).issuer == 0             # 0.497
    assert fees(143).issuer == 1             # 0.5005
    f = fees(1_000)                          # issuer exactly 3.5 -> 4; network 0.325 -> 0; acquirer 1
    assert (f.issuer, f.network_acquirer, f.acquirer) == (4, 0, 1)


def test_merchant_rounding_down_applies_to_the_acquirer_fee_only():
    # 1500 x 0.1% = 1.5: half up 2, down 1; the issuer fee 5.25 -> 5 either way
    assert fees(1_500).acquirer == 2
    down = fees(1_500, mid=MID_DOWN)
    assert (down.acquirer, down.issuer) == (1, 5)


def test_rate_plan_cap():
    assert fees(2_000_000, mid=MID_B).acquirer == 500    # 0.05% = 1000, capped at 500


def test_refund_gives_back_the_fee_of_its_amount_with_the_sign():
    f = fees(-10_000, code=LineCode.REFUND)
    assert (f.issuer, f.network_acquirer, f.acquirer, f.mdr) == (-35, -3, -10, -48)


def test_void_gives_back_exactly_the_original_fees():
    original = Fees(1299, 322, 322, 990)
    f = fees(-371_000, code=LineCode.VOID, original_fees=original)
    assert f == Fees(-1299, -322, -322, -990)


def test_dispute_lines_carry_no_fees():
    assert fees(-10_000, code=LineCode.CHARGEBACK).mdr == 0
    assert fees(10_000, code=LineCode.REPRESENTMENT).mdr == 0


def test_unknown_merchant_and_unknown_rates_are_clear_errors():
    with pytest.raises(ClearingError, match="merchant 898310048999999 has no terms"):
        fees(100, mid="898310048999999")
    with pytest.raises(ClearingError, match="mastercard"):
        fees(100, channel=Channel.FOREIGN, scheme="mastercard")


@pytest.mark.parametrize(("amount", "ppm", "cap", "expected"), [
    (999_999, 1, None, 1), (499_999, 1, None, 0), (500_000, 1, None, 1), (-500_000, 1, None, -1),
    (10, 3500, 0, 0)])
def test_fee_fen_rounding_and_cap(amount, ppm, cap, expected):
    assert fee_fen(amount, ppm, cap) == expected
