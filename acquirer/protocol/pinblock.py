"""ISO 9564 format 0 PIN blocks: build, read, encrypt under the PIN key, translate.

Why here: online PIN on the 8583 link travels in field 52 as an ISO 9564-1
format 0 block (ANSI X9.8) encrypted under the terminal's PIN key; the host
translates it to the issuer's zone PIN key, and the issuer checks it. pyemv
has only the VIS and ISO format 2 blocks for card PIN change, not format 0;
`psec` has it but is a small single-maintainer package, and format 0 is two
XORs, so it is written here against published vectors.

Format 0: PIN field ``0 | L | PIN digits | F padding`` (16 nibbles) XOR PAN
field ``0000 | rightmost 12 PAN digits excluding the check digit``.

Never log or store what these functions take or return.
"""
from __future__ import annotations

from acquirer.protocol.des import tdes_decrypt, tdes_encrypt

__all__ = [
    "PinBlockError",
    "decrypt_pin",
    "encrypt_pin",
    "pin_block_format0",
    "pin_from_format0",
    "translate_pin_block",
]

PIN_LENGTHS = range(4, 13)
PAN_LENGTHS = range(8, 20)
_BLOCK = 8


class PinBlockError(ValueError):
    """A PIN, PAN or PIN block that does not fit ISO 9564 format 0."""


def _pan_field(pan: str) -> bytes:
    if not (pan.isascii() and pan.isdigit()) or len(pan) not in PAN_LENGTHS:
        raise PinBlockError(f"PAN must be 8 to 19 digits, got {len(pan)} characters")
    return bytes.fromhex("0000" + pan[:-1][-12:].rjust(12, "0"))


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def check_pin(pin: str) -> None:
    """Raise `PinBlockError` unless ``pin`` is 4 to 12 ASCII digits (what format 0 can carry)."""
    if not (pin.isascii() and pin.isdigit()) or len(pin) not in PIN_LENGTHS:
        raise PinBlockError(f"PIN must be 4 to 12 digits, got {len(pin)} characters")


def pin_block_format0(pin: str, pan: str) -> bytes:
    """The clear 8-byte format 0 block for ``pin`` and ``pan``."""
    check_pin(pin)
    pin_field = bytes.fromhex(f"0{len(pin):X}{pin}".ljust(16, "F"))
    return _xor(pin_field, _pan_field(pan))


def _check_header(block: bytes) -> int:
    """Control nibble and PIN length: the PAN field leaves the first two nibbles as they are."""
    if len(block) != _BLOCK:
        raise PinBlockError(f"PIN block must be 8 bytes, got {len(block)}")
    control, length = block[0] >> 4, block[0] & 0x0F
    if control != 0:
        raise PinBlockError(f"PIN block control nibble (nibble 0) is {control:X}, format 0 needs 0")
    if length not in PIN_LENGTHS:
        raise PinBlockError(f"PIN length nibble (nibble 1) is {length}, must be 4 to 12")
    return length


def pin_from_format0(block: bytes, pan: str) -> str:
    """The PIN inside a clear format 0 block; checks digits and F padding."""
    length = _check_header(block)
    nibbles = _xor(block, _pan_field(pan)).hex().upper()
    pin, padding = nibbles[2 : 2 + length], nibbles[2 + length :]
    for offset, digit in enumerate(pin, start=2):
        if not digit.isdigit():
            raise PinBlockError(f"PIN digit at nibble {offset} is {digit}, not 0-9")
    for offset, filler in enumerate(padding, start=2 + length):
        if filler != "F":
            raise PinBlockError(f"padding at nibble {offset} is {filler}, format 0 needs F")
    return pin


def encrypt_pin(pin_key: bytes, pin: str, pan: str) -> bytes:
    """Field 52: the format 0 block encrypted under the PIN key (3DES ECB)."""
    return tdes_encrypt(pin_key, pin_block_format0(pin, pan))


def decrypt_pin(pin_key: bytes, encrypted_block: bytes, pan: str) -> str:
    """The PIN from field 52, given the PIN key and the card's PAN."""
    if len(encrypted_block) != _BLOCK:
        raise PinBlockError(f"PIN block must be 8 bytes, got {len(encrypted_block)}")
    return pin_from_format0(tdes_decrypt(pin_key, encrypted_block), pan)


def translate_pin_block(src_key: bytes, dst_key: bytes, encrypted_block: bytes) -> bytes:
    """Re-encrypt a format 0 block from one PIN key to another (terminal key -> zone key).

    The PIN never leaves this function in clear. Without the PAN only the
    control and length nibbles can be checked, and they are.
    """
    if len(encrypted_block) != _BLOCK:
        raise PinBlockError(f"PIN block must be 8 bytes, got {len(encrypted_block)}")
    clear = tdes_decrypt(src_key, encrypted_block)
    _check_header(clear)
    return tdes_encrypt(dst_key, clear)
