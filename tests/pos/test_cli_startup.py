"""`pos` imports what a command needs when it runs, and says the same as when it imported everything.

Each test starts a fresh interpreter, as a cash register or a script does:
what a process has loaded is only visible from a clean start. The speed
itself is measured, not asserted (docs/terminal.md, "Start-up").
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pos.cli.main import DEFERRED
from tests.pos.support import make_config

#: what `pos --help` and `pos history` never use: the engine, the devices, the simulator, the acquirer's host
#: side, the checkout screen and the subcommand groups
NOT_AT_START = ("pos.core.engine", "pos.devices.terminal", "pos.devices.station", "drivers.sim", "pos.simulated",
                "pos.daemon", "pos.tui.app", "textual", "pos.cli.operators", "pos.cli.reconcile", "pos.cli.sim",
                "pos.reconcile", "acquirer.host", "acquirer.storage")


def _python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)


def _loaded_after(argv: list[str]) -> tuple[str, list[str]]:
    """What `pos ARGV` printed, and which of `NOT_AT_START` its process had imported by the end."""
    probe = ("import json, sys\n"
             "from pos.cli.main import main\n"
             "main(sys.argv[1:], prog_name='pos', standalone_mode=False)\n"
             f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({NOT_AT_START!r}))), file=sys.stderr)\n")
    done = _python(probe, *argv)
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def test_the_help_imports_no_command(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    listing, loaded = _loaded_after(["--help"])
    assert "history    The journal, newest first (masked PANs only)." in listing
    assert loaded == []
    assert "acquirer.config" not in _python("import sys, pos.cli.main; print(sorted(sys.modules))").stdout


@pytest.mark.parametrize("as_json", [True, False])
def test_history_imports_neither_the_engine_nor_the_devices(tmp_path, as_json):
    config_dir = make_config(tmp_path)
    shown, loaded = _loaded_after(["--config", str(config_dir), "--state-dir", str(tmp_path / "state"),
                                   "history", *(["--json"] if as_json else [])])
    if as_json:
        assert json.loads(shown) == []
    else:
        assert "journal.db" in shown and "trace" in shown and "RRN" in shown
    assert loaded == []


@pytest.mark.parametrize("columns", ["60", "80", "200"])
def test_the_help_lists_deferred_commands_as_they_describe_themselves(monkeypatch, columns):
    """`pos --help` before any subcommand group is imported is the same text as with all of them imported."""
    monkeypatch.setenv("COLUMNS", columns)
    show = "from pos.cli.main import main\nmain(['--help'], prog_name='pos')\n"
    resolved_first = ("import click\nfrom pos.cli.main import DEFERRED, main\n"
                      "with click.Context(main) as ctx:\n"
                      "    for name in DEFERRED:\n"
                      "        main.get_command(ctx, name)\n")
    lazy = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True)
    eager = subprocess.run([sys.executable, "-c", resolved_first + show], capture_output=True,
                           text=True)
    assert lazy.returncode == eager.returncode == 0
    assert lazy.stdout == eager.stdout
    for name in DEFERRED:
        assert f"\n  {name} " in lazy.stdout


def test_each_deferred_summary_is_its_commands_first_paragraph():
    for name, entry in DEFERRED.items():
        command = entry.load()
        first_paragraph = " ".join((command.help or "").split("\n\n")[0].split())
        assert entry.summary == first_paragraph, name


def test_a_card_fault_the_simulator_does_not_know_is_refused_with_the_list(tmp_path):
    config_dir = make_config(tmp_path)
    done = subprocess.run([sys.executable, "-m", "pos.cli.main", "--config", str(config_dir), "--state-dir",
                           str(tmp_path / "state"), "sale", "1.00", "--card-fault", "nope"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "Invalid value for '--card-fault': 'nope' is not one of 'gpo-refused'," in done.stderr
