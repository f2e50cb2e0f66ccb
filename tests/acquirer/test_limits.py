"""`[limits]`: what one connection may make the host do, seen from the wire (issue 12, point 1).

A host with small limits (2 requests in flight per connection, 3 strikes,
a 1 s frame timeout, a 2 s write timeout) shows each one: frames beyond the
in-flight limit wait and are all answered; a connection that keeps sending
requests the host answers 30 or A0 is closed; one that starts a frame and
stalls is closed; the configuration refuses bad values, naming the key.
"""
from __future__ import annotations

import socket
import time

import pytest

from acquirer.config import ConfigError, load_config
from acquirer.protocol import codec
from acquirer.protocol.framing import frame, recv_frame
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import make_config, start_host

LIMITS = "\n[limits]\nmax_connections = 20\nmax_in_flight = 2\nstrikes = 3\nframe_timeout_s = 1\nwrite_timeout_s = 2\n"


@pytest.fixture(scope="module")
def acquirer(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("limits")
    config = make_config(workdir / "config", acquirer_extra=LIMITS, issuers={"cup-bank": ("slow", 200)})
    running = start_host(config, workdir)
    yield running
    running.stop()


def _closed(sock: socket.socket, within_s: float = 10.0) -> bool:
    """True once the host has closed `sock` (reads until EOF or a reset)."""
    sock.settimeout(within_s)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


def test_frames_beyond_the_in_flight_limit_wait_and_are_all_answered(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-debit")   # its issuer answers after 200 ms
    requests = [t.request(TxnType.SALE, card, 1) for _ in range(6)]
    t.sock.sendall(b"".join(frame(codec.sign(r.to_message(), t.mac, t.keys.mac)) for r in requests))
    replies = [codec.decode(recv_frame(t.sock, 4096)) for _ in requests]
    assert sorted((r["11"], r["39"]) for r in replies) == sorted((r.stan, "00") for r in requests)
    assert "closing" not in acquirer.log().split("sign-on of terminal 10000001")[-1]


def test_a_connection_that_keeps_breaking_the_mac_is_closed(acquirer):
    t = acquirer.terminal("10000002")
    card = acquirer.card("visa")
    codes = []
    for _ in range(3):
        payload = codec.sign(t.request(TxnType.SALE, card, 1).to_message(), t.mac, bytes(16))   # wrong key
        codes.append(codec.decode(t.send_payload(payload))["39"])
    assert codes == ["A0"] * 3
    assert _closed(t.sock)
    assert "strikes (protocol)" in acquirer.log()
    # the terminal itself is not locked out: a new connection with the right key is served
    assert acquirer.terminal("10000002").sale(card, 1)["39"] == "00"


def test_a_frame_that_never_finishes_is_timed_out(acquirer):
    sock = socket.create_connection(acquirer.address)
    sock.sendall(b"\x00\x40" + b"\x60" * 10)   # 64 bytes promised, 10 sent
    started = time.monotonic()
    assert _closed(sock)
    assert time.monotonic() - started < 10
    assert "a frame unfinished for" in acquirer.log()


def test_connections_beyond_max_connections_are_closed_and_the_rest_served(acquirer):
    socks = [socket.create_connection(acquirer.address) for _ in range(25)]
    try:
        assert _closed(socks[-1], within_s=5)
        assert "connections already" in acquirer.log()
    finally:
        for sock in socks:
            sock.close()
    time.sleep(0.2)   # the host notices the closes
    assert acquirer.terminal("10000001").sale(acquirer.card("mastercard"), 1)["39"] == "00"


@pytest.mark.parametrize("text, key", [
    ("max_in_flight = 0", "limits.max_in_flight"),
    ("frame_timeout_s = -1", "limits.frame_timeout_s"),
    ("rate_per_s = 10\nburst = 5", "limits.burst"),
    ("max_inflight = 3", "limits.max_inflight"),
])
def test_bad_limits_are_refused_naming_the_key(tmp_path, text, key):
    config = make_config(tmp_path / "config", acquirer_extra=f"\n[limits]\n{text}\n")
    with pytest.raises(ConfigError) as error:
        load_config(config)
    assert error.value.key == key


def test_the_limits_have_their_documented_defaults(tmp_path):
    limits = load_config(make_config(tmp_path / "config")).limits
    assert (limits.max_connections, limits.max_in_flight, limits.max_in_flight_total, limits.max_reply_buffer, limits.rate_per_s,
            limits.burst, limits.strikes, limits.strike_window_s, limits.frame_timeout_s,
            limits.write_timeout_s) == (1000, 32, 1024, 65536, 1000, 2000, 20, 10.0, 10.0, 30.0)
