"""Field 64: every financial request's MAC is checked (A0), and replies are MACed."""
import pytest

from acquirer.protocol import codec
from acquirer.protocol.spec import MAC_LEN
from acquirer.protocol.transactions import TxnType


@pytest.mark.parametrize("tid", ["10000001", "10000002"])   # ECB and X9.19 terminals
def test_wrong_mac_gets_a0_and_nothing_is_posted(acquirer, tid):
    t = acquirer.terminal(tid)
    card = acquirer.card("unionpay-credit")
    before = acquirer.available(card)
    payload = codec.sign(t.request(TxnType.SALE, card, 2_000).to_message(), t.mac, t.keys.mac)
    forged = payload[:-1] + bytes([payload[-1] ^ 0x01])
    reply = codec.decode(answer := t.send_payload(forged))
    assert reply["39"] == "A0"
    assert codec.verify(answer, t.mac, t.keys.mac)   # the host still MACs its answer
    assert acquirer.available(card) == before


def test_altered_amount_under_an_intact_mac_gets_a0(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-credit")
    before = acquirer.available(card)
    payload = codec.sign(t.request(TxnType.SALE, card, 2_000).to_message(), t.mac, t.keys.mac)
    altered = payload.replace(bytes.fromhex("000000002000"), bytes.fromhex("000000000001"), 1)
    assert altered != payload
    assert codec.decode(t.send_payload(altered))["39"] == "A0"
    assert acquirer.available(card) == before


def test_missing_mac_and_mac_of_the_other_algorithm_get_a0(acquirer):
    t = acquirer.terminal("10000001")   # an ECB terminal
    card = acquirer.card("unionpay-credit")
    unsigned = codec.encode(t.request(TxnType.SALE, card, 300).to_message())
    assert codec.decode(t.send_payload(unsigned))["39"] == "A0"
    x919 = codec.sign(t.request(TxnType.SALE, card, 300).to_message(), "x919", t.keys.mac)
    assert codec.decode(t.send_payload(x919))["39"] == "A0"


def test_reversal_needs_a_valid_mac(acquirer):
    t = acquirer.terminal("10000002")
    card = acquirer.card("unionpay-credit")
    sale = t.request(TxnType.SALE, card, 4_100)
    assert t.send(sale)["39"] == "00"
    after_sale = acquirer.available(card)
    from acquirer.protocol.messages import reversal_of
    payload = codec.sign(reversal_of(sale).to_message(), t.mac, t.keys.mac)
    forged = payload[:-MAC_LEN] + bytes(MAC_LEN)
    assert codec.decode(t.send_payload(forged))["39"] == "A0"
    assert acquirer.available(card) == after_sale
    assert t.reverse(sale)["39"] == "00"
    assert acquirer.available(card) == after_sale + 4_100
