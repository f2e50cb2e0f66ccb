"""EMVCo merchant-presented mode (MPM): the dynamic code the terminal shows for one sale.

Format (EMV QR Code Specification for Payment Systems, Merchant-Presented Mode):
a string of data objects, each a two-digit ID, a two-digit length and the
value. Lengths count characters, not bytes ("64200002ZH0104最佳运输0202北京" in
the EMVCo example). Templates (26-51 merchant account information, 62
additional data, 64 language template) nest the same format. The last object
is 63, a CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over the UTF-8 bytes of
everything before it including "6304", as four upper-case hex digits.

Why by hand: the ID-length-value format is a dozen lines, and the PyPI
packages for it are unmaintained single-author projects; the CRC is the
standard library's `binascii.crc_hqx` (CRC-CCITT, non-reflected, started at
0xFFFF), pinned against the published check value and the EMVCo example.

Why in the protocol layer: the terminal builds the code and the customer's
wallet (`drivers/sim`) reads it, so both sides share this one module.
"""
from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field

__all__ = [
    "MalformedMpm",
    "MerchantPresentedCode",
    "build_dynamic_mpm",
    "crc16_ccitt_false",
    "decode_fields",
    "encode_fields",
    "parse_mpm",
    "with_crc",
]

CRC_ID = "63"
STATIC = "11"     # point of initiation: the same code for many payments
DYNAMIC = "12"    # one code per payment (amount included)
TILLKIT_GUID = "cn.tillkit.acquirer"  # globally unique ID in our merchant account template (26.00)
NAME_MAX, CITY_MAX, BILL_MAX = 25, 15, 25  # EMVCo maximum lengths of 59, 60 and 62.01

_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]{0,2}))?")


class MalformedMpm(ValueError):
    """A merchant-presented payload, or input for one, that breaks the EMVCo rules;
    the message names the field, the character offset or the CRC."""


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: "123456789" -> 0x29B1."""
    return binascii.crc_hqx(data, 0xFFFF)


def with_crc(body: str) -> str:
    """`body` (everything before the CRC object) with "6304" and its CRC appended."""
    unsigned = body + CRC_ID + "04"
    return unsigned + f"{crc16_ccitt_false(unsigned.encode('utf-8')):04X}"


def encode_fields(fields: list[tuple[str, str]]) -> str:
    """ID-length-value objects in the given order; values of 1 to 99 characters."""
    out = []
    for field_id, value in fields:
        if not (len(field_id) == 2 and field_id.isdigit()):
            raise MalformedMpm(f"MPM field ID {field_id!r} is not two digits")
        if not 1 <= len(value) <= 99:
            raise MalformedMpm(f"MPM field {field_id} is {len(value)} characters long; 1 to 99 allowed")
        out.append(f"{field_id}{len(value):02d}{value}")
    return "".join(out)


def decode_fields(data: str, where: str = "payload") -> list[tuple[str, str]]:
    """The (ID, value) objects of `data`, in order; `where` names the template in errors."""
    fields = []
    pos = 0
    while pos < len(data):
        head = data[pos:pos + 4]
        if len(head) < 4 or not head.isascii() or not head.isdigit():
            raise MalformedMpm(f"MPM {where}: object at character {pos} has no two-digit ID and length ({head!r})")
        length = int(head[2:])
        value = data[pos + 4:pos + 4 + length]
        if length == 0 or len(value) < length:
            raise MalformedMpm(f"MPM {where}: field {head[:2]} at character {pos} declares {length} characters,"
                               f" {len(value)} remain")
        fields.append((head[:2], value))
        pos += 4 + length
    return fields


@dataclass(frozen=True)
class MerchantPresentedCode:
    """A parsed MPM payload: the named fields, plus every raw field in payload order."""

    initiation: str                       # "11" static, "12" dynamic
    merchant_accounts: dict[str, str]     # ID 02-51 -> raw value (26-51 are templates: see `template`)
    mcc: str
    currency: str
    amount_fen: int | None
    country: str
    merchant_name: str
    merchant_city: str
    additional: dict[str, str] = field(default_factory=dict)   # 62 template: 01 bill number, 05 reference, 07 terminal
    language: dict[str, str] = field(default_factory=dict)     # 64 template: 00 language, 01 name, 02 city
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def dynamic(self) -> bool:
        return self.initiation == DYNAMIC

    @property
    def bill_number(self) -> str | None:
        return self.additional.get("01")

    @property
    def terminal_label(self) -> str | None:
        return self.additional.get("07")

    def template(self, field_id: str) -> dict[str, str]:
        """A merchant account template (26-51) as sub-ID -> value."""
        return dict(decode_fields(self.merchant_accounts[field_id], f"template {field_id}"))


def build_dynamic_mpm(*, amount_fen: int, merchant_id: str, terminal_id: str, merchant_name: str,
                      merchant_city: str, mcc: str, bill_number: str, name_local: str | None = None,
                      city_local: str | None = None, language: str = "ZH", currency: str = "156",
                      country: str = "CN", account_guid: str = TILLKIT_GUID) -> str:
    """The payload of a one-time code asking `amount_fen` for this sale.

    Merchant account template 26 carries our acquirer's GUID, the merchant ID
    and the terminal ID; 62 the bill number (the sale's reference for the
    customer's wallet) and the terminal label; 64 the Chinese name and city.
    """
    if amount_fen <= 0:
        raise MalformedMpm(f"MPM amount must be positive, got {amount_fen} fen")
    merchant_name, merchant_city = merchant_name[:NAME_MAX], merchant_city[:CITY_MAX]
    for name, value, limit in (("merchant name (59)", merchant_name, NAME_MAX),
                               ("merchant city (60)", merchant_city, CITY_MAX),
                               ("bill number (62.01)", bill_number, BILL_MAX)):
        if not value or len(value) > limit:
            raise MalformedMpm(f"MPM {name} {value!r} must be 1 to {limit} characters")
    if not (len(mcc) == 4 and mcc.isdigit()):
        raise MalformedMpm(f"MPM merchant category code (52) {mcc!r} is not four digits")
    yuan, fen = divmod(amount_fen, 100)
    account = encode_fields([("00", account_guid), ("01", merchant_id), ("02", terminal_id)])
    additional = encode_fields([("01", bill_number), ("07", terminal_id)])
    fields = [("00", "01"), ("01", DYNAMIC), ("26", account), ("52", mcc), ("53", currency),
              ("54", f"{yuan}.{fen:02d}"), ("58", country), ("59", merchant_name), ("60", merchant_city),
              ("62", additional)]
    if name_local:
        local = [("00", language), ("01", name_local)] + ([("02", city_local)] if city_local else [])
        fields.append(("64", encode_fields(local)))
    return with_crc(encode_fields(fields))


def parse_mpm(payload: str) -> MerchantPresentedCode:
    """Check the CRC and the mandatory fields of an MPM payload; MalformedMpm names what is wrong."""
    if len(payload) < 8 or payload[-8:-4] != CRC_ID + "04":
        raise MalformedMpm("MPM payload does not end with a CRC object (6304 and four hex digits)")
    stated = payload[-4:]
    computed = crc16_ccitt_false(payload[:-4].encode("utf-8"))
    if not re.fullmatch(r"[0-9A-Fa-f]{4}", stated) or int(stated, 16) != computed:
        raise MalformedMpm(f"MPM CRC mismatch: payload says {stated!r}, content gives {computed:04X}")
    fields = decode_fields(payload)
    values: dict[str, str] = {}
    for field_id, value in fields:
        if field_id in values:
            raise MalformedMpm(f"MPM field {field_id} appears twice")
        values[field_id] = value
    if fields[0] != ("00", "01"):
        raise MalformedMpm(f"MPM payload must start with payload format indicator 000201, starts {payload[:6]!r}")
    for required, name in (("52", "merchant category code"), ("53", "currency"), ("58", "country"),
                           ("59", "merchant name"), ("60", "merchant city")):
        if required not in values:
            raise MalformedMpm(f"MPM field {required} ({name}) is missing")
    accounts = {fid: v for fid, v in fields if "02" <= fid <= "51"}
    if not accounts:
        raise MalformedMpm("MPM has no merchant account information (fields 02-51)")
    initiation = values.get("01", STATIC)
    if initiation not in (STATIC, DYNAMIC):
        raise MalformedMpm(f"MPM point of initiation (01) {initiation!r} is neither 11 nor 12")
    return MerchantPresentedCode(
        initiation=initiation,
        merchant_accounts=accounts,
        mcc=values["52"],
        currency=values["53"],
        amount_fen=_amount_fen(values["54"]) if "54" in values else None,
        country=values["58"],
        merchant_name=values["59"],
        merchant_city=values["60"],
        additional=dict(decode_fields(values["62"], "template 62")) if "62" in values else {},
        language=dict(decode_fields(values["64"], "template 64")) if "64" in values else {},
        fields=tuple(fields),
    )


def _amount_fen(text: str) -> int:
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise MalformedMpm(f"MPM amount (54) {text!r} is not a decimal number with at most two decimals")
    return int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))
