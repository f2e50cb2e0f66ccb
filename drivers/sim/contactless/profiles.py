"""The virtual cards' personal data, read from the issuers' card file (`config/cards.toml`).

The sim reads the file itself (tomllib) from a path its caller gives, so the
cards and the issuer simulators share one source of PANs and keys without the
sim importing the acquirer. Only the keys a card needs are read; the issuer's
keys (balances, PINs, limits) are ignored here.

Optional keys this module adds to a card entry (absent = a plastic card):
`form` ("card", "phone", "wearable"), `cdcvm` (the device verifies its holder:
fingerprint, face, passcode), `token` (the PAN is a payment token).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMES = ("unionpay", "visa", "mastercard")
FORMS = ("card", "phone", "wearable")


class CardFileError(ValueError):
    """The card file is missing, unreadable, or a card entry has a bad value (named)."""


@dataclass(frozen=True)
class CardProfile:
    """What one virtual card is personalised with."""

    name: str
    scheme: str
    product: str
    pan: str
    psn: str
    expiry: str          # YYMM
    aid: bytes
    label: str
    imk_ac: bytes        # TEST KEY: issuer master key for application cryptograms
    cvn: int | None      # None: the scheme's default version
    form: str = "card"
    cdcvm: bool = False
    token: bool = False

    def __repr__(self) -> str:  # no PAN or key in logs
        return f"CardProfile({self.name}, {self.scheme} {self.form})"


def load_profiles(path: Path) -> dict[str, CardProfile]:
    """Every `[[card]]` of the card file, by name."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CardFileError(f"{path}: card file not found") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CardFileError(f"{path}: cannot read the card file: {error}") from error
    cards = data.get("card")
    if not isinstance(cards, list):
        raise CardFileError(f"{path}: no [[card]] entries")
    profiles: dict[str, CardProfile] = {}
    for index, entry in enumerate(cards):
        profile = _profile(path, index, entry)
        if profile.name in profiles:
            raise CardFileError(f"{path}: card[{index}].name {profile.name!r} is used twice")
        profiles[profile.name] = profile
    return profiles


def load_profile(path: Path, name: str) -> CardProfile:
    profiles = load_profiles(path)
    try:
        return profiles[name]
    except KeyError:
        raise CardFileError(f"{path}: no card named {name!r}; known: {', '.join(profiles)}") from None


def _profile(path: Path, index: int, entry: Any) -> CardProfile:
    if not isinstance(entry, dict):
        raise CardFileError(f"{path}: card[{index}] is not a table")

    def where(key: str) -> str:
        return f"{path}: card[{index}] ({entry.get('name', '?')}).{key}"

    def text(key: str, pattern: str, what: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise CardFileError(f"{where(key)} must be {what}, got {value!r}")
        return value

    def flag(key: str) -> bool:
        value = entry.get(key, False)
        if not isinstance(value, bool):
            raise CardFileError(f"{where(key)} must be true or false, got {value!r}")
        return value

    cvn = entry.get("cvn")
    if cvn is not None and (isinstance(cvn, bool) or not isinstance(cvn, int) or not 0 < cvn < 256):
        raise CardFileError(f"{where('cvn')} must be an integer 1..255, got {cvn!r}")
    form = entry.get("form", "card")
    if form not in FORMS:
        raise CardFileError(f"{where('form')} must be one of {', '.join(FORMS)}, got {form!r}")
    scheme = entry.get("scheme")
    if scheme not in SCHEMES:
        raise CardFileError(f"{where('scheme')} must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    expiry = text("expiry", r"[0-9]{2}(0[1-9]|1[0-2])", "YYMM")
    return CardProfile(
        name=text("name", r"[a-z0-9][a-z0-9-]*", "a lower-case name"),
        scheme=scheme,
        product=text("product", r"[a-z-]+", "a product name such as debit"),
        pan=text("pan", r"[0-9]{12,19}", "12 to 19 digits"),
        psn=text("psn", r"[0-9]{2}", "2 digits"),
        expiry=expiry,
        aid=bytes.fromhex(text("aid", r"([0-9A-Fa-f]{2}){5,16}", "5 to 16 bytes of hex")),
        label=text("label", r"[ -~]{1,16}", "1 to 16 printable ASCII characters"),
        imk_ac=bytes.fromhex(text("imk_ac", r"[0-9A-Fa-f]{32}", "32 hex digits")),
        cvn=cvn,
        form=form,
        cdcvm=flag("cdcvm"),
        token=flag("token"),
    )
