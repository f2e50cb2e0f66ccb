"""The serial transport under nfcpy's PN53x driver: a late answer never passes for the next one."""
from __future__ import annotations

import os
import threading
import tty

import pytest

from drivers.nfc.reader import InOrderTTY

ACK = bytes.fromhex("0000FF00FF00")
GET_FIRMWARE_VERSION = bytes.fromhex("0000FF02FED4022A00")
FIRMWARE_ANSWER = bytes.fromhex("0000FF06FAD50332010607E800")
LATE_RATS_TIMEOUT = bytes.fromhex("0000FF03FDD54301E700")   # InCommunicateThru's answer, status 01


@pytest.fixture
def line():
    """A raw pty: the test plays the chip on the master, the transport opens the slave."""
    master, slave = os.openpty()
    tty.setraw(slave)
    transport = InOrderTTY(os.ttyname(slave))
    yield master, transport
    transport.close()
    os.close(slave)
    os.close(master)


def test_an_answer_to_a_cancelled_command_is_skipped(line):
    chip, transport = line
    transport.write(GET_FIRMWARE_VERSION)
    os.write(chip, ACK + LATE_RATS_TIMEOUT)      # a stale ACK and answer arrive after the flush...
    os.write(chip, ACK + FIRMWARE_ANSWER)        # ...then this command's own
    assert bytes(transport.read(timeout=100)) == ACK
    assert bytes(transport.read(timeout=100)) == ACK   # nfcpy reads on while it gets ACKs
    assert bytes(transport.read(timeout=100)) == FIRMWARE_ANSWER


def test_only_a_stale_answer_is_a_timeout(line):
    chip, transport = line
    transport.write(GET_FIRMWARE_VERSION)
    os.write(chip, LATE_RATS_TIMEOUT)
    with pytest.raises(OSError) as raised:
        transport.read(timeout=100)
    assert raised.value.errno == 110   # ETIMEDOUT, as when the chip says nothing


def test_the_application_error_frame_is_an_answer(line):
    chip, transport = line
    transport.write(GET_FIRMWARE_VERSION)
    os.write(chip, bytes.fromhex("0000FF01FF7F8100"))
    assert bytes(transport.read(timeout=100)) == bytes.fromhex("0000FF01FF7F8100")


def test_a_late_ack_is_still_an_ack(line):
    # nfcpy waits 100 ms for it; a host that was not scheduled sooner must not call the chip dead
    chip, transport = line
    transport.write(GET_FIRMWARE_VERSION)
    threading.Timer(0.3, os.write, (chip, ACK + FIRMWARE_ANSWER)).start()
    assert bytes(transport.read(timeout=100)) == ACK
    assert bytes(transport.read(timeout=100)) == FIRMWARE_ANSWER
