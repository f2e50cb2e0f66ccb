"""The issuers' decisions as a terminal sees them: one test per response code, ARPC on declines too."""
from acquirer.protocol import codec
from acquirer.protocol.transactions import TxnType


def _sale(acquirer, card_name, amount, **options):
    t = acquirer.terminal("10000001")
    card = acquirer.card(card_name)
    request = t.request(TxnType.SALE, card, amount, **options)
    return card, request, t.send(request)


def test_card_not_on_the_issuers_file_is_14(acquirer):
    t = acquirer.terminal("10000001")
    reply = t.send(t.request(TxnType.SALE, None, 100, pan="6214830000000000999"))
    assert reply["39"] == "14" and "55" not in reply


def test_card_no_bin_routes_is_14(acquirer):
    t = acquirer.terminal("10000001")
    assert t.send(t.request(TxnType.SALE, None, 100, pan="9999990000000001"))["39"] == "14"


def test_lost_and_stolen_cards_are_41_and_43_with_an_arpc(acquirer):
    for name, code in (("unionpay-lost", "41"), ("unionpay-stolen", "43")):
        card, request, reply = _sale(acquirer, name, 100)
        assert reply["39"] == code
        assert card.check_arpc(request.card.icc, bytes.fromhex(reply["55"]), code)


def test_expired_card_is_54(acquirer):
    card, request, reply = _sale(acquirer, "unionpay-expired", 100)
    assert reply["39"] == "54"
    assert card.check_arpc(request.card.icc, bytes.fromhex(reply["55"]), "54")
    # a valid card presented with a past expiry in field 14
    assert _sale(acquirer, "unionpay-credit", 100, expiry="2001")[2]["39"] == "54"


def test_insufficient_funds_is_51_and_credit_limit_counts_as_funds(acquirer):
    card = acquirer.card("unionpay-low-balance")
    balance = acquirer.available(card)
    assert _sale(acquirer, "unionpay-low-balance", balance + 1)[2]["39"] == "51"
    assert _sale(acquirer, "unionpay-low-balance", balance)[2]["39"] == "00"
    assert acquirer.available(card) == 0
    assert _sale(acquirer, "unionpay-low-balance", 1)[2]["39"] == "51"


def test_over_the_cards_per_transaction_limit_is_61(acquirer):
    limit = acquirer.card("unionpay-debit").card.per_txn_limit
    assert _sale(acquirer, "unionpay-debit", limit + 1)[2]["39"] == "61"


def test_zero_amount_is_13(acquirer):
    assert _sale(acquirer, "unionpay-debit", 0)[2]["39"] == "13"


def test_unknown_processing_code_is_12(acquirer):
    t = acquirer.terminal("10000001")
    msg = t.request(TxnType.SALE, acquirer.card("unionpay-debit"), 100).to_message()
    msg["3"] = "190000"   # a private sale code this host is not configured for
    assert t.exchange(msg)["39"] == "12"


def test_wrong_arqc_is_05_and_does_not_consume_the_atc(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-credit")
    before = acquirer.available(card)
    forged = t.request(TxnType.SALE, card, 300, icc=card.icc(300, wrong_key=True))
    reply = t.send(forged)
    assert reply["39"] == "05"
    assert acquirer.available(card) == before
    # the genuine card may still use the ATC the forgery claimed
    assert t.send(t.request(TxnType.SALE, card, 300, icc=card.icc(300, atc=card.atc)))["39"] == "00"


def test_replayed_or_lower_atc_is_05(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("visa")
    first = t.request(TxnType.SALE, card, 200)
    assert t.send(first)["39"] == "00"
    replay = t.request(TxnType.SALE, card, 200, icc=first.card.icc)   # same field 55, new STAN
    reply = t.send(replay)
    assert reply["39"] == "05"
    assert card.check_arpc(first.card.icc, bytes.fromhex(reply["55"]), "05")
    lower = t.request(TxnType.SALE, card, 200, icc=card.icc(200, atc=card.atc - 1))
    assert t.send(lower)["39"] == "05"
    assert t.send(t.request(TxnType.SALE, card, 200))["39"] == "00"


def test_unusable_field_55_is_30(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-credit")
    broken = card.icc(100)[:-5]   # the last tag runs past the end
    assert t.send(t.request(TxnType.SALE, card, 100, icc=broken))["39"] == "30"
    no_arqc = bytes.fromhex("9F360200019F2701 80".replace(" ", ""))
    assert t.send(t.request(TxnType.SALE, card, 100, icc=no_arqc))["39"] == "30"


def test_wrong_pin_is_55_and_the_third_wrong_try_blocks_with_75(acquirer):
    t = acquirer.terminal("10000002")
    card = acquirer.card("mastercard-2series")
    before = acquirer.available(card)
    assert t.sale(card, 100, pin="0000")["39"] == "55"
    assert t.sale(card, 100, pin="1111")["39"] == "55"
    assert t.sale(card, 100, pin="2222")["39"] == "75"
    assert t.sale(card, 100, pin="4321")["39"] == "75"   # blocked, even with the right PIN
    assert t.sale(card, 100)["39"] == "00"               # no-CVM contactless still works
    assert acquirer.available(card) == before - 100


def test_a_correct_pin_resets_the_try_counter(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-credit")
    for _ in range(3):
        assert t.sale(card, 100, pin="111111")["39"] == "55"
        assert t.sale(card, 100, pin="654321")["39"] == "00"


def test_pin_block_under_a_wrong_pin_key_is_a_wrong_pin(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-debit")
    request = t.request(TxnType.SALE, card, 100, pin="123456")
    msg = request.to_message()
    msg["52"] = "0123456789ABCDEF"
    assert t.exchange(msg)["39"] == "55"
    assert t.sale(card, 100, pin="123456")["39"] == "00"


def test_decline_replies_carry_a_mac(acquirer):
    t = acquirer.terminal("10000002")
    request = t.request(TxnType.SALE, acquirer.card("unionpay-low-balance"), 10**6)
    answer = t.send_payload(codec.sign(request.to_message(), t.mac, t.keys.mac))
    assert codec.decode(answer)["39"] in ("51", "61")
    assert codec.verify(answer, t.mac, t.keys.mac)
