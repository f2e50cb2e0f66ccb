"""Issuers configured slow or down: the switch answers 98 on its own timeout, 91 for a link that is down,
and the modes change at run time (SIGHUP re-reads them)."""
import signal
import time

import pytest

from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent, make_config, start_host

SLOW_AND_DOWN = {"cup-bank": ("slow", 5000), "visa-bank": ("slow", 250), "mc-bank": ("down", 0)}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("faulty")
    config = make_config(workdir / "config", issuers=SLOW_AND_DOWN,
                         replace={"switch_timeout_ms = 3000": "switch_timeout_ms = 600"})
    host = start_host(config, workdir)
    yield host
    host.stop()


def test_issuer_slower_than_the_switch_timeout_is_98_and_nothing_posts(faulty):
    t = faulty.terminal("10000001")
    card = faulty.card("unionpay-debit")
    before = faulty.available(card)
    sale = t.request(TxnType.SALE, card, 1_000)
    assert t.send(sale)["39"] == "98"
    assert faulty.available(card) == before
    # the terminal reverses it: acknowledged, there was nothing to undo
    assert t.reverse(sale)["39"] == "00"
    assert faulty.available(card) == before
    assert_ledger_consistent(faulty)


def test_slow_issuer_within_the_timeout_answers(faulty):
    t = faulty.terminal("10000001")
    assert t.sale(faulty.card("visa"), 1_000)["39"] == "00"


def test_issuer_link_down_is_91(faulty):
    t = faulty.terminal("10000001")
    card = faulty.card("mastercard")
    before = faulty.available(card)
    assert t.sale(card, 1_000)["39"] == "91"
    assert faulty.available(card) == before


def test_sighup_applies_changed_issuer_modes(faulty):
    config = faulty.config_dir / "acquirer.toml"
    config.write_text(config.read_text().replace('mode = "down"', 'mode = "normal"'))
    faulty.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "mc-bank=normal" not in faulty.log():
        assert time.monotonic() < deadline, "the host did not log the reload"
        time.sleep(0.05)
    t = faulty.terminal("10000001")
    assert t.sale(faulty.card("mastercard"), 1_000)["39"] == "00"


def test_reversal_overtaking_its_original_means_no_money_taken(faulty):
    """The original waits for a slow issuer; its reversal, sent right behind it, is
    acknowledged first -- and the original is then refused (94), never posted."""
    from acquirer.protocol import codec
    from acquirer.protocol.framing import frame, recv_frame
    from acquirer.protocol.messages import reversal_of
    t = faulty.terminal("10000002")
    card = faulty.card("visa")                  # visa-bank answers after 250 ms
    before = faulty.available(card)
    sale = t.request(TxnType.SALE, card, 3_000)
    t.sock.sendall(frame(codec.sign(sale.to_message(), t.mac, t.keys.mac))
                   + frame(codec.sign(reversal_of(sale).to_message(), t.mac, t.keys.mac)))
    replies = {r["t"]: r for r in (codec.decode(recv_frame(t.sock, 4096)) for _ in range(2))}
    assert replies["0410"]["39"] == "00"
    assert replies["0210"]["39"] == "94"
    assert faulty.available(card) == before
    assert_ledger_consistent(faulty)
