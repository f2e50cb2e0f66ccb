"""A reused trace number never costs another transaction its money (issue 12, point 2).

A terminal whose state was wiped (a replacement device) or a second till
configured with the same TID sends a sale under a STAN an earlier sale
already holds. The host refuses it (94) and the terminal, which cannot know
the outcome, reverses it. Whatever card and amount the two carry, the
earlier approved sale must stay approved and posted; only a request that is
the earlier one sent again (same card, amount, type and field 55) is the
same transaction, and then the reversal undoes it.

"Journal" below is what the terminals were told: the approvals each kept
and the requests each reversed. The acquirer's ledger must agree with it.
"""
from __future__ import annotations

import dataclasses

from acquirer.protocol.messages import CardInput, reversal_of
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent

MID = "898310048990001"


def _reversal_outcome(acquirer, tid: str, stan: str) -> list[str]:
    with acquirer.db() as db:
        return [r[0] for r in db.execute("SELECT outcome FROM reversals WHERE tid = ? AND stan = ? ORDER BY id",
                                         (tid, stan))]


def _status(acquirer, tid: str, stan: str) -> list[tuple[str, int]]:
    with acquirer.db() as db:
        return db.execute("SELECT status, amount FROM transactions WHERE tid = ? AND stan = ?",
                          (tid, stan)).fetchall()


def _without_pan(t, request):
    """The 0400 a terminal rebuilds from a journal that keeps no full PAN: no field 2."""
    reversal = reversal_of(request)
    card = reversal.card
    return t.exchange(dataclasses.replace(
        reversal, card=CardInput(entry_mode=card.entry_mode, psn=card.psn)).to_message())


def _reuse(acquirer, tid: str, first_card: str, second_card: str, first_amount: int, second_amount: int,
           *, pan_in_reversal: bool = True, second_till: bool = False) -> tuple[str, str]:
    """A sale, then another sale under its STAN from a wiped terminal (or a second till with
    the same TID), refused and reversed; checks that the journal and the ledger agree."""
    first, second = acquirer.card(first_card), acquirer.card(second_card)
    before = {first_card: acquirer.available(first), second_card: acquirer.available(second)}
    merchant = acquirer.merchant()
    till = acquirer.terminal(tid)
    sale = till.request(TxnType.SALE, first, first_amount)
    assert till.send(sale)["39"] == "00"
    journal = {first_card: -first_amount}

    # the wiped terminal (or the other till) signs on and starts over at that STAN
    other = acquirer.terminal(tid)
    if not second_till:
        till.close()
    reuse = other.request(TxnType.SALE, second, second_amount, stan=sale.stan)
    assert other.send(reuse)["39"] == "94"
    reversed_reply = other.reverse(reuse) if pan_in_reversal else _without_pan(other, reuse)
    assert reversed_reply["39"] == "00"   # acknowledged

    assert _status(acquirer, tid, sale.stan) == [("approved", first_amount)]
    after = {first_card: acquirer.available(first), second_card: acquirer.available(second)}
    expected = {name: before[name] + journal.get(name, 0) for name in before}
    assert after == expected
    assert acquirer.merchant() - merchant == first_amount
    assert_ledger_consistent(acquirer)
    outcome = _reversal_outcome(acquirer, tid, sale.stan)
    assert len(outcome) == 1
    return sale.stan, outcome[0]


def test_wiped_terminal_another_card_same_amount_the_issue_case(acquirer):
    """¥12.00 Visa, then ¥12.00 Mastercard under its STAN: the Visa sale keeps its money."""
    _, outcome = _reuse(acquirer, "10000001", "visa", "mastercard", 1_200, 1_200)
    assert outcome == "other_card"


def test_wiped_terminal_another_card_reversed_without_a_pan(acquirer):
    _, outcome = _reuse(acquirer, "10000001", "visa", "mastercard", 1_200, 1_200, pan_in_reversal=False)
    assert outcome == "for_refused_request"


def test_wiped_terminal_another_card_another_amount(acquirer):
    _, outcome = _reuse(acquirer, "10000001", "unionpay-debit", "mastercard-2series", 1_500, 2_500)
    assert outcome == "other_card"


def test_wiped_terminal_same_card_same_amount(acquirer):
    """Only the card's new cryptogram tells this sale from the first one sent again."""
    _, outcome = _reuse(acquirer, "10000001", "unionpay-debit", "unionpay-debit", 1_200, 1_200)
    assert outcome == "for_refused_request"


def test_wiped_terminal_same_card_same_amount_reversed_without_a_pan(acquirer):
    _, outcome = _reuse(acquirer, "10000001", "visa", "visa", 800, 800, pan_in_reversal=False)
    assert outcome == "for_refused_request"


def test_wiped_terminal_same_card_another_amount(acquirer):
    _, outcome = _reuse(acquirer, "10000001", "unionpay-debit", "unionpay-debit", 1_200, 1_300)
    assert outcome == "mismatch"


def test_two_tills_with_one_tid_same_card_same_amount(acquirer):
    _, outcome = _reuse(acquirer, "10000002", "mastercard", "mastercard", 600, 600, second_till=True)
    assert outcome == "for_refused_request"


def test_two_tills_with_one_tid_another_card_same_amount_no_pan(acquirer):
    _, outcome = _reuse(acquirer, "10000002", "unionpay-credit", "visa", 700, 700, second_till=True,
                        pan_in_reversal=False)
    assert outcome == "for_refused_request"


def test_the_refusal_is_recorded_and_a_later_sale_is_served(acquirer):
    stan, _ = _reuse(acquirer, "10000001", "unionpay-credit", "mastercard", 300, 400)
    with acquirer.db() as db:
        rows = db.execute("SELECT txn_type, amount FROM trace_reuses WHERE tid = ? AND stan = ?",
                          ("10000001", stan)).fetchall()
    assert rows == [("sale", 400)]
    t = acquirer.terminal("10000001")
    assert t.sale(acquirer.card("mastercard"), 400)["39"] == "00"
    assert "trace number reused" in acquirer.log()
    assert acquirer.card("mastercard").pan not in acquirer.log()


def test_the_same_request_sent_again_and_reversed_undoes_the_original(acquirer):
    """A resent request is the same transaction: the terminal never learned its outcome."""
    card = acquirer.card("unionpay-credit")
    before, merchant = acquirer.available(card), acquirer.merchant()
    t = acquirer.terminal("10000002")
    sale = t.request(TxnType.SALE, card, 900)
    assert t.send(sale)["39"] == "00"
    assert t.send(sale)["39"] == "94"
    assert t.reverse(sale)["39"] == "00"
    assert _status(acquirer, "10000002", sale.stan) == [("reversed", 900)]
    assert _reversal_outcome(acquirer, "10000002", sale.stan) == ["reversed"]
    assert (acquirer.available(card), acquirer.merchant()) == (before, merchant)
    assert_ledger_consistent(acquirer)


def test_a_reversal_naming_another_card_never_undoes_an_approved_sale(acquirer):
    """No 94 at all: a 0400 under an approved sale's STAN with another card's PAN."""
    visa, mc = acquirer.card("visa"), acquirer.card("mastercard")
    before = acquirer.available(visa)
    t = acquirer.terminal("10000001")
    sale = t.request(TxnType.SALE, visa, 1_000)
    assert t.send(sale)["39"] == "00"
    forged = t.request(TxnType.SALE, mc, 1_000, stan=sale.stan, icc=False)
    assert t.reverse(forged)["39"] == "00"
    assert _status(acquirer, "10000001", sale.stan) == [("approved", 1_000)]
    assert acquirer.available(visa) == before - 1_000
    assert _reversal_outcome(acquirer, "10000001", sale.stan) == ["other_card"]
