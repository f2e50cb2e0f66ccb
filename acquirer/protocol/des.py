"""DES and Triple-DES block operations for the kit's payment keys.

Why this module exists: every key on the UnionPay-style link (terminal master
key, PIN, MAC and track keys) and every EMV card key is a DES or double-length
3DES key. The cipher itself comes from `cryptography`; this module only adds
what the payment code needs around it:

- Key lengths as payments use them: 8 bytes = single DES, 16 = double-length
  3DES (K1 K2 K1), 24 = triple-length. Shorter keys are expanded to 24 bytes
  (K K K, K1 K2 K1) before they reach `cryptography`, which computes the same
  EDE cipher and avoids its deprecated single- and two-key TripleDES paths.
- Speed on the host's hot path. Building a `Cipher` context costs about five
  times the work of encrypting one block, and the host MACs every message.
  So this module keeps, per key, the key schedule and the contexts it has
  needed so far (an ECB encryptor, an ECB decryptor, a CBC encryptor), made
  on first use: a key that only encrypts never pays for a decryptor. ECB
  carries no state from one block to the next; the CBC context carries its
  last block, which the next call cancels out (see `_Key.cbc_encrypt`).
  The caches are per thread, because a context must not be used by two
  threads at once. `tests/bench/bench_crypto.py` measures the gain.
- Two caches. Long-lived keys (terminal master, PIN and MAC keys, issuer
  keys) go to a large one. Keys of one transaction or one card
  (`transient=True`: EMV session keys, a card's derived key) go to a smaller
  one of their own: a new session key every authorization must not evict the
  terminals' MAC keys, yet the ARQC check and the ARPC of one authorization
  share one context, and a card used again soon (at the till, or the
  benchmark's cards) finds its derived key's schedule still there.
- Odd parity and random key generation for working keys issued at sign-on.

TripleDES lives in `cryptography.hazmat.decrepit.ciphers.algorithms` since
cryptography 43; older releases only have it in `primitives`.
"""
from __future__ import annotations

import functools
import secrets
import threading

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
# modes are immutable descriptions: one instance serves every context
_ECB = modes.ECB()
_CBC_ZERO_IV = modes.CBC(_ZERO_IV)
# Long-lived keys per thread: terminals' MAC and PIN keys, issuers' keys. An
# X9.19 MAC key takes two entries (K1 for the CBC pass, the whole key for the
# output step), so this serves ~1,000 terminals at ~2.5 KB of contexts a key;
# an LRU cache cycled over more keys than it holds misses every time.
_CACHE_SIZE = 2048
# Transient keys: an authorization adds two session-key entries (the whole key,
# and K1 for the CBC pass) and uses its card's derived key; 256 keep the card
# keys of ~80 cards in turn (a card key unseen for longer costs one schedule).
_TRANSIENT_CACHE_SIZE = 256


class DesInputError(ValueError):
    """A key or data block of the wrong length was handed to a DES operation."""


def _expand(key: bytes) -> bytes:
    if len(key) == 8:
        return key * 3
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    raise DesInputError(f"DES key must be 8, 16 or 24 bytes, got {len(key)}")


class _Key:
    """One key's schedule and the cipher contexts made for it so far.

    `encryptor` / `decryptor` are None until `new_encryptor` / `new_decryptor`
    makes them; callers write `(k.encryptor or k.new_encryptor()).update(...)`,
    which keeps the cached path free of an extra Python call.
    """

    __slots__ = ("_algorithm", "encryptor", "decryptor", "_cbc", "_cbc_last")

    def __init__(self, key: bytes) -> None:
        self._algorithm = TripleDES(_expand(key))
        self.encryptor: CipherContext | None = None
        self.decryptor: CipherContext | None = None
        self._cbc: CipherContext | None = None
        self._cbc_last = 0  # last ciphertext block of the CBC context, as an integer

    def new_encryptor(self) -> CipherContext:
        self.encryptor = Cipher(self._algorithm, _ECB).encryptor()
        return self.encryptor

    def new_decryptor(self) -> CipherContext:
        self.decryptor = Cipher(self._algorithm, _ECB).decryptor()
        return self.decryptor

    def cbc_encrypt(self, data: bytes, iv: bytes) -> bytes:
        """CBC under `iv` on the one CBC context of this key.

        The context chains from the last block it produced, C; feeding it
        P1 xor IV xor C as the first block makes it encrypt P1 xor IV, just
        as a fresh context started with `iv` would.
        """
        if self._cbc is None:
            self._cbc = Cipher(self._algorithm, _CBC_ZERO_IV).encryptor()
        first = int.from_bytes(data[:BLOCK_SIZE], "big") ^ int.from_bytes(iv, "big") ^ self._cbc_last
        out = self._cbc.update(first.to_bytes(BLOCK_SIZE, "big") + data[BLOCK_SIZE:])
        self._cbc_last = int.from_bytes(out[-BLOCK_SIZE:], "big")
        return out


_local = threading.local()


def _key(key: bytes, transient: bool) -> _Key:
    try:
        caches = _local.caches
    except AttributeError:
        caches = _local.caches = (functools.lru_cache(maxsize=_CACHE_SIZE)(_Key),
                                  functools.lru_cache(maxsize=_TRANSIENT_CACHE_SIZE)(_Key))
    return caches[transient](bytes(key))


def _not_blocks(data: bytes) -> DesInputError:
    return DesInputError(f"DES data must be a multiple of {BLOCK_SIZE} bytes, got {len(data)}")


def tdes_encrypt(key: bytes, data: bytes, *, transient: bool = False) -> bytes:
    """Encrypt whole 8-byte blocks in ECB mode (8-byte key = single DES).

    `transient=True` for a key of one transaction (session key, card key).
    """
    if len(data) % BLOCK_SIZE:   # inline: the host calls this several times per message
        raise _not_blocks(data)
    k = _key(key, transient)
    return (k.encryptor or k.new_encryptor()).update(data)


def tdes_decrypt(key: bytes, data: bytes) -> bytes:
    """Decrypt whole 8-byte blocks in ECB mode (8-byte key = single DES)."""
    if len(data) % BLOCK_SIZE:
        raise _not_blocks(data)
    k = _key(key, False)
    return (k.decryptor or k.new_decryptor()).update(data)


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


def tdes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = _ZERO_IV, *, transient: bool = False) -> bytes:
    """CBC encryption of whole blocks (the chaining step of CBC-MACs)."""
    if len(data) % BLOCK_SIZE:
        raise _not_blocks(data)
    if len(iv) != BLOCK_SIZE:
        raise DesInputError(f"CBC IV must be {BLOCK_SIZE} bytes, got {len(iv)}")
    if not data:
        return b""
    return _key(key, transient).cbc_encrypt(data, iv)


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
