"""Wallet payment codes: each wallet's digits are recognised up to the edges of their shape, nothing else is."""
import pytest

from pos.core.payment import WalletCode
from pos.sources.qr import UnknownPayload, classify_payload, classify_wallet_code


def code(prefix: str, length: int) -> str:
    return (prefix + "0123456789" * 3)[:length]


@pytest.mark.parametrize(("digits", "kind"), [
    (code("25", 16), "alipay"), (code("25", 24), "alipay"), (code("30", 16), "alipay"),
    (code("30", 24), "alipay"), (code("28", 18), "alipay"),
    (code("10", 18), "wechat"), (code("15", 18), "wechat"), (code("13", 18), "wechat"),
    (code("62", 19), "unionpay"),
])
def test_codes_inside_each_wallet_shape_are_classified(digits: str, kind: str) -> None:
    assert classify_wallet_code(digits) == WalletCode(kind, digits)
    assert classify_payload(f" {digits}\n") == WalletCode(kind, digits)


@pytest.mark.parametrize("digits", [
    code("24", 18), code("31", 18),            # just outside Alipay's prefixes
    code("28", 15), code("28", 25),            # Alipay lengths 16-24
    code("09", 18), code("16", 18),            # just outside WeChat's prefixes
    code("13", 17), code("13", 19),            # WeChat is exactly 18 digits
    code("62", 18), code("62", 20),            # UnionPay is exactly 19 digits
    code("61", 19), code("63", 19),
    "6901234567892",                           # a product barcode (EAN-13)
    "2", "",
])
def test_digits_outside_every_shape_are_refused(digits: str) -> None:
    with pytest.raises(UnknownPayload) as caught:
        classify_payload(digits)
    assert "payment code" in caught.value.message


def test_refusal_names_the_shapes_it_expected() -> None:
    with pytest.raises(UnknownPayload, match=r"17 digits starting '13'.*wechat: 18 digits starting 10-15"):
        classify_wallet_code(code("13", 17))


@pytest.mark.parametrize("payload", [
    "28123456789012345a",           # a letter among the digits
    "２８１２３４５６７８９０１２３４５６",  # full-width digits are not ASCII digits
    "2812 3456 7890 1234 56",       # digits as printed with spaces are not what a scanner reads
    "https://qr.example.com/pay?code=281234567890123456",
])
def test_not_a_code(payload: str) -> None:
    with pytest.raises(UnknownPayload):
        classify_payload(payload)
