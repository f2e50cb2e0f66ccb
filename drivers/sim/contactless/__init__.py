"""Virtual contactless cards, phones and bands for the simulated PN532 and in-process use.

`virtual_card(name, cards_file=..., state_dir=...)` builds a `TypeACard` to
put in a `Field` (the radio path, through nfcpy: the way the terminal reads
every card); `virtual_application(...)` builds just the EMV application,
whose `exchange(apdu)` a kernel can call directly, without the radio (kernel
tests, benchmarks). Both persist ATCs under `state_dir` (default
`var/sim/`), keyed by card name.
"""
from __future__ import annotations

from pathlib import Path

from drivers.sim.contactless.application import Misbehaviour, PaymentApplication
from drivers.sim.contactless.atc import DEFAULT_STATE_DIR, AtcExhausted, AtcStore
from drivers.sim.contactless.cobadged import CoBadgedCard
from drivers.sim.contactless.faults import FAULTS, Fault
from drivers.sim.contactless.profiles import CardFileError, CardProfile, load_profile, load_profiles
from drivers.sim.iso14443 import TypeACard

__all__ = [
    "DEFAULT_STATE_DIR", "FAULTS", "AtcExhausted", "AtcStore", "CardFileError", "CardProfile", "CoBadgedCard",
    "Fault",
    "Misbehaviour", "PaymentApplication", "UnknownFault", "load_profile", "load_profiles",
    "make_card", "virtual_application", "virtual_card",
]

# How each form factor shows itself to a reader
_FORM_RADIO = {
    "card": {"sak": 0x20, "fsci": 8, "fwi": 7},
    "phone": {"sak": 0x60, "fsci": 8, "fwi": 8},             # ISO-DEP + NFC-DEP, as many phones
    "wearable": {"sak": 0x20, "fsci": 2, "fwi": 7, "max_inf": 29},  # small chip: 32-byte frames both ways
}


class UnknownFault(ValueError):
    """A fault name that is not in `FAULTS`, or a radio fault asked of a card without radio."""


def _fault(name: str | None) -> Fault | None:
    if name is None:
        return None
    try:
        return FAULTS[name]
    except KeyError:
        raise UnknownFault(f"no card fault named {name!r}; known: {', '.join(FAULTS)}") from None


def make_card(profile: CardProfile, atc_store: AtcStore, fault: Fault | None = None) -> TypeACard:
    """A card in its form factor, with a fault's misbehaviour and radio behaviour."""
    application = PaymentApplication(profile, atc_store, fault.misbehaviour if fault else None)
    radio = {**_FORM_RADIO[profile.form], **(fault.radio if fault else {})}
    name = profile.name + (f"+{fault.name}" if fault else "")
    return TypeACard(application, name=name, **radio)


def virtual_card(name: str, *, cards_file: Path, state_dir: Path = DEFAULT_STATE_DIR,
                 fault: str | None = None) -> TypeACard:
    """The named card of the card file, ready to present in a simulated reader's field."""
    return make_card(load_profile(cards_file, name), AtcStore(state_dir), _fault(fault))


def virtual_application(name: str, *, cards_file: Path, state_dir: Path = DEFAULT_STATE_DIR,
                        fault: str | None = None) -> PaymentApplication:
    """The named card's EMV application alone: `exchange(apdu)` in-process, no radio.

    Radio faults (slow, pulled-away) have no meaning without a radio and are refused.
    """
    chosen = _fault(fault)
    if chosen is not None and chosen.radio:
        raise UnknownFault(f"{fault!r} is a radio fault: present the card on the simulated reader")
    return PaymentApplication(load_profile(cards_file, name), AtcStore(state_dir),
                              chosen.misbehaviour if chosen else None)
