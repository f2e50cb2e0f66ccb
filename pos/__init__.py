"""The terminal: engine, journal, host link, receipts printing and the faces (CLI, TUI, daemon)."""
from pos.devices.escpos_cache import cache_capabilities

cache_capabilities()   # before anything imports python-escpos (see pos.devices.escpos_cache)
