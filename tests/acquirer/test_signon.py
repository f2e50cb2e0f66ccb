"""Terminal registry and sign-on sessions: 03, 97, 77, 40, working keys under the TMK, batch in 60.2."""
from acquirer.protocol.fields import Field60
from acquirer.protocol.keys import kcv, unpack_field62
from acquirer.protocol.messages import Echo, SignOff, SignOn, Terminal
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import start_host
from tests.acquirer.terminal import TestTerminal


def test_sign_on_issues_fresh_keys_under_the_tmk_and_the_host_batch(acquirer):
    t = acquirer.terminal("10000001", sign_on=False)
    first = t.sign_on("004")
    assert first["39"] == "00" and "64" not in first
    keys = unpack_field62(t.tmk, bytes.fromhex(first["62"]))   # checks every KCV
    assert keys.track is not None
    assert Field60.parse(first["60"]).batch == "000001"
    second = t.sign_on("003")
    again = unpack_field62(t.tmk, bytes.fromhex(second["62"]))
    assert again.track is None
    assert kcv(again.mac) != kcv(keys.mac) and kcv(again.pin) != kcv(keys.pin)
    # the new MAC key is the one in force
    assert t.sale(acquirer.card("unionpay-credit"), 100)["39"] == "00"


def test_sign_on_asking_for_single_length_keys_is_a_format_error(acquirer):
    t = acquirer.terminal("10000001", sign_on=False)
    msg = SignOn(t.terminal, t.next_stan(), "000001", "003").to_message()
    msg["60"] = msg["60"][:8] + "001"
    reply = t.exchange(msg, sign=False)
    assert reply["39"] == "30" and "62" not in reply


def test_unregistered_terminal_gets_97_and_unknown_merchant_03(acquirer):
    known = acquirer.config.terminals[("10000001", "898310048990001")]
    stranger = TestTerminal(acquirer.address, "99999999", "898310048990001", known.tmk, "ecb")
    assert stranger.sign_on()["39"] == "97"
    elsewhere = TestTerminal(acquirer.address, "10000001", "123456789012345", known.tmk, "ecb")
    assert elsewhere.sign_on()["39"] == "03"
    # and a financial request from it is refused the same way, unsigned
    stranger.keys = acquirer.terminal("10000001").keys   # any key: the host knows none for it
    reply = stranger.exchange(stranger.request(TxnType.SALE, acquirer.card("unionpay-credit"), 100)
                              .to_message())
    assert reply["39"] == "97" and "64" not in reply


def test_financial_request_without_sign_on_gets_77(acquirer):
    signed = acquirer.terminal("10000002")
    t = acquirer.terminal("10000002", sign_on=False)
    t.keys = signed.keys
    # sign off: the session ends, even for a correctly MACed request
    off = t.exchange(SignOff(t.terminal, t.next_stan(), t.batch).to_message(), sign=False)
    assert off["39"] == "00"
    reply = t.sale(acquirer.card("unionpay-credit"), 100)
    assert reply["39"] == "77" and "64" not in reply
    assert t.sign_on()["39"] == "00"
    assert t.sale(acquirer.card("unionpay-credit"), 100)["39"] == "00"


def test_echo_needs_registration_only(acquirer):
    t = acquirer.terminal("10000001", sign_on=False)
    reply = t.exchange(Echo(t.terminal, t.next_stan(), "000001").to_message(), sign=False)
    assert (reply["t"], reply["39"]) == ("0830", "00")
    other = TestTerminal(acquirer.address, "99999999", "898310048990001", b"\0" * 16, "ecb")
    assert other.exchange(Echo(Terminal("99999999", "898310048990001"), "000001", "000001")
                          .to_message(), sign=False)["39"] == "97"


def test_batch_other_than_the_hosts_gets_77(acquirer):
    t = acquirer.terminal("10000001")
    reply = t.financial(TxnType.SALE, acquirer.card("unionpay-credit"), 100, batch="000042")
    assert reply["39"] == "77"


def test_sessions_survive_a_host_restart(tmp_path):
    from tests.acquirer.conftest import make_config
    config_dir = make_config(tmp_path / "config")
    host = start_host(config_dir, tmp_path)
    try:
        t = host.terminal("10000001")
        card = host.card("unionpay-credit")
        assert t.sale(card, 100)["39"] == "00"
    finally:
        host.stop()
    restarted = start_host(config_dir, tmp_path)
    try:
        t2 = TestTerminal(restarted.address, t.terminal.tid, t.terminal.mid, t.tmk, t.mac,
                          stans=iter(range(100, 200)))
        t2.keys, t2.batch = t.keys, t.batch
        reply = t2.sale(card, 100)   # MACed with the keys of the sign-on before the restart
        assert reply["39"] == "00" and "64" in reply   # and the reply's MAC verifies under them
    finally:
        restarted.stop()
