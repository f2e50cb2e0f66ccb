"""End to end over TCP against `acquirer serve`: every transaction type with real MACs and ARQCs,
and the ledger read back from the database after each step."""
from acquirer.protocol.fields import BalanceAmount
from acquirer.protocol.messages import Original
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent
from tests.acquirer.terminal import original_of


def test_sale_void_refund_and_reversals_on_the_ecb_terminal(acquirer):
    t = acquirer.terminal("10000001")          # UnionPay ECB MAC
    card = acquirer.card("unionpay-debit")
    card_start, merchant_start = acquirer.available(card), acquirer.merchant()

    # sale: chip with ARQC and online PIN
    sale = t.request(TxnType.SALE, card, 12_345, pin="123456")
    r = t.send(sale)
    assert r["39"] == "00"
    assert len(r["37"]) == 12 and r["37"].isdigit() and len(r["38"]) == 6
    assert (r["3"], r["4"], r["11"], r["41"], r["42"]) == ("000000", "000000012345", sale.stan,
                                                          "10000001", "898310048990001")
    assert card.check_arpc(sale.card.icc, bytes.fromhex(r["55"]), "00")
    assert acquirer.available(card) == card_start - 12_345
    assert acquirer.merchant() == merchant_start + 12_345
    assert_ledger_consistent(acquirer)

    # void of that sale: everything back
    void = t.financial(TxnType.VOID, card, 12_345, original=original_of(r, sale))
    assert void["39"] == "00" and len(void["37"]) == 12 and void["37"] != r["37"]
    assert acquirer.available(card) == card_start
    assert acquirer.merchant() == merchant_start
    assert_ledger_consistent(acquirer)

    # a second sale, refunded in two parts; a third part above what remains is 61
    sale2 = t.request(TxnType.SALE, card, 10_000)
    r2 = t.send(sale2)
    assert r2["39"] == "00"
    first = t.financial(TxnType.REFUND, card, 4_000, original=original_of(r2, sale2, with_date=True))
    assert first["39"] == "00"
    assert acquirer.available(card) == card_start - 6_000
    assert acquirer.merchant() == merchant_start + 6_000
    too_much = t.financial(TxnType.REFUND, card, 6_001, original=original_of(r2, sale2, with_date=True))
    assert too_much["39"] == "61"
    rest = t.financial(TxnType.REFUND, card, 6_000, original=Original(rrn=r2["37"], batch=sale2.batch,
                                                                       stan=sale2.stan))
    assert rest["39"] == "00"
    assert acquirer.available(card) == card_start and acquirer.merchant() == merchant_start
    assert_ledger_consistent(acquirer)

    # a sale whose reply the terminal "lost": reversed, and reversed again (idempotent)
    sale3 = t.request(TxnType.SALE, card, 777)
    assert t.send(sale3)["39"] == "00"
    assert acquirer.available(card) == card_start - 777
    for _ in range(2):
        rev = t.reverse(sale3)
        assert rev["39"] == "00" and rev["11"] == sale3.stan and "64" in rev
        assert acquirer.available(card) == card_start
        assert acquirer.merchant() == merchant_start
    assert_ledger_consistent(acquirer)

    # a reversal for a sale the host never received: acknowledged, and the late
    # original is then a duplicate that never posts
    never_sent = t.request(TxnType.SALE, card, 555)
    assert t.reverse(never_sent)["39"] == "00"
    late = t.send(never_sent)
    assert late["39"] == "94"
    assert acquirer.available(card) == card_start and acquirer.merchant() == merchant_start

    with acquirer.db() as db:
        outcomes = [row[0] for row in db.execute(
            "SELECT outcome FROM reversals WHERE stan IN (?, ?) ORDER BY id", (sale3.stan, never_sent.stan))]
    assert outcomes == ["reversed", "nothing_to_undo", "no_original"]
    assert_ledger_consistent(acquirer)


def test_balance_preauth_completion_and_their_voids_on_the_x919_terminal(acquirer):
    t = acquirer.terminal("10000002")          # X9.19 MAC
    card = acquirer.card("visa")               # Visa CVN 10 through pyemv
    start, merchant_start = acquirer.available(card), acquirer.merchant()

    inquiry = t.request(TxnType.BALANCE, card, None, pin="1234")
    b = t.send(inquiry)
    assert b["39"] == "00"
    assert BalanceAmount.parse(b["54"]) == BalanceAmount(amount=start, currency="156")
    assert card.check_arpc(inquiry.card.icc, bytes.fromhex(b["55"]), "00")

    # pre-auth holds 500.00
    preauth = t.request(TxnType.PREAUTH, card, 50_000, pin="1234")
    p = t.send(preauth)
    assert p["39"] == "00"
    assert acquirer.available(card) == start - 50_000 and acquirer.held(card) == 50_000
    assert_ledger_consistent(acquirer)

    # completion captures 300.00 and releases the other 200.00
    completion = t.request(TxnType.COMPLETION, card, 30_000,
                           original=Original(auth_code=p["38"], batch=preauth.batch, stan=preauth.stan))
    c = t.send(completion)
    assert c["39"] == "00"
    assert acquirer.held(card) == 0
    assert acquirer.available(card) == start - 30_000
    assert acquirer.merchant() == merchant_start + 30_000
    assert BalanceAmount.parse(t.financial(TxnType.BALANCE, card, None)["54"]).amount == start - 30_000
    assert_ledger_consistent(acquirer)

    # completion void: the capture is undone and the pre-auth's hold is back
    cv = t.financial(TxnType.COMPLETION_VOID, card, 30_000, original=original_of(c, completion))
    assert cv["39"] == "00"
    assert acquirer.merchant() == merchant_start
    assert acquirer.held(card) == 50_000 and acquirer.available(card) == start - 50_000
    assert_ledger_consistent(acquirer)

    # pre-auth void releases the hold
    pv = t.financial(TxnType.PREAUTH_VOID, card, 50_000,
                     original=Original(rrn=p["37"], auth_code=p["38"], batch=preauth.batch, stan=preauth.stan))
    assert pv["39"] == "00"
    assert acquirer.held(card) == 0 and acquirer.available(card) == start
    # nothing left to complete
    again = t.financial(TxnType.COMPLETION, card, 10_000,
                        original=Original(auth_code=p["38"], batch=preauth.batch, stan=preauth.stan))
    assert again["39"] == "12"
    assert acquirer.available(card) == start and acquirer.merchant() == merchant_start
    assert_ledger_consistent(acquirer)


def test_mastercard_sale_with_arpc_and_reversal_of_a_void(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("mastercard")         # Mastercard CVN 16 through pyemv
    start, merchant_start = acquirer.available(card), acquirer.merchant()
    sale = t.request(TxnType.SALE, card, 8_800, pin="4321")
    r = t.send(sale)
    assert r["39"] == "00" and card.check_arpc(sale.card.icc, bytes.fromhex(r["55"]), "00")
    void = t.request(TxnType.VOID, card, 8_800, original=original_of(r, sale))
    assert t.send(void)["39"] == "00"
    assert acquirer.available(card) == start
    # the void's reply was lost: its reversal gives the sale back
    assert t.reverse(void)["39"] == "00"
    assert acquirer.available(card) == start - 8_800
    assert acquirer.merchant() == merchant_start + 8_800
    # so the sale can be voided again (a new void)
    assert t.financial(TxnType.VOID, card, 8_800, original=original_of(r, sale))["39"] == "00"
    assert acquirer.available(card) == start and acquirer.merchant() == merchant_start
    assert_ledger_consistent(acquirer)
