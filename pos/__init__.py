"""The terminal: engine, journal, host link, receipts printing and the faces (CLI, TUI, daemon)."""
from pos.devices.escpos_cache import cache_capabilities
from pos.lean_imports import import_sqlite_utils_without_numpy

cache_capabilities()   # before anything imports python-escpos (see pos.devices.escpos_cache)
import_sqlite_utils_without_numpy()   # before anything imports sqlite-utils (see pos.lean_imports)
