"""The command line assembles its devices through the one station every face uses (`pos.devices.station`).

Checked on the import graph (no CLI module opens a reader, a camera or the
simulator itself) and by behaviour: the station the CLI asks for hands it
the simulated reader's test cards and the scanner, and a reader that cannot
open is the command's error (exit 4), as it always was.
"""
from __future__ import annotations

import grimp
import pytest

from pos.core.config import load_config
from pos.devices.kinds import CAMERA, READER, SIMULATED
from pos.devices.station import open_station
from tests.pos.support import invoke_pos, make_config, set_pos

#: what only the device assembly opens
ASSEMBLY_ONLY = ("pos.devices.contactless", "pos.sources.qr.source", "pos.simulated.contactless",
                 "pos.simulated.station", "drivers.nfc")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("pos", "acquirer", "drivers", "receipts", exclude_type_checking_imports=True,
                             cache_dir=None)   # a cache can outlive a merge that kept file times


@pytest.mark.parametrize("module", ["pos.cli.main", "pos.cli.demo", "pos.cli.render", "pos.cli.originals"])
def test_no_cli_module_assembles_devices_itself(graph, module):
    imported = graph.find_modules_directly_imported_by(module)
    assert not {m for m in imported if m.startswith(ASSEMBLY_ONLY)}
    if module == "pos.cli.main":
        assert "pos.devices.station" in imported


def test_the_daemon_assembles_its_devices_through_the_station(graph):
    imported = graph.find_modules_directly_imported_by("pos.daemon.app")
    assert not {m for m in imported if m.startswith(ASSEMBLY_ONLY)}
    assert "pos.devices.station" in imported


def test_the_station_gives_the_command_line_test_cards_and_its_camera(tmp_path):
    config = load_config(make_config(tmp_path), state_dir=tmp_path / "state")
    image = tmp_path / "code.png"
    with open_station(config, str(image), simulator=False, reader_required=True) as station:
        assert station.simulator is None and station.test_cards is not None
        assert station.test_cards.card("visa").name == "virtual card visa"
        assert station.scanner is not None and station.scanner in station.sources
        assert station.devices == {READER: SIMULATED, CAMERA: "ok"}
    with open_station(config, None, simulator=False) as station:
        assert station.scanner is None and station.devices[CAMERA] == "none"


def test_a_reader_that_cannot_open_is_the_commands_error(tmp_path):
    config_dir = make_config(tmp_path)
    set_pos(config_dir, reader="tty:k10-absent:pn532")
    done = invoke_pos(config_dir, tmp_path / "state", "sale", "1.00")
    assert done.returncode == 4 and "Traceback" not in done.stderr
    assert "k10-absent" in done.stderr
