"""python-escpos's printer capability database, cached once per user instead of once per process.

python-escpos 3.1 reads its capability database (`capabilities.json`) when
`escpos.capabilities` is imported, with PyYAML (about 0.35 s), and caches the
result as a pickle in `$ESCPOS_CAPABILITIES_PICKLE_DIR` -- or, when that is
unset, in a NEW temporary directory per process that it never removes. Every
`pos` command would pay the parse and leave 70 KB behind in /tmp (it still
makes an empty temporary directory either way: its default is evaluated
before it looks at the variable). This points
the variable at a per-user cache directory and writes the pickle there first,
atomically (parsed with `json`, which reads the same file, identically, in about
1 ms): python-escpos's own first write is not atomic, so two `pos` processes
starting together could read half a pickle.

It must run before anything imports `escpos`; `pos/__init__` calls it. When the
cache directory cannot be written, python-escpos keeps its own behaviour.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pickle
import platform
import sys
import tempfile
from pathlib import Path

__all__ = ["PICKLE_DIR_VARIABLE", "cache_capabilities"]

PICKLE_DIR_VARIABLE = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def _database() -> Path | None:
    """capabilities.json inside the installed escpos package, found without importing it."""
    spec = importlib.util.find_spec("escpos")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "capabilities.json"
    return path if path.is_file() else None


def cache_capabilities() -> None:
    if PICKLE_DIR_VARIABLE in os.environ or "escpos.capabilities" in sys.modules:
        return
    database = _database()
    if database is None:
        return
    directory = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tillkit" / "escpos"
    # python-escpos's own name for it, and its rule: a pickle older than the database is stale
    target = directory / f"{platform.python_version()}.capabilities.pickle"
    try:
        if not target.exists() or target.stat().st_mtime < database.stat().st_mtime:
            directory.mkdir(parents=True, exist_ok=True)
            capabilities = json.loads(database.read_text(encoding="utf-8"))
            with tempfile.NamedTemporaryFile("wb", dir=directory, delete=False) as part:
                pickle.dump(capabilities, part, protocol=2)
            os.replace(part.name, target)
    except OSError:
        return
    os.environ[PICKLE_DIR_VARIABLE] = str(directory)
