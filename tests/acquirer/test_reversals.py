"""Reversals undo whatever their original did, and only that."""
from acquirer.protocol import codec
from acquirer.protocol.messages import CardInput, FinancialRequest, Original, reversal_of
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent
from tests.acquirer.terminal import original_of


def test_reversal_of_a_completion_gives_the_hold_back(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-credit")
    start, merchant_start = acquirer.available(card), acquirer.merchant()
    preauth = t.request(TxnType.PREAUTH, card, 9_000)
    p = t.send(preauth)
    completion = t.request(TxnType.COMPLETION, card, 6_000,
                           original=Original(auth_code=p["38"], batch=preauth.batch, stan=preauth.stan))
    assert t.send(completion)["39"] == "00"
    assert t.reverse(completion)["39"] == "00"
    assert acquirer.held(card) == 9_000 and acquirer.available(card) == start - 9_000
    assert acquirer.merchant() == merchant_start
    # the pre-auth is open again: it can be completed anew
    again = t.request(TxnType.COMPLETION, card, 9_000,
                      original=Original(auth_code=p["38"], batch=preauth.batch, stan=preauth.stan))
    assert t.send(again)["39"] == "00"
    assert acquirer.held(card) == 0 and acquirer.merchant() == merchant_start + 9_000
    assert_ledger_consistent(acquirer)


def test_reversal_of_a_preauth_void_restores_the_hold(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-credit")
    preauth = t.request(TxnType.PREAUTH, card, 1_200)
    p = t.send(preauth)
    held = acquirer.held(card)
    void = t.request(TxnType.PREAUTH_VOID, card, 1_200, original=original_of(p, preauth))
    assert t.send(void)["39"] == "00"
    assert acquirer.held(card) == held - 1_200
    assert t.reverse(void)["39"] == "00"
    assert acquirer.held(card) == held
    assert_ledger_consistent(acquirer)


def test_reversal_with_another_amount_undoes_nothing_but_is_acknowledged(acquirer):
    t = acquirer.terminal("10000002")
    card = acquirer.card("unionpay-debit")
    sale = t.request(TxnType.SALE, card, 5_000)
    assert t.send(sale)["39"] == "00"
    after = acquirer.available(card)
    other = FinancialRequest(sale.txn, sale.terminal, sale.stan, sale.batch, sale.card, amount=4_999)
    assert t.reverse(other)["39"] == "00"
    assert acquirer.available(card) == after
    with acquirer.db() as db:
        assert db.execute("SELECT outcome FROM reversals WHERE tid = ? AND stan = ?",
                          (t.terminal.tid, sale.stan)).fetchone()[0] == "mismatch"


def test_refunds_and_balance_inquiries_are_not_reversible(acquirer):
    t = acquirer.terminal("10000002")
    card = acquirer.card("unionpay-debit")
    sale = t.request(TxnType.SALE, card, 800)
    reply = t.send(sale)
    refund = t.request(TxnType.REFUND, card, 800, original=original_of(reply, sale))
    assert t.send(refund)["39"] == "00"
    after = acquirer.available(card)
    msg = reversal_of(t.request(TxnType.SALE, card, 800, stan=refund.stan)).to_message()
    msg["3"], msg["60"] = "200000", "25" + msg["60"][2:]      # the refund's codes in a 0400
    assert t.exchange(msg)["39"] == "12"
    assert acquirer.available(card) == after


def test_reversal_without_a_pan_finds_its_original(acquirer):
    """A terminal that keeps no PAN (restart) reverses by TID, MID, batch and STAN."""
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-debit")
    before = acquirer.available(card)
    sale = t.request(TxnType.SALE, card, 2_222)
    assert t.send(sale)["39"] == "00"
    rebuilt = FinancialRequest(sale.txn, sale.terminal, sale.stan, sale.batch,
                               CardInput(sale.card.entry_mode), amount=sale.amount)
    msg = reversal_of(rebuilt).to_message()
    assert "2" not in msg and "35" not in msg
    answer = codec.decode(t.send_payload(codec.sign(msg, t.mac, t.keys.mac)))
    assert answer["39"] == "00"
    assert acquirer.available(card) == before
