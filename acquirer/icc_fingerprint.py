"""The keyed digest of a request's field 55: how the host tells a resent request from a reused trace number.

Each card transaction has a cryptogram of its own (unpredictable number, ATC,
ARQC), so equal digests mean the same request sent again and different ones
another transaction (docs/acquirer.md, "Reused trace numbers"). Field 55 itself
is never stored; the digest is keyed with the host's token key so it cannot be
matched against captured traffic.
"""
from __future__ import annotations

import hashlib

from acquirer.protocol.cardholder import TOKEN_HEX_LEN

__all__ = ["icc_fingerprint"]


def icc_fingerprint(token_key: bytes, icc: bytes) -> str:
    """The keyed digest of field 55 (32 hex characters)."""
    # keyed BLAKE2b: one pass (HMAC-SHA256 takes two), on every request with field 55
    return hashlib.blake2b(icc, key=token_key, digest_size=TOKEN_HEX_LEN // 2, person=b"icc").hexdigest()
