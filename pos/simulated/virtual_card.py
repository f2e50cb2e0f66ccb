"""Test cards tapped on the simulated reader: `pos sale --card NAME`, the demo, tests, benchmarks.

With `[nfc] reader = "sim"` the terminal's reader is a simulated PN532 in
this process (`pos.sources.contactless`). A `VirtualCard` is a payment source that
puts the named cards of `cards.toml` into that reader's field (built by
`drivers.sim.contactless.virtual_card`, optionally misbehaving as one of its
`FAULTS`), lets the terminal's contactless reader read the tap like any other
-- nfcpy's pn532 driver, ISO-DEP, the EMV kernel -- and takes them out of the
field again. So the field 55 the issuer checks is the one the kernel built
from the card's own answers, and a misbehaving card ends the way a real one
would. Presenting two names at once is two cards in the field.

The cards' ATCs live in `<state dir>/cards/<name>.atc` (named after the card,
never its PAN) and keep rising across runs and crashes: issuers refuse a
cryptogram whose ATC they have already seen.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from acquirer.protocol.cardholder import pan_token
from acquirer.protocol.errors import ErrorKind, TillkitError
from drivers.sim.contactless import CardProfile, load_profiles, virtual_card
from drivers.sim.iso14443 import Field, TypeACard
from pos.core.payment import CardData, PaymentRequest, PaymentSource, WalletCode

ATC_DIR = "cards"


class UnknownCard(TillkitError, LookupError):
    """No test card with the given name in the card file."""

    kind = ErrorKind.REFUSED
    message_key = "sim.unknown_card"


class VirtualCard:
    """One tap of test cards on the simulated reader (a `PaymentSource`)."""

    def __init__(self, names: Sequence[str], cards: Sequence[TypeACard], field: Field,
                 reader: PaymentSource, fault: str | None = None) -> None:
        self.names = tuple(names)
        self.name = f"virtual card {' + '.join(self.names)}" + (f" ({fault})" if fault else "")
        self._cards = tuple(cards)
        self._field = field
        self._reader = reader

    async def read(self, request: PaymentRequest) -> CardData | WalletCode:
        self._field.present(*self._cards)
        try:
            return await self._reader.read(request)
        finally:   # the cardholder takes the card away, read or not
            for card in self._cards:
                self._field.remove(card)


class VirtualCards:
    """The card file's cards, to tap on one simulated reader's field."""

    def __init__(self, field: Field, reader: PaymentSource, cards_file: Path, atc_dir: Path) -> None:
        self.field = field
        self.reader = reader
        self.cards_file = cards_file
        self.atc_dir = atc_dir
        self._profiles: dict[str, CardProfile] = load_profiles(cards_file)

    def card(self, *names: str, fault: str | None = None) -> VirtualCard:
        """A tap of the named cards (usually one), each misbehaving as `fault` if given.

        Raises `UnknownCard`, or `drivers.sim.contactless.UnknownFault`.
        """
        for name in names:
            if name not in self._profiles:
                raise UnknownCard(f"no test card named {name!r}; known: {', '.join(self._profiles)}")
        cards = [virtual_card(name, cards_file=self.cards_file, state_dir=self.atc_dir, fault=fault)
                 for name in names]
        return VirtualCard(names, cards, self.field, self.reader, fault)

    def name_for(self, token_key: bytes, token: str | None) -> str | None:
        """The test card whose PAN token is `token` (to tap the same card for a void or refund)."""
        for profile in self._profiles.values():
            if token is not None and pan_token(token_key, profile.pan) == token:
                return profile.name
        return None
