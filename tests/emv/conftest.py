"""Kernel, terminal parameters and the issuer's view of the test cards."""
from __future__ import annotations

import tomllib

import pytest

from acquirer.protocol import tlv
from acquirer.protocol.cryptogram import cryptogram_for
from pos.core.payment import CardData
from pos.sources.emv import ContactlessKernel, load_terminal_emv
from tests.nfc.conftest import CARDS_FILE, REPO, reader, sim, state_dir  # noqa: F401 - fixtures

EMV_CONFIG = REPO / "config" / "terminal-emv.toml"


@pytest.fixture(scope="session")
def emv_config():
    return load_terminal_emv(EMV_CONFIG)


@pytest.fixture
def kernel(emv_config):
    return ContactlessKernel(emv_config)


def issuer_card(pan: str) -> dict:
    """The card file's entry for a PAN, as the issuer holds it (imk_ac and all)."""
    cards = tomllib.loads(CARDS_FILE.read_text())["card"]
    return next(card for card in cards if card["pan"] == pan)


def issuer_verifies(card: CardData) -> bool:
    """The issuer's check of the ARQC in field 55, with the key from the card file."""
    entry = issuer_card(card.pan)
    version = cryptogram_for(entry["scheme"], entry.get("cvn"))
    icc_mk = version.icc_mk(bytes.fromhex(entry["imk_ac"]), entry["pan"], entry["psn"])
    tags = tlv.as_dict(tlv.parse(card.icc_data))
    return version.verify_arqc(icc_mk, tags, tags["9F26"])


def field55(card: CardData) -> dict[str, bytes]:
    return tlv.as_dict(tlv.parse(card.icc_data))
