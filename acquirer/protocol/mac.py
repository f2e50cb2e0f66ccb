"""Field 64 MACs of the 8583 link, and the ISO 9797-1 MAC algorithm 3 they share with EMV.

Two MACs are in use per terminal (chosen in the terminal's configuration):

- ``"ecb"``, the UnionPay POS "ECB" MAC (docs/payment-standards.md, "The POS link"). No library
  implements it, so it is written here: zero-pad the MAB to 8 bytes, XOR all
  8-byte blocks, write the result as 16 upper-case hex characters, DES-encrypt
  the first 8 characters with the MAC key, XOR with the last 8 characters,
  DES-encrypt again; field 64 is the first 8 hex characters of that, as ASCII.
  Only the first 8 bytes of a double-length MAC key take part.
- ``"x919"``, the ANSI X9.19 retail MAC = ISO/IEC 9797-1 MAC algorithm 3 with
  padding method 1 (zeros) and a double-length key; field 64 carries the 8
  binary bytes.

ISO 9797-1 algorithm 3 is also the EMV application cryptogram (padding method
2), so ``iso9797_alg3`` is shared with `cryptogram`. pyemv has the same
algorithm (`pyemv.mac.mac_iso9797_3`) and the tests check both agree; this
module does not call it on the hot path because it builds two `Cipher` objects
per call through cryptography's deprecated TripleDES location, three times
slower than the cached key schedules of `des` (see tests/bench/bench_crypto.py).
"""
from __future__ import annotations

import functools
import hmac
import operator
import sys

from acquirer.protocol.des import (
    BLOCK_SIZE,
    DesInputError,
    tdes_cbc_encrypt,
    tdes_encrypt,
)

__all__ = [
    "MAC_ALGORITHMS",
    "MacAlgorithmError",
    "compute_mac",
    "iso9797_alg3",
    "mac_ecb",
    "mac_x919",
    "verify_mac",
]


class MacAlgorithmError(ValueError):
    """The named MAC algorithm is not one the kit implements."""


def _pad_zeros(data: bytes) -> bytes:
    """ISO 9797-1 padding method 1 (an empty message becomes one zero block)."""
    if not data:
        return bytes(BLOCK_SIZE)
    return data + bytes(-len(data) % BLOCK_SIZE)


def _pad_80(data: bytes) -> bytes:
    """ISO 9797-1 padding method 2 (EMV): 0x80 then zeros to the block size."""
    data += b"\x80"
    return data + bytes(-len(data) % BLOCK_SIZE)


_PADDINGS = {1: _pad_zeros, 2: _pad_80}


def iso9797_alg3(key16: bytes, data: bytes, padding: int, *, transient: bool = False) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (retail MAC): 8-byte MAC.

    Single-DES CBC-MAC under K1 (the first 8 key bytes), then the last block is
    decrypted under K2 and encrypted under K1 again. ``padding`` is the
    ISO 9797-1 padding method: 1 (zeros, X9.19) or 2 (0x80, EMV);
    ``transient=True`` for a key of one transaction (an EMV session key, see
    `des`).

    Computed as: CBC under K1 over all blocks but the last, then the last
    block (xor the chaining value) encrypted once with 3DES K1 K2 K1, which is
    E_K1(D_K2(E_K1(.))), the same three steps. So the 16-byte key's one
    encryptor does the output step, shared with the ARPC under an EMV session
    key, and no K2 decryptor is ever built.
    """
    if len(key16) != 16:
        raise DesInputError(f"ISO 9797-1 algorithm 3 needs a 16-byte key, got {len(key16)}")
    try:
        pad = _PADDINGS[padding]
    except KeyError:
        raise ValueError(f"ISO 9797-1 padding method must be 1 or 2, got {padding!r}") from None
    padded = pad(data)
    last = padded[-BLOCK_SIZE:]
    if len(padded) > BLOCK_SIZE:
        chain = tdes_cbc_encrypt(key16[:8], padded[:-BLOCK_SIZE], transient=transient)[-BLOCK_SIZE:]
        last = (int.from_bytes(last, "big") ^ int.from_bytes(chain, "big")).to_bytes(BLOCK_SIZE, "big")
    return tdes_encrypt(key16, last, transient=transient)


def _xor_blocks(data: bytes) -> bytes:
    padded = data + bytes(-len(data) % BLOCK_SIZE)
    # XOR is bitwise, so folding native 64-bit words gives the right bytes
    # as long as they are read and written in the same (native) byte order.
    folded = functools.reduce(operator.xor, memoryview(padded).cast("Q"), 0)
    return folded.to_bytes(BLOCK_SIZE, sys.byteorder)


def mac_ecb(key: bytes, mab: bytes) -> bytes:
    """The UnionPay POS "ECB" MAC: 8 ASCII hex characters (upper case).

    ``key`` is the MAC key; only its first 8 bytes are used (single DES), so a
    16-byte working key from sign-on can be passed as it is.
    """
    if len(key) not in (8, 16, 24):
        raise DesInputError(f"MAC key must be 8, 16 or 24 bytes, got {len(key)}")
    hex_block = _xor_blocks(mab).hex().upper().encode("ascii")
    # encrypt the first 8 characters, XOR the last 8, encrypt again: that is
    # DES-CBC over the 16 characters (zero IV), whose second block is the result
    result = tdes_cbc_encrypt(key[:8], hex_block)[BLOCK_SIZE:]
    return result.hex().upper()[:8].encode("ascii")


def mac_x919(key16: bytes, mab: bytes) -> bytes:
    """ANSI X9.19 retail MAC (ISO 9797-1 algorithm 3, zero padding): 8 binary bytes."""
    return iso9797_alg3(key16, mab, padding=1)


_ALGORITHMS = {"ecb": mac_ecb, "x919": mac_x919}
MAC_ALGORITHMS = tuple(_ALGORITHMS)


def compute_mac(algorithm: str, key: bytes, mab: bytes) -> bytes:
    """Field 64 for ``mab`` under the terminal's MAC algorithm ("ecb" or "x919")."""
    try:
        function = _ALGORITHMS[algorithm]
    except KeyError:
        raise MacAlgorithmError(
            f"unknown MAC algorithm {algorithm!r}; expected one of {', '.join(MAC_ALGORITHMS)}"
        ) from None
    return function(key, mab)


def verify_mac(algorithm: str, key: bytes, mab: bytes, mac: bytes) -> bool:
    """True when ``mac`` is field 64 for ``mab`` (constant-time comparison)."""
    return hmac.compare_digest(compute_mac(algorithm, key, mab), bytes(mac))
