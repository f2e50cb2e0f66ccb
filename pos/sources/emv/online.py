"""After the host answers: read tag 91 (and any scripts) from the reply's field 55.

A contactless card has left the field by the time the issuer answers, so the
terminal cannot hand the ARPC to the card, and it holds no key to check it:
the ARPC is the card's (and the issuer's) business. What the terminal can
and does check is that the issuer authentication data is well formed for the
card's cryptogram version, and that its response code (ARC, method 1) or
card status update (CSU, method 2) agrees with field 39. Problems are
reported, not acted on: the host's answer is authoritative (it is MAC'd and
has already been posted), so the outcome follows the response code and the
engine journals the report.

ARPC methods (EMV Book 2, 8.2): method 1 = ARPC (8) + ARC (2): UnionPay
CVN 01, Visa CVN 10, Mastercard CVN 16/17; method 2 = ARPC (4) + CSU (4) +
optional proprietary data (up to 8): Visa CVN 18.
"""
from __future__ import annotations

from dataclasses import dataclass

from acquirer.protocol import tlv
from pos.core.payment import CardData
from pos.sources.emv.outcome import Outcome, approved, declined

METHOD_2_VERSIONS = frozenset({"visa-cvn18"})
APPROVED_CODES = frozenset({"00"})


@dataclass(frozen=True)
class IssuerAuthentication:
    """What the reply's field 55 held, and what looked wrong with it."""

    present: bool                     # tag 91 was in the reply
    method: int | None = None         # ARPC method 1 or 2
    arpc: bytes | None = None
    arc: str | None = None            # method 1: the issuer's response code
    csu: bytes | None = None          # method 2: card status update
    scripts: int = 0                  # 71/72 issuer scripts the card can no longer receive
    problems: tuple[str, ...] = ()

    @property
    def well_formed(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class HostResult:
    outcome: Outcome
    issuer_authentication: IssuerAuthentication


def complete_online(card: CardData, response_code: str, reply_icc_data: bytes | None) -> HostResult:
    """The tap's final outcome from the host's field 39 and field 55.

    `card` is the online request's card data (the kernel put the card's
    cryptogram version in `extra["cryptogram_version"]`).
    """
    if card.icc_data is None or "cryptogram" not in card.extra:
        raise ValueError("only a contactless online request (card data with field 55) is completed online")
    is_approved = response_code in APPROVED_CODES
    version = card.extra.get("cryptogram_version")
    report = _issuer_authentication(version, response_code, is_approved, reply_icc_data)
    outcome = approved("issuer approved (00)") if is_approved else declined(f"issuer declined ({response_code})")
    return HostResult(outcome, report)


def _issuer_authentication(version: str | None, response_code: str, is_approved: bool,
                           data: bytes | None) -> IssuerAuthentication:
    if not data:
        return IssuerAuthentication(present=False)
    try:
        items = tlv.parse(data)
    except tlv.TlvError as error:
        return IssuerAuthentication(present=False, problems=(f"reply field 55 is not valid TLV: {error}",))
    scripts = sum(1 for item in items if item.tag in ("71", "72"))
    found = tlv.find_all(items, "91")
    if not found:
        return IssuerAuthentication(present=False, scripts=scripts)
    problems: list[str] = []
    if len(found) > 1:
        problems.append(f"tag 91 appears {len(found)} times")
    value = found[0]
    if version in METHOD_2_VERSIONS:
        if not 8 <= len(value) <= 16:
            problems.append(f"tag 91 is {len(value)} bytes; ARPC method 2 needs 8 to 16")
            return IssuerAuthentication(True, 2, scripts=scripts, problems=tuple(problems))
        csu = value[4:8]
        if bool(csu[1] & 0x80) != is_approved:
            problems.append(f"card status update {csu.hex().upper()} contradicts response code {response_code}")
        return IssuerAuthentication(True, 2, arpc=value[:4], csu=csu, scripts=scripts, problems=tuple(problems))
    if len(value) != 10:
        problems.append(f"tag 91 is {len(value)} bytes; ARPC method 1 needs 10 (ARPC 8 + ARC 2)")
        return IssuerAuthentication(True, 1, scripts=scripts, problems=tuple(problems))
    raw_arc = value[8:]
    arc = raw_arc.decode("ascii", "replace")
    if not raw_arc.isascii() or not arc.isalnum():
        problems.append(f"ARC {raw_arc.hex().upper()} in tag 91 is not two letters or digits")
    elif arc != response_code:
        problems.append(f"ARC {arc} in tag 91 contradicts response code {response_code}")
    return IssuerAuthentication(True, 1, arpc=value[:8], arc=arc, scripts=scripts, problems=tuple(problems))
