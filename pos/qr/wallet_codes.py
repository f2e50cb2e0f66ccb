"""Wallet payment codes: the digits a customer's wallet app shows as a QR or barcode.

The wallets publish the shape of their codes (payments.md section 4): Alipay 16
to 24 digits starting 25 to 30, WeChat Pay 18 digits starting 10 to 15, the
UnionPay app 19 digits starting 62. The prefix ranges do not overlap, so a code
belongs to at most one wallet; anything else is refused before it reaches the
acquirer.
"""
from __future__ import annotations

from dataclasses import dataclass

from pos.payment import WalletCode
from pos.qr.errors import UnknownPayload


@dataclass(frozen=True)
class WalletCodeRule:
    kind: str
    prefixes: range          # the first two digits, as a number
    lengths: range           # the allowed total digit counts

    def matches(self, digits: str) -> bool:
        return int(digits[:2]) in self.prefixes and len(digits) in self.lengths

    def describe(self) -> str:
        first, last = self.prefixes.start, self.prefixes.stop - 1
        low, high = self.lengths.start, self.lengths.stop - 1
        starts = f"{first}" if first == last else f"{first}-{last}"
        length = f"{low}" if low == high else f"{low}-{high}"
        return f"{self.kind}: {length} digits starting {starts}"


RULES: tuple[WalletCodeRule, ...] = (
    WalletCodeRule("alipay", range(25, 31), range(16, 25)),
    WalletCodeRule("wechat", range(10, 16), range(18, 19)),
    WalletCodeRule("unionpay", range(62, 63), range(19, 20)),
)


def is_digits(payload: str) -> bool:
    """ASCII digits only (str.isdigit would also accept other scripts' digits)."""
    return bool(payload) and payload.isascii() and payload.isdigit()


def classify_wallet_code(payload: str) -> WalletCode:
    """The wallet a digit string belongs to, or UnknownPayload naming what was expected."""
    digits = payload.strip()
    if not is_digits(digits):
        raise UnknownPayload(f"wallet code {digits[:4]!r}... is not all digits")
    if len(digits) >= 2:
        for rule in RULES:
            if rule.matches(digits):
                return WalletCode(rule.kind, digits)
    shapes = "; ".join(rule.describe() for rule in RULES)
    raise UnknownPayload(f"{len(digits)} digits starting {digits[:2]!r} match no wallet ({shapes})")
