"""No full PAN, track 2 or PIN block in the acquirer's database or log: tokens and masked PANs only."""
import sqlite3

from acquirer.protocol.transactions import TxnType
from acquirer.protocol.cardholder import mask_pan


def _all_text(db: sqlite3.Connection) -> str:
    chunks = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in db.execute(f"SELECT * FROM {table}"):
            chunks.extend(v.hex() if isinstance(v, bytes) else str(v) for v in row)
    return "\n".join(chunks)


def test_database_and_log_hold_tokens_and_masked_pans_only(acquirer):
    t = acquirer.terminal("10000001")
    cards = [acquirer.card(n) for n in ("unionpay-debit", "visa", "mastercard", "unionpay-expired")]
    pin_blocks = []
    for card in cards:
        request = t.request(TxnType.SALE, card, 100, pin=card.card.pin)
        pin_blocks.append(request.card.pin_block.hex())
        t.send(request)
    t.send(t.request(TxnType.SALE, None, 100, pan="6214830000000000999"))   # unknown card, 14
    with acquirer.db() as db:
        text = _all_text(db)
        masked = {row[0] for row in db.execute("SELECT masked_pan FROM transactions WHERE masked_pan IS NOT NULL")}
    log = acquirer.log()
    for card in cards:
        for where in (text, log):
            assert card.pan not in where      # and so no track 2, which starts with it
        assert mask_pan(card.pan) in masked
    assert "6214830000000000999" not in text and mask_pan("6214830000000000999") in masked
    for block in pin_blocks:
        assert block not in text.lower() and block not in log.lower()
