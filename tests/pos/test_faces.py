"""Several faces over one engine: one transaction at a time (Busy), abort while waiting, the PIN pad, observers.

Everything runs against the real embedded acquirer and the simulated PN532
read by nfcpy's driver: the "faces" here are two tasks calling the same
engine, as the TUI and a cash register's daemon would.
"""
from __future__ import annotations

import asyncio
from contextlib import ExitStack
from dataclasses import asdict

import pytest

from acquirer.protocol.errors import KIND_TABLE, ErrorKind
from drivers.sim.contactless import virtual_card
from pos.core import events as ev
from pos.core.config import load_config
from pos.core.errors import Busy, Cancelled, PinNotEntered
from pos.core.pinpad import PinRequest
from pos.devices.contactless import open_contactless
from pos.devices.terminal import open_terminal
from pos.journal.store import Journal
from tests.pos.support import HostLedger, make_config, test_cards

CARDS = test_cards()


@pytest.fixture
def terminal(tmp_path):
    config = load_config(make_config(tmp_path), state_dir=tmp_path / "state")
    with ExitStack() as stack:
        yield config, stack.enter_context(open_contactless(config)).cards


def journal_rows(config) -> list[dict]:
    journal = Journal(config.journal_path)
    rows = [asdict(t) for t in journal.history()]
    journal.close()
    return rows


async def until(events: list, kind: type) -> None:
    while not any(isinstance(e, kind) for e in events):
        await asyncio.sleep(0.01)


def test_second_face_gets_busy_at_once_and_the_first_sale_completes(terminal):
    config, cards = terminal
    register_saw: list[ev.Event] = []
    screen_saw: list[ev.Event] = []

    async def go():
        async with open_terminal(config, register_saw.append) as engine:
            engine.add_observer(screen_saw.append)
            first = asyncio.create_task(engine.sale(1234, [cards.reader]))   # face 1: waits for a tap
            await until(register_saw, ev.WaitingForPayment)
            with pytest.raises(Busy) as busy:                               # face 2, meanwhile
                await engine.sale(500, [cards.card("visa")])
            tap = virtual_card("unionpay-debit", cards_file=cards.cards_file, state_dir=cards.atc_dir)
            cards.field.present(tap)
            try:
                outcome = await first
            finally:
                cards.field.remove(tap)
            after = await engine.sale(500, [cards.card("visa")])            # free again once it ended
            return busy.value, outcome, after

    busy, outcome, after = asyncio.run(go())
    assert busy.kind is ErrorKind.BUSY and busy.message_key == "engine.busy"
    assert busy.data == {"running": "sale", "requested": "sale"} and KIND_TABLE[busy.kind].nexo == "Busy"
    assert outcome.approved and outcome.txn.amount == 1234 and after.approved
    rows = journal_rows(config)
    assert sorted(r["amount"] for r in rows) == [500, 1234]                 # the refused sale left no row
    assert len({r["rrn"] for r in rows}) == 2
    assert register_saw[-len(screen_saw):] == screen_saw                     # both saw every event since
    ledger = HostLedger(config.embedded_db_path, config.config_dir)
    assert ledger.balance("unionpay-debit") == CARDS["unionpay-debit"]["balance"] - 1234


def test_abort_while_waiting_for_the_card_sends_nothing(terminal):
    config, cards = terminal
    events: list[ev.Event] = []

    async def go():
        async with open_terminal(config, events.append) as engine:
            assert engine.abort() is False                                   # nothing waits: nothing to abort
            sale = asyncio.create_task(engine.sale(1234, [cards.reader]))
            await until(events, ev.WaitingForPayment)
            assert engine.abort() is True                                    # e.g. Esc on the TUI
            with pytest.raises(Cancelled) as cancelled:
                await sale
            again = await engine.sale(200, [cards.card("visa")])             # the terminal is free and works
            return cancelled.value, again

    cancelled, again = asyncio.run(go())
    assert cancelled.kind is ErrorKind.CANCELLED and KIND_TABLE[cancelled.kind].exit_code == 6
    kinds = [type(e).__name__ for e in events]
    assert kinds[kinds.index("WaitingForPayment"):kinds.index("WaitingForPayment") + 2] == [
        "WaitingForPayment", "PaymentCancelled"]
    assert [r["amount"] for r in journal_rows(config)] == [200]              # nothing journalled for the abort
    ledger = HostLedger(config.embedded_db_path, config.config_dir)
    assert [t.amount for t in ledger.transactions().values()] == [200]       # nothing of 1234 reached the host
    assert again.approved


class RecordingPinPad:
    """A face's PIN pad: answers what the cardholder typed, and remembers what it was shown."""

    def __init__(self, pin: str | None) -> None:
        self.pin = pin
        self.asked: list[PinRequest] = []

    async def request_pin(self, request: PinRequest) -> str | None:
        self.asked.append(request)
        return self.pin


def test_pin_requested_mid_transaction_is_answered_by_the_pin_pad_with_one_tap(terminal):
    config, cards = terminal   # ¥2,000 is above the ¥1,000 CVM limit: the card asks for online PIN
    events: list[ev.Event] = []
    pad = RecordingPinPad(CARDS["visa"]["pin"])

    async def go():
        async with open_terminal(config, events.append, pinpad=pad) as engine:
            return await engine.sale(200000, [cards.card("visa")])

    outcome = asyncio.run(go())
    assert outcome.approved and outcome.txn.entry_mode == "071"             # PIN entered, sent in field 52
    assert pad.asked == [PinRequest("sale", 200000, "476173******0011")]     # masked PAN only
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("WaitingForPayment") == 1 and kinds.count("CardRead") == 1   # one tap
    assert kinds.index("PinRequested") < kinds.index("CardRead") < kinds.index("Authorizing")
    ledger = HostLedger(config.embedded_db_path, config.config_dir)
    assert [(t.amount, t.response_code) for t in ledger.transactions().values()] == [(200000, "00")]


def test_a_cancelled_pin_entry_sends_nothing(terminal):
    config, cards = terminal

    async def go():
        async with open_terminal(config, pinpad=RecordingPinPad(None)) as engine:
            await engine.sale(200000, [cards.card("visa")])

    with pytest.raises(PinNotEntered) as caught:
        asyncio.run(go())
    assert caught.value.kind is ErrorKind.REFUSED
    assert journal_rows(config) == []


def test_a_failing_observer_does_not_stop_the_payment_or_the_others(terminal):
    config, cards = terminal
    seen: list[ev.Event] = []

    def broken(event: ev.Event) -> None:
        raise RuntimeError("a face's bug")

    async def go():
        async with open_terminal(config, broken) as engine:
            engine.add_observer(seen.append)
            outcome = await engine.sale(100, [cards.card("visa")])
            engine.remove_observer(seen.append)
            await engine.sale(100, [cards.card("visa")])
            return outcome

    assert asyncio.run(go()).approved
    assert [type(e).__name__ for e in seen][-3:] == ["Approved", "Printing", "ReceiptPrinted"]
    assert sum(isinstance(e, ev.Approved) for e in seen) == 1               # removed before the second sale
