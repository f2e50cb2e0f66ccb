"""Wallet payment codes and the wallet test-data file: what a wallet back end can tell from the digits alone."""
from pathlib import Path

import pytest

from acquirer.protocol.wallet_app import AppAnswer, AppMessageError, MerchantCodePayment
from acquirer.protocol.wallet_codes import (
    CLOCK_SKEW_S,
    InvalidWalletCode,
    code_mac,
    make_code,
    mask_code,
    read_code,
    shape_of,
)
from acquirer.protocol.wallets import WalletFileError, load_wallets

KEY = bytes.fromhex("9DE1DB0AD1058C567311D59445CA30E8")   # TEST KEY (config/wallets.toml's Alipay key)
OTHER_KEY = bytes.fromhex("9A2BAA306C6F07402DFC7866F46CB53D")
NOW = 1_750_000_000.0
CONFIG = Path(__file__).parents[2] / "config"


def test_mac_is_rfc_6238_hotp_sha256() -> None:
    # RFC 6238 appendix B: the SHA-256 seed, T = 1 (time 59 s) -> 46119246 (8 digits)
    assert code_mac(b"12345678901234567890123456789012", "1", digits=8) == "46119246"


@pytest.mark.parametrize(("kind", "prefix", "nonce", "length"), [
    ("alipay", 28, "07", 18), ("alipay", 25, "", 16), ("alipay", 30, "12345678", 24),
    ("wechat", 13, "42", 18), ("unionpay", 62, "123", 19),
])
def test_a_code_carries_account_and_issue_time_and_keeps_its_wallet_shape(
        kind: str, prefix: int, nonce: str, length: int) -> None:
    code = make_code(kind, KEY, account=7, issued_at=NOW, prefix=prefix, nonce=nonce, length=length)
    assert len(code) == length and code.startswith(str(prefix)) and shape_of(code).kind == kind
    content = read_code(code, {kind: KEY})
    assert (content.kind, content.account, content.nonce) == (kind, 7, nonce)
    assert content.issued_at(NOW + 59) == NOW


def test_every_digit_is_covered_by_the_mac() -> None:
    code = make_code("wechat", KEY, account=1, issued_at=NOW, prefix=13, nonce="42")
    changed = [code[:i] + str((int(code[i]) + 1) % 10) + code[i + 1:] for i in range(2, len(code))]
    for other in changed:   # prefix digits excluded: 13 -> 14 is still WeChat, covered too, see below
        with pytest.raises(InvalidWalletCode, match="MAC"):
            read_code(other, {"wechat": KEY})
    with pytest.raises(InvalidWalletCode, match="MAC"):
        read_code("14" + code[2:], {"wechat": KEY})
    with pytest.raises(InvalidWalletCode, match="MAC"):
        read_code(code, {"wechat": OTHER_KEY})


@pytest.mark.parametrize(("digits", "reason"), [
    ("6901234567892", "match no wallet"),              # a product barcode
    ("2512345678901234", "MAC"),                        # an Alipay shape, not a code the kit's wallet made
    ("13abcdefghijklmnop", "match no wallet"),
])
def test_what_is_not_a_kit_wallet_code(digits: str, reason: str) -> None:
    with pytest.raises(InvalidWalletCode, match=reason):
        read_code(digits, {"alipay": KEY, "wechat": KEY})
    code = make_code("unionpay", KEY, account=1, issued_at=NOW, prefix=62, nonce="000")
    with pytest.raises(InvalidWalletCode, match="no key for wallet unionpay"):
        read_code(code, {"alipay": KEY})


def test_issue_time_is_recovered_across_the_modulus_and_allows_clock_skew() -> None:
    issued = 1_750_099_990.0            # 10 s before the time digits wrap (mod 100000)
    content = read_code(make_code("alipay", KEY, account=1, issued_at=issued, prefix=28, nonce="00"), {"alipay": KEY})
    assert content.issued_at(issued + 25) == issued            # read after the wrap
    assert content.issued_at(issued - CLOCK_SKEW_S) == issued  # the phone's clock a little ahead
    assert content.issued_at(issued - CLOCK_SKEW_S - 1) == issued - 100_000   # further: yesterday's


def test_shape_errors_when_making_a_code() -> None:
    with pytest.raises(InvalidWalletCode, match="starting 31"):
        make_code("alipay", KEY, account=1, issued_at=NOW, prefix=31, nonce="00")
    with pytest.raises(InvalidWalletCode, match="account number 1000"):
        make_code("alipay", KEY, account=1000, issued_at=NOW, prefix=28, nonce="00")
    with pytest.raises(InvalidWalletCode, match="nonce of 2 digits"):
        make_code("wechat", KEY, account=1, issued_at=NOW, prefix=13, nonce="1")


def test_masked_code_shows_four_and_four() -> None:
    assert mask_code("283456789012345678") == "2834**********5678"
    assert mask_code("12345678") == "********"


def test_the_shipped_wallets_file() -> None:
    wallets = load_wallets(CONFIG / "wallets.toml")
    assert set(wallets.settings) == {"alipay", "wechat", "unionpay"}
    assert wallets.settings["alipay"].key == KEY and wallets.app_port == 8584
    silent = wallets.account("alipay-silent")
    assert (silent.number, silent.password, silent.confirms) == (3, "always", False)
    assert wallets.by_number("wechat", 1).name == "wechat-bob"
    assert wallets.first_account("unionpay").name == "unionpay-carol"


@pytest.mark.parametrize(("edit", "message"), [
    (("password_free_limit = 20000", "password_free_limit = -1", 1), "wallet.alipay.password_free_limit: input should be greater than or equal to 0"),
    (('key = "9DE1DB0AD1058C567311D59445CA30E8"', 'key = "ABC"', 1), "wallet.alipay.key: must be 32 hex digits"),
    (('wallet = "wechat"\nnumber = 1', 'wallet = "paypal"\nnumber = 1', 1), "account[4].wallet: no [wallet.paypal]"),
    (('name = "wechat-bob"', 'name = "alipay-alice"', 1), "account[4].name: account 'alipay-alice' is defined twice"),
    (('number = 2\nname = "alipay-always"', 'number = 1\nname = "alipay-always"', 1),
     "account[1].number: alipay account number 1 is taken"),
    (('"always"\nconfirms = false', '"always"\nconfirms = "no"', 1), "account[2].confirms: input should be a valid boolean"),
    (("port = 8584", "prot = 8584", 1), "apps.prot: unknown key"),
    (("[wallet.alipay]", "[wallet.paypal]", 1), "wallet.paypal: unknown wallet; one of"),
])
def test_wallets_file_errors_name_the_file_and_key(tmp_path: Path, edit: tuple[str, str, int], message: str) -> None:
    old, new, count = edit
    text = (CONFIG / "wallets.toml").read_text()
    assert old in text
    (tmp_path / "wallets.toml").write_text(text.replace(old, new, count))
    with pytest.raises(WalletFileError) as caught:
        load_wallets(tmp_path / "wallets.toml")
    assert str(caught.value).startswith(f"{tmp_path / 'wallets.toml'}: ") and message in str(caught.value)


def test_app_messages_round_trip_and_refuse_nonsense() -> None:
    payment = MerchantCodePayment("alipay", "283456789012345678", "00020101021226...")
    assert MerchantCodePayment.from_line(payment.to_line()) == payment
    assert "2834" not in repr(payment)
    answer = AppAnswer("00", "Paid", 1234, "天天便利店", "000000000001")
    assert AppAnswer.from_line(answer.to_line()) == answer and answer.paid
    for line, match in ((b"not json\n", "not a JSON line"), (b"[1]\n", "JSON object"),
                        (b'{"pay": "card"}\n', "'pay' must be"),
                        (b'{"pay": "merchant-code", "wallet": "alipay", "code": ""}\n', "'code'")):
        with pytest.raises(AppMessageError, match=match):
            MerchantCodePayment.from_line(line)
    with pytest.raises(AppMessageError, match="amount"):
        AppAnswer.from_line(b'{"response_code": "00", "message": "Paid", "amount": 12.5}\n')
