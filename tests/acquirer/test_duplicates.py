"""Duplicate transmissions (same TID, MID, batch, STAN, date) get 94 and never post twice."""
import threading

from acquirer.protocol import codec
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent


def test_resent_sale_gets_94_and_is_posted_once(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-debit")
    before = acquirer.available(card)
    sale = t.request(TxnType.SALE, card, 1_500)
    first = t.send(sale)
    assert first["39"] == "00"
    again = t.send(sale)
    assert again["39"] == "94" and "37" not in again and "64" in again
    assert acquirer.available(card) == before - 1_500
    with acquirer.db() as db:
        assert db.execute("SELECT COUNT(*) FROM transactions WHERE tid = ? AND stan = ?",
                          ("10000001", sale.stan)).fetchone()[0] == 1


def test_same_stan_with_another_card_or_amount_is_still_a_duplicate(acquirer):
    t = acquirer.terminal("10000001")
    debit, credit = acquirer.card("unionpay-debit"), acquirer.card("unionpay-credit")
    before = acquirer.available(credit)
    stan = t.next_stan()
    assert t.send(t.request(TxnType.SALE, debit, 100, stan=stan))["39"] == "00"
    assert t.send(t.request(TxnType.SALE, credit, 999, stan=stan))["39"] == "94"
    assert acquirer.available(credit) == before


def test_resent_decline_is_a_duplicate_too(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-low-balance")
    sale = t.request(TxnType.SALE, card, 100_000)   # ¥1,000 on a ¥10 card
    assert t.send(sale)["39"] == "51"
    assert t.send(sale)["39"] == "94"


def test_the_same_request_on_two_connections_at_once_posts_once(acquirer):
    card = acquirer.card("unionpay-debit")
    before = acquirer.available(card)
    first, second = acquirer.terminal("10000002"), acquirer.terminal("10000002", sign_on=False)
    second.keys = first.keys
    payload = codec.sign(first.request(TxnType.SALE, card, 2_500).to_message(), first.mac, first.keys.mac)
    answers: list[str] = []
    start = threading.Barrier(2)

    def send(terminal):
        start.wait()
        answers.append(codec.decode(terminal.send_payload(payload))["39"])

    threads = [threading.Thread(target=send, args=(t,)) for t in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == ["00", "94"]
    assert acquirer.available(card) == before - 2_500
    assert_ledger_consistent(acquirer)
