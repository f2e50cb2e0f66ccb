"""Every virtual card and every misbehaving card, tapped on the simulated PN532 through nfcpy."""
from __future__ import annotations

import threading

import pytest

from drivers.nfc import CardError
from drivers.sim.contactless import FAULTS, load_profiles, virtual_card
from drivers.sim.iso14443 import TypeACard
from pos.core.payment import PaymentRequest
from pos.sources.emv import OutcomeKind, outcome_for_card_error
from tests.emv.conftest import field55, issuer_card, issuer_verifies
from tests.nfc.conftest import CARDS_FILE
from tests.nfc.echo import EchoApplication

CARD_NAMES = sorted(load_profiles(CARDS_FILE))
SMALL, LARGE = 1234, 150_000   # ¥12.34 under the ¥1,000 CVM limit, ¥1,500 above it


def tap(sim, reader, kernel, card, amount=SMALL):
    """Present `card`, wait for the reader to activate it, run the kernel."""
    sim.field.present(card)
    try:
        iso_dep = reader.poll(threading.Event())
    except CardError as error:
        return None, outcome_for_card_error(error)
    result = kernel.run(iso_dep, PaymentRequest(kind="sale", amount=amount))
    return result, result.outcome


@pytest.mark.parametrize("name", CARD_NAMES)
def test_card_reads_to_field_55_with_a_genuine_arqc(sim, reader, kernel, state_dir, name):
    request_amount = SMALL
    card = virtual_card(name, cards_file=CARDS_FILE, state_dir=state_dir)
    result, outcome = tap(sim, reader, kernel, card, request_amount)

    assert outcome.kind is OutcomeKind.ONLINE_REQUEST
    assert outcome.message == "Card read OK, please remove card"
    data, entry = result.card, issuer_card(result.card.pan)
    assert (data.pan, data.expiry, data.psn, data.aid, data.scheme) == (
        entry["pan"], entry["expiry"], entry["psn"], entry["aid"], entry["scheme"])
    assert (data.entry_mode, data.source) == ("07", "nfc")
    assert data.track2.startswith(f"{entry['pan']}D{entry['expiry']}")
    assert issuer_verifies(data)
    tags = field55(data)
    assert tags["9F02"] == bytes.fromhex("000000001234")
    assert tags["9F36"] == bytes.fromhex("0001")
    assert tags["84"].hex().upper() == entry["aid"]


@pytest.mark.parametrize(("name", "pin", "verified"), [
    ("unionpay-debit", True, False),
    ("visa", True, False),
    ("mastercard", True, False),
    ("unionpay-wearable", True, False),   # a band cannot verify its wearer
    ("unionpay-phone", False, True),      # the phone did (CDCVM): no PIN even above the limit
    ("unionpay-watch", False, True),      # a smartwatch verifies its wearer too
])
def test_above_the_cvm_limit(sim, reader, kernel, state_dir, name, pin, verified):
    card = virtual_card(name, cards_file=CARDS_FILE, state_dir=state_dir)
    result, outcome = tap(sim, reader, kernel, card, LARGE)
    assert outcome.kind is OutcomeKind.ONLINE_REQUEST
    assert (result.card.pin_required, result.card.cardholder_verified) == (pin, verified)
    assert issuer_verifies(result.card)


def test_under_the_cvm_limit_no_cvm(sim, reader, kernel, state_dir):
    card = virtual_card("unionpay-debit", cards_file=CARDS_FILE, state_dir=state_dir)
    result, _ = tap(sim, reader, kernel, card, SMALL)
    assert not result.card.pin_required
    assert field55(result.card)["9F34"] == bytes.fromhex("1F0002")


# fault -> (outcome kind, what the cardholder reads)
EXPECTED = {
    "gpo-refused": (OutcomeKind.TRY_ANOTHER_INTERFACE, "Insert, swipe or try another card"),
    "record-missing": (OutcomeKind.TRY_ANOTHER_INTERFACE, "Insert, swipe or try another card"),
    "truncated-record": (OutcomeKind.TRY_ANOTHER_INTERFACE, "Insert, swipe or try another card"),
    "malformed-gpo": (OutcomeKind.TRY_ANOTHER_INTERFACE, "Insert, swipe or try another card"),
    "no-track2": (OutcomeKind.TRY_ANOTHER_INTERFACE, "Insert, swipe or try another card"),
    "no-cryptogram": (OutcomeKind.TRY_ANOTHER_INTERFACE, "Insert, swipe or try another card"),
    "declining": (OutcomeKind.DECLINED, "Not authorised"),
    "locked-phone": (OutcomeKind.PRESENT_CARD_AGAIN, "See phone for instructions"),
    "pulled-away": (OutcomeKind.PRESENT_CARD_AGAIN, "Present card again"),
    "slow": (OutcomeKind.PRESENT_CARD_AGAIN, "Present card again"),
    "slow-wtx": (OutcomeKind.ONLINE_REQUEST, "Card read OK, please remove card"),
}


def test_every_fault_has_an_expected_outcome():
    assert set(EXPECTED) == set(FAULTS)


@pytest.mark.parametrize("name", ["unionpay-debit", "mastercard"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_misbehaving_card(sim, reader, kernel, state_dir, name, fault):
    card = virtual_card(name, cards_file=CARDS_FILE, state_dir=state_dir, fault=fault)
    result, outcome = tap(sim, reader, kernel, card)
    assert (outcome.kind, outcome.message) == EXPECTED[fault]
    if outcome.kind is OutcomeKind.ONLINE_REQUEST:
        assert issuer_verifies(result.card)


@pytest.mark.parametrize("fault", ["pulled-away", "locked-phone"])
def test_tapping_again_after_present_again_completes(sim, reader, kernel, state_dir, fault):
    card = virtual_card("unionpay-phone", cards_file=CARDS_FILE, state_dir=state_dir, fault=fault)
    _, outcome = tap(sim, reader, kernel, card)
    assert outcome.kind is OutcomeKind.PRESENT_CARD_AGAIN
    sim.field.remove(card)
    result, outcome = tap(sim, reader, kernel, card)
    assert outcome.kind is OutcomeKind.ONLINE_REQUEST
    assert issuer_verifies(result.card)


def test_two_cards_in_the_field(sim, reader, kernel, state_dir):
    sim.field.present(virtual_card("visa", cards_file=CARDS_FILE, state_dir=state_dir))
    result, outcome = tap(sim, reader, kernel,
                          virtual_card("unionpay-debit", cards_file=CARDS_FILE, state_dir=state_dir))
    assert result is None
    assert (outcome.kind, outcome.message) == (OutcomeKind.PRESENT_ONE_CARD, "Please present one card only")


def test_a_transit_tag_is_not_a_payment_card(sim, reader, kernel):
    _, outcome = tap(sim, reader, kernel, TypeACard(EchoApplication(), sak=0x00))
    assert (outcome.kind, outcome.message) == (OutcomeKind.TRY_ANOTHER_INTERFACE,
                                               "Insert, swipe or try another card")


def test_atc_rises_across_runs_and_the_state_holds_no_pan(sim, reader, kernel, state_dir):
    atcs = []
    for _ in range(3):   # a fresh card object each time, as a new process would build
        card = virtual_card("visa", cards_file=CARDS_FILE, state_dir=state_dir)
        result, _ = tap(sim, reader, kernel, card)
        sim.field.remove(card)
        atcs.append(int(result.card.extra["atc"], 16))
    assert atcs == [1, 2, 3]
    pan = issuer_card(result.card.pan)["pan"]
    for path in state_dir.iterdir():
        assert pan not in path.read_text() and pan not in path.name
