"""The virtual cards' personal data, read from the issuers' card file (`config/cards.toml`).

The cards and the issuer simulators share one source of PANs and keys: the
file's schema (`acquirer.protocol.cards_file`, the standards layer the sim may
import) read by the kit's one settings loader, so a bad file is the same
`file: key: reason` line (`SettingsError`, alias `CardFileError`) whichever
reads it first. Only the keys a card needs are used here; the issuer's keys
(balances, PINs, limits) are ignored.

Keys only the virtual cards use (absent = a plastic card): `form` ("card",
"phone", "wearable"), `cdcvm` (the device verifies its holder: fingerprint,
face, passcode), `token` (the PAN is a payment token).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from acquirer.protocol.cards_file import CardRow, CardsFile
from acquirer.protocol.settings_file import SettingsError, load_settings

#: the card file refused, or a card it does not hold: the kit's one settings error (`file: key: reason`)
CardFileError = SettingsError


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
    data = load_settings(Path(path), CardsFile)
    if not data.card:
        raise CardFileError(str(path), "card", "no [[card]] entries")
    profiles: dict[str, CardProfile] = {}
    for index, row in enumerate(data.card):
        if row.name in profiles:
            raise CardFileError(str(path), f"card[{index}].name", f"{row.name!r} is used twice")
        profiles[row.name] = _profile(path, index, row)
    return profiles


def load_profile(path: Path, name: str) -> CardProfile:
    profiles = load_profiles(path)
    try:
        return profiles[name]
    except KeyError:
        raise CardFileError(str(path), "card", f"no card named {name!r}; known: {', '.join(profiles)}") from None


def _profile(path: Path, index: int, row: CardRow) -> CardProfile:
    """A card row as a virtual card's data; a virtual card needs its AID and label, which the issuers do not."""
    for key in ("aid", "label"):
        if not getattr(row, key):
            raise CardFileError(str(path), f"card[{index}].{key}", "missing (a virtual card needs it)")
    return CardProfile(
        name=row.name, scheme=row.scheme, product=row.product, pan=row.pan, psn=row.psn, expiry=row.expiry,
        aid=bytes.fromhex(row.aid), label=row.label, imk_ac=bytes.fromhex(row.imk_ac), cvn=row.cvn,
        form=row.form, cdcvm=row.cdcvm, token=row.token,
    )
