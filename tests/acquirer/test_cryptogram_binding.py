"""The amount, currency and type of a request must be what the card's ARQC covers (issue 12, point 3).

A genuine ARQC over ¥2.34 (9F02 = 000000000234), sent with another field 4,
49 or 3 under a valid MAC, is declined 05 for every scheme and posts
nothing: no money moves, the record is a decline. The same cryptogram with
the fields it covers is approved, so each case can fail. The host under
test is `acquirer serve` (its protocol workers check the ARQCs); one case
runs on the embedded host too, whose ARQC check runs in its own process.
"""
from __future__ import annotations

import dataclasses

import pytest

from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent

SCHEMES = ("unionpay-debit", "visa", "mastercard")
SIGNED = 234   # fen: what the card's cryptogram covers


def _record(acquirer, tid: str, stan: str) -> tuple[str, str, int]:
    with acquirer.db() as db:
        return db.execute("SELECT status, response_code, amount FROM transactions WHERE tid = ? AND stan = ?",
                          (tid, stan)).fetchone()


def _send(acquirer, card_name: str, amount: int | None, *, txn: TxnType = TxnType.SALE,
          currency: str = "156", signed_type: str = "00", tid: str = "10000001") -> tuple[str, int, int]:
    """Response code, and the card's and merchant's balance changes, of one request."""
    card = acquirer.card(card_name)
    t = acquirer.terminal(tid)
    icc = card.icc(SIGNED, txn_type=signed_type)
    before, merchant = acquirer.available(card), acquirer.merchant()
    request = t.request(txn, card, amount, icc=icc)
    if currency != "156":
        request = dataclasses.replace(request, currency=currency)
    code = t.send(request)["39"]
    t.close()
    return code, acquirer.available(card) - before, acquirer.merchant() - merchant


@pytest.mark.parametrize("card_name", SCHEMES)
def test_the_amount_the_card_signed_is_approved(acquirer, card_name):
    assert _send(acquirer, card_name, SIGNED) == ("00", -SIGNED, SIGNED)


@pytest.mark.parametrize("card_name", SCHEMES)
@pytest.mark.parametrize("amount", [400_000, 1, SIGNED + 1, SIGNED - 1], ids=["higher", "lower", "fen-more", "fen-less"])
def test_another_amount_than_the_card_signed_is_declined_and_posts_nothing(acquirer, card_name, amount):
    assert _send(acquirer, card_name, amount) == ("05", 0, 0)
    assert_ledger_consistent(acquirer)


@pytest.mark.parametrize("card_name", SCHEMES)
def test_another_currency_than_the_card_signed_is_declined(acquirer, card_name):
    assert _send(acquirer, card_name, SIGNED, currency="840") == ("05", 0, 0)


@pytest.mark.parametrize("card_name", SCHEMES)
def test_another_transaction_type_than_the_card_signed_is_declined(acquirer, card_name):
    # a balance inquiry's ARQC (9C = 31) sent as a sale (field 3 = 000000), and a sale's
    # ARQC (9C = 00) sent as a balance inquiry (field 3 = 310000)
    assert _send(acquirer, card_name, SIGNED, signed_type="31") == ("05", 0, 0)
    card = acquirer.card(card_name)
    t = acquirer.terminal()
    reply = t.send(t.request(TxnType.BALANCE, card, None, icc=card.icc(0, txn_type="00")))
    assert reply["39"] == "05" and "54" not in reply


def test_a_captured_cryptogram_resent_by_another_terminal_for_more_is_declined(acquirer):
    """The issue's case: an ARQC over ¥2.34 sent by another registered terminal as ¥4,000.00."""
    card = acquirer.card("unionpay-credit")
    captured = card.icc(SIGNED)
    other = acquirer.terminal("10000002")
    before = acquirer.available(card)
    request = other.request(TxnType.SALE, card, 400_000, icc=captured)
    assert other.send(request)["39"] == "05"
    assert acquirer.available(card) == before
    assert _record(acquirer, "10000002", request.stan) == ("declined", "05", 400_000)


def test_the_embedded_host_declines_the_same_way(embedded):
    card = embedded.card("visa")
    t = embedded.terminal()
    before = embedded.available(card)
    assert t.send(t.request(TxnType.SALE, card, SIGNED + 1, icc=card.icc(SIGNED)))["39"] == "05"
    assert t.send(t.request(TxnType.SALE, card, SIGNED, icc=card.icc(SIGNED)))["39"] == "00"
    assert embedded.available(card) == before - SIGNED
