"""A contactless EMV payment application: the chip in a card, phone or band.

Written by hand: no library plays the card side of EMV. It answers the
commands a contactless kernel sends, personalised from a `CardProfile`:

- SELECT PPSE (`2PAY.SYS.DDF01`): the directory of its one application;
- SELECT AID: FCI with label, priority and PDOL;
- GET PROCESSING OPTIONS with the PDOL data;
- READ RECORD for the records its AFL lists;
- GENERATE AC (Mastercard only) with the CDOL1 data.

Two flows, as the schemes run them:
- UnionPay qPBOC and Visa qVSDC answer GPO with the whole online result: AIP,
  AFL, ATC, ARQC, CID, IAD, track 2, PSN and the card transaction qualifiers
  (9F6C, telling the terminal which CVM the card wants or that the device
  verified its holder); records carry PAN and dates.
- Mastercard M/Chip answers GPO with AIP and AFL only; records carry track 2,
  PAN, dates and CDOL1; GENERATE AC returns the ARQC.

The ARQC is real: the card key comes from the profile's issuer master key,
the cryptogram version from `acquirer.protocol.cryptogram` (the issuers
verify with the very same code), and the ATC from an `AtcStore` that keeps
rising across runs. `Misbehaviour` makes the card break the rules in the ways
tests need: other status words, missing tags, truncated or malformed answers,
declining with an AAC, a phone asking its holder to unlock it first.
"""
from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from acquirer.protocol import tlv
from acquirer.protocol.cryptogram import cryptogram_for
from acquirer.protocol.dol import parse_dol
from drivers.sim.contactless.atc import AtcStore
from drivers.sim.contactless.profiles import CardProfile

PPSE_NAME = b"2PAY.SYS.DDF01"

SW_OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_CONDITIONS_NOT_SATISFIED = b"\x69\x85"
SW_SEE_PHONE = b"\x69\x86"            # qVSDC/qPBOC mobile: "see phone", then tap again
SW_WRONG_DATA = b"\x6A\x80"
SW_FILE_NOT_FOUND = b"\x6A\x82"
SW_RECORD_NOT_FOUND = b"\x6A\x83"
SW_WRONG_P1P2 = b"\x6A\x86"
SW_INS_NOT_SUPPORTED = b"\x6D\x00"
SW_CLA_NOT_SUPPORTED = b"\x6E\x00"

CID_AAC, CID_ARQC = 0x00, 0x80   # cryptogram information data: AAC (decline), ARQC (go online)

# Terminal data the cryptogram covers, asked for in the PDOL (qPBOC/qVSDC) or CDOL1 (M/Chip)
PDOL_QUICK = bytes.fromhex("9F66049F02069F03069F1A0295055F2A029A039C019F3704")
CDOL1_MCHIP = bytes.fromhex("9F02069F03069F1A0295055F2A029A039C019F37049F35019F45029F4C089F3403")
CDOL2_MCHIP = bytes.fromhex("910A8A0295059F3704")

Item = tuple[str, "bytes | Sequence[Item]"]


@dataclass(frozen=True)
class Misbehaviour:
    """How the card departs from the specifications (nothing, by default).

    Command names: "ppse", "select", "gpo", "read_record", "generate_ac".
    """

    status_words: Mapping[str, bytes] = field(default_factory=dict)  # answer this SW instead
    omit: frozenset[str] = frozenset()   # tags the card never sends
    truncate: str | None = None          # this command's answer is cut off mid-object
    malform: str | None = None           # this command's template holds a broken object
    decline: bool = False                # the card refuses online: AAC instead of ARQC
    locked: bool = False                 # a phone still locked: GPO answers "see phone" once


@dataclass(frozen=True)
class _Layout:
    """Where a scheme's card keeps its data."""

    aip: bytes
    afl: bytes
    pdol: bytes
    cvr: bytes                 # card verification results when it asks to go online
    records: dict[tuple[int, int], tuple[str, ...]]  # (SFI, record) -> tags in it
    gpo_tags: tuple[str, ...]  # tags in the GPO answer beyond 82/94 (qPBOC/qVSDC)
    app_version: bytes         # 9F08
    language: bytes            # 5F2D


_QUICK_GPO = ("9F36", "9F26", "9F27", "9F10", "57", "5F34", "9F6C")
_LAYOUTS = {
    "unionpay": _Layout(
        aip=bytes.fromhex("0000"), afl=bytes.fromhex("08010200"), pdol=PDOL_QUICK,
        cvr=bytes.fromhex("03A00000"),
        records={(1, 1): ("5A", "5F24", "5F25", "5F28", "9F07", "9F19"),
                 (1, 2): ("5F20", "9F08", "9F42")},
        gpo_tags=_QUICK_GPO, app_version=bytes.fromhex("0030"), language=b"zhen"),
    "visa": _Layout(
        aip=bytes.fromhex("0020"), afl=bytes.fromhex("08010200"), pdol=PDOL_QUICK,
        cvr=bytes.fromhex("03A00000"),
        records={(1, 1): ("5A", "5F24", "5F25", "5F28", "9F07", "9F19"),
                 (1, 2): ("5F20", "9F08", "9F42")},
        gpo_tags=_QUICK_GPO, app_version=bytes.fromhex("0096"), language=b"en"),
    "mastercard": _Layout(
        aip=bytes.fromhex("1980"), afl=bytes.fromhex("0801010010010200"), pdol=b"",
        cvr=bytes.fromhex("A00000000000"),
        records={(1, 1): ("57", "5F20"),
                 (2, 1): ("5A", "5F24", "5F25", "5F28", "5F34", "9F07", "9F19"),
                 (2, 2): ("8C", "8D", "9F08", "9F42")},
        gpo_tags=(), app_version=bytes.fromhex("0002"), language=b"en"),
}


def ppse_fci(entries: Sequence[Item]) -> Item:
    """The SELECT PPSE answer around directory entries: 6F > 84, A5 > BF0C > 61..."""
    return ("6F", [("84", PPSE_NAME), ("A5", [("BF0C", list(entries))])])


class PaymentApplication:
    """One personalised contactless payment application (see the module docstring)."""

    def __init__(self, profile: CardProfile, atc_store: AtcStore,
                 misbehaviour: Misbehaviour | None = None) -> None:
        self.profile = profile
        self.misbehaviour = misbehaviour or Misbehaviour()
        self._atc_store = atc_store
        self._layout = _LAYOUTS[profile.scheme]
        self._cryptogram = cryptogram_for(profile.scheme, profile.cvn)
        self._icc_mk = self._cryptogram.icc_mk(profile.imk_ac, profile.pan, profile.psn)
        self._selected = False
        self._locked = self.misbehaviour.locked
        self._gpo_done = False

    # --- the command interface ---------------------------------------------------
    def exchange(self, apdu: bytes) -> bytes:
        """Answer one command APDU (response data + SW1 SW2)."""
        if len(apdu) < 4:
            return SW_WRONG_LENGTH
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[5:5 + apdu[4]] if len(apdu) > 5 else b""
        if len(apdu) > 5 and len(body) != apdu[4]:
            return SW_WRONG_LENGTH
        if ins == 0xA4 and cla == 0x00 and p1 == 0x04:
            command = "ppse" if body == PPSE_NAME else "select"
        elif ins == 0xA8 and cla == 0x80:
            command = "gpo"
        elif ins == 0xB2 and cla == 0x00:
            command = "read_record"
        elif ins == 0xAE and cla == 0x80:
            command = "generate_ac"
        elif cla not in (0x00, 0x80):
            return SW_CLA_NOT_SUPPORTED
        else:
            return SW_INS_NOT_SUPPORTED
        forced = self.misbehaviour.status_words.get(command)
        if forced is not None:
            return forced
        handler = getattr(self, f"_{command}")
        items, sw = handler(p1, p2, body)
        if sw != SW_OK:
            return sw
        return self._encode(command, items) + SW_OK

    # --- commands ------------------------------------------------------------------
    def directory_entry(self, priority: int = 1) -> Item:
        """This application's entry (61) in a PPSE directory."""
        return ("61", [("4F", self.profile.aid), ("50", self.profile.label.encode()),
                       ("87", bytes([priority]))])

    def _ppse(self, p1: int, p2: int, body: bytes) -> tuple[list[Item], bytes]:
        return [ppse_fci([self.directory_entry()])], SW_OK

    def _select(self, p1: int, p2: int, body: bytes) -> tuple[list[Item], bytes]:
        if body != self.profile.aid[:len(body)] or not body:
            return [], SW_FILE_NOT_FOUND
        self._selected = True
        self._gpo_done = False
        proprietary: list[Item] = [("50", self.profile.label.encode()), ("87", b"\x01")]
        if self._layout.pdol:
            proprietary.append(("9F38", self._layout.pdol))
        proprietary.append(("5F2D", self._layout.language))
        return [("6F", [("84", self.profile.aid), ("A5", proprietary)])], SW_OK

    def _gpo(self, p1: int, p2: int, body: bytes) -> tuple[list[Item], bytes]:
        if not self._selected:
            return [], SW_CONDITIONS_NOT_SATISFIED
        if len(body) < 2 or body[0] != 0x83 or body[1] != len(body) - 2:
            return [], SW_WRONG_DATA
        terminal = self._dol_values(self._layout.pdol, body[2:])
        if terminal is None:
            return [], SW_WRONG_LENGTH
        if self._locked:  # the holder unlocks the phone and taps again
            self._locked = False
            return [], SW_SEE_PHONE
        self._gpo_done = True
        items: list[Item] = [("82", self._layout.aip), ("94", self._layout.afl)]
        if self._layout.gpo_tags:
            data = self._cryptogram_data(terminal, online_requested=True)
            items += [(tag, data[tag]) for tag in self._layout.gpo_tags]
        return [("77", items)], SW_OK

    def _read_record(self, p1: int, p2: int, body: bytes) -> tuple[list[Item], bytes]:
        if p2 & 0x07 != 0x04:
            return [], SW_WRONG_P1P2
        tags = self._layout.records.get((p2 >> 3, p1)) if self._gpo_done else None
        if tags is None:
            return [], SW_RECORD_NOT_FOUND
        static = self._static_data()
        return [("70", [(tag, static[tag]) for tag in tags if tag in static])], SW_OK

    def _generate_ac(self, p1: int, p2: int, body: bytes) -> tuple[list[Item], bytes]:
        if self.profile.scheme != "mastercard" or not self._gpo_done:
            return [], SW_CONDITIONS_NOT_SATISFIED
        terminal = self._dol_values(CDOL1_MCHIP, body)
        if terminal is None:
            return [], SW_WRONG_LENGTH
        data = self._cryptogram_data(terminal, online_requested=p1 & 0xC0 != 0x00)
        self._gpo_done = False  # one cryptogram per selection
        return [("77", [(tag, data[tag]) for tag in ("9F27", "9F36", "9F26", "9F10")])], SW_OK

    # --- card data -------------------------------------------------------------------
    def _dol_values(self, dol: bytes, data: bytes) -> dict[str, bytes] | None:
        entries = parse_dol(dol)
        if sum(length for _, length in entries) != len(data):
            return None
        values, pos = {}, 0
        for tag, length in entries:
            values[tag] = data[pos:pos + length]
            pos += length
        return values

    def _cryptogram_data(self, terminal: dict[str, bytes], *, online_requested: bool) -> dict[str, bytes]:
        """Take an ATC and compute the cryptogram over the terminal's data."""
        atc = self._atc_store.next(self.profile.name).to_bytes(2, "big")
        cid = CID_AAC if self.misbehaviour.decline or not online_requested else CID_ARQC
        iad = self._cryptogram.make_iad(self._cvr(cid))
        inputs = {**terminal, "82": self._layout.aip, "9F36": atc, "9F10": iad}
        return {
            **self._static_data(),
            "9F36": atc,
            "9F10": iad,
            "9F27": bytes([cid]),
            "9F26": self._cryptogram.arqc(self._icc_mk, inputs),
            "9F6C": self._ctq(terminal.get("9F66", bytes(4))),
        }

    def _cvr(self, cid: int) -> bytes:
        cvr = bytearray(self._layout.cvr)
        if cid == CID_AAC:  # "AAC returned in first GENERATE AC": clear the ARQC bits
            index = 1 if self.profile.scheme != "mastercard" else 0
            cvr[index] &= 0xCF
        return bytes(cvr)

    def _ctq(self, ttq: bytes) -> bytes:
        """Card transaction qualifiers: which CVM the card wants for this amount."""
        cvm_required = bool(ttq[1] & 0x40)
        terminal_does_cdcvm = bool(ttq[2] & 0x40)
        if self.profile.cdcvm and terminal_does_cdcvm:
            return bytes([0x00, 0x80])   # consumer device CVM performed
        if cvm_required and ttq[0] & 0x04:
            return bytes([0x80, 0x00])   # online PIN required
        if cvm_required and ttq[0] & 0x02:
            return bytes([0x40, 0x00])   # signature required
        return bytes(2)

    def _static_data(self) -> dict[str, bytes]:
        p = self.profile
        year, month = 2000 + int(p.expiry[:2]), int(p.expiry[2:])
        last_day = calendar.monthrange(year, month)[1]
        expiry = bytes.fromhex(f"{p.expiry}{last_day:02d}")
        effective = bytes.fromhex(f"{int(p.expiry[:2]) - 5:02d}{p.expiry[2:]}01")
        track2 = f"{p.pan}D{p.expiry}201{'0' * 8}"
        track2 += "F" * (len(track2) % 2)
        pan = p.pan + "F" * (len(p.pan) % 2)
        data = {
            "57": bytes.fromhex(track2),
            "5A": bytes.fromhex(pan),
            "5F24": expiry,
            "5F25": effective,
            "5F28": bytes.fromhex("0156"),
            "5F34": bytes.fromhex(p.psn),
            "5F20": b"TILLKIT/TEST CARD" if p.form == "card" else b" /",
            "9F07": bytes.fromhex("FF00"),
            "9F08": self._layout.app_version,
            "9F42": bytes.fromhex("0156"),
            "8C": CDOL1_MCHIP,
            "8D": CDOL2_MCHIP,
        }
        if p.token:
            data["9F19"] = bytes.fromhex("050100000001")  # token requestor ID (n11)
        return data

    # --- encoding, with the misbehaviour applied --------------------------------------
    def _encode(self, command: str, items: list[Item]) -> bytes:
        encoded = encode(items, omit=self.misbehaviour.omit, malform=self.misbehaviour.malform == command)
        if self.misbehaviour.truncate == command:
            encoded = encoded[: max(1, len(encoded) - 5)]
        return encoded


def encode(items: Sequence[Item], *, omit: frozenset[str] = frozenset(), malform: bool = False) -> bytes:
    """BER-TLV of nested (tag, value-or-children) items, leaving out `omit`.

    `malform`: in each record or GPO template (70, 77), the first object
    claims more bytes than the template holds (the template's own length
    stays right, so only a parser that looks inside notices).
    """
    parts: list[tuple[str, bytes]] = []
    for tag, value in items:
        if tag in omit:
            continue
        if isinstance(value, (bytes, bytearray)):
            parts.append((tag, bytes(value)))
            continue
        inner = encode(value, omit=omit, malform=malform)
        if malform and tag in ("70", "77"):
            at = 2 if inner[0] & 0x1F == 0x1F else 1  # the first object's length byte
            inner = inner[:at] + bytes([min(0x7F, inner[at] + 0x20)]) + inner[at + 1:]
        parts.append((tag, inner))
    return tlv.build(parts)
