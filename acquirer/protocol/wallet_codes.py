"""Wallet payment codes: each wallet's shape, and the self-authenticating digits of the kit's wallets.

Shapes (docs/payment-standards.md, "Payment codes"): Alipay 16 to 24
digits starting 25 to 30, WeChat Pay 18 digits starting 10 to 15, the UnionPay
app 19 digits starting 62. The prefix ranges do not overlap, so the digits
alone name the wallet; the terminal (`pos.qr`) and the wallet back end
(`acquirer.wallet`) classify with the same `SHAPES`.

What the digits carry. A real wallet's code is an opaque reference its back
end registered when the phone showed it. The kit's phone (`pos sim
wallet-code`, another process) and its wallet back end (inside the acquirer)
share nothing but a test key, so each code proves itself instead:

    PP AAA TTTTT N... MMMMMM
    |  |   |     |    `- MAC: 6 digits
    |  |   |     `------ nonce: the digits left (WeChat 2, UnionPay 3, Alipay 18-digit codes 2)
    |  |   `------------ issue time: Unix seconds modulo 100000
    |  `---------------- the account's number in its wallet (1-999)
    `------------------- the wallet's prefix

The MAC is HOTP (RFC 4226: HMAC, dynamic truncation, decimal digits) with
HMAC-SHA-256 (as RFC 6238 allows), under the wallet's test key, with every
other digit of the code, read as one number, as the counter. `cryptography`'s
`HOTP` computes it; this module only lays the digits out.

The back end then applies the rules a wallet's do: a code is refused 60 s
after issue (`CODE_TTL_S`) and works once (it keeps every code it accepted).
The issue time is kept modulo 100000 s (27.7 hours): the back end takes the
latest time with those digits that is not in the future (allowing
`CLOCK_SKEW_S` between the phone's clock and its own). A code never used and
shown again a multiple of 27.7 hours later, within its minute, would pass
that test: a risk a simulation accepts, and a real wallet's registry avoids.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.twofactor.hotp import HOTP

__all__ = [
    "CLOCK_SKEW_S", "CODE_TTL_S", "SHAPES", "CodeContent", "InvalidWalletCode", "WalletCodeShape",
    "code_mac", "describe_shapes", "make_code", "mask_code", "read_code", "shape_of",
]

CODE_TTL_S = 60            # a payment code is refused this long after issue
CLOCK_SKEW_S = 5           # how far the phone's clock may run ahead of the back end's
MAC_DIGITS = 6
ACCOUNT_DIGITS = 3
TIME_DIGITS = 5
TIME_MODULUS = 10 ** TIME_DIGITS
#: digits of a code besides the nonce: prefix, account, time, MAC (16: every shape has room for them)
FIXED_DIGITS = 2 + ACCOUNT_DIGITS + TIME_DIGITS + MAC_DIGITS


class InvalidWalletCode(ValueError):
    """Digits that are not a payment code of a kit wallet (shape, unknown wallet, MAC); says which."""


@dataclass(frozen=True)
class WalletCodeShape:
    """One wallet's codes: their first two digits (as a number), their lengths, and the length the kit issues."""

    kind: str
    prefixes: range
    lengths: range
    issued_length: int

    def matches(self, digits: str) -> bool:
        return len(digits) >= 2 and int(digits[:2]) in self.prefixes and len(digits) in self.lengths

    def describe(self) -> str:
        first, last = self.prefixes.start, self.prefixes.stop - 1
        low, high = self.lengths.start, self.lengths.stop - 1
        starts = f"{first}" if first == last else f"{first}-{last}"
        length = f"{low}" if low == high else f"{low}-{high}"
        return f"{self.kind}: {length} digits starting {starts}"


SHAPES: tuple[WalletCodeShape, ...] = (
    WalletCodeShape("alipay", range(25, 31), range(16, 25), 18),
    WalletCodeShape("wechat", range(10, 16), range(18, 19), 18),
    WalletCodeShape("unionpay", range(62, 63), range(19, 20), 19),
)
_BY_KIND = {shape.kind: shape for shape in SHAPES}


def is_digits(text: str) -> bool:
    """ASCII digits only (str.isdigit would also accept other scripts' digits)."""
    return bool(text) and text.isascii() and text.isdigit()


def shape_of(digits: str) -> WalletCodeShape | None:
    """The wallet whose published shape `digits` has, or None."""
    if not is_digits(digits):
        return None
    return next((shape for shape in SHAPES if shape.matches(digits)), None)


def describe_shapes() -> str:
    return "; ".join(shape.describe() for shape in SHAPES)


def code_mac(key: bytes, counter_digits: str, digits: int = MAC_DIGITS) -> str:
    """HOTP-SHA-256 of the number `counter_digits` under `key` (at least 16 bytes), as `digits` digits."""
    return HOTP(key, digits, SHA256()).generate(int(counter_digits)).decode("ascii")


@dataclass(frozen=True)
class CodeContent:
    """What a verified code says: its wallet, account, issue time (mod 100000 s) and nonce."""

    kind: str
    account: int
    issued_mod: int
    nonce: str

    def issued_at(self, now: float) -> float:
        """The latest Unix time with this code's time digits that is not after `now` + the clock skew."""
        latest = int(now) + CLOCK_SKEW_S
        return float(latest - (latest - self.issued_mod) % TIME_MODULUS)


def make_code(kind: str, key: bytes, *, account: int, issued_at: float, prefix: int, nonce: str,
              length: int | None = None) -> str:
    """The digits of a payment code of `kind` (the phone's side); `nonce` fills the length."""
    shape = _BY_KIND.get(kind)
    if shape is None:
        raise InvalidWalletCode(f"unknown wallet {kind!r}: one of {', '.join(_BY_KIND)}")
    length = length or shape.issued_length
    if prefix not in shape.prefixes or length not in shape.lengths:
        raise InvalidWalletCode(f"{kind} code of {length} digits starting {prefix} is not a valid shape "
                                f"({shape.describe()})")
    if not 1 <= account < 10 ** ACCOUNT_DIGITS:
        raise InvalidWalletCode(f"account number {account} is not 1 to {10 ** ACCOUNT_DIGITS - 1}")
    if len(nonce) != length - FIXED_DIGITS or (nonce and not is_digits(nonce)):
        raise InvalidWalletCode(f"a {length}-digit {kind} code needs a nonce of {length - FIXED_DIGITS} digits")
    body = f"{prefix:02d}{account:0{ACCOUNT_DIGITS}d}{int(issued_at) % TIME_MODULUS:0{TIME_DIGITS}d}{nonce}"
    return body + code_mac(key, body)


def read_code(digits: str, keys: Mapping[str, bytes]) -> CodeContent:
    """Check a code's shape and MAC under its wallet's key (`keys`: wallet -> key); `InvalidWalletCode` if not."""
    shape = shape_of(digits)
    if shape is None:
        raise InvalidWalletCode(f"{len(digits)} characters starting {digits[:2]!r} match no wallet "
                                f"({describe_shapes()})")
    key = keys.get(shape.kind)
    if key is None:
        raise InvalidWalletCode(f"no key for wallet {shape.kind}: its codes cannot be checked")
    body, mac = digits[:-MAC_DIGITS], digits[-MAC_DIGITS:]
    if code_mac(key, body) != mac:
        raise InvalidWalletCode(f"{shape.kind} code: MAC (last {MAC_DIGITS} digits) does not verify")
    time_at = 2 + ACCOUNT_DIGITS
    return CodeContent(kind=shape.kind, account=int(body[2:time_at]),
                       issued_mod=int(body[time_at:time_at + TIME_DIGITS]), nonce=body[time_at + TIME_DIGITS:])


def mask_code(digits: str) -> str:
    """First 4 and last 4 digits, the rest as '*': what journals, receipts and logs show of a code."""
    if len(digits) <= 8:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
