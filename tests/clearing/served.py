"""A host that clears by itself after its cut-off and serves statements: its clearing.toml,
the address of its statement endpoint, and a statement request."""
from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from tests.acquirer.conftest import REPO_CONFIG


def write_auto_clearing(config_dir: Path, output_dir: Path, cutoff: str, extra: str = "") -> None:
    """The repository's clearing.toml with the cut-off `cutoff` ("HH:MM"), lines written under
    `output_dir`, clearing at once after the cut-off and statements on any free port (plus
    `extra` terms), and holidays.toml beside it."""
    text = (REPO_CONFIG / "clearing.toml").read_text()
    for old, new in (('cutoff = "23:00"', f'cutoff = "{cutoff}"'),
                     ('output_dir = "var/clearing"', f'output_dir = "{output_dir}"'),
                     ("auto_clear_grace_s = 60", "auto_clear_grace_s = 0"),
                     ("statement_port = 8586", "statement_port = 0")):
        assert old in text
        text = text.replace(old, new)
    (config_dir / "clearing.toml").write_text(text + extra)
    shutil.copy(REPO_CONFIG / "holidays.toml", config_dir / "holidays.toml")


def statements_address(stdout: IO[str], log: str = "") -> str:
    """HOST:PORT of the statement endpoint, from the host's announcement on its standard output
    (the lines before it are read past); AssertionError with `log` when it never comes."""
    line = stdout.readline()
    while not line.startswith("statements listening on "):
        assert line, log
        line = stdout.readline()
    return line.rsplit(" ", 1)[1].strip()


def fetch(address: str, path: str, key: str | None) -> tuple[int, bytes]:
    """GET `path` from the statement endpoint with the merchant's API key (none: no header)."""
    request = urllib.request.Request(f"http://{address}{path}", headers={"X-API-Key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
