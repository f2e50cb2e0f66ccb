"""In-process virtual cards: the test card profiles producing real card data and ARQCs.

A terminal without a reader (the CLI, tests, the benchmark) still needs what
a contactless card would hand the engine: PAN, expiry, PSN, track 2
equivalent and a field 55 whose ARQC the issuer simulators verify. This
source computes exactly that from `cards.toml` (PAN, PSN, expiry, `imk_ac`,
scheme, CVN) through `acquirer.protocol.cryptogram`, the same code the
issuers check with.

The card's ATC comes from the simulated cards' own counter store
(`drivers.sim.contactless.atc.AtcStore`, one file per card name under
`<state dir>/cards`, never the PAN), taken BEFORE the cryptogram is made:
issuers refuse a repeated or lower ATC, so it must keep rising across runs
and crashes, and a simulated contactless card of the same name drawing from
the same directory never repeats one either.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from acquirer.config import Card, load_config
from acquirer.protocol import tlv
from acquirer.protocol.cryptogram import cryptogram_for
from drivers.sim.contactless.atc import AtcStore
from pos.payment import CardData, PaymentRequest
from pos.tokens import pan_token

ATC_DIR = "cards"

#: card verification results inside 9F10: "ARQC returned", per scheme's CVR length
_CVR = {"unionpay": "03A00000", "visa": "03A00000", "mastercard": "A00000000000"}
#: application interchange profile (82) a contactless card of each scheme returns
_AIP = {"unionpay": "7C00", "visa": "2000", "mastercard": "1980"}
_SERVICE_CODE = "201"                  # international card, chip present
_TERMINAL_CAPABILITIES = "E0E1C8"      # 9F33: the terminal's own, sent back in 55
_CID_ARQC = "80"                       # 9F27: cryptogram information data "ARQC"


class UnknownCard(LookupError):
    """No test card with the given name in the card file."""


def _bcd(digits: str, length: int) -> bytes:
    return bytes.fromhex(digits.rjust(length * 2, "0"))


class VirtualCard:
    """One test card presented to the terminal (a `PaymentSource`)."""

    source = "virtual"

    def __init__(self, card: Card, atcs: AtcStore) -> None:
        self.card = card
        self.name = f"virtual card {card.name}"
        self._atcs = atcs

    async def read(self, request: PaymentRequest) -> CardData:
        card = self.card
        version = cryptogram_for(card.scheme, card.cvn)
        atc = self._atcs.next(card.name)
        tags: dict[str, bytes] = {
            "9F02": _bcd(str(request.amount), 6),
            "9F03": bytes(6),
            "9F1A": _bcd(request.country, 2),
            "95": bytes(5),
            "5F2A": _bcd(request.currency, 2),
            "9A": bytes.fromhex(request.transaction_date),
            "9C": bytes.fromhex(request.emv_transaction_type),
            "9F37": request.unpredictable_number,
            "82": bytes.fromhex(_AIP[card.scheme]),
            "9F36": atc.to_bytes(2, "big"),
            "9F10": version.make_iad(bytes.fromhex(_CVR[card.scheme])),
        }
        icc_mk = version.icc_mk(card.imk_ac, card.pan, card.psn)
        arqc = version.arqc(icc_mk, tags)
        icc = tlv.build([
            ("9F26", arqc), ("9F27", bytes.fromhex(_CID_ARQC)), *tags.items(),
            ("9F33", bytes.fromhex(_TERMINAL_CAPABILITIES)), ("84", bytes.fromhex(card.aid)),
        ])
        return CardData(
            pan=card.pan, expiry=card.expiry, scheme=card.scheme, entry_mode="07", source=self.source,
            psn=card.psn, track2=f"{card.pan}D{card.expiry}{_SERVICE_CODE}{'0' * 10}",
            icc_data=icc, aid=card.aid, label=card.label,
        )


class VirtualCards:
    """The test card file as a wallet of virtual cards sharing one ATC store."""

    def __init__(self, cards: Sequence[Card], state_dir: Path) -> None:
        self._cards: Mapping[str, Card] = {c.name: c for c in cards}
        self._atcs = AtcStore(state_dir / ATC_DIR)

    @classmethod
    def from_config(cls, config_dir: Path, state_dir: Path) -> VirtualCards:
        return cls(load_config(config_dir).cards, state_dir)

    def card(self, name: str) -> VirtualCard:
        try:
            return VirtualCard(self._cards[name], self._atcs)
        except KeyError:
            raise UnknownCard(f"no test card named {name!r}; known: {', '.join(self._cards)}") from None

    def matching(self, token_key: bytes, token: str | None) -> VirtualCard | None:
        """The card whose PAN token is `token` (to present the same card for a void or refund)."""
        for card in self._cards.values():
            if token is not None and pan_token(token_key, card.pan) == token:
                return VirtualCard(card, self._atcs)
        return None
