"""EMVCo consumer-presented mode (CPM): a card in a customer's wallet app, shown as a QR code.

Format (EMV QR Code Specification for Payment Systems, Consumer-Presented
Mode): base64 of BER-TLV. 85 payload format indicator "CPV01"; one or more 61
application templates (4F AID, 50 label, 57 track 2 equivalent, 5A PAN, 5F20
name, 5F2D language, 9F08, 9F19, 9F24, 9F25, ...), each possibly holding a 63
application-specific transparent template; an optional 62 common data template
(data shared by the applications) holding a 64 common-data transparent
template. The transparent templates carry the cryptogram data the terminal
passes to the issuer untouched: 9F26 ARQC, 9F27 CID, 9F10 IAD, 9F36 ATC, 9F37
unpredictable number and the other inputs of the ARQC.

Every application template is kept, in order (`CpmPayload.applications`). The
terminal pays with the first one whose AID belongs to a scheme it accepts, as a
chip-like authorization: its cryptogram data become field 55, the entry mode is
"03" (QR).

TLV parsing is `acquirer.protocol.tlv` (order-keeping, repeats kept), the one
BER-TLV implementation of the kit.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from acquirer.protocol.tlv import Tlv, TlvError, build, first, parse
from pos.core.payment import CardData
from pos.sources.emv.field55 import OPTIONAL_TAGS, REQUEST_TAGS
from pos.sources.qr.errors import MalformedCpm, UnsupportedApplication

PAYLOAD_FORMAT = "CPV01"
ENTRY_MODE_QR = "03"

# registered application provider IDs (the first 5 bytes of an AID) of the schemes the terminal accepts
SCHEMES_BY_RID = {
    "A000000333": "unionpay",
    "A000000003": "visa",
    "A000000004": "mastercard",
}

# the request's field 55 order (the contactless kernel's); other transparent objects follow in payload order
FIELD55_ORDER = REQUEST_TAGS + OPTIONAL_TAGS
REQUIRED_CRYPTOGRAM_TAGS = {"9F26": "application cryptogram", "9F27": "cryptogram information data",
                            "9F10": "issuer application data", "9F36": "application transaction counter"}


@dataclass(frozen=True)
class CpmApplication:
    """One 61 application template: its own objects and those of its 63 transparent template."""

    objects: tuple[Tlv, ...]
    transparent: tuple[Tlv, ...]

    @property
    def aid(self) -> str | None:
        value = first(self.objects, "4F")
        return value.hex().upper() if value is not None else None

    @property
    def label(self) -> str | None:
        value = first(self.objects, "50")
        return value.decode("ascii", errors="replace") if value is not None else None

    @property
    def scheme(self) -> str | None:
        aid = self.aid
        return SCHEMES_BY_RID.get(aid[:10]) if aid else None

    def __repr__(self) -> str:  # the objects hold the PAN and track 2: show tags only
        return f"CpmApplication({self.aid} {[t.tag for t in self.objects]} 63:{[t.tag for t in self.transparent]})"


@dataclass(frozen=True)
class CpmPayload:
    """A parsed CPM payload: every application template, in order, and the common data."""

    version: str
    applications: tuple[CpmApplication, ...]
    common: tuple[Tlv, ...] = ()               # 62's objects, 64 excluded
    common_transparent: tuple[Tlv, ...] = ()   # 64's objects

    def __repr__(self) -> str:
        return (f"CpmPayload({self.version} {list(self.applications)} 62:{[t.tag for t in self.common]}"
                f" 64:{[t.tag for t in self.common_transparent]})")


def is_cpm(payload: str) -> bool:
    """True when `payload` is base64 whose first byte is tag 85 (the payload format indicator)."""
    try:
        raw = base64.b64decode(payload.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw[:1] == b"\x85"


def parse_cpm(payload: str) -> CpmPayload:
    """Decode and check the structure; MalformedCpm names the tag or byte offset at fault."""
    try:
        raw = base64.b64decode(payload.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedCpm(f"CPM payload is not valid base64: {exc}") from None
    try:
        objects = parse(raw)
        if not objects or objects[0].tag != "85":
            raise MalformedCpm("CPM payload does not start with the payload format indicator (85)")
        version = objects[0].value.decode("ascii", errors="replace")
        if version != PAYLOAD_FORMAT:
            raise MalformedCpm(f"CPM payload format {version!r} is not supported (expected {PAYLOAD_FORMAT})")
        applications: list[CpmApplication] = []
        common: tuple[Tlv, ...] = ()
        common_transparent: tuple[Tlv, ...] = ()
        seen_common = False
        for obj in objects[1:]:
            if obj.tag == "61":
                own, transparent = _split_template(obj, "63")
                applications.append(CpmApplication(own, transparent))
            elif obj.tag == "62" and not seen_common:
                common, common_transparent = _split_template(obj, "64")
                seen_common = True
            else:
                raise MalformedCpm(f"CPM payload: unexpected tag {obj.tag} at byte {obj.offset}"
                                   " (only one 85, 61 templates and one 62 are allowed)")
    except TlvError as exc:
        raise MalformedCpm(f"CPM payload is not valid BER-TLV: {exc}") from None
    if not applications:
        raise MalformedCpm("CPM payload has no application template (61)")
    return CpmPayload(version, tuple(applications), common, common_transparent)


def cpm_card_data(payload: CpmPayload) -> CardData:
    """The card data of the first application of an accepted scheme, with field 55 from its cryptogram."""
    application = next((app for app in payload.applications if app.scheme), None)
    if application is None:
        aids = ", ".join(app.aid or "no AID" for app in payload.applications)
        raise UnsupportedApplication(f"CPM payload has no application of an accepted scheme (AIDs: {aids})")
    card = application.objects + payload.common
    cryptogram = application.transparent + payload.common_transparent

    track2 = _track2(first(card, "57"))
    pan_value = first(card, "5A")
    pan = _digits(pan_value, "5A") if pan_value is not None else (track2.split("D")[0] if track2 else None)
    if not pan:
        raise MalformedCpm(f"CPM application {application.aid} carries no PAN (5A) or track 2 equivalent (57)")
    if track2 and track2.split("D")[0] != pan:
        raise MalformedCpm(f"CPM application {application.aid}: PAN in 5A differs from the PAN in 57")
    expiry_value = first(card + cryptogram, "5F24")
    if expiry_value is not None:
        expiry = _digits(expiry_value, "5F24")[:4]
    elif track2 and "D" in track2 and len(track2.split("D")[1]) >= 4:
        expiry = track2.split("D")[1][:4]
    else:
        raise MalformedCpm(f"CPM application {application.aid} carries no expiry (5F24 or in 57)")
    psn_value = first(card + cryptogram, "5F34")

    tags = {obj.tag for obj in cryptogram}
    for tag, name in REQUIRED_CRYPTOGRAM_TAGS.items():
        if tag not in tags:
            raise MalformedCpm(f"CPM application {application.aid}: no {name} ({tag}) in template 63 or 64")
    cid = first(cryptogram, "9F27") or b"\x00"
    if cid[0] & 0xC0 != 0x80:
        raise MalformedCpm(f"CPM cryptogram is not an ARQC (9F27 = {cid.hex().upper()})")

    return CardData(
        pan=pan,
        expiry=expiry,
        scheme=application.scheme or "",
        entry_mode=ENTRY_MODE_QR,
        source="qr-cpm",
        psn=psn_value.hex() if psn_value is not None else None,
        track2=track2,
        icc_data=field55(cryptogram),
        aid=application.aid,
        label=application.label,
        extra={
            "cpm_applications": str(len(payload.applications)),
            "atc": (first(cryptogram, "9F36") or b"").hex().upper(),
            "cryptogram": "ARQC",
        },
    )


def field55(cryptogram: tuple[Tlv, ...]) -> bytes:
    """Field 55 from transparent-template objects: the usual order first, then the rest; first of repeats wins.

    The values are passed as the phone made them (they are the ARQC's input);
    the terminal adds none of its own: 9F33 and the other terminal data were
    not known to the phone and are not covered by its cryptogram.
    """
    chosen: dict[str, Tlv] = {}
    for obj in cryptogram:
        chosen.setdefault(obj.tag, obj)
    ordered = [chosen[tag] for tag in FIELD55_ORDER if tag in chosen]
    ordered += [obj for tag, obj in chosen.items() if tag not in FIELD55_ORDER]
    return build(ordered)


def _split_template(template: Tlv, transparent_tag: str) -> tuple[tuple[Tlv, ...], tuple[Tlv, ...]]:
    """A template's own objects, and the objects of the transparent template nested in it."""
    own: list[Tlv] = []
    transparent: tuple[Tlv, ...] = ()
    for obj in template.children():
        if obj.tag == transparent_tag:
            if transparent:
                raise MalformedCpm(f"CPM template {template.tag} holds two {transparent_tag} templates")
            transparent = tuple(obj.children())
        else:
            own.append(obj)
    return tuple(own), transparent


def _track2(value: bytes | None) -> str | None:
    """Track 2 equivalent as digits with 'D' separator, F padding removed."""
    if value is None:
        return None
    text = value.hex().upper().rstrip("F")
    if text.count("D") != 1 or not text.replace("D", "").isdigit():
        raise MalformedCpm(f"CPM track 2 equivalent (57) is not digits with one D separator: {len(value)} bytes")
    return text


def _digits(value: bytes, tag: str) -> str:
    text = value.hex().upper().rstrip("F")
    if not text.isdigit():
        raise MalformedCpm(f"CPM tag {tag} is not BCD digits")
    return text
