"""The virtual cards themselves: their answers to commands, their ATCs, their card file."""
from __future__ import annotations

import threading

import pytest

from drivers.sim.contactless import (
    AtcExhausted,
    AtcStore,
    CardFileError,
    UnknownFault,
    load_profiles,
    virtual_application,
    virtual_card,
)
from pos.sources.emv.apdu import get_processing_options, read_record, select
from tests.nfc.conftest import CARDS_FILE


def test_card_file_profiles_include_the_devices():
    profiles = load_profiles(CARDS_FILE)
    assert profiles["unionpay-phone"].form == "phone" and profiles["unionpay-phone"].cdcvm
    assert profiles["unionpay-phone"].token
    assert profiles["unionpay-wearable"].form == "wearable" and not profiles["unionpay-wearable"].cdcvm
    assert profiles["visa"].form == "card"
    assert "4761730000000011" not in repr(profiles["visa"])


@pytest.mark.parametrize(("bad", "message"), [
    ('expiry = "3013"', r"card\[0\]\.expiry: must be YYMM with month 01-12"),
    ('scheme = "amex"', r"card\[0\]\.scheme: input should be 'unionpay', 'visa' or 'mastercard'"),
    ('form = "ring"', r"card\[0\]\.form: input should be 'card', 'phone' or 'wearable'"),
    ('imk_ac = "00"', r"card\[0\]\.imk_ac: string should match pattern"),
    ('aid = ""', r"card\[0\]\.aid: missing \(a virtual card needs it\)"),
])
def test_bad_card_entries_are_named(tmp_path, bad, message):
    good = {"name": '"bad"', "scheme": '"visa"', "product": '"credit"', "pan": '"4761730000000011"',
            "psn": '"01"', "expiry": '"2912"', "aid": '"A0000000031010"', "label": '"VISA"',
            "imk_ac": '"75B4AD9AEC209EE83A9C61E0F3A2953A"',
            "issuer": '"visa-bank"', "pin": '"1234"'}
    key = bad.split(" = ")[0]
    lines = [f"{k} = {v}" for k, v in good.items() if k != key] + [bad]
    path = tmp_path / "cards.toml"
    path.write_text("[[card]]\n" + "\n".join(lines) + "\n")
    with pytest.raises(CardFileError, match=message):
        load_profiles(path)


def test_unknown_and_radio_faults(tmp_path):
    with pytest.raises(UnknownFault, match="no card fault named 'sticky'"):
        virtual_card("visa", cards_file=CARDS_FILE, state_dir=tmp_path, fault="sticky")
    with pytest.raises(UnknownFault, match="radio fault"):
        virtual_application("visa", cards_file=CARDS_FILE, state_dir=tmp_path, fault="slow")


def test_atc_persists_and_counts_up_under_concurrency(tmp_path):
    assert AtcStore(tmp_path).current("visa") == 0
    taken: list[int] = []
    lock = threading.Lock()

    def tap_many():
        for _ in range(8):
            atc = AtcStore(tmp_path).next("visa")
            with lock:
                taken.append(atc)

    workers = [threading.Thread(target=tap_many) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(taken) == list(range(1, 33))
    assert AtcStore(tmp_path).current("visa") == 32
    assert [p.name for p in tmp_path.iterdir()] == ["visa.atc"]


def test_a_card_out_of_atcs_stops(tmp_path):
    (tmp_path / "visa.atc").write_text("65535\n")
    with pytest.raises(AtcExhausted):
        AtcStore(tmp_path).next("visa")


def test_state_files_are_named_by_card_never_by_pan(tmp_path):
    with pytest.raises(ValueError, match="cannot name a state file"):
        AtcStore(tmp_path).next("../4761730000000011")


def sw(answer: bytes) -> str:
    return answer[-2:].hex().upper()


def test_card_answers_out_of_order_commands_with_iso_status_words(tmp_path):
    card = virtual_application("visa", cards_file=CARDS_FILE, state_dir=tmp_path)
    assert sw(card.exchange(get_processing_options(bytes(33)))) == "6985"     # GPO before SELECT
    assert sw(card.exchange(select(bytes.fromhex("A0000000041010")))) == "6A82"  # not this card's AID
    assert sw(card.exchange(select(bytes.fromhex("A0000000031010")))) == "9000"
    assert sw(card.exchange(read_record(1, 1))) == "6A83"                     # records come after GPO
    assert sw(card.exchange(get_processing_options(bytes(5)))) == "6700"      # PDOL asks 33 bytes
    assert sw(card.exchange(get_processing_options(bytes(33)))) == "9000"
    assert sw(card.exchange(read_record(1, 9))) == "6A83"
    assert sw(card.exchange(bytes.fromhex("00CA9F1700"))) == "6D00"            # GET DATA: not supported
    assert AtcStore(tmp_path).current("visa") == 1                             # one cryptogram made
