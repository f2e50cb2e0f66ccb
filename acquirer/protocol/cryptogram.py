"""EMV application cryptograms for both sides: the card makes the ARQC, the issuer checks it and answers an ARPC.

Why one module for both sides: the virtual cards (``drivers/sim``) and the
issuer simulators (``acquirer``) must compute the very same bytes, so both call
the `CryptogramVersion` that `cryptogram_for` returns for a card's scheme and
cryptogram version number (CVN).

Versions:

- ``unionpay-cvn01`` (UnionPay / PBOC, docs/payment-standards.md, "Contactless cards"). Written here:
  pyemv has no UnionPay CVN and its common session key derivation gives a
  different key. Card key (UDK) = EMV option A from the issuer master key;
  session key SK = 3DES_UDK(000000000000 || ATC) || 3DES_UDK(000000000000 ||
  ATC xor FFFF); ARQC = ISO 9797-1 MAC algorithm 3, padding method 2, under SK
  over 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36 and the CVR (9F10 bytes 4-7);
  ARPC method 1 = 3DES_SK(ARQC xor (ARC || 000000000000)). The MAC is
  `mac.iso9797_alg3`, equal to pyemv's ``ac.generate_ac(..., PaddingType.EMV)``
  (checked in the tests) but on the cached key schedules of `des`. 9F10 is
  ``07 | DKI | 01 | CVR(4) | 01`` (length, key index, CVN, CVR, algorithm
  01 = 3DES).
- ``visa-cvn10``, ``visa-cvn18``, ``mastercard-cvn16``, ``mastercard-cvn17``:
  pyemv's `cvn` classes do the work. Those classes derive the ICC master key
  from the issuer key in their constructor; here the caller already holds the
  ICC master key, so `_pyemv_card` sets their documented ``icc_mk_ac``
  attribute instead. The tests pin pyemv's HSM-checked vectors through this
  adapter.

Tag values are passed as a mapping of upper-case hex tag names to bytes (as
decoded from field 55 or built by the card), and must hold `ARQC_TAGS` and
9F10. The ARC of an ARPC is the two ASCII bytes of the reply's field 39.
"""
from __future__ import annotations

import functools
import hmac
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from cryptography.utils import CryptographyDeprecationWarning
from pyemv import cvn as pyemv_cvn
from pyemv import kd

from acquirer.protocol.des import tdes_encrypt
from acquirer.protocol.mac import iso9797_alg3

# pyemv 1.5 reaches TripleDES through cryptography's deprecated location and
# with two-key keys; silence exactly those warnings, raised from pyemv's frames.
warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"pyemv\.")

__all__ = [
    "ARQC_TAGS",
    "CryptogramError",
    "CryptogramVersion",
    "cryptogram_for",
    "derive_icc_mk",
    "unionpay_session_key",
]

ARQC_TAGS = ("9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37", "82", "9F36")
_TAG_LENGTHS = {
    "9F02": 6, "9F03": 6, "9F1A": 2, "95": 5, "5F2A": 2,
    "9A": 3, "9C": 1, "9F37": 4, "82": 2, "9F36": 2,
}  # fmt: skip
_IAD = "9F10"


class CryptogramError(ValueError):
    """Cryptogram input that cannot be used: a missing or mis-sized tag, an unknown CVN."""


# An issuer checks many transactions per card and pyemv's derivation builds a
# cipher per call (~45 us), so derived card keys are memoised in process memory.
_DERIVED_KEYS_CACHED = 4096


@functools.lru_cache(maxsize=_DERIVED_KEYS_CACHED)
def derive_icc_mk(imk: bytes, pan: str, psn: str) -> bytes:
    """The card's AC master key (UDK) from the issuer master key: EMV option A."""
    return kd.derive_icc_mk_a(imk, pan, psn)


@functools.lru_cache(maxsize=_DERIVED_KEYS_CACHED)
def _derive_icc_mk_b(imk: bytes, pan: str, psn: str) -> bytes:
    return kd.derive_icc_mk_b(imk, pan, psn)


@functools.lru_cache(maxsize=64)   # the ARQC check and the ARPC of one authorization share it
def unionpay_session_key(udk: bytes, atc: bytes) -> bytes:
    """UnionPay CVN 01 AC session key for a 2-byte ATC."""
    if len(atc) != 2:
        raise CryptogramError(f"ATC must be 2 bytes, got {len(atc)}")
    inverted = bytes(b ^ 0xFF for b in atc)
    return tdes_encrypt(udk, bytes(6) + atc + bytes(6) + inverted, transient=True)


def _tag(tags: Mapping[str, bytes], name: str) -> bytes:
    try:
        value = tags[name]
    except KeyError:
        raise CryptogramError(f"tag {name} missing from the cryptogram data") from None
    expected = _TAG_LENGTHS.get(name)
    if expected is not None and len(value) != expected:
        raise CryptogramError(f"tag {name} must be {expected} bytes, got {len(value)}")
    return bytes(value)


def _transaction_data(tags: Mapping[str, bytes]) -> bytes:
    return b"".join(_tag(tags, name) for name in ARQC_TAGS)


def _iad_part(tags: Mapping[str, bytes], start: int, end: int, what: str) -> bytes:
    iad = _tag(tags, _IAD)
    if len(iad) < end:
        raise CryptogramError(
            f"tag 9F10 is {len(iad)} bytes, too short to hold the {what} (bytes {start + 1}-{end})"
        )
    return iad[start:end]


def _check_arc(arc: bytes) -> bytes:
    if len(arc) != 2:
        raise CryptogramError(f"ARC must be 2 bytes (field 39 in ASCII), got {len(arc)}")
    return bytes(arc)


def _check_byte(name: str, value: int) -> int:
    if not 0 <= value <= 0xFF:
        raise CryptogramError(f"{name} must be 0..255, got {value}")
    return value


def _check_cvr(cvr: bytes, length: int) -> bytes:
    if len(cvr) != length:
        raise CryptogramError(f"CVR must be {length} bytes, got {len(cvr)}")
    return bytes(cvr)


class CryptogramVersion(ABC):
    """One scheme's cryptogram version: IAD layout, ARQC, ARPC and tag 91."""

    name: str

    def icc_mk(self, imk: bytes, pan: str, psn: str) -> bytes:
        """The card's AC master key for this version (EMV option A unless stated)."""
        return derive_icc_mk(imk, pan, psn)

    @abstractmethod
    def make_iad(self, cvr: bytes, dki: int = 1) -> bytes:
        """Card side: tag 9F10 (issuer application data) around the card verification results."""

    @abstractmethod
    def arqc(self, icc_mk: bytes, tags: Mapping[str, bytes]) -> bytes:
        """The 8-byte application cryptogram (ARQC, or TC/AAC with the same data)."""

    @abstractmethod
    def arpc(self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, arc: bytes) -> bytes:
        """Issuer side: the ARPC for ``arqc`` and the authorisation response code."""

    def issuer_authentication_data(
        self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, arc: bytes
    ) -> bytes:
        """Tag 91 of the reply: ARPC followed by the ARC (ARPC method 1)."""
        return self.arpc(icc_mk, tags, arqc, arc) + _check_arc(arc)

    def verify_issuer_authentication_data(
        self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, data: bytes
    ) -> bool:
        """Card side: does tag 91 carry a genuine ARPC for our ARQC? (method 1 layout)"""
        if len(data) != 10:
            return False
        expected = self.arpc(icc_mk, tags, arqc, data[8:])
        return hmac.compare_digest(expected, bytes(data[:8]))

    def verify_arqc(self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes) -> bool:
        """Issuer side: does ``arqc`` match the transaction data under the card's key?"""
        return hmac.compare_digest(self.arqc(icc_mk, tags), bytes(arqc))

    def __repr__(self) -> str:
        return f"<CryptogramVersion {self.name}>"


class UnionPayCVN01(CryptogramVersion):
    """UnionPay / PBOC CVN 01 (see the module docstring)."""

    name = "unionpay-cvn01"
    _CVN = 0x01
    _ALGORITHM_3DES = 0x01

    def make_iad(self, cvr: bytes, dki: int = 1) -> bytes:
        return (
            bytes([0x07, _check_byte("DKI", dki), self._CVN])
            + _check_cvr(cvr, 4)
            + bytes([self._ALGORITHM_3DES])
        )

    def _session_key(self, icc_mk: bytes, tags: Mapping[str, bytes]) -> bytes:
        return unionpay_session_key(icc_mk, _tag(tags, "9F36"))

    def arqc(self, icc_mk: bytes, tags: Mapping[str, bytes]) -> bytes:
        data = _transaction_data(tags) + _iad_part(tags, 3, 7, "CVR")
        return iso9797_alg3(self._session_key(icc_mk, tags), data, padding=2, transient=True)

    def arpc(self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, arc: bytes) -> bytes:
        if len(arqc) != 8:
            raise CryptogramError(f"ARQC must be 8 bytes, got {len(arqc)}")
        block = bytes(a ^ b for a, b in zip(arqc, _check_arc(arc) + bytes(6)))
        return tdes_encrypt(self._session_key(icc_mk, tags), block, transient=True)


def _pyemv_card(cls: type, icc_mk: bytes) -> Any:
    """A pyemv CVN object for a card whose ICC master key is already known."""
    card: Any = object.__new__(cls)
    card.icc_mk_ac = bytes(icc_mk)
    return card


def _terminal_args(tags: Mapping[str, bytes]) -> dict[str, bytes]:
    return {f"tag_{name.lower()}": _tag(tags, name) for name in ARQC_TAGS}


class VisaCVN10(CryptogramVersion):
    """Visa CVN 10: ICC master key used directly, Visa padding, ARPC method 1 (pyemv)."""

    name = "visa-cvn10"

    def make_iad(self, cvr: bytes, dki: int = 1) -> bytes:
        # Visa IAD format 0: length 06 | DKI | CVN | CVR (4 bytes, first is the CVR length 03).
        return bytes([0x06, _check_byte("DKI", dki), 0x0A]) + _check_cvr(cvr, 4)

    def arqc(self, icc_mk: bytes, tags: Mapping[str, bytes]) -> bytes:
        card = _pyemv_card(pyemv_cvn.VisaCVN10, icc_mk)
        return card.generate_ac(**_terminal_args(tags), cvr=_iad_part(tags, 3, 7, "CVR"))

    def arpc(self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, arc: bytes) -> bytes:
        card = _pyemv_card(pyemv_cvn.VisaCVN10, icc_mk)
        return card.generate_arpc(tag_9f26=bytes(arqc), arpc_rc=_check_arc(arc))


class VisaCVN18(CryptogramVersion):
    """Visa CVN 18: option B master key, EMV common session key, whole 9F10 in the AC, ARPC method 2."""

    name = "visa-cvn18"
    # Card status update sent in tag 91 with the 4-byte ARPC. Kit convention
    # after VIS 1.5: byte 2 bit 8 = "issuer approves online transaction".
    _CSU_APPROVED = bytes.fromhex("00800000")
    _CSU_DECLINED = bytes(4)

    def icc_mk(self, imk: bytes, pan: str, psn: str) -> bytes:
        return _derive_icc_mk_b(imk, pan, psn)

    def make_iad(self, cvr: bytes, dki: int = 1) -> bytes:
        return bytes([0x06, _check_byte("DKI", dki), 0x12]) + _check_cvr(cvr, 4)

    def arqc(self, icc_mk: bytes, tags: Mapping[str, bytes]) -> bytes:
        card = _pyemv_card(pyemv_cvn.VisaCVN18, icc_mk)
        return card.generate_ac(**_terminal_args(tags), tag_9f10=_tag(tags, _IAD))

    def _csu(self, arc: bytes) -> bytes:
        return self._CSU_APPROVED if _check_arc(arc) == b"00" else self._CSU_DECLINED

    def _arpc_for_csu(self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, csu: bytes) -> bytes:
        card = _pyemv_card(pyemv_cvn.VisaCVN18, icc_mk)
        return card.generate_arpc(tag_9f26=bytes(arqc), tag_9f36=_tag(tags, "9F36"), csu=csu)

    def arpc(self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, arc: bytes) -> bytes:
        """The 4-byte method 2 ARPC over the ARQC and the CSU that ``arc`` implies."""
        return self._arpc_for_csu(icc_mk, tags, arqc, self._csu(arc))

    def issuer_authentication_data(
        self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, arc: bytes
    ) -> bytes:
        """Tag 91 for method 2: ARPC (4) followed by the CSU (4)."""
        return self.arpc(icc_mk, tags, arqc, arc) + self._csu(arc)

    def verify_issuer_authentication_data(
        self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, data: bytes
    ) -> bool:
        if len(data) != 8:
            return False
        expected = self._arpc_for_csu(icc_mk, tags, arqc, bytes(data[4:]))
        return hmac.compare_digest(expected, bytes(data[:4]))


class MastercardCVN16(CryptogramVersion):
    """Mastercard M/Chip CVN 16: Mastercard session key (ATC, UN), ARPC method 1 under the ICC key (pyemv)."""

    name = "mastercard-cvn16"
    _CVN = 0x10
    _pyemv_class: type = pyemv_cvn.MasterCardCVN16

    def make_iad(self, cvr: bytes, dki: int = 1) -> bytes:
        # M/Chip IAD: DKI | CVN | CVR (6) | DAC/IDN (2) | counters (8: offline amount 6, count 1, FF).
        return (
            bytes([_check_byte("DKI", dki), self._CVN])
            + _check_cvr(cvr, 6)
            + bytes(2)
            + bytes(7)
            + b"\xff"
        )

    def _ac_args(self, tags: Mapping[str, bytes]) -> dict[str, bytes]:
        return {**_terminal_args(tags), "cvr": _iad_part(tags, 2, 8, "CVR")}

    def arqc(self, icc_mk: bytes, tags: Mapping[str, bytes]) -> bytes:
        return _pyemv_card(self._pyemv_class, icc_mk).generate_ac(**self._ac_args(tags))

    def arpc(self, icc_mk: bytes, tags: Mapping[str, bytes], arqc: bytes, arc: bytes) -> bytes:
        card = _pyemv_card(self._pyemv_class, icc_mk)
        return card.generate_arpc(tag_9f26=bytes(arqc), arpc_rc=_check_arc(arc))


class MastercardCVN17(MastercardCVN16):
    """Mastercard M/Chip CVN 17: as CVN 16, with the IAD counters in the AC data."""

    name = "mastercard-cvn17"
    _CVN = 0x11
    _pyemv_class = pyemv_cvn.MasterCardCVN17

    def _ac_args(self, tags: Mapping[str, bytes]) -> dict[str, bytes]:
        return {**super()._ac_args(tags), "counters": _iad_part(tags, 10, 18, "counters")}


_VERSIONS: dict[tuple[str, int], CryptogramVersion] = {
    ("unionpay", 1): UnionPayCVN01(),
    ("visa", 10): VisaCVN10(),
    ("visa", 18): VisaCVN18(),
    ("mastercard", 16): MastercardCVN16(),
    ("mastercard", 17): MastercardCVN17(),
}
_DEFAULT_CVN = {"unionpay": 1, "visa": 10, "mastercard": 16}


def cryptogram_for(scheme: str, cvn: int | None = None) -> CryptogramVersion:
    """The cryptogram version of a card: scheme "unionpay", "visa" or "mastercard" and its CVN."""
    if scheme not in _DEFAULT_CVN:
        raise CryptogramError(
            f"unknown scheme {scheme!r}; expected one of {', '.join(_DEFAULT_CVN)}"
        )
    number = _DEFAULT_CVN[scheme] if cvn is None else cvn
    try:
        return _VERSIONS[(scheme, number)]
    except KeyError:
        known = ", ".join(str(n) for s, n in _VERSIONS if s == scheme)
        raise CryptogramError(f"{scheme} CVN {number} not supported; supported: {known}") from None
