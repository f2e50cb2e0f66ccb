"""PAN tokens and masked PANs: what the acquirer stores instead of card numbers.

Why keyed: a plain hash of a PAN is reversible by brute force (a BIN plus a
check digit leaves a few billion candidates), so the token is an HMAC-SHA256
of the PAN under the host's token key (`[host] token_key`, a test key in the
shipped configuration). The same PAN always gives the same token, so tokens
join transactions of one card without the PAN ever reaching a table or log.
"""
from __future__ import annotations

import hashlib
import hmac

__all__ = ["icc_fingerprint", "mask_pan", "pan_token"]

TOKEN_HEX_LEN = 32  # 128 bits of the HMAC: collision-free for any realistic card base


def pan_token(token_key: bytes, pan: str) -> str:
    """The keyed token of a PAN: 32 lower-case hex characters."""
    return hmac.new(token_key, pan.encode("ascii"), hashlib.sha256).hexdigest()[:TOKEN_HEX_LEN]


def mask_pan(pan: str) -> str:
    """First 6 and last 4 digits, the middle as `*` (e.g. `621483*********0015`)."""
    if len(pan) <= 10:
        return "*" * len(pan)
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def icc_fingerprint(token_key: bytes, icc: bytes) -> str:
    """The keyed digest of a request's field 55 (32 hex characters).

    Each card transaction has a cryptogram of its own (unpredictable number,
    ATC, ARQC), so equal digests mean the same request sent again and
    different ones another transaction; field 55 itself is never stored.
    """
    return hmac.new(token_key, b"icc:" + icc, hashlib.sha256).hexdigest()[:TOKEN_HEX_LEN]
