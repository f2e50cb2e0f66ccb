"""A forged sign-on cannot knock a terminal off (issue 12, point 4).

The 0800 carries no MAC: anyone who knows a TID and MID can send one. The
host answers it with new keys under the TMK, which only the real terminal
can read; those keys wait beside the working ones until a request is MACed
with them. So an attacker's sign-ons every 50 ms change nothing for the
real terminal, whose sales keep verifying, and whose replies keep being
MACed, under the keys it holds.
"""
from __future__ import annotations

import threading
import time

from acquirer.protocol import codec
from acquirer.protocol.framing import recv_frame, send_frame
from acquirer.protocol.keys import KeyCheckError, unpack_field62
from acquirer.protocol.messages import SignOn, Terminal
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent
from tests.acquirer.terminal import TestTerminal

SALES = 200
FORGE_EVERY_S = 0.05
SALE_PAUSE_S = 0.01


class _Forger(threading.Thread):
    """Sends an unauthenticated 0800 for the victim's TID and MID every 50 ms."""

    def __init__(self, acquirer, tid: str, mid: str) -> None:
        super().__init__(daemon=True)
        self.forger = TestTerminal(acquirer.address, tid, mid, b"\x11" * 16, "ecb")  # not the TMK
        self.terminal = Terminal(tid, mid)
        self.stop = threading.Event()
        self.accepted = 0
        self.readable = 0

    def run(self) -> None:
        stan = 500_000
        while not self.stop.wait(FORGE_EVERY_S):
            stan += 1
            send_frame(self.forger.sock, codec.encode(SignOn(self.terminal, f"{stan:06d}", "000001").to_message()))
            reply = codec.decode(recv_frame(self.forger.sock, 4096))
            if reply["39"] == "00":
                self.accepted += 1
                try:
                    unpack_field62(self.forger.tmk, bytes.fromhex(reply["62"]))
                    self.readable += 1
                except KeyCheckError:
                    pass


def test_forged_sign_ons_every_50_ms_fail_no_real_sale(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-debit")
    before, merchant = acquirer.available(card), acquirer.merchant()
    forger = _Forger(acquirer, t.terminal.tid, t.terminal.mid)
    forger.start()
    codes = []
    try:
        for _ in range(SALES):
            codes.append(t.sale(card, 1)["39"])   # `exchange` checks every reply's MAC under our keys
            time.sleep(SALE_PAUSE_S)   # spread the sales over the storm
    finally:
        forger.stop.set()
        forger.join(5)
    assert codes == ["00"] * SALES
    assert forger.accepted >= SALES * SALE_PAUSE_S / FORGE_EVERY_S / 2 and forger.readable == 0   # the host did answer the forgeries
    assert acquirer.available(card) == before - SALES
    assert acquirer.merchant() - merchant == SALES
    with acquirer.db() as db:
        assert db.execute("SELECT COUNT(*) FROM reversals WHERE tid = '10000001'").fetchone()[0] == 0
    assert_ledger_consistent(acquirer)


def test_a_real_sign_on_after_forged_ones_takes_over_and_drops_them(acquirer):
    t = acquirer.terminal("10000002")
    forger = _Forger(acquirer, t.terminal.tid, t.terminal.mid)
    for n in range(3):
        reply = codec.decode(forger.forger.send_payload(
            codec.encode(SignOn(forger.terminal, f"60000{n}", "000001").to_message())))
        assert reply["39"] == "00"
    old_keys = t.keys
    assert t.sign_on()["39"] == "00" and t.keys != old_keys
    assert t.sale(acquirer.card("visa"), 100)["39"] == "00"   # MACed with the new keys: now in force
    stale = TestTerminal(acquirer.address, t.terminal.tid, t.terminal.mid, t.tmk, t.mac)
    stale.keys, stale.batch = old_keys, t.batch
    payload = codec.sign(stale.request(TxnType.SALE, acquirer.card("visa"), 100).to_message(), t.mac,
                         old_keys.mac)
    assert codec.decode(stale.send_payload(payload))["39"] == "A0"    # the keys before the real sign-on are gone once the new ones are used
    assert "keys of its latest proven sign-on are in use" in acquirer.log()
