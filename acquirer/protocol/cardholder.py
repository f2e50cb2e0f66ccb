"""Cardholder data rules shared by the terminal, the host and the simulators: the PAN token and the mask.

- **Token.** What the terminal's journal and the acquirer store instead of a
  card number, to recognise the same card again (a void or refund must come
  with the card of the original; the host joins a card's transactions). A
  plain hash of a PAN can be reversed by brute force (a BIN plus a check
  digit leaves a few billion candidates), so the token is keyed: the first
  128 bits of HMAC-SHA256(token key, PAN), written as 32 lower-case hex
  digits. Terminal and host each use their own key (`[terminal] token_key`,
  `[host] token_key`), so their tokens differ, but the rule is this one.
- **Mask.** What people, receipts and logs see: the first 6 and the last 4
  digits, the middle as `*` (docs/payment-standards.md, "Cardholder data"). A number
  of 10 digits or fewer is masked whole.
"""
from __future__ import annotations

import hashlib
import hmac

__all__ = ["TOKEN_HEX_LEN", "mask_pan", "pan_token"]

TOKEN_HEX_LEN = 32  # 128 bits of the HMAC: collision-free for any realistic card base


def pan_token(token_key: bytes, pan: str) -> str:
    """The keyed token of a PAN: 32 lower-case hex characters."""
    return hmac.new(token_key, pan.encode("ascii"), hashlib.sha256).hexdigest()[:TOKEN_HEX_LEN]


def mask_pan(pan: str) -> str:
    """First 6 and last 4 digits, the middle as `*` (e.g. `621483*********0015`)."""
    if len(pan) <= 10:
        return "*" * len(pan)
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]
