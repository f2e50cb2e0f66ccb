"""`pos daemon` starts and serves a payment in a virtual environment without Textual.

The environment is a fresh venv whose site-packages links every package of
the project's venv except Textual (and the packages that exist only for it),
so the daemon runs on exactly the dependencies a Pi install has, minus the TUI.
"""
from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from tests.daemon.support import Daemon, payment, queue, response_of

TUI_ONLY = ("textual", "pytest_textual_snapshot", "textual_", "tree_sitter", "textual-")


def venv_without_textual(where: Path) -> Path:
    venv.EnvBuilder(with_pip=False).create(where)
    ours = Path(sys.prefix)
    [source] = list((ours / "lib").glob("python3.*/site-packages"))
    [target] = list((where / "lib").glob("python3.*/site-packages"))
    for entry in source.iterdir():
        if not entry.name.lower().startswith(TUI_ONLY):
            (target / entry.name).symlink_to(entry)
    return where / "bin" / "python"


def test_daemon_serves_a_payment_without_textual(tmp_path):
    python = venv_without_textual(tmp_path / "venv")
    probe = subprocess.run([str(python), "-c", "import textual"], capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'textual'" in probe.stderr
    daemon = Daemon(tmp_path / "state", python=str(python)).start()
    try:
        queue(daemon.state_dir, "card", "unionpay-debit")
        status, answer = daemon.post(payment("6.66", "NO-TEXTUAL-1"))
        assert status == 200 and response_of(answer, "Payment")["Response"]["Result"] == "Success"
    finally:
        assert daemon.stop() == 0, daemon.logs()[-2000:]
