"""Malformed input closes only the connection it came on; everyone else keeps being served.

While one client runs sales, other connections send random bytes, truncated and
oversized frames, zero lengths, and messages whose bitmap names fields that are
not there. The client must get every approval, and the host must still answer
new connections afterwards.
"""
import random
import socket
import struct
import threading

from acquirer.protocol import codec
from acquirer.protocol.framing import ConnectionClosed, FrameError, recv_frame
from acquirer.protocol.messages import Echo, Terminal
from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import assert_ledger_consistent

SALES = 40


def _connect(acquirer) -> socket.socket:
    return socket.create_connection(acquirer.address, timeout=10)


def _outcome(sock: socket.socket) -> str:
    """'closed' when the host hung up, else the response code it answered."""
    try:
        return codec.decode(recv_frame(sock, 4096))["39"]
    except (ConnectionClosed, FrameError, ConnectionResetError):
        return "closed"


def _send_raw(acquirer, data: bytes, *, half_close: bool = True) -> str:
    with _connect(acquirer) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return _outcome(sock)


def _valid_sale_payload(acquirer) -> bytes:
    t = acquirer.terminal("10000002")
    request = t.request(TxnType.SALE, acquirer.card("unionpay-credit"), 100)
    return codec.sign(request.to_message(), t.mac, t.keys.mac)


def _attacks(acquirer, rng: random.Random) -> list[str]:
    outcomes = []
    sale = _valid_sale_payload(acquirer)
    # random bytes, no framing at all
    for _ in range(30):
        outcomes.append(_send_raw(acquirer, rng.randbytes(rng.randint(1, 300))))
    # well-framed random payloads
    for _ in range(30):
        body = rng.randbytes(rng.randint(1, 200))
        outcomes.append(_send_raw(acquirer, struct.pack(">H", len(body)) + body))
    # a valid TPDU, header and MTI followed by random bytes
    for _ in range(30):
        body = sale[:13] + rng.randbytes(rng.randint(0, 120))
        outcomes.append(_send_raw(acquirer, struct.pack(">H", len(body)) + body))
    # truncated: the length promises more than arrives; a lone length byte
    outcomes.append(_send_raw(acquirer, struct.pack(">H", 500) + sale[:40]))
    outcomes.append(_send_raw(acquirer, b"\x01"))
    # oversized and zero lengths
    outcomes.append(_send_raw(acquirer, struct.pack(">H", 0xFFFF) + sale, half_close=False))
    outcomes.append(_send_raw(acquirer, struct.pack(">H", 0) + sale, half_close=False))
    return outcomes


def test_garbage_never_disturbs_a_client_completing_sales(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-debit")
    before = acquirer.available(card)
    codes: list[str] = []

    def client():
        for _ in range(SALES):
            codes.append(t.sale(card, 10)["39"])

    worker = threading.Thread(target=client)
    worker.start()
    outcomes = _attacks(acquirer, random.Random(20260314))
    worker.join()

    assert codes == ["00"] * SALES
    assert acquirer.available(card) == before - 10 * SALES
    assert set(outcomes) <= {"closed", "30"}
    assert "closed" in outcomes and "30" in outcomes
    assert acquirer.process.poll() is None
    # a new connection is served as before
    assert acquirer.terminal("10000001").sale(card, 10)["39"] == "00"
    assert_ledger_consistent(acquirer)


def test_bitmap_naming_absent_fields_gets_30_and_the_connection_stays_open(acquirer):
    sale = _valid_sale_payload(acquirer)
    decoded = codec.decode(sale)
    # keep the header, MTI and bitmap (which names 2..64) but cut the fields after 42
    cut = sale.index(decoded["42"].encode()) + 15
    with _connect(acquirer) as sock:
        sock.sendall(struct.pack(">H", cut) + sale[:cut])
        answer = codec.decode(recv_frame(sock, 4096))
        assert (answer["t"], answer["39"]) == ("0210", "30")
        assert (answer["11"], answer["41"], answer["42"]) == (decoded["11"], decoded["41"], decoded["42"])
        # same connection, a well-formed echo is still answered
        echo = codec.encode(Echo(Terminal(decoded["41"], decoded["42"]), "000777", "000001").to_message())
        sock.sendall(struct.pack(">H", len(echo)) + echo)
        assert codec.decode(recv_frame(sock, 4096))["39"] == "00"


def test_bitmap_naming_an_undefined_field_gets_30(acquirer):
    sale = bytearray(_valid_sale_payload(acquirer))
    sale[13] |= 0x08    # bit 5: not a field of the POS spec
    with _connect(acquirer) as sock:
        sock.sendall(struct.pack(">H", len(sale)) + sale)
        assert _outcome(sock) == "30"


def test_a_tpdu_no_reply_can_be_addressed_to_is_not_processed(acquirer):
    t = acquirer.terminal("10000001")
    card = acquirer.card("unionpay-credit")
    before = acquirer.available(card)
    msg = t.request(TxnType.SALE, card, 100).to_message()
    msg["h"] = "61" + msg["h"][2:]          # TPDU id 61
    payload = codec.sign(msg, t.mac, t.keys.mac)
    with _connect(acquirer) as sock:
        sock.sendall(struct.pack(">H", len(payload)) + payload)
        assert _outcome(sock) == "closed"
    assert acquirer.available(card) == before
