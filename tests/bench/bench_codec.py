"""The 8583 codec ceiling, one core: a sale request and its reply through pyiso8583.

One "round" is what the host does per authorization on the wire: decode the
request, encode the reply (and, for the MAC rows, verify the request's MAC and
sign the reply). The host benchmark compares its authorizations per second
against these rates.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from acquirer.protocol import codec, tlv
from acquirer.protocol.messages import CardInput, FinancialRequest, Terminal, financial_reply
from acquirer.protocol.transactions import TxnType
from tests.bench import Row

MAC_KEY = bytes.fromhex("6ECAFCE232B9AF939F09493CFC314CD7")  # TEST KEY
# field 55 of a contactless sale: the request tags docs/payment-standards.md lists
ICC = tlv.build([
    ("9F26", bytes.fromhex("A1B2C3D4E5F60718")), ("9F27", b"\x80"),
    ("9F10", bytes.fromhex("07010103A0A802010A010000000000")), ("9F37", bytes.fromhex("A1B2C3D4")),
    ("9F36", bytes.fromhex("0011")), ("95", bytes(5)), ("9A", bytes.fromhex("250314")), ("9C", b"\x00"),
    ("9F02", bytes.fromhex("000000012345")), ("5F2A", bytes.fromhex("0156")), ("82", bytes.fromhex("7C00")),
    ("9F1A", bytes.fromhex("0156")), ("9F03", bytes(6)), ("9F33", bytes.fromhex("E0F8C8")),
])


def _sale_message() -> dict[str, str]:
    card = CardInput("072", track2="6212345678901234D25122011234", expiry="2512", psn="001",
                     icc=ICC, pin_block=bytes.fromhex("1122334455667788"))
    sale = FinancialRequest(TxnType.SALE, Terminal("10000001", "898310048990001"), "000123",
                            "000001", card, amount=12345, terminal_capability="6", ic_condition="0")
    return sale.to_message()


def _rate(function: Callable[[], object], seconds: float) -> float:
    for _ in range(50):
        function()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            function()
        calls += 100
    return calls / elapsed


def run(quick: bool) -> list[Row]:
    seconds = 0.3 if quick else 2.0
    request = _sale_message()
    request_payload = codec.encode(request)
    decoded = codec.decode(request_payload)
    reply = financial_reply(decoded, "00", rrn="000000000001", auth_code="123456",
                            icc=bytes.fromhex("910A11223344556677883030"))
    reply_payload = codec.encode(reply)

    rows = [
        Row("codec: encode sale request", f"{_rate(lambda: codec.encode(request), seconds):,.0f} /s",
            f"{len(request_payload)}-byte payload"),
        Row("codec: decode sale request", f"{_rate(lambda: codec.decode(request_payload), seconds):,.0f} /s",
            "with BCD digit checks"),
        Row("codec: decode request + encode reply",
            f"{_rate(lambda: (codec.decode(request_payload), codec.encode(reply)), seconds):,.0f} /s",
            f"sale {len(request_payload)} B in, reply {len(reply_payload)} B out; host ceiling, no MAC"),
    ]
    for algorithm in ("ecb", "x919"):
        signed_request = codec.sign(request, algorithm, MAC_KEY)

        def round_trip(alg: str = algorithm, payload: bytes = signed_request) -> None:
            codec.decode(payload)
            codec.verify(payload, alg, MAC_KEY)
            codec.sign(reply, alg, MAC_KEY)

        rows.append(Row(f"codec: decode + verify + sign reply ({algorithm} MAC)",
                        f"{_rate(round_trip, seconds):,.0f} /s",
                        "host ceiling per authorization on the wire, one core"))
    return rows
