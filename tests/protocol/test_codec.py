"""codec: field encodings on the wire, and decode errors that name field and byte offset."""
import pytest

from acquirer.protocol import codec
from acquirer.protocol.codec import DecodeError, EncodeError, Header, Tpdu

H = "6000030000603100000000"
MAC_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # TEST KEY


def hx(text: str) -> bytes:
    """Bytes from hex written in groups (spaces ignored, also inside a byte)."""
    return bytes.fromhex(text.replace(" ", ""))


def payload_with(fields: dict[str, str], mti: str = "0200") -> bytes:
    return codec.encode({"h": H, "t": mti, **fields})


def field_bytes(fields: dict[str, str]) -> bytes:
    """What follows the bitmap (offset 21) for a message with just these fields."""
    return payload_with(fields)[21:]


# --- encodings ----------------------------------------------------------------------

def test_field_22_is_left_aligned_and_23_right_aligned():
    assert field_bytes({"22": "072"}) == hx("0720")
    assert field_bytes({"23": "001"}) == hx("0001")
    assert field_bytes({"22": "051", "23": "012"}) == hx("0510 0012")


def test_odd_length_pan_and_track2_get_a_trailing_zero_nibble():
    assert field_bytes({"2": "6212345678901234567"}) == hx("19 6212345678901234567 0")
    assert field_bytes({"35": "6212345678901234567D2512"}) == hx(
        "24 6212345678901234567D2512")
    assert field_bytes({"35": "6212345678901234D25122011"}) == hx(
        "25 6212345678901234D25122011 0")


def test_odd_length_variable_numerics_round_trip_without_the_pad():
    fields = {"2": "621234567890123", "35": "621234567890123D251", "48": "123", "60": "22000001000",
              "61": "000001000002"}
    decoded = codec.decode(payload_with(fields))
    assert {k: decoded[k] for k in fields} == fields


def test_lengths_are_bcd_llvar_one_byte_lllvar_two_bytes():
    assert field_bytes({"32": "48990000"}) == hx("08 48990000")
    assert field_bytes({"63": "CUP" * 4}) == bytes.fromhex("0012") + b"CUPCUPCUPCUP"
    icc = "AB" * 130
    assert field_bytes({"55": icc}) == bytes.fromhex("0130") + bytes.fromhex(icc)


def test_text_fields_are_ascii_and_binary_fields_are_hex_in_the_dict():
    assert field_bytes({"37": "123456789012", "39": "00"}) == b"12345678901200"
    assert field_bytes({"52": "00112233AABBCCDD"}) == bytes.fromhex("00112233AABBCCDD")
    assert codec.decode(payload_with({"52": "00112233AABBCCDD"}))["52"] == "00112233AABBCCDD"


def test_mti_is_two_bcd_bytes_and_bitmap_binary():
    payload = payload_with({"11": "000001"}, mti="0820")
    assert payload[:11].hex().upper() == H
    assert payload[11:13] == b"\x08\x20"
    assert payload[13:21] == bytes.fromhex("0020000000000000")


# --- decode errors --------------------------------------------------------------------

def test_truncated_field_names_field_and_offset():
    payload = payload_with({"11": "000001", "41": "10000001"})
    with pytest.raises(DecodeError) as err:
        codec.decode(payload[:-3])
    assert (err.value.field, err.value.offset) == ("41", 24)
    assert "field 41" in str(err.value) and "byte 24" in str(err.value)


def test_bitmap_naming_an_absent_field():
    payload = bytearray(payload_with({"11": "000001"}))
    payload[21 - 1] |= 0x01  # also claim field 64, which is not there
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert (err.value.field, err.value.offset) == ("64", 24)


def test_bitmap_naming_a_field_the_spec_does_not_define():
    payload = bytearray(payload_with({"11": "000001"}))
    payload[13 + 0] |= 0x02  # bit 7 (transmission date time): not in this spec
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert (err.value.field, err.value.offset) == ("p", 13)
    assert "field 7" in str(err.value)


def test_secondary_bitmap_is_a_format_error():
    payload = bytearray(payload_with({"11": "000001"}))
    payload[13] |= 0x80
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert (err.value.field, err.value.offset) == ("p", 13)
    assert "secondary bitmap" in str(err.value)
    assert err.value.partial == {"h": H, "t": "0200"}


def test_bad_bcd_digit_names_the_byte():
    payload = bytearray(payload_with({"4": "000000012345", "11": "000001"}))
    payload[21 + 4] = 0x2A  # the 5th byte of field 4 now holds nibble A
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert (err.value.field, err.value.offset) == ("4", 25)
    assert "nibble A" in str(err.value)


def test_bad_track_character_names_the_byte():
    payload = bytearray(payload_with({"35": "6212345678901234D2512"}))
    payload[21 + 1 + 9] = 0xE2  # the separator byte D2 -> E2
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert (err.value.field, err.value.offset) == ("35", 31)


def test_bad_pad_nibble_is_rejected():
    payload = bytearray(payload_with({"2": "621234567890123"}))
    payload[-1] |= 0x0F  # trailing pad nibble F instead of 0
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert err.value.field == "2"


def test_bad_length_prefix():
    payload = bytearray(payload_with({"2": "6212345678901234"}))
    payload[21] = 0x1A  # not BCD
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert (err.value.field, err.value.offset) == ("2", 21)
    payload[21] = 0x20  # 20 digits: more than the 19 allowed
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert (err.value.field, err.value.offset) == ("2", 21)
    assert "maximum 19" in str(err.value)


def test_extra_bytes_after_the_last_field():
    payload = payload_with({"11": "000001"}) + b"\x00\x00"
    with pytest.raises(DecodeError) as err:
        codec.decode(payload)
    assert err.value.offset == 24
    assert "2 bytes of extra data" in str(err.value)
    assert err.value.partial["11"] == "000001"  # every field decoded


def test_truncated_header_and_mti():
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes.fromhex(H)[:7])
    assert (err.value.field, err.value.offset) == ("h", 0)
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes.fromhex(H) + b"\x02")
    assert (err.value.field, err.value.offset) == ("t", 11)
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes.fromhex(H) + b"\x02\x00\x20")
    assert (err.value.field, err.value.offset) == ("p", 13)


def test_non_bcd_mti():
    payload = bytearray(payload_with({"11": "000001"}))
    payload[11] = 0x0A
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert (err.value.field, err.value.offset) == ("t", 11)


# --- what decoded before the error (a host echoes 11, 41, 42 in its 30 reply) --------------

ECHO = {"11": "000123", "41": "10000001", "42": "898310048990001"}


def test_partial_holds_the_fields_before_a_truncated_one():
    payload = payload_with({**ECHO, "60": "22000001000"})
    with pytest.raises(DecodeError) as err:
        codec.decode(payload[:-2])
    assert err.value.field == "60"
    assert {k: err.value.partial[k] for k in ECHO} == ECHO
    assert "60" not in err.value.partial and err.value.partial["t"] == "0200"


def test_partial_stops_before_a_bad_bcd_digit():
    payload = bytearray(payload_with({"4": "000000012345", **ECHO}))
    payload[21 + 4] = 0x2A
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert err.value.field == "4"
    assert set(err.value.partial) == {"h", "t", "p"}


def test_partial_holds_the_fields_before_an_undefined_bit():
    payload = bytearray(payload_with(ECHO))
    payload[13 + 5] |= 0x04  # bit 46: not in this spec; its data would follow 42
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload) + b"\x00")
    assert (err.value.field, err.value.offset) == ("p", 18)
    assert err.value.partial == {"h": H, "t": "0200", **ECHO}


def test_partial_is_empty_when_nothing_decoded():
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes.fromhex(H)[:7])
    assert err.value.partial == {}
    payload = bytearray(payload_with(ECHO))
    payload[11] = 0x0A  # MTI not BCD: only the TPDU/header decoded
    with pytest.raises(DecodeError) as err:
        codec.decode(bytes(payload))
    assert err.value.partial == {"h": H}


# --- encode errors -----------------------------------------------------------------------

@pytest.mark.parametrize("fields, field", [
    ({"4": "12.50"}, "4"),
    ({"11": "12345"}, "11"),
    ({"35": "6212d2512"}, "35"),
    ({"41": "1234567"}, "41"),
    ({"1": "00"}, "1"),
    ({"70": "001"}, "70"),
    ({"7": "1122334455"}, "7"),
    ({"55": "9F2"}, "55"),
    ({"4": 100}, "4"),
])
def test_encode_errors_name_the_field(fields, field):
    with pytest.raises(EncodeError) as err:
        codec.encode({"h": H, "t": "0200", **fields})
    assert err.value.field == field
    assert f"field {field}" in str(err.value)


def test_encode_does_not_modify_the_message():
    msg = {"h": H, "t": "0200", "11": "000001"}
    codec.encode(msg)
    assert msg == {"h": H, "t": "0200", "11": "000001"}


# --- TPDU and header ---------------------------------------------------------------------

def test_tpdu_and_header_parse_and_reply_swaps_addresses():
    tpdu, header = codec.split_h(H)
    assert tpdu == Tpdu(destination="0003", source="0000")
    assert header == Header(app_type="60", version="31", terminal_status="0",
                            processing_requirement="0", sub_version="000000")
    assert codec.reply_h(H) == "6000000003603100000000"
    assert codec.join_h(tpdu.swapped(), header) == codec.reply_h(H)


def test_ic_header_and_bad_tpdu_id():
    _, header = codec.split_h("6000030000613100310000")
    assert (header.app_type, header.sub_version) == ("61", "310000")
    with pytest.raises(DecodeError) as err:
        Tpdu.parse(bytes.fromhex("7000030000"))
    assert (err.value.field, err.value.offset) == ("h", 0)


# --- MAC --------------------------------------------------------------------------------

def test_verify_rejects_any_changed_byte_and_a_missing_mac():
    payload = codec.sign({"h": H, "t": "0200", "3": "000000", "4": "000000000100", "11": "000001"},
                         "x919", MAC_KEY)
    assert codec.verify(payload, "x919", MAC_KEY)
    tampered = bytearray(payload)
    tampered[27] ^= 0x01  # amount
    assert not codec.verify(bytes(tampered), "x919", MAC_KEY)
    assert not codec.verify(payload, "x919", bytes(16))
    unsigned = payload_with({"11": "000001"})
    assert not codec.verify(unsigned, "x919", MAC_KEY)
    with pytest.raises(DecodeError):
        codec.mac_block(unsigned)


def test_tpdu_and_header_are_outside_the_mac():
    msg = {"h": H, "t": "0200", "3": "000000", "4": "000000000100", "11": "000001"}
    a = codec.sign(msg, "ecb", MAC_KEY)
    b = codec.sign({**msg, "h": codec.reply_h(H)}, "ecb", MAC_KEY)
    assert a[:11] != b[:11] and a[11:] == b[11:]
