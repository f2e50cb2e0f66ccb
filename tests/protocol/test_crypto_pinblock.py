"""ISO 9564 format 0 PIN blocks: published vectors, round trips, translation, and rejected blocks."""
import pytest

from acquirer.protocol.des import tdes_encrypt
from acquirer.protocol.pinblock import (
    PinBlockError,
    decrypt_pin,
    encrypt_pin,
    pin_block_format0,
    pin_from_format0,
    translate_pin_block,
)

TPK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
ZPK = bytes.fromhex("3D0248C3006AF0014BB18A668A8018EB")  # config/acquirer.toml cup-bank zpk (test key)
PAN = "6214830000000000015"  # config/cards.toml unionpay-debit (test card)


@pytest.mark.parametrize(
    ("pin", "pan", "block"),
    [
        # EFTlab "Complete list of PIN blocks" and ID TECH knowledge base, ISO-0 example.
        ("1234", "43219876543210987", "0412AC89ABCDEF67"),
        # Thales/ANSI X9.8 "format 01" example (PIN 92389, account 4000 0012 3456 2),
        # reproduced in public tests such as a .NET PinBlockFormat.AnsiX98 suite.
        ("92389", "4000001234562", "0592789FFFEDCBA9"),
    ],
)
def test_published_clear_blocks(pin, pan, block):
    assert pin_block_format0(pin, pan).hex().upper() == block
    assert pin_from_format0(bytes.fromhex(block), pan) == pin


def test_published_encrypted_block():
    # Public HSM-emulator test (emu_hsm, command 62): the 92389 block under the
    # single-DES key 0123456789ABCDEF is 5D1B629D084CF4AE.
    key = bytes.fromhex("0123456789ABCDEF")
    assert encrypt_pin(key, "92389", "4000001234562").hex().upper() == "5D1B629D084CF4AE"
    assert decrypt_pin(key, bytes.fromhex("5D1B629D084CF4AE"), "4000001234562") == "92389"


@pytest.mark.parametrize("pin", ["0000", "123456", "987654321012"])
def test_round_trip_under_the_pin_key(pin):
    encrypted = encrypt_pin(TPK, pin, PAN)
    assert len(encrypted) == 8
    assert decrypt_pin(TPK, encrypted, PAN) == pin


def test_translation_to_the_zone_key_keeps_the_pin():
    encrypted = encrypt_pin(TPK, "123456", PAN)
    translated = translate_pin_block(TPK, ZPK, encrypted)
    assert translated != encrypted
    assert translated == encrypt_pin(ZPK, "123456", PAN)
    assert decrypt_pin(ZPK, translated, PAN) == "123456"


def test_translation_refuses_a_block_that_is_not_format_0():
    clear = bytearray(pin_block_format0("123456", PAN))
    clear[0] = 0x16  # control nibble 1: an ISO format 1 block
    with pytest.raises(PinBlockError, match="control nibble"):
        translate_pin_block(TPK, ZPK, tdes_encrypt(TPK, bytes(clear)))


def test_wrong_pan_does_not_give_the_pin():
    encrypted = encrypt_pin(TPK, "123456", PAN)
    with pytest.raises(PinBlockError, match="nibble"):
        decrypt_pin(TPK, encrypted, "6214830000000000098")


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a4", "", "１２３４"])
def test_bad_pin_is_refused(pin):
    with pytest.raises(PinBlockError, match="PIN must be 4 to 12 digits"):
        pin_block_format0(pin, PAN)


@pytest.mark.parametrize("pan", ["", "1234567", "62148300000000000151", "6214-8300"])
def test_bad_pan_is_refused(pan):
    with pytest.raises(PinBlockError, match="PAN must be 8 to 19 digits"):
        pin_block_format0("1234", pan)


def test_bad_control_nibble_is_named():
    block = bytearray(pin_block_format0("1234", PAN))
    block[0] = 0x14
    with pytest.raises(PinBlockError, match=r"control nibble \(nibble 0\) is 1"):
        pin_from_format0(bytes(block), PAN)


@pytest.mark.parametrize("length_nibble", [0x00, 0x03, 0x0D, 0x0F])
def test_bad_length_nibble_is_named(length_nibble):
    block = bytearray(pin_block_format0("1234", PAN))
    block[0] = length_nibble
    with pytest.raises(PinBlockError, match=r"length nibble \(nibble 1\)"):
        pin_from_format0(bytes(block), PAN)


def test_bad_padding_is_named():
    block = bytearray(pin_block_format0("1234", PAN))
    block[7] ^= 0x01  # nibble 15 is now E instead of F
    with pytest.raises(PinBlockError, match="padding at nibble 15"):
        pin_from_format0(bytes(block), PAN)


def test_non_digit_pin_nibble_is_named():
    block = bytearray(pin_block_format0("1234", "0000000000000"))  # PAN field all zeros
    block[1] = 0xA2
    with pytest.raises(PinBlockError, match="PIN digit at nibble 2 is A"):
        pin_from_format0(bytes(block), "0000000000000")


@pytest.mark.parametrize("length", [0, 7, 9, 16])
def test_block_length_is_checked(length):
    with pytest.raises(PinBlockError, match=f"8 bytes, got {length}"):
        decrypt_pin(TPK, bytes(length), PAN)
    with pytest.raises(PinBlockError, match=f"8 bytes, got {length}"):
        translate_pin_block(TPK, ZPK, bytes(length))
