"""sqlite-utils without numpy: 17 MB less resident memory in every `pos` process.

sqlite-utils imports numpy when it is installed (matplotlib and the camera
stack bring it) only to map numpy scalar types to SQLite column types; the
terminal never stores a numpy value. On the counter box, where `pos daemon`
runs for weeks on a small board, that import is about a sixth of the
process. So sqlite-utils is imported once, first, with numpy hidden (a
`None` entry in `sys.modules` makes `import numpy` raise ImportError, which
sqlite-utils handles as "numpy not installed"), and numpy is visible again
right after: the camera and the simulated wallet still import it when, and
only when, they are used.
"""
from __future__ import annotations

import sys


def import_sqlite_utils_without_numpy() -> None:
    """Import sqlite-utils with its optional numpy support off (no effect if numpy is already loaded)."""
    if "sqlite_utils" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del sys.modules["numpy"]
