"""Virtual cards: real field 55 with an ARQC the issuer side accepts, ATCs that keep rising."""
import asyncio
from pathlib import Path

import pytest

from acquirer.protocol import tlv
from acquirer.protocol.cryptogram import cryptogram_for
from pos.payment import PaymentRequest
from pos.tokens import pan_token
from drivers.sim.contactless.atc import AtcStore
from pos.virtual_card import ATC_DIR, UnknownCard, VirtualCards

CONFIG = Path(__file__).resolve().parents[2] / "config"
KEY = bytes(16)


@pytest.mark.parametrize("name", ["unionpay-debit", "visa", "mastercard", "mastercard-2series"])
def test_field55_carries_an_arqc_the_issuer_verifies(tmp_path, name):
    cards = VirtualCards.from_config(CONFIG, tmp_path)
    source = cards.card(name)
    request = PaymentRequest("sale", 1234, transaction_date="260102", unpredictable_number=bytes.fromhex("11223344"))
    data = asyncio.run(source.read(request))
    tags = tlv.as_dict(tlv.parse(data.icc_data))
    assert tags["9F02"] == bytes.fromhex("000000001234") and tags["9A"] == bytes.fromhex("260102")
    assert tags["9F37"] == bytes.fromhex("11223344") and tags["9F27"] == b"\x80"
    profile = source.card
    version = cryptogram_for(profile.scheme, profile.cvn)
    icc_mk = version.icc_mk(profile.imk_ac, profile.pan, profile.psn)
    assert version.verify_arqc(icc_mk, tags, tags["9F26"])
    assert (data.pan, data.expiry, data.psn, data.entry_mode) == (profile.pan, profile.expiry, profile.psn, "07")
    assert data.track2.startswith(f"{profile.pan}D{profile.expiry}") and len(data.track2) <= 37


def test_atc_rises_across_runs_and_is_keyed_by_name(tmp_path):
    def atc(name):
        data = asyncio.run(VirtualCards.from_config(CONFIG, tmp_path).card(name).read(PaymentRequest("sale", 1)))
        return int.from_bytes(tlv.as_dict(tlv.parse(data.icc_data))["9F36"], "big")

    assert [atc("visa"), atc("visa"), atc("unionpay-debit"), atc("visa")] == [1, 2, 1, 3]
    store = AtcStore(tmp_path / ATC_DIR)
    assert (store.current("visa"), store.current("unionpay-debit")) == (3, 1)
    assert sorted(p.name for p in (tmp_path / ATC_DIR).iterdir()) == ["unionpay-debit.atc", "visa.atc"]


def test_unknown_card_names_the_known_ones(tmp_path):
    with pytest.raises(UnknownCard, match="no test card named 'amex'; known: unionpay-debit"):
        VirtualCards.from_config(CONFIG, tmp_path).card("amex")


def test_matching_finds_the_card_by_token(tmp_path):
    cards = VirtualCards.from_config(CONFIG, tmp_path)
    assert cards.matching(KEY, pan_token(KEY, "4761730000000011")).card.name == "visa"
    assert cards.matching(KEY, "00" * 16) is None
