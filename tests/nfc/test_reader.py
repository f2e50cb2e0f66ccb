"""The reader driver over nfcpy's real pn532 driver: opening, polling, collisions, removal, errors."""
from __future__ import annotations

import asyncio
import os
import threading

import pytest

from drivers.nfc import (
    UDEV_RULE,
    CardRemoved,
    CollisionDetected,
    InvalidReaderPath,
    ReaderBusy,
    ReaderMissing,
    ReaderPermissionDenied,
    UnsupportedCard,
    open_reader,
    parse_reader_path,
    wait_for_card,
)
from drivers.sim.iso14443 import TypeACard
from tests.nfc.conftest import REPO
from tests.nfc.echo import EchoApplication


@pytest.mark.parametrize(("text", "kind", "target", "driver"), [
    ("tty:USB0:pn532", "serial", "/dev/ttyUSB0", "pn532"),
    ("tty:AMA0:pn532", "serial", "/dev/ttyAMA0", "pn532"),
    ("tty:tillkit-nfc:pn532", "serial", "/dev/tillkit-nfc", "pn532"),
    ("/dev/pts/7", "serial", "/dev/pts/7", "pn532"),
    ("/dev/ttyS1:arygon", "serial", "/dev/ttyS1", "arygon"),
    ("usb:072f:2200", "usb", "usb:072f:2200", ""),
    ("udp:127.0.0.1:54321", "udp", "udp:127.0.0.1:54321", ""),
])
def test_reader_paths(text, kind, target, driver):
    path = parse_reader_path(text)
    assert (path.kind, path.target, path.driver) == (kind, target, driver)


@pytest.mark.parametrize("text", ["", "tty:USB0", "tty:USB0:pn999", "com3", "/dev/ttyUSB0:acr122"])
def test_unusable_reader_paths_say_what_is_expected(text):
    with pytest.raises(InvalidReaderPath, match="expected usb"):
        parse_reader_path(text)


def test_missing_device(tmp_path):
    with pytest.raises(ReaderMissing, match="no contactless reader"):
        open_reader(str(tmp_path / "ttyNFC0"))


def test_a_tty_where_no_pn532_answers(tmp_path):
    master, slave = os.openpty()
    try:
        with pytest.raises(ReaderMissing, match="no PN532 answered"):
            open_reader(os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)


def test_second_open_of_the_same_reader_is_busy(sim, reader):
    with pytest.raises(ReaderBusy, match="busy"):
        open_reader(sim.path)


def test_permission_denied_names_the_udev_rule(sim):
    if os.geteuid() != 0:
        os.chmod(sim.path, 0)
        with pytest.raises(ReaderPermissionDenied) as caught:
            open_reader(sim.path)
        message = str(caught.value)
    else:  # root opens anything: a forked child tries as nobody
        message = _open_as_nobody(sim.path)
        assert message.startswith("ReaderPermissionDenied"), message
    assert UDEV_RULE in message
    assert (REPO / UDEV_RULE).is_file()


def _open_as_nobody(path: str) -> str:
    """The error a user without access to `path` gets, as "ClassName message"."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, try, report, leave without cleanup handlers
        os.close(read_end)
        try:
            os.setgid(65534)
            os.setuid(65534)
            open_reader(path)
            report = "opened"
        except Exception as error:  # reported to the parent, which asserts on it
            report = f"{type(error).__name__} {error}"
        os.write(write_end, report.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode()
    os.waitpid(pid, 0)
    return report


def test_poll_returns_none_once_cancelled(reader):
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    assert reader.poll(cancel) is None


def test_two_cards_in_the_field_are_a_collision(sim, reader):
    first, second = TypeACard(EchoApplication()), TypeACard(EchoApplication())
    sim.field.present(first, second)
    with pytest.raises(CollisionDetected, match="present one card only") as caught:
        reader.poll(threading.Event())
    assert caught.value.count == 2
    sim.field.remove(first)
    card = reader.poll(threading.Event())
    assert card.uid == second.uid


def test_a_tag_without_iso_dep_is_not_a_payment_card(sim, reader):
    sim.field.present(TypeACard(EchoApplication(), sak=0x00))   # a Type 2 (transit, access) tag
    with pytest.raises(UnsupportedCard, match="Type2Tag is not an ISO-DEP"):
        reader.poll(threading.Event())


def test_phone_with_nfc_dep_bit_is_read_as_iso_dep(sim, reader):
    app = EchoApplication()
    sim.field.present(TypeACard(app, sak=0x60))
    card = reader.poll(threading.Event())
    assert card.exchange(bytes.fromhex("00A4040003ABCDEF00")) == bytes.fromhex("EFCDAB9000")


def test_card_removal_is_detected(sim, reader):
    phone = TypeACard(EchoApplication())
    sim.field.present(phone)
    card = reader.poll(threading.Event())
    assert card.is_present()
    threading.Timer(0.15, sim.field.remove, args=(phone,)).start()
    assert card.wait_removed() is True
    assert not card.is_present()


def test_exchange_with_a_card_gone_raises_card_removed(sim, reader):
    plastic = TypeACard(EchoApplication())
    sim.field.present(plastic)
    card = reader.poll(threading.Event())
    sim.field.remove(plastic)
    with pytest.raises(CardRemoved, match="no answer to SELECT"):
        card.exchange(bytes.fromhex("00A4040003ABCDEF00"))


def test_async_wait_is_cancellable_and_the_next_wait_finds_the_card(sim, reader):
    async def scenario():
        waiting = asyncio.create_task(wait_for_card(reader))
        await asyncio.sleep(0.15)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        plastic = TypeACard(EchoApplication())
        sim.field.present(plastic)
        card = await asyncio.wait_for(wait_for_card(reader), timeout=10)
        return card.uid, plastic.uid

    found, presented = asyncio.run(scenario())
    assert found == presented


def test_async_wait_raises_reader_errors_in_the_task(sim, reader):
    sim.field.present(TypeACard(EchoApplication()), TypeACard(EchoApplication()))

    async def scenario():
        await asyncio.wait_for(wait_for_card(reader), timeout=10)

    with pytest.raises(CollisionDetected):
        asyncio.run(scenario())


def test_closing_puts_the_chip_to_sleep(sim):
    opened = open_reader(sim.path)
    opened.close()
    assert sim.commands_seen[-1] == 0x16   # PowerDown
    open_reader(sim.path).close()          # the lock is released with the reader
