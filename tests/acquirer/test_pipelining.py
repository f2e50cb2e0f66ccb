"""Many terminals at once, and pipelined requests answered as they complete (not in order)."""
import threading

import pytest

from acquirer.protocol import codec
from acquirer.protocol.framing import frame, recv_frame
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent, make_config, start_host

SLOW_VISA = {"visa-bank": ("slow", 1000)}


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pipelining")
    running = start_host(make_config(workdir / "config", issuers=SLOW_VISA), workdir)
    yield running
    running.stop()


def test_a_slow_request_does_not_hold_up_the_ones_behind_it(host):
    t = host.terminal("10000001")
    slow = t.request(TxnType.SALE, host.card("visa"), 500)            # issuer answers after 1 s
    fast = [t.request(TxnType.SALE, host.card("unionpay-debit"), 100) for _ in range(3)]
    t.sock.sendall(b"".join(frame(codec.sign(r.to_message(), t.mac, t.keys.mac)) for r in [slow, *fast]))
    replies = [codec.decode(recv_frame(t.sock, 4096)) for _ in range(4)]
    assert [r["11"] for r in replies] == [r.stan for r in fast] + [slow.stan]
    assert all(r["39"] == "00" for r in replies)


def test_many_terminals_pipelining_at_once(host):
    card_names = ["unionpay-debit", "unionpay-credit", "mastercard", "mastercard-2series"]
    starts = {name: host.available(host.card(name)) for name in card_names}
    merchant_start = host.merchant()
    per_connection = 25
    results: dict[str, list[str]] = {}

    sessions = {tid: host.terminal(tid) for tid in ("10000001", "10000002")}

    def run(tid: str, card_name: str, key: str) -> None:
        t = host.terminal(tid, sign_on=False)    # a second connection of a signed-on terminal
        t.keys, t.batch = sessions[tid].keys, sessions[tid].batch
        card = host.card(card_name)
        # ATCs rise in sending order; the host may process them in any order it
        # likes only per card, so each connection has a card of its own
        requests = [t.request(TxnType.SALE, card, 1) for _ in range(per_connection)]
        t.sock.sendall(b"".join(frame(codec.sign(r.to_message(), t.mac, t.keys.mac)) for r in requests))
        replies = [codec.decode(recv_frame(t.sock, 4096)) for _ in requests]
        results[key] = sorted(r["39"] + r["11"] for r in replies)
        assert sorted(r["11"] for r in replies) == sorted(r.stan for r in requests)

    threads = [threading.Thread(target=run, args=(tid, name, f"{tid}/{name}"))
               for tid, name in zip(["10000001", "10000002", "10000001", "10000002"], card_names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert all(code[:2] == "00" for codes in results.values() for code in codes)
    for name in card_names:
        assert host.available(host.card(name)) == starts[name] - per_connection
    assert host.merchant() == merchant_start + 4 * per_connection
    assert_ledger_consistent(host)
