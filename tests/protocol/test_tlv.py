"""tlv: BER-TLV for field 55, keeping order and repeated tags."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from acquirer.protocol import tlv
from acquirer.protocol.tlv import TlvError


def hx(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_repeated_tags_and_order_are_kept():
    # a reply's field 55: ARPC, then two issuer scripts 72 in the order the issuer sent them
    data = hx("91 0A 1122334455667788 3030"
              " 72 09 9F18 04 00000001 86 00"
              " 72 05 9F18 02 0002 00")
    items = tlv.parse(data)
    assert [t.tag for t in items] == ["91", "72", "72"]
    assert tlv.find_all(items, "72") == [hx("9F18 04 00000001 86 00"), hx("9F18 02 0002")]
    assert tlv.first(items, "91") == hx("1122334455667788 3030")
    assert tlv.build(items) == data[:-1]  # the trailing 00 padding byte is not rebuilt


def test_constructed_templates_parse_on_demand():
    items = tlv.parse(hx("72 09 9F18 04 00000001 86 00"))
    assert items[0].constructed
    children = items[0].children()
    assert [(c.tag, c.value) for c in children] == [("9F18", hx("00000001")), ("86", b"")]
    assert not children[0].constructed
    with pytest.raises(TlvError):
        children[0].children()


def test_multi_byte_tags_and_long_lengths():
    value = bytes(range(200))
    data = tlv.build([("DF8101", b"\x01"), ("9F4B", value), ("5F2A", hx("0156"))])
    assert data[:5] == hx("DF8101 01 01")
    assert data[5:9] == hx("9F4B 81 C8")
    items = tlv.parse(data)
    assert [(t.tag, t.value) for t in items] == [("DF8101", b"\x01"), ("9F4B", value), ("5F2A", hx("0156"))]
    assert tlv.build([("70", bytes(300))])[:4] == hx("70 82 012C")


def test_as_dict_keeps_the_first_occurrence():
    items = tlv.parse(hx("9F36 02 0001 9F36 02 0002"))
    assert tlv.as_dict(items) == {"9F36": hx("0001")}
    assert tlv.parse_dict(hx("9F36 02 0001 00 9F36 02 0002")) == {"9F36": hx("0001")}


@pytest.mark.parametrize("data, offset, reason", [
    ("9F", 0, "tag runs past"),
    ("9F26", 2, "has no length"),
    ("9F26 08 0102", 0, "declares 8 value bytes, only 2 remain"),
    ("9F26 80", 2, "indefinite"),
    ("9F26 85 0000000001", 2, "5-byte length"),
    ("9F26 82 01", 2, "runs past the end"),
    ("5A 01 11 9F26 09 00", 3, "declares 9"),
])
@pytest.mark.parametrize("reader", [tlv.parse, tlv.parse_dict])
def test_errors_name_the_offset(data, offset, reason, reader):
    with pytest.raises(TlvError) as err:
        reader(hx(data))
    assert err.value.offset == offset
    assert reason in str(err.value)


def test_nested_errors_keep_absolute_offsets():
    items = tlv.parse(hx("5A 01 11 72 03 9F18 05"))
    with pytest.raises(TlvError) as err:
        items[1].children()
    assert err.value.offset == 5


@pytest.mark.parametrize("tag", ["9F", "1F", "9F8001" + "80", "00", "XY", "5A5A"])
def test_build_rejects_malformed_tags(tag):
    with pytest.raises(TlvError):
        tlv.build([(tag, b"")])


def _tags():
    one_byte = st.integers(1, 0xFE).filter(lambda b: b & 0x1F != 0x1F).map(lambda b: f"{b:02X}")
    two_byte = st.tuples(st.sampled_from([0x5F, 0x9F, 0xBF, 0xDF]), st.integers(1, 0x7F)).map(
        lambda t: f"{t[0]:02X}{t[1]:02X}")
    return one_byte | two_byte


@given(st.lists(st.tuples(_tags(), st.binary(max_size=300)), max_size=8))
def test_build_parse_round_trip(pairs):
    data = tlv.build(pairs)
    items = tlv.parse(data)
    assert [(t.tag, t.value) for t in items] == pairs
    assert tlv.parse_dict(data) == tlv.as_dict(items)
