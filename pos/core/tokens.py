"""Keyed PAN tokens: recognise a card again without keeping its number.

The journal stores the masked PAN for people and this token for matching (a
void or refund must be presented with the same card). An HMAC under the
terminal's token key, not a plain hash: the PAN space of one BIN is small
enough to brute-force an unkeyed hash.
"""
from __future__ import annotations

import hashlib
import hmac


def pan_token(key: bytes, pan: str) -> str:
    """32 hex characters of HMAC-SHA256(key, PAN)."""
    return hmac.new(key, pan.encode("ascii"), hashlib.sha256).hexdigest()[:32].upper()
