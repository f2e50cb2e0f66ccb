"""Crypto on the host's hot path, one core: MACs, ARQC checks and PIN translation per second.

Also measures what the per-key context cache in `acquirer.protocol.des` buys
(against building a `Cipher` per call) and pyemv's X9.19 for comparison, so the
choice to keep our own ISO 9797-1 algorithm 3 stays an informed one.

The "new ATC" rows are the host's real case: every authorization brings a new
ATC, hence a new session key used once, while the terminals' MAC keys are used
again and again; the "authorization" row is the crypto of one UnionPay sale
on the host (request MAC, ARQC, tag 91, reply MAC) over many terminals.
"""
from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.utils import CryptographyDeprecationWarning
from pyemv.mac import mac_iso9797_3

from acquirer.protocol.cryptogram import cryptogram_for
from acquirer.protocol.des import tdes_encrypt
from acquirer.protocol.mac import compute_mac, verify_mac
from acquirer.protocol.pinblock import encrypt_pin, translate_pin_block
from tests.bench import Row

MAC_KEY = bytes.fromhex("6ECAFCE232B9AF939F09493CFC314CD7")  # test keys only
ZPK = bytes.fromhex("3D0248C3006AF0014BB18A668A8018EB")
IMK = bytes.fromhex("17B06C51B1B846FC60C3FB1DDA2DB78A")
# A sale's MAB is about 150-250 bytes (MTI to field 63, with field 55).
MAB = bytes(range(200))
TAGS = {
    "9F02": bytes.fromhex("000000012345"), "9F03": bytes(6), "9F1A": bytes.fromhex("0156"),
    "95": bytes(5), "5F2A": bytes.fromhex("0156"), "9A": bytes.fromhex("250314"),
    "9C": b"\x00", "9F37": bytes.fromhex("A1B2C3D4"), "82": bytes.fromhex("7C00"),
    "9F36": bytes.fromhex("0011"),
}  # fmt: skip
PAN, PSN = "6214830000000000015", "01"
FRESH_ATCS = 4096   # distinct session keys cycled through: more than any key cache holds
TERMINALS = 256     # distinct terminal MAC keys cycled through


def _rate(function: Callable[[], object], seconds: float) -> float:
    """Calls per second over at least ``seconds`` of wall time (after a warm-up)."""
    for _ in range(50):
        function()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            function()
        calls += 200
    return calls / elapsed


def _fmt(rate: float) -> str:
    return f"{rate:,.0f} /s"


def run(quick: bool) -> list[Row]:
    with warnings.catch_warnings():  # pyemv 1.5 uses cryptography's deprecated TripleDES path
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return _measure(0.2 if quick else 1.0)


def _measure(seconds: float) -> list[Row]:
    rows: list[Row] = []

    block = bytes(8)
    cached = _rate(lambda: tdes_encrypt(MAC_KEY, block), seconds)
    uncached = _rate(
        lambda: Cipher(TripleDES(MAC_KEY + MAC_KEY[:8]), modes.ECB()).encryptor().update(block),
        seconds,
    )
    rows.append(Row("des: 3DES one block, cached context", _fmt(cached),
                    f"new Cipher per call: {_fmt(uncached)} ({cached / uncached:.1f}x)"))

    for algorithm in ("ecb", "x919"):
        mac = compute_mac(algorithm, MAC_KEY, MAB)
        rate = _rate(lambda a=algorithm, m=mac: verify_mac(a, MAC_KEY, MAB, m), seconds)
        rows.append(Row(f"mac: verify {algorithm} MAC", _fmt(rate), f"{len(MAB)}-byte MAB",
                        ">= thousands /s"))
    pyemv_rate = _rate(lambda: mac_iso9797_3(MAC_KEY[:8], MAC_KEY[8:], MAB, 1), seconds)
    rows.append(Row("mac: pyemv mac_iso9797_3 (reference)", _fmt(pyemv_rate), f"{len(MAB)}-byte MAB"))

    for scheme, cvn in (("unionpay", 1), ("visa", 10), ("mastercard", 16)):
        version = cryptogram_for(scheme, cvn)
        icc = version.icc_mk(IMK, "6214830000000000015", "01")
        cvr = bytes(6) if scheme == "mastercard" else bytes.fromhex("03A00000")
        tags = {**TAGS, "9F10": version.make_iad(cvr)}
        arqc = version.arqc(icc, tags)
        verify = _rate(lambda v=version, k=icc, t=tags, a=arqc: v.verify_arqc(k, t, a), seconds)
        full = _rate(
            lambda v=version, t=tags, a=arqc: (
                v.verify_arqc(v.icc_mk(IMK, "6214830000000000015", "01"), t, a),
                v.issuer_authentication_data(v.icc_mk(IMK, "6214830000000000015", "01"), t, a, b"00"),
            ),
            seconds,
        )
        rows.append(Row(f"cryptogram: verify ARQC {version.name}", _fmt(verify),
                        f"+ key derivation (memoised) + tag 91: {_fmt(full)}"))

    rows.extend(_fresh_session_keys(seconds))

    tpk = MAC_KEY
    encrypted = encrypt_pin(tpk, "123456", "6214830000000000015")
    rate = _rate(lambda: translate_pin_block(tpk, ZPK, encrypted), seconds)
    rows.append(Row("pinblock: translate TPK -> ZPK", _fmt(rate), "format 0, 3DES"))
    return rows


def _fresh_session_keys(seconds: float) -> list[Row]:
    version = cryptogram_for("unionpay", 1)
    icc = version.icc_mk(IMK, PAN, PSN)
    iad = version.make_iad(bytes.fromhex("03A00000"))
    authorizations = []
    for atc in range(1, FRESH_ATCS + 1):
        tags = {**TAGS, "9F36": atc.to_bytes(2, "big"), "9F10": iad}
        authorizations.append((tags, version.arqc(icc, tags)))
    next_auth = itertools.cycle(authorizations).__next__

    def issuer() -> None:
        tags, arqc = next_auth()
        assert version.verify_arqc(icc, tags, arqc)
        version.issuer_authentication_data(icc, tags, arqc, b"00")

    terminal_keys = [bytes([n % 256]) * 8 + bytes([(n + 1) % 256]) * 8 for n in range(TERMINALS)]
    macs = [compute_mac("x919", key, MAB) for key in terminal_keys]
    next_terminal = itertools.cycle(zip(terminal_keys, macs)).__next__

    def authorization() -> None:
        key, mac = next_terminal()
        assert verify_mac("x919", key, MAB, mac)
        issuer()
        compute_mac("x919", key, MAB[:60])

    return [
        Row("cryptogram: ARQC + tag 91 unionpay-cvn01, new ATC", _fmt(_rate(issuer, seconds)),
            f"a new session key per call ({FRESH_ATCS} cycled)"),
        Row("authorization crypto: x919 verify + ARQC + tag 91 + x919 sign", _fmt(_rate(authorization, seconds)),
            f"{TERMINALS} terminals' MAC keys, a new ATC per call", ">= 2,000 /s with room for the host"),
    ]
