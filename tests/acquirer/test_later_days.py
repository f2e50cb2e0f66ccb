"""What depends on the host's date, on a host embedded in the test with a clock the test moves."""
from datetime import timedelta

from acquirer.protocol.transactions import TxnType
from tests.acquirer.terminal import original_of


def test_refund_on_a_later_day(embedded):
    t = embedded.terminal("10000001")
    card = embedded.card("unionpay-debit")
    before = embedded.available(card)
    sale = t.request(TxnType.SALE, card, 6_600)
    reply = t.send(sale)
    assert reply["39"] == "00"
    embedded.now += timedelta(days=3)
    refund = t.financial(TxnType.REFUND, card, 6_600, original=original_of(reply, sale))
    assert refund["39"] == "00"
    assert embedded.available(card) == before


def test_reversal_before_midnight_blocks_its_original_after_midnight(embedded):
    t = embedded.terminal("10000002")
    card = embedded.card("unionpay-credit")
    before = embedded.available(card)
    embedded.now = embedded.now.replace(hour=23, minute=59, second=59)
    sale = t.request(TxnType.SALE, card, 4_000)
    assert t.reverse(sale)["39"] == "00"          # the original has not arrived
    embedded.now += timedelta(seconds=2)          # next day
    assert t.send(sale)["39"] == "94"
    assert embedded.available(card) == before


def test_pin_tries_reset_the_next_day(embedded):
    t = embedded.terminal("10000001")
    card = embedded.card("visa")
    for code in ("55", "55", "75"):
        assert t.sale(card, 100, pin="0000")["39"] == code
    assert t.sale(card, 100, pin="1234")["39"] == "75"
    embedded.now += timedelta(days=1)
    assert t.sale(card, 100, pin="1234")["39"] == "00"


def test_card_that_expires_this_month_is_still_valid(embedded):
    t = embedded.terminal("10000001")
    card = embedded.card("unionpay-credit")
    embedded.now = embedded.now.replace(year=2029, month=6, day=30)   # card expiry 2906
    assert t.sale(card, 100)["39"] == "00"
    embedded.now += timedelta(days=1)
    assert t.sale(card, 100)["39"] == "54"
