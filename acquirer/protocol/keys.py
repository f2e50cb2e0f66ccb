"""Working keys of the master/session scheme: KCVs, wrapping under the TMK, sign-on field 62.

Why: a UnionPay-style terminal holds one terminal master key (TMK). At every
sign-on the host issues fresh working keys -- PIN key, MAC key and, with
60.3 = 004, a track key -- each 3DES-ECB encrypted under the TMK and followed
by its 4-byte key check value (KCV: the clear key encrypting 8 zero bytes).
The terminal checks every KCV before it uses a key, so a garbled reply or a
TMK mismatch is caught at sign-on instead of as a MAC error on the first sale.

Field 62 layout (double-length keys only, so 40 or 60 bytes)::

    PIN key (16, under TMK) | KCV(4) | MAC key (16, under TMK) | KCV(4)
    [ | track key (16, under TMK) | KCV(4) ]

The MAC key is always double length on the wire. The UnionPay "ECB" MAC
(`mac.mac_ecb`) uses only its first 8 bytes; the X9.19 MAC uses all 16.

No library covers this CUP layout; the cipher work is `des`.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from acquirer.protocol.des import BLOCK_SIZE, random_key, tdes_decrypt, tdes_encrypt

__all__ = [
    "KCV_LENGTH",
    "KeyCheckError",
    "KeyFormatError",
    "WorkingKeys",
    "generate_working_keys",
    "kcv",
    "pack_field62",
    "unpack_field62",
    "unwrap_key",
    "wrap_key",
]

KCV_LENGTH = 4
WORKING_KEY_LENGTH = 16
_ENTRY = WORKING_KEY_LENGTH + KCV_LENGTH
_KEY_NAMES = ("PIN key", "MAC key", "track key")


class KeyFormatError(ValueError):
    """Key material has the wrong length or layout."""


class KeyCheckError(ValueError):
    """A key's check value does not match: wrong TMK, or a garbled key.

    ``key_name`` names the key ("PIN key", "MAC key" or "track key").
    """

    def __init__(self, key_name: str, expected: bytes, actual: bytes) -> None:
        self.key_name = key_name
        super().__init__(
            f"{key_name} check value mismatch: field 62 says {expected.hex().upper()}, "
            f"the key decrypted under the TMK gives {actual.hex().upper()}"
        )


def kcv(key: bytes, length: int = KCV_LENGTH) -> bytes:
    """Key check value: the first ``length`` bytes of the key encrypting 8 zero bytes."""
    if not 1 <= length <= BLOCK_SIZE:
        raise KeyFormatError(f"KCV length must be 1..{BLOCK_SIZE}, got {length}")
    return tdes_encrypt(key, bytes(BLOCK_SIZE))[:length]


def wrap_key(kek: bytes, key: bytes) -> bytes:
    """Encrypt a key under a key-encryption key (3DES ECB, as at sign-on)."""
    return tdes_encrypt(kek, key)


def unwrap_key(kek: bytes, wrapped: bytes) -> bytes:
    """Decrypt a key sent under a key-encryption key (3DES ECB)."""
    return tdes_decrypt(kek, wrapped)


def _kcv_text(key: bytes | None) -> str:
    return "-" if key is None else kcv(key).hex().upper()


@dataclass(frozen=True)
class WorkingKeys:
    """Clear working keys of one terminal session. The repr shows KCVs only."""

    pin: bytes = field(repr=False)
    mac: bytes = field(repr=False)
    track: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name, key in zip(_KEY_NAMES, (self.pin, self.mac, self.track)):
            if key is not None and len(key) != WORKING_KEY_LENGTH:
                raise KeyFormatError(
                    f"{name} must be {WORKING_KEY_LENGTH} bytes, got {len(key)}"
                )

    def __repr__(self) -> str:
        return (
            f"WorkingKeys(pin_kcv={_kcv_text(self.pin)}, mac_kcv={_kcv_text(self.mac)}, "
            f"track_kcv={_kcv_text(self.track)})"
        )


def generate_working_keys(with_track: bool) -> WorkingKeys:
    """Fresh random double-length PIN and MAC keys (and a track key if asked)."""
    return WorkingKeys(
        pin=random_key(WORKING_KEY_LENGTH),
        mac=random_key(WORKING_KEY_LENGTH),
        track=random_key(WORKING_KEY_LENGTH) if with_track else None,
    )


def pack_field62(tmk: bytes, keys: WorkingKeys) -> bytes:
    """Sign-on reply field 62: each key under the TMK followed by the KCV of the clear key."""
    clear_keys = [keys.pin, keys.mac] + ([keys.track] if keys.track is not None else [])
    return b"".join(wrap_key(tmk, key) + kcv(key) for key in clear_keys)


def unpack_field62(tmk: bytes, data: bytes) -> WorkingKeys:
    """Decrypt and check the working keys of a sign-on reply.

    Raises `KeyFormatError` unless ``data`` is 40 bytes (PIN + MAC key) or 60
    bytes (plus track key), and `KeyCheckError` naming the first key whose KCV
    does not match.
    """
    if len(data) not in (2 * _ENTRY, 3 * _ENTRY):
        raise KeyFormatError(
            f"field 62 must be {2 * _ENTRY} or {3 * _ENTRY} bytes "
            f"(16-byte keys each followed by a 4-byte KCV), got {len(data)}"
        )
    clear: list[bytes] = []
    for index in range(len(data) // _ENTRY):
        entry = data[index * _ENTRY : (index + 1) * _ENTRY]
        key = unwrap_key(tmk, entry[:WORKING_KEY_LENGTH])
        expected, actual = entry[WORKING_KEY_LENGTH:], kcv(key)
        if not hmac.compare_digest(expected, actual):
            raise KeyCheckError(_KEY_NAMES[index], expected, actual)
        clear.append(key)
    return WorkingKeys(*clear)
