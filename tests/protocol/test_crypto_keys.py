"""Sign-on working keys: KCVs, wrapping under the TMK, field 62 round trip and checks."""
import pytest

from acquirer.protocol.keys import (
    KeyCheckError,
    KeyFormatError,
    WorkingKeys,
    generate_working_keys,
    kcv,
    pack_field62,
    unpack_field62,
    unwrap_key,
    wrap_key,
)

TMK = bytes.fromhex("6ECAFCE232B9AF939F09493CFC314CD7")  # config/acquirer.toml terminal 10000001 (test key)
QPOS_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
# dspread QPOS demo (flutter_plugin_qpos example, PluginPage.dart): updateWorkKey sends
# each working key as 1A4D672DCA6CB3351FD1B02B237AF9AE with check value
# 08D7B4FB629D0885; the demo TMK and working key are both 0123456789ABCDEFFEDCBA9876543210.
QPOS_WRAPPED = bytes.fromhex("1A4D672DCA6CB3351FD1B02B237AF9AE")
QPOS_KCV = bytes.fromhex("08D7B4FB")


def test_kcv_published_value():
    assert kcv(QPOS_KEY) == QPOS_KCV
    assert kcv(QPOS_KEY, 3).hex().upper() == "08D7B4"
    assert kcv(QPOS_KEY, 8).hex().upper() == "08D7B4FB629D0885"


def test_wrap_and_unwrap_published_values():
    assert wrap_key(QPOS_KEY, QPOS_KEY) == QPOS_WRAPPED
    assert unwrap_key(QPOS_KEY, QPOS_WRAPPED) == QPOS_KEY
    # CSDN "MAC算法演示" (blog.csdn.net/zhu244912654/article/details/80005341):
    # TMK 70F2A84CCBC2AE8625CBB0F2C22AB923, TAK 96D605EA176B7E9E (cipher) = C24A8FB57AA20123 (clear).
    tmk = bytes.fromhex("70F2A84CCBC2AE8625CBB0F2C22AB923")
    assert unwrap_key(tmk, bytes.fromhex("96D605EA176B7E9E")).hex().upper() == "C24A8FB57AA20123"


def test_unpack_the_published_qpos_field():
    field62 = (QPOS_WRAPPED + QPOS_KCV) * 3
    keys = unpack_field62(QPOS_KEY, field62)
    assert keys == WorkingKeys(pin=QPOS_KEY, mac=QPOS_KEY, track=QPOS_KEY)


@pytest.mark.parametrize("with_track", [False, True])
def test_field62_round_trip(with_track):
    keys = generate_working_keys(with_track)
    data = pack_field62(TMK, keys)
    assert len(data) == (60 if with_track else 40)
    assert data[16:20] == kcv(keys.pin)  # KCV of the clear key, not of the wrapped one
    assert data[:16] != keys.pin
    assert unpack_field62(TMK, data) == keys


def test_generated_keys_differ_each_sign_on():
    assert generate_working_keys(True) != generate_working_keys(True)


@pytest.mark.parametrize(("offset", "name"), [(0, "PIN key"), (20, "MAC key"), (40, "track key")])
def test_a_garbled_key_is_named(offset, name):
    data = bytearray(pack_field62(TMK, generate_working_keys(True)))
    data[offset + 3] ^= 0x10
    with pytest.raises(KeyCheckError, match=name) as raised:
        unpack_field62(TMK, bytes(data))
    assert raised.value.key_name == name


def test_a_wrong_kcv_is_named():
    data = bytearray(pack_field62(TMK, generate_working_keys(False)))
    data[39] ^= 0xFF  # last byte of the MAC key's KCV
    with pytest.raises(KeyCheckError, match="MAC key check value mismatch"):
        unpack_field62(TMK, bytes(data))


def test_wrong_tmk_fails_on_the_pin_key_first():
    data = pack_field62(TMK, generate_working_keys(False))
    other_tmk = bytes.fromhex("FB85C77E77D76EF8E5264E9111EC77D8")
    with pytest.raises(KeyCheckError) as raised:
        unpack_field62(other_tmk, data)
    assert raised.value.key_name == "PIN key"


@pytest.mark.parametrize("length", [0, 20, 39, 41, 48, 59, 61, 80])
def test_field62_length_must_be_40_or_60(length):
    with pytest.raises(KeyFormatError, match=f"got {length}"):
        unpack_field62(TMK, bytes(length))


def test_repr_shows_check_values_never_keys():
    keys = WorkingKeys(pin=QPOS_KEY, mac=QPOS_KEY)
    text = repr(keys)
    assert "08D7B4FB" in text
    assert QPOS_KEY.hex() not in text.lower()


def test_working_key_length_is_checked():
    with pytest.raises(KeyFormatError, match="MAC key must be 16 bytes, got 8"):
        WorkingKeys(pin=QPOS_KEY, mac=QPOS_KEY[:8])
