"""The simulated PN532's UART protocol, byte for byte, without nfcpy in between."""
from __future__ import annotations

import os
import select
import threading
import tty

import pytest

from drivers.sim.iso14443 import TypeACard
from drivers.sim.pn532 import SimulatedPN532
from tests.nfc.echo import EchoApplication

ACK = bytes.fromhex("0000FF00FF00")
LONG_PREAMBLE = bytes(10)


@pytest.fixture
def port(sim: SimulatedPN532):
    fd = os.open(sim.path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    yield fd
    os.close(fd)


def read_for(fd: int, seconds: float) -> bytes:
    """Everything the chip sends within `seconds` of the last byte."""
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], seconds)
        if not ready:
            return data
        data += os.read(fd, 1024)


def test_get_firmware_version(port):
    # the frames nfcpy's pn532.init sends and checks for (answer prefix 0000FF06FAD50332: IC 32h,
    # a PN532), then firmware 1.6 and support 07 (ISO 14443A, B, FeliCa); DCS E8, postamble 00
    os.write(port, LONG_PREAMBLE + bytes.fromhex("0000FF02FED4022A00"))
    assert read_for(port, 0.2) == ACK + bytes.fromhex("0000FF06FAD50332010607E800")


def test_sam_configuration_normal_mode(port):
    os.write(port, bytes.fromhex("0000FF05FBD4140100001700"))
    assert read_for(port, 0.2) == ACK + bytes.fromhex("0000FF02FED5151600")


def test_a_frame_with_a_bad_data_checksum_is_not_acknowledged(port):
    os.write(port, bytes.fromhex("0000FF02FED4022B00"))   # DCS off by one
    assert read_for(port, 0.15) == b""
    os.write(port, bytes.fromhex("0000FF02FED4022A00"))   # the chip resynchronises on the next frame
    assert read_for(port, 0.2).startswith(ACK + bytes.fromhex("0000FF06FAD503"))


def test_an_unknown_command_gets_the_application_error_frame(port):
    os.write(port, bytes.fromhex("0000FF02FED460CC00"))   # InAutoPoll: not simulated
    assert read_for(port, 0.2) == ACK + bytes.fromhex("0000FF01FF7F8100")


def test_extended_frames_both_ways(port):
    payload = bytes([0x00]) + bytes(i & 0xFF for i in range(300))   # Diagnose 00: line test, echoed
    body = bytes([0xD4, 0x00]) + payload
    length = len(body).to_bytes(2, "big")
    frame = (bytes.fromhex("0000FFFFFF") + length + bytes([(-sum(length)) & 0xFF]) + body
             + bytes([(-sum(body)) & 0xFF, 0x00]))
    os.write(port, frame)
    answer = read_for(port, 0.2)
    assert answer[:6] == ACK
    reply = answer[6:]
    assert reply[:5] == bytes.fromhex("0000FFFFFF")
    size = int.from_bytes(reply[5:7], "big")
    assert (reply[5] + reply[6] + reply[7]) & 0xFF == 0          # length checksum
    data = reply[8:8 + size]
    assert data == bytes([0xD5, 0x01]) + payload
    assert (sum(data) + reply[8 + size]) & 0xFF == 0              # data checksum
    assert reply[9 + size:] == b"\x00"                            # postamble


def test_nack_asks_for_the_last_answer_again(port):
    os.write(port, bytes.fromhex("0000FF02FED4022A00"))
    first = read_for(port, 0.2)[6:]
    os.write(port, bytes.fromhex("0000FFFF0000"))
    assert read_for(port, 0.2) == first


def host_frame(command: str) -> bytes:
    """A normal information frame around D4 + command, checksums per the user manual."""
    body = bytes.fromhex("D4" + command)
    return bytes([0, 0, 0xFF, len(body), (-len(body)) & 0xFF]) + body + bytes([(-sum(body)) & 0xFF, 0])


def test_in_communicate_thru_without_a_card_times_out_with_status_01(port):
    os.write(port, host_frame("32020B0A05"))          # RFConfiguration 02: RF timeout index 5 (1.6 ms)
    assert read_for(port, 0.2) == ACK + bytes.fromhex("0000FF02FED533F800")
    os.write(port, host_frame("42E080"))              # InCommunicateThru RATS, nobody in the field
    assert read_for(port, 0.2) == ACK + bytes.fromhex("0000FF03FDD54301E700")


def test_in_list_passive_target_reports_the_card_in_the_field(sim, port):
    card = TypeACard(EchoApplication(), uid=bytes.fromhex("08A1B2C3"))
    sim.field.present(card)
    os.write(port, host_frame("4A0100"))              # one target, 106 kbps type A
    answer = read_for(port, 0.2)
    # NbTg 1, Tg 1, SENS_RES 0004, SEL_RES 20 (ISO-DEP), UID length 4, UID
    assert answer[6 + 5:-2] == bytes.fromhex("D54B0101000420" "04" "08A1B2C3")
    os.write(port, host_frame("42E080"))              # RATS, FSDI 8
    answer = read_for(port, 0.2)
    assert answer[6 + 5:-2] == bytes.fromhex("D54300") + card.ats


def test_half_an_ack_in_front_of_a_command_does_not_swallow_the_command(port):
    # a host that closes the port right after its ACK (nfcpy does, to change the baud rate)
    # may have the tail of that ACK flushed; the chip resynchronises on the next start code
    for cut in range(1, 6):
        os.write(port, ACK[:cut] + bytes.fromhex("0000FF02FED4022A00"))
        assert read_for(port, 0.2) == ACK + bytes.fromhex("0000FF06FAD50332010607E800"), cut


def test_a_zero_length_frame_is_not_a_command(port):
    os.write(port, bytes.fromhex("0000FF0000") + bytes.fromhex("0000FF02FED4022A00"))
    assert read_for(port, 0.2) == ACK + bytes.fromhex("0000FF06FAD50332010607E800")


def test_the_hosts_ack_cancels_a_running_command_and_nothing_late_follows(port):
    os.write(port, host_frame("32020B0A0E"))          # RF timeout index 0E: 819.2 ms
    assert read_for(port, 0.2) == ACK + bytes.fromhex("0000FF02FED533F800")
    os.write(port, host_frame("42E080"))              # RATS into an empty field: the chip waits
    assert read_for(port, 0.05) == ACK
    os.write(port, ACK)                               # the host gives up and cancels
    os.write(port, bytes.fromhex("0000FF02FED4022A00"))
    # the next answer on the line is the next command's, not the cancelled one's
    assert read_for(port, 1.0) == ACK + bytes.fromhex("0000FF06FAD50332010607E800")


def test_closing_in_the_middle_of_a_command_leaves_no_thread_on_its_descriptors():
    # a thread still running after close would read and write whatever reuses its fd numbers next
    chip = SimulatedPN532().start()
    port = os.open(chip.path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(port)
    os.write(port, host_frame("32020B0A00"))          # RF timeout index 0: no timeout (the chip waits 10 s)
    assert read_for(port, 0.2) == ACK + bytes.fromhex("0000FF02FED533F800")
    os.write(port, host_frame("42E080"))              # RATS into an empty field: the chip keeps waiting
    assert read_for(port, 0.05) == ACK
    descriptors = (chip._master, chip._slave, chip._stop_r, chip._stop_w)
    chip.close()
    assert not [t for t in threading.enumerate() if t.name == f"sim-pn532 {chip.path}"]
    for fd in descriptors:
        with pytest.raises(OSError):
            os.fstat(fd)
    os.close(port)
