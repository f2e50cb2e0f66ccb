"""Settlement 0500 (flags 1 balanced / 2 out of balance), batch upload 0320 and upload end."""
from acquirer.protocol.fields import CardTotals, SettlementTotals
from acquirer.protocol.messages import BatchUpload, BatchUploadEnd, Original, Settlement
from acquirer.protocol.transactions import TxnType
from tests.acquirer.terminal import original_of


def _settle(t, totals: SettlementTotals, batch: str | None = None) -> dict[str, str]:
    return t.exchange(Settlement(t.terminal, t.next_stan(), batch or t.batch, totals).to_message(),
                      sign=False)


def test_balanced_settlement_closes_the_batch(acquirer):
    t = acquirer.terminal("10000001")
    batch = t.batch
    up, visa = acquirer.card("unionpay-debit"), acquirer.card("visa")
    s1 = t.request(TxnType.SALE, up, 1_000)
    r1 = t.send(s1)
    t.sale(up, 2_000)
    t.sale(visa, 500)
    voided = t.request(TxnType.SALE, up, 9_999)
    rv = t.send(voided)
    assert t.financial(TxnType.VOID, up, 9_999, original=original_of(rv, voided))["39"] == "00"
    reversed_sale = t.request(TxnType.SALE, visa, 7_777)
    t.send(reversed_sale)
    t.reverse(reversed_sale)
    assert t.financial(TxnType.REFUND, up, 300, original=original_of(r1, s1))["39"] == "00"
    assert t.financial(TxnType.BALANCE, up, None)["39"] == "00"
    t.send(t.request(TxnType.PREAUTH, visa, 100))   # pre-auths are not in the totals

    totals = SettlementTotals(CardTotals(3_000, 2, 300, 1), CardTotals(500, 1, 0, 0))
    reply = _settle(t, totals)
    assert (reply["t"], reply["39"]) == ("0510", "00") and "64" not in reply
    answered = SettlementTotals.parse(reply["48"])
    assert (answered.domestic.result, answered.foreign.result) == ("1", "1")
    assert answered.domestic.debit_amount == 3_000

    # the batch is closed: the host's batch moved on, the old one is 77, a void of its sale 12
    assert t.sale(up, 100)["39"] == "77"
    t.sign_on()
    assert t.batch == f"{int(batch) + 1:06d}"
    assert t.financial(TxnType.VOID, up, 1_000, original=original_of(r1, s1))["39"] == "12"
    assert t.sale(up, 100)["39"] == "00"
    # a refund of the old batch's sale still works (the rest of it)
    assert t.financial(TxnType.REFUND, up, 700, original=original_of(r1, s1))["39"] == "00"
    # a repeated 0500 for the settled batch is answered again, the batch does not move
    again = _settle(t, totals, batch=batch)
    assert SettlementTotals.parse(again["48"]).domestic.result == "1"
    assert t.sale(up, 100)["39"] == "00"


def test_out_of_balance_then_batch_upload(acquirer):
    t = acquirer.terminal("10000002")
    card = acquirer.card("mastercard")
    sale = t.request(TxnType.SALE, card, 4_200)
    reply = t.send(sale)
    assert reply["39"] == "00"
    batch = t.batch
    # the terminal believes in a second sale the host never approved
    claimed = SettlementTotals(CardTotals(), CardTotals(8_400, 2, 0, 0))
    answered = SettlementTotals.parse(_settle(t, claimed)["48"])
    assert (answered.domestic.result, answered.foreign.result) == ("1", "2")

    # uploaded without a PAN (the terminal keeps none): matched by its RRN
    upload = BatchUpload(t.terminal, t.next_stan(), batch, TxnType.SALE, None, 4_200, "072",
                         Original(rrn=reply["37"], auth_code=reply["38"], batch=batch, stan=sale.stan))
    assert t.exchange(upload.to_message(), sign=False)["39"] == "00"
    end = t.exchange(BatchUploadEnd(t.terminal, t.next_stan(), batch, 1).to_message(), sign=False)
    assert end["39"] == "00"
    # the host's figures, on which the batch is closed
    assert SettlementTotals.parse(end["48"]) == SettlementTotals(CardTotals(), CardTotals(4_200, 1, 0, 0))
    with acquirer.db() as db:
        assert db.execute("SELECT balanced, uploaded, upload_ended_count FROM batches WHERE tid = ? "
                          "AND batch = ?", (t.terminal.tid, batch)).fetchone() == (0, 1, 1)
        masked, matched = db.execute("SELECT masked_pan, matched_id FROM batch_uploads").fetchone()
    assert masked == "541333******0019" and matched is not None


def test_batch_upload_for_a_batch_never_settled_is_12(acquirer):
    t = acquirer.terminal("10000002")
    end = BatchUploadEnd(t.terminal, t.next_stan(), "000500", 0)
    assert t.exchange(end.to_message(), sign=False)["39"] == "12"


def test_settlement_of_a_batch_other_than_the_open_one_is_77(acquirer):
    t = acquirer.terminal("10000002")
    assert _settle(t, SettlementTotals(), batch="000777")["39"] == "77"
