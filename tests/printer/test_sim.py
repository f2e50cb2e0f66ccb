"""The simulated printer as python-escpos sees it: status answers, discarded data, transports."""
from __future__ import annotations

import pytest
from escpos.printer import Network, Serial

from drivers.sim.printer import SimulatedPrinter


@pytest.fixture
def network_printer(sim):
    host, port = sim.serve_tcp()
    printer = Network(host, port, timeout=2)
    printer.open()
    yield printer
    printer.close()


@pytest.fixture
def serial_printer(sim):
    printer = Serial(sim.open_pty(), baudrate=115200, timeout=0.15)
    printer.open()
    yield printer
    printer.close()


@pytest.mark.parametrize("printer_fixture", ["network_printer", "serial_printer"])
def test_python_escpos_reads_online_and_paper_status(request, sim, printer_fixture):
    printer = request.getfixturevalue(printer_fixture)
    assert (printer.is_online(), printer.paper_status()) == (True, 2)
    sim.paper_near_end()
    assert (printer.is_online(), printer.paper_status()) == (True, 1)
    sim.run_out_of_paper()
    assert (printer.is_online(), printer.paper_status()) == (False, 0)
    sim.load_paper()
    sim.open_cover()
    assert printer.is_online() is False and printer.query_status(b"\x10\x04\x02") == b"\x16"   # 0x12 | cover
    sim.come_back()
    assert printer.is_online() is True


@pytest.mark.parametrize("printer_fixture", ["network_printer", "serial_printer"])
def test_python_escpos_output_is_interpreted(request, sim, printer_fixture):
    printer = request.getfixturevalue(printer_fixture)
    printer.set(align="center", bold=True, double_height=True, double_width=True)
    printer.textln("TILLKIT")
    printer.set(normal_textsize=True, bold=False, align="left", underline=1)
    printer.textln("underlined")
    printer.qr("https://example.test/q", native=True, size=5)
    printer.cut(mode="PART")
    paper = sim.wait_until(lambda doc: doc.cuts == 1)
    big, underlined = paper.lines[:2]
    assert (big.text, big.align, big.bold, big.width, big.height) == ("TILLKIT", "center", True, 2, 2)
    assert (underlined.text, underlined.underline, underlined.width) == ("underlined", 1, 1)
    assert paper.qr_payloads == ["https://example.test/q"]
    assert paper.items[-1].partial


def test_data_sent_while_out_of_paper_is_discarded(sim, network_printer):
    sim.run_out_of_paper()
    network_printer.textln("lost")
    assert network_printer.is_online() is False      # answered after the data: it was taken in
    sim.load_paper()
    network_printer.textln("printed")
    assert network_printer.is_online()
    assert sim.document.text_lines == ["printed"]


def test_fail_after_trips_in_the_middle(sim, network_printer):
    sim.fail_after(20, "paper_out")
    network_printer.textln("first line")          # ESC t 0 + 11 bytes: printed
    network_printer.textln("second line")         # the paper runs out on it: its line never comes out
    network_printer.textln("third line")
    assert network_printer.paper_status() == 0
    assert sim.document.text_lines == ["first line"]


def test_one_paper_roll_for_every_connection(sim):
    host, port = sim.serve_tcp()
    for word in ("one", "two"):
        printer = Network(host, port, timeout=2)
        printer.open()
        printer.textln(word)
        printer.is_online()          # a round trip: the line has been taken in
        printer.close()
    assert sim.document.text_lines == ["one", "two"]


def test_listens_on_loopback_only():
    with SimulatedPrinter() as sim, pytest.raises(ValueError, match="loopback"):
        sim.serve_tcp(host="0.0.0.0")


def test_wait_until_times_out_with_what_was_printed(sim, network_printer):
    network_printer.textln("only this")
    with pytest.raises(TimeoutError, match="only this"):
        sim.wait_until(lambda doc: doc.cuts > 0, timeout=0.3)
