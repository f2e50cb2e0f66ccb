"""Virtual cards tapped on the simulated PN532: nfcpy reads them, the kernel builds field 55."""
import asyncio

import pytest

from acquirer.protocol import tlv
from acquirer.protocol.cryptogram import cryptogram_for
from drivers.sim.contactless import UnknownFault
from drivers.sim.contactless.atc import AtcStore
from pos.core.config import load_config
from pos.core.payment import PaymentRequest, ReadFailed
from acquirer.protocol.cardholder import pan_token
from pos.devices.contactless import open_contactless
from pos.simulated.virtual_card import ATC_DIR, UnknownCard
from tests.pos.support import make_config, test_cards

KEY = bytes(16)
CARDS = test_cards()


@pytest.fixture
def wallet(tmp_path):
    config = load_config(make_config(tmp_path), state_dir=tmp_path / "state")
    with open_contactless(config) as contactless:
        yield contactless.cards


def tap(source, amount=1234, **request):
    return asyncio.run(source.read(PaymentRequest("sale", amount, **request)))


@pytest.mark.parametrize("name", ["unionpay-debit", "visa", "mastercard", "mastercard-2series"])
def test_field55_carries_an_arqc_the_issuer_verifies(wallet, name):
    data = tap(wallet.card(name), transaction_date="260102", unpredictable_number=bytes.fromhex("11223344"))
    tags = tlv.as_dict(tlv.parse(data.icc_data))
    assert tags["9F02"] == bytes.fromhex("000000001234") and tags["9A"] == bytes.fromhex("260102")
    assert tags["9F37"] == bytes.fromhex("11223344") and tags["9F27"] == b"\x80"
    card = CARDS[name]
    version = cryptogram_for(card["scheme"], card.get("cvn"))
    icc_mk = version.icc_mk(bytes.fromhex(card["imk_ac"]), card["pan"], card["psn"])
    assert version.verify_arqc(icc_mk, tags, tags["9F26"])
    assert (data.pan, data.expiry, data.psn, data.entry_mode, data.source) == (
        card["pan"], card["expiry"], card["psn"], "07", "nfc")
    assert (data.aid, data.label) == (card["aid"], card["label"])
    assert data.track2.startswith(f"{card['pan']}D{card['expiry']}") and len(data.track2) <= 37
    assert wallet.field.cards() == []   # taken out of the field after the tap


def test_atc_rises_across_taps_and_is_keyed_by_name(wallet):
    def atc(name):
        return int(tap(wallet.card(name)).extra["atc"], 16)

    assert [atc("visa"), atc("visa"), atc("unionpay-debit"), atc("visa")] == [1, 2, 1, 3]
    store = AtcStore(wallet.atc_dir)
    assert (store.current("visa"), store.current("unionpay-debit")) == (3, 1)
    assert wallet.atc_dir.name == ATC_DIR
    assert sorted(p.name for p in wallet.atc_dir.iterdir()) == ["unionpay-debit.atc", "visa.atc"]


def test_two_cards_at_once_is_present_one_card(wallet):
    with pytest.raises(ReadFailed) as failed:
        tap(wallet.card("visa", "unionpay-debit"))
    assert (failed.value.outcome, failed.value.prompt) == ("present one card", "Please present one card only")
    assert wallet.field.cards() == []


def test_unknown_card_and_fault_names_are_refused(wallet):
    with pytest.raises(UnknownCard, match="no test card named 'amex'; known: unionpay-debit"):
        wallet.card("amex")
    with pytest.raises(UnknownFault, match="no card fault named 'sticky'; known: gpo-refused"):
        wallet.card("visa", fault="sticky")


def test_name_for_finds_the_card_by_token(wallet):
    assert wallet.name_for(KEY, pan_token(KEY, CARDS["visa"]["pan"])) == "visa"
    assert wallet.name_for(KEY, "00" * 16) is None
