"""Voids, refunds and completions against their originals: 25, 12, 64, 61, 13."""
from acquirer.protocol.messages import Original
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent
from tests.acquirer.terminal import original_of


def _approved_sale(t, card, amount):
    request = t.request(TxnType.SALE, card, amount)
    reply = t.send(request)
    assert reply["39"] == "00"
    return request, reply


def test_void_of_an_unknown_rrn_is_25(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-debit")
    bogus = Original(rrn="999999999999", auth_code="000000", batch=t.batch, stan="999999")
    assert t.financial(TxnType.VOID, card, 100, original=bogus)["39"] == "25"


def test_void_twice_is_12_and_with_another_amount_64(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-debit")
    before = acquirer.available(card)
    sale, reply = _approved_sale(t, card, 900)
    assert t.financial(TxnType.VOID, card, 901, original=original_of(reply, sale))["39"] == "64"
    assert t.financial(TxnType.VOID, card, 0, original=original_of(reply, sale))["39"] == "13"
    assert t.financial(TxnType.VOID, card, 900, original=original_of(reply, sale))["39"] == "00"
    assert t.financial(TxnType.VOID, card, 900, original=original_of(reply, sale))["39"] == "12"
    assert acquirer.available(card) == before
    assert_ledger_consistent(acquirer)


def test_void_from_another_terminal_or_with_another_card_is_25(acquirer):
    t1, t2 = acquirer.terminal("10000001"), acquirer.terminal("10000002")
    card, other = acquirer.card("unionpay-debit"), acquirer.card("unionpay-credit")
    sale, reply = _approved_sale(t1, card, 400)
    assert t2.financial(TxnType.VOID, card, 400, original=original_of(reply, sale))["39"] == "25"
    assert t1.financial(TxnType.VOID, other, 400, original=original_of(reply, sale))["39"] == "25"
    wrong_code = Original(rrn=reply["37"], auth_code="000000" if reply["38"] != "000000" else "111111",
                          batch=sale.batch, stan=sale.stan)
    assert t1.financial(TxnType.VOID, card, 400, original=wrong_code)["39"] == "25"


def test_refund_of_a_voided_sale_is_12_and_a_refunded_sale_cannot_be_voided(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-debit")
    sale, reply = _approved_sale(t, card, 1_000)
    assert t.financial(TxnType.VOID, card, 1_000, original=original_of(reply, sale))["39"] == "00"
    assert t.financial(TxnType.REFUND, card, 100, original=original_of(reply, sale))["39"] == "12"
    sale2, reply2 = _approved_sale(t, card, 1_000)
    assert t.financial(TxnType.REFUND, card, 100, original=original_of(reply2, sale2))["39"] == "00"
    assert t.financial(TxnType.VOID, card, 1_000, original=original_of(reply2, sale2))["39"] == "12"


def test_refund_from_another_terminal_of_the_merchant_is_allowed(acquirer):
    t1, t2 = acquirer.terminal("10000001"), acquirer.terminal("10000002")
    card = acquirer.card("unionpay-credit")
    before = acquirer.available(card)
    sale, reply = _approved_sale(t1, card, 2_000)
    assert t2.financial(TxnType.REFUND, card, 2_000, original=original_of(reply, sale))["39"] == "00"
    assert acquirer.available(card) == before


def test_completion_errors(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("mastercard")
    preauth = t.request(TxnType.PREAUTH, card, 5_000)
    p = t.send(preauth)
    assert p["39"] == "00"
    ref = Original(auth_code=p["38"], batch=preauth.batch, stan=preauth.stan)
    assert t.financial(TxnType.COMPLETION, card, 5_001, original=ref)["39"] == "61"
    unknown = Original(auth_code=p["38"], batch=preauth.batch, stan="999998")
    assert t.financial(TxnType.COMPLETION, card, 100, original=unknown)["39"] == "25"
    assert t.financial(TxnType.PREAUTH_VOID, card, 4_999, original=ref)["39"] == "64"
    assert t.financial(TxnType.COMPLETION, card, 5_000, original=ref)["39"] == "00"   # exactly the hold
    assert acquirer.held(card) == 0
    assert t.financial(TxnType.COMPLETION, card, 100, original=ref)["39"] == "12"     # already completed
    assert t.financial(TxnType.PREAUTH_VOID, card, 5_000, original=ref)["39"] == "12"
    assert_ledger_consistent(acquirer)
