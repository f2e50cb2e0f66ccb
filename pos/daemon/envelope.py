"""The nexo security envelope of Adyen's local Terminal API (`NexoBlob` + `SecurityTrailer`).

Why by hand: no maintained Python package implements this envelope (Adyen's
Python library has no Terminal API), and it is a short composition of
primitives that `cryptography` provides -- PBKDF2, AES-CBC, PKCS#7, HMAC. The
scheme (docs/daemon.md, "Security envelope"):

- 80 key bytes = PBKDF2-HMAC-SHA1(passphrase, "AdyenNexoV1Salt", 4000 rounds);
  bytes 0-32 key the HMAC, 32-64 the cipher, 64-80 are the IV base;
- per message a random 16-byte nonce, IV = IV base XOR nonce;
- `NexoBlob` = base64(AES-256-CBC(PKCS#7(the whole clear JSON message)));
- `Hmac` = base64(HMAC-SHA256 over the clear JSON text, not the ciphertext).

The `MessageHeader` travels in clear beside the blob so the receiver can route
and answer a message it cannot open.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SALT = b"AdyenNexoV1Salt"
ROUNDS = 4000
CRYPTO_VERSION = 1
NONCE_BYTES = 16


class EnvelopeError(ValueError):
    """An envelope that cannot be opened; `condition` is the nexo ErrorCondition to answer with."""

    def __init__(self, condition: str, message: str) -> None:
        super().__init__(message)
        self.condition = condition


class UnknownKey(EnvelopeError):
    def __init__(self, key_id: str, version: object) -> None:
        super().__init__("NotAllowed", f"unknown key identifier {key_id!r} version {version!r}")


class BadHmac(EnvelopeError):
    def __init__(self) -> None:
        super().__init__("NotAllowed", "the security trailer's HMAC does not match the message")


@dataclass(frozen=True)
class EnvelopeKey:
    """One shared key, as the register's configuration names it."""

    identifier: str
    version: int
    hmac_key: bytes
    cipher_key: bytes
    iv_base: bytes

    @classmethod
    def derive(cls, identifier: str, version: int, passphrase: str) -> EnvelopeKey:
        material = hashlib.pbkdf2_hmac("sha1", passphrase.encode(), SALT, ROUNDS, 80)
        return cls(identifier, version, material[:32], material[32:64], material[64:80])

    def __repr__(self) -> str:   # key material never reaches a log
        return f"EnvelopeKey({self.identifier!r}, version {self.version})"

    def _cipher(self, nonce: bytes) -> Cipher[modes.CBC]:
        iv = bytes(a ^ b for a, b in zip(self.iv_base, nonce, strict=True))
        return Cipher(algorithms.AES(self.cipher_key), modes.CBC(iv))

    def seal(self, clear: bytes, nonce: bytes | None = None) -> tuple[str, dict[str, Any]]:
        """(`NexoBlob`, `SecurityTrailer`) for the clear JSON text `clear`."""
        nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_BYTES)
        padder = padding.PKCS7(128).padder()
        encryptor = self._cipher(nonce).encryptor()
        blob = encryptor.update(padder.update(clear) + padder.finalize()) + encryptor.finalize()
        mac = hmac.new(self.hmac_key, clear, hashlib.sha256).digest()
        trailer = {"AdyenCryptoVersion": CRYPTO_VERSION, "KeyIdentifier": self.identifier,
                   "KeyVersion": self.version, "Nonce": _b64(nonce), "Hmac": _b64(mac)}
        return _b64(blob), trailer

    def open(self, blob: str, trailer: Mapping[str, Any]) -> bytes:
        """The clear JSON text of a blob; `EnvelopeError` when it is not this key's or was altered."""
        nonce = _unb64(trailer.get("Nonce"), "Nonce")
        mac = _unb64(trailer.get("Hmac"), "Hmac")
        data = _unb64(blob, "NexoBlob")
        if len(nonce) != NONCE_BYTES or not data or len(data) % 16:
            raise EnvelopeError("MessageFormat", "the envelope's nonce or blob has the wrong length")
        decryptor = self._cipher(nonce).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            clear = unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise BadHmac() from None   # a wrong key shows as bad padding: same answer, nothing to learn
        if not hmac.compare_digest(hmac.new(self.hmac_key, clear, hashlib.sha256).digest(), mac):
            raise BadHmac()
        return clear


class Keyring:
    """The keys this terminal accepts, by (identifier, version)."""

    def __init__(self, keys: list[EnvelopeKey]) -> None:
        self._keys = {(k.identifier, k.version): k for k in keys}

    def __bool__(self) -> bool:
        return bool(self._keys)

    def find(self, trailer: Mapping[str, Any]) -> EnvelopeKey:
        key_id, version = trailer.get("KeyIdentifier"), trailer.get("KeyVersion")
        if trailer.get("AdyenCryptoVersion") != CRYPTO_VERSION:
            raise EnvelopeError("NotAllowed", f"unsupported AdyenCryptoVersion "
                                              f"{trailer.get('AdyenCryptoVersion')!r}")
        key = self._keys.get((key_id, version)) if isinstance(key_id, str) and isinstance(version, int) else None
        if key is None:
            raise UnknownKey(str(key_id), version)
        return key


def open_message(root: str, body: Mapping[str, Any], keyring: Keyring) -> tuple[dict[str, Any], EnvelopeKey]:
    """The clear message inside `{root: {MessageHeader, NexoBlob, SecurityTrailer}}`, and its key."""
    trailer = body.get("SecurityTrailer")
    blob = body.get("NexoBlob")
    if not isinstance(trailer, Mapping) or not isinstance(blob, str):
        raise EnvelopeError("MessageFormat", "an envelope needs NexoBlob and SecurityTrailer")
    key = keyring.find(trailer)
    clear = key.open(blob, trailer)
    try:
        message = json.loads(clear, parse_float=_decimal)
    except (ValueError, UnicodeDecodeError):
        raise EnvelopeError("MessageFormat", "the envelope's content is not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get(root), dict):
        raise EnvelopeError("MessageFormat", f"the envelope holds no {root}")
    return message, key


def seal_message(root: str, message: Mapping[str, Any], key: EnvelopeKey) -> dict[str, Any]:
    """`{root: {MessageHeader, NexoBlob, SecurityTrailer}}` for a clear message `{root: {...}}`."""
    clear = json.dumps(message, default=_json_default, ensure_ascii=False).encode()
    blob, trailer = key.seal(clear)
    return {root: {"MessageHeader": message[root].get("MessageHeader", {}), "NexoBlob": blob,
                   "SecurityTrailer": trailer}}


def _decimal(text: str) -> Any:
    from decimal import Decimal
    return Decimal(text)


def _json_default(value: object) -> Any:
    from decimal import Decimal
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError("MessageFormat", f"{name} must be base64 text")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError("MessageFormat", f"{name} is not valid base64") from None
