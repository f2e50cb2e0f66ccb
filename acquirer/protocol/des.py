"""DES and Triple-DES block operations for the kit's payment keys.

Why this module exists: every key on the UnionPay-style link (terminal master
key, PIN, MAC and track keys) and every EMV card key is a DES or double-length
3DES key. The cipher itself comes from `cryptography`; this module only adds
what the payment code needs around it:

- Key lengths as payments use them: 8 bytes = single DES, 16 = double-length
  3DES (K1 K2 K1), 24 = triple-length. Shorter keys are expanded to 24 bytes
  (K K K, K1 K2 K1) before they reach `cryptography`, which computes the same
  EDE cipher and avoids its deprecated single- and two-key TripleDES paths.
- Speed on the host's hot path. Building a `Cipher` and an encryptor costs
  about ten times the work of encrypting one block, and the host MACs every
  message. ECB carries no state from one block to the next, so this module
  keeps one ECB encryptor and decryptor per key and reuses them. The cache is
  per thread, because a cipher context must not be used by two threads at
  once. `tests/bench/bench_crypto.py` measures the gain.
- Odd parity and random key generation for working keys issued at sign-on.

TripleDES lives in `cryptography.hazmat.decrepit.ciphers.algorithms` since
cryptography 43; older releases only have it in `primitives`.
"""
from __future__ import annotations

import functools
import secrets
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, modes
from pyemv.tools import adjust_key_parity

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES

__all__ = [
    "BLOCK_SIZE",
    "DesInputError",
    "adjust_parity",
    "des_decrypt",
    "des_encrypt",
    "random_key",
    "tdes_cbc_encrypt",
    "tdes_decrypt",
    "tdes_encrypt",
]

BLOCK_SIZE = 8
KEY_LENGTHS = (8, 16, 24)
_ZERO_IV = bytes(BLOCK_SIZE)
_CACHE_SIZE = 512  # keys per thread: terminals' MAC/PIN keys, issuers' keys


class DesInputError(ValueError):
    """A key or data block of the wrong length was handed to a DES operation."""


@dataclass(frozen=True)
class _KeyContexts:
    algorithm: TripleDES
    encryptor: CipherContext
    decryptor: CipherContext


def _expand(key: bytes) -> bytes:
    if len(key) == 8:
        return key * 3
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    raise DesInputError(f"DES key must be 8, 16 or 24 bytes, got {len(key)}")


def _new_contexts(key: bytes) -> _KeyContexts:
    algorithm = TripleDES(_expand(key))
    cipher = Cipher(algorithm, modes.ECB())
    return _KeyContexts(algorithm, cipher.encryptor(), cipher.decryptor())


_local = threading.local()


def _contexts(key: bytes) -> _KeyContexts:
    try:
        lookup = _local.lookup
    except AttributeError:
        lookup = _local.lookup = functools.lru_cache(maxsize=_CACHE_SIZE)(_new_contexts)
    return lookup(bytes(key))


def _check_blocks(data: bytes) -> None:
    if len(data) % BLOCK_SIZE:
        raise DesInputError(
            f"DES data must be a multiple of {BLOCK_SIZE} bytes, got {len(data)}"
        )


def tdes_encrypt(key: bytes, data: bytes) -> bytes:
    """Encrypt whole 8-byte blocks in ECB mode (8-byte key = single DES)."""
    _check_blocks(data)
    return _contexts(key).encryptor.update(data)


def tdes_decrypt(key: bytes, data: bytes) -> bytes:
    """Decrypt whole 8-byte blocks in ECB mode (8-byte key = single DES)."""
    _check_blocks(data)
    return _contexts(key).decryptor.update(data)


def des_encrypt(key8: bytes, data: bytes) -> bytes:
    """Single-DES ECB encryption with an 8-byte key."""
    if len(key8) != 8:
        raise DesInputError(f"single DES key must be 8 bytes, got {len(key8)}")
    return tdes_encrypt(key8, data)


def des_decrypt(key8: bytes, data: bytes) -> bytes:
    """Single-DES ECB decryption with an 8-byte key."""
    if len(key8) != 8:
        raise DesInputError(f"single DES key must be 8 bytes, got {len(key8)}")
    return tdes_decrypt(key8, data)


def tdes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = _ZERO_IV) -> bytes:
    """CBC encryption of whole blocks (the chaining step of CBC-MACs).

    A CBC context carries its chaining value, so it is built per call; only
    the key schedule (the algorithm object) is reused.
    """
    _check_blocks(data)
    if len(iv) != BLOCK_SIZE:
        raise DesInputError(f"CBC IV must be {BLOCK_SIZE} bytes, got {len(iv)}")
    return Cipher(_contexts(key).algorithm, modes.CBC(iv)).encryptor().update(data)


def adjust_parity(key: bytes) -> bytes:
    """Set every byte of a DES key to odd parity (the low bit is the parity bit)."""
    return adjust_key_parity(key)


def random_key(length: int = 16) -> bytes:
    """A fresh random DES key with odd parity.

    Multi-part keys get distinct parts: a 16-byte key with K1 == K2 would be
    single DES in disguise.
    """
    if length not in KEY_LENGTHS:
        raise DesInputError(f"DES key must be 8, 16 or 24 bytes, got {length}")
    while True:
        key = adjust_parity(secrets.token_bytes(length))
        parts = {key[i : i + 8] for i in range(0, length, 8)}
        if len(parts) == length // 8:
            return key
