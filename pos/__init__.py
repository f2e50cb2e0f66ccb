"""The terminal: engine, journal, host link, receipts printing and the faces (CLI, TUI, daemon)."""
from pos.escpos_cache import cache_capabilities

cache_capabilities()   # before anything imports python-escpos (see pos.escpos_cache)
