"""The real `pos` command in a terminal (tmux): start, one sale by virtual card, quit.

This is what `make demo` runs: the checkout screen with the embedded
acquirer, the simulated PN532 and printer. The keys are the ones a newcomer
presses; the checks are on the captured screen, then on the journal the
process left behind (read by `pos history`, which also proves the quit
released the terminal's lock).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.tui.tmux import POS, TmuxPos, has_tmux



@pytest.fixture(autouse=True)
def tmux_installed() -> None:
    """`make setup` installs tmux; without it these tests fail, never skip."""
    if not has_tmux():
        pytest.fail("tmux is not installed (make setup installs it)")


def test_pos_in_tmux_sells_by_virtual_card_and_quits(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with TmuxPos(["--state-dir", str(state)]) as pos:
        pos.wait_for("Operator sign-on", "Password")
        pos.type("0000")
        pos.keys("Enter")
        pos.wait_for("Host online", "¥0.00", "F6 Simulator")
        pos.type("1234")
        pos.keys("Enter")
        pos.wait_for("Tap, insert or show your code", "Sale  ¥12.34")
        pos.keys("F6")
        pos.wait_for("Simulator: what does the customer present?", "unionpay-debit")
        pos.keys("Enter")                                  # the first test card: UnionPay debit
        screen = pos.wait_for("APPROVED")
        assert "Sale  ¥12.34" in screen
        assert "621483…0015" in screen
        assert "RRN 000000000001" in screen                # the embedded acquirer's first RRN
        assert "Host online" in screen and "Batch 000001" in screen
        pos.keys("C-q")
        assert pos.wait_exit() == 0
    history = subprocess.run([str(POS), "--state-dir", str(state), "history", "--json"], check=True,
                             capture_output=True, text=True, timeout=60)
    [sale] = json.loads(history.stdout)
    assert (sale["type"], sale["state"], sale["amount"], sale["rrn"]) == ("sale", "approved", 1234, "000000000001")


def test_pos_without_a_terminal_points_to_the_commands(tmp_path: Path) -> None:
    done = subprocess.run([str(POS), "--state-dir", str(tmp_path / "state")], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 2
    assert "needs a terminal" in done.stderr and "pos --help" in done.stderr
