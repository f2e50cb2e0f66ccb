"""ISO-DEP through nfcpy's initiator and the simulated card: chaining, waiting time, recovery."""
from __future__ import annotations

import threading

import pytest

from drivers.nfc import CardRemoved
from drivers.sim.iso14443 import TypeACard
from tests.nfc.echo import EchoApplication


def tap(sim, reader, **card_options):
    app = EchoApplication()
    sim.field.present(TypeACard(app, **card_options))
    return reader.poll(threading.Event()), app


def test_long_command_is_chained_to_a_card_with_small_frames(sim, reader):
    card, app = tap(sim, reader, fsci=2)       # 32-byte frames: 29 bytes of APDU per block
    command = bytes.fromhex("80CA0000") + bytes([200]) + bytes(range(200))
    answer = card.exchange(command)
    assert app.received == [command]
    assert answer == bytes(reversed(range(200))) + b"\x90\x00"


def test_long_answer_is_chained_by_the_card(sim, reader):
    card, _ = tap(sim, reader, max_inf=20)     # the card sends 20 bytes per block
    answer = card.exchange(bytes.fromhex("00B00258"))   # 600 bytes asked
    assert answer == bytes(i & 0xFF for i in range(600)) + b"\x90\x00"


def test_slow_card_asking_for_more_time_is_waited_for(sim, reader):
    card, _ = tap(sim, reader, delay_s=0.4, wtx=True)
    assert card.exchange(bytes.fromhex("00A4040002ABCD00")) == bytes.fromhex("CDAB9000")


def test_slow_card_that_does_not_ask_for_more_time_is_given_up(sim, reader):
    card, _ = tap(sim, reader, delay_s=0.4)
    with pytest.raises(CardRemoved):
        card.exchange(bytes.fromhex("00A4040002ABCD00"))


def test_card_a_little_late_is_recovered_by_retransmission(sim, reader):
    # late for one frame waiting time: the reader's R(NAK) gets the answer again
    card, _ = tap(sim, reader, delay_s=0.06)
    assert card.exchange(bytes.fromhex("00A4040002ABCD00")) == bytes.fromhex("CDAB9000")
    assert card.is_present()


def test_card_leaving_after_an_answer(sim, reader):
    card, app = tap(sim, reader, leave_after=1)
    assert card.exchange(bytes.fromhex("00A4040001AA00")) == bytes.fromhex("AA9000")
    with pytest.raises(CardRemoved):
        card.exchange(bytes.fromhex("00A4040001BB00"))
    assert len(app.received) == 1
