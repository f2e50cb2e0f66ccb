"""Wallet payment codes: the digits a customer's wallet app shows as a QR or barcode.

The wallets publish the shape of their codes (docs/payment-standards.md, "Payment codes"): Alipay 16
to 24 digits starting 25 to 30, WeChat Pay 18 digits starting 10 to 15, the
UnionPay app 19 digits starting 62. The prefix ranges do not overlap, so a code
belongs to at most one wallet; anything else is refused before it reaches the
acquirer. The shapes are the protocol layer's (`acquirer.protocol.wallet_codes`),
the same the wallet back end checks.
"""
from __future__ import annotations

from acquirer.protocol.wallet_codes import describe_shapes, is_digits, shape_of
from pos.core.payment import WalletCode
from pos.sources.qr.errors import UnknownPayload

__all__ = ["classify_wallet_code", "is_digits"]


def classify_wallet_code(payload: str) -> WalletCode:
    """The wallet a digit string belongs to, or UnknownPayload naming what was expected."""
    digits = payload.strip()
    if not is_digits(digits):
        raise UnknownPayload(f"wallet code {digits[:4]!r}... is not all digits")
    shape = shape_of(digits)
    if shape is None:
        raise UnknownPayload(f"{len(digits)} digits starting {digits[:2]!r} match no wallet ({describe_shapes()})")
    return WalletCode(shape.kind, digits)
