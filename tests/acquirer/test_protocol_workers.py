"""Protocol workers: requests decoded, ARQCs computed and replies signed in worker processes.

The workers are another place to run the host's pure protocol work, so what a
terminal sees must not change: the same dicts and bytes, the same errors
(field and byte offset, tag) for bad input, and a host that keeps answering
when a worker dies.
"""
from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from acquirer.config import ConfigError, load_config
from acquirer.protocol import codec, tlv
from acquirer.protocol.cryptogram import CryptogramError, cryptogram_for
from acquirer.protocol.messages import CardInput, FinancialRequest, Terminal, financial_reply
from acquirer.protocol.transactions import TxnType
from acquirer.protocol_workers import ProtocolWork, ProtocolWorkers
from tests.acquirer.conftest import REPO_CONFIG, assert_ledger_consistent, make_config, start_host
from tests.acquirer.terminal import TestCard

MAC_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")   # TEST KEY


def _sale(stan: str) -> dict[str, str]:
    request = FinancialRequest(TxnType.SALE, Terminal("10000001", "898310048990001"), stan, "000001",
                               CardInput("072", track2="6212345678901234D30122010000000", psn="001",
                                         icc=bytes.fromhex("9F360200019F2608" + "11" * 8)), 1234)
    return request.to_message()


def _run(coroutine_function, workers: ProtocolWorkers):
    async def main():
        await workers.attach()
        return await coroutine_function()
    return asyncio.run(main())


@pytest.fixture
def workers():
    pool = ProtocolWorkers(2).start()
    yield pool
    pool.close()


def test_workers_decode_check_arqcs_and_sign_as_the_host_would(workers):
    messages = [_sale(f"{n:06d}") for n in range(1, 41)]
    payloads = [codec.sign(m, "x919", MAC_KEY) for m in messages]
    replies = [financial_reply(codec.decode(p), "00", rrn="000000000001", auth_code="123456") for p in payloads]
    local = ProtocolWork()
    cards = [TestCard(c) for c in load_config(REPO_CONFIG).cards if c.name in ("unionpay-debit", "visa", "mastercard")]
    cryptograms = [(card.version, card.icc_mk, card.icc(500)) for card in cards for _ in range(3)]

    async def both():
        # many calls in one event-loop turn travel together; the answers keep their order
        decoded = await asyncio.gather(*(workers.decode(p) for p in payloads))
        signed = await asyncio.gather(*(workers.sign(r, alg, MAC_KEY) for r in replies for alg in ("ecb", "x919")))
        expected_signed = [await local.sign(r, alg, MAC_KEY) for r in replies for alg in ("ecb", "x919")]
        checked = await asyncio.gather(*(workers.cryptogram(*c) for c in cryptograms))
        expected_checked = [await local.cryptogram(*c) for c in cryptograms]
        answered_by_a_worker = await workers._call(("decode", payloads[0]))   # not the fallback
        return decoded, signed, expected_signed, checked, expected_checked, answered_by_a_worker

    decoded, signed, expected_signed, checked, expected_checked, answered_by_a_worker = _run(both, workers)
    assert answered_by_a_worker == (True, (codec.decode(payloads[0]), None))   # the worker's, no card known
    assert [tags for tags, _, _ in checked] == [tlv.parse_dict(icc) for _, _, icc in cryptograms]
    assert [arqc for tags, arqc, _ in checked] == [tags["9F26"] for tags, _, _ in checked]   # the cards' own
    assert checked == expected_checked
    assert decoded == [codec.decode(p) for p in payloads]
    assert signed == expected_signed


def test_a_known_cards_cryptogram_is_checked_along_with_the_decode(workers):
    config = load_config(REPO_CONFIG)
    cards = [TestCard(c) for c in config.cards if c.name in ("unionpay-debit", "visa")]
    workers_know = {card.pan: (card.version, card.icc_mk) for card in cards}
    sales = [FinancialRequest(TxnType.SALE, Terminal("10000001", "898310048990001"), f"{n:06d}", "000001",
                              CardInput("072", track2=card.track2(), psn="001", icc=card.icc(100)), 100)
             for n, card in enumerate(cards * 3, start=1)]
    broken = cards[0]
    broken_icc = broken.icc(100)[:-3]   # a TLV that runs short: the host must meet the error itself
    sales.append(FinancialRequest(TxnType.SALE, sales[0].terminal, "000099", "000001",
                                  CardInput("072", track2=broken.track2(), psn="001", icc=broken_icc), 100))
    payloads = [codec.sign(sale.to_message(), "ecb", MAC_KEY) for sale in sales]
    local = ProtocolWork()

    async def ahead():
        workers.know_cards(workers_know)
        decoded = await asyncio.gather(*(workers.decode(p) for p in payloads))
        kept = len(workers._ahead)
        checked = [await workers.cryptogram(card.version, card.icc_mk, sale.card.icc)
                   for card, sale in zip(cards * 3, sales)]
        try:
            await workers.cryptogram(broken.version, broken.icc_mk, broken_icc)
        except tlv.TlvError as e:
            error = e
        expected = [await local.cryptogram(card.version, card.icc_mk, sale.card.icc)
                    for card, sale in zip(cards * 3, sales)]
        return decoded, kept, checked, error, expected

    decoded, kept, checked, error, expected = _run(ahead, workers)
    assert decoded == [codec.decode(p) for p in payloads]
    assert kept == 6   # one per sale of a known card with a readable field 55
    assert checked == expected and not workers._ahead   # each taken once, none left
    assert "remain" in str(error)


def test_errors_are_the_codecs_own(workers):
    good = codec.sign(_sale("000001"), "ecb", MAC_KEY)
    garbage = good[:40] + b"\xff" * 3   # cut inside a field, then bytes that are not BCD

    version = cryptogram_for("unionpay")
    card = TestCard(next(c for c in load_config(REPO_CONFIG).cards if c.scheme == "unionpay"))
    short_atc = tlv.build([(tag, b"\x01" if tag == "9F36" else value)
                           for tag, value in tlv.parse_dict(card.icc(100)).items()])

    async def errors():
        caught = []
        for call in (workers.decode(garbage), workers.sign({**_sale("000002"), "4": "12AB"}, "ecb", MAC_KEY),
                     workers.cryptogram(version, bytes(16), short_atc),
                     workers.cryptogram(version, bytes(16), card.icc(100)[:-3])):
            try:
                await call
            except (codec.ProtocolError, CryptogramError) as e:
                caught.append(e)
        return caught

    decode_error, encode_error, cryptogram_error, tlv_error = _run(errors, workers)
    assert isinstance(cryptogram_error, CryptogramError) and "9F36" in str(cryptogram_error)
    assert isinstance(tlv_error, tlv.TlvError) and "remain" in str(tlv_error)
    with pytest.raises(codec.DecodeError) as expected:
        codec.decode(garbage)
    assert isinstance(decode_error, codec.DecodeError)
    assert (decode_error.field, decode_error.offset, decode_error.partial) == (
        expected.value.field, expected.value.offset, expected.value.partial)
    assert isinstance(encode_error, codec.EncodeError) and encode_error.field == "4"


def test_calls_run_in_the_host_when_the_workers_are_gone(workers):
    payload = codec.sign(_sale("000003"), "ecb", MAC_KEY)

    async def after_kill():
        first = await workers.decode(payload)
        for process in workers._processes:
            os.kill(process.pid, signal.SIGKILL)
        in_flight = workers.decode(payload)   # sent to a worker that is dead or dying
        return first, await in_flight, await workers.decode(payload)

    first, in_flight, later = _run(after_kill, workers)
    assert first == in_flight == later == codec.decode(payload)


def test_protocol_workers_setting(tmp_path):
    assert load_config(make_config(tmp_path / "default")).server.protocol_workers is None   # by the machine
    for n, (value, error) in enumerate((("3", None), ("0", None), ("-1", "greater than or equal to 0"), ("9", "less than or equal to 8"),
                                        ('"two"', "integer"))):
        directory = make_config(tmp_path / str(n), replace={"[server]\n": f"[server]\nprotocol_workers = {value}\n"})
        if error is None:
            assert load_config(directory).server.protocol_workers == int(value)
            continue
        with pytest.raises(ConfigError, match=error) as raised:
            load_config(directory)
        assert raised.value.key == "server.protocol_workers"


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts the workers through /proc")
@pytest.mark.parametrize("setting", [None, 1])
def test_workers_beside_each_host_process_by_the_cpus_unless_set(pg_cluster, tmp_path, setting):
    """Left out of acquirer.toml, a worker runs beside a host process only when the machine has
    two CPUs for each; set, every host process gets that many. Either way the host answers."""
    replace = {} if setting is None else {"[server]\n": f"[server]\nprotocol_workers = {setting}\n"}
    cpus = os.cpu_count() or 1
    for processes in (1, 2):
        directory = make_config(tmp_path / f"config-{processes}", replace=replace)
        (tmp_path / str(processes)).mkdir()
        host = start_host(directory, tmp_path / str(processes), pg_cluster.create_database(), processes=processes)
        try:
            hosts = _children(host.process.pid) if processes > 1 else [host.process.pid]
            expected = setting if setting is not None else (1 if cpus >= 2 * processes else 0)
            assert [len(_children(pid)) for pid in hosts] == [expected] * processes
            terminal = host.terminal("10000002")
            assert terminal.sale(host.card("unionpay-debit"), 100)["39"] == "00"
            terminal.close()
        finally:
            host.stop()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the worker through /proc")
def test_a_served_host_keeps_answering_when_its_worker_dies(tmp_path):
    directory = make_config(tmp_path / "config", replace={"[server]\n": "[server]\nprotocol_workers = 1\n"})
    host = start_host(directory, tmp_path)
    try:
        terminal = host.terminal("10000002")
        card = host.card("unionpay-debit")
        before = host.available(card)
        assert terminal.sale(card, 100)["39"] == "00"
        (worker,) = _children(host.process.pid)
        os.kill(worker, signal.SIGKILL)
        replies = [terminal.sale(card, 100) for _ in range(3)]
        assert [r["39"] for r in replies] == ["00"] * 3
        assert all("64" in r for r in replies)   # signed (the test terminal checks every reply MAC)
        assert host.available(card) == before - 400
        deadline = time.monotonic() + 5
        while "protocol worker stopped" not in host.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "protocol worker stopped" in host.log()
        assert_ledger_consistent(host)
    finally:
        host.stop()
