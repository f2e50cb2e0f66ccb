"""Money on receipts: integer fen shown as `¥12.34`.

The same display form as the terminal's screens (`-¥12.34` for money going
back to the cardholder, thousands separated by commas). Never a float.
"""
from __future__ import annotations

__all__ = ["format_amount"]


def format_amount(fen: int) -> str:
    """1234 -> "¥12.34", -1234 -> "-¥12.34", 123456789 -> "¥1,234,567.89"."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError(f"amount must be integer fen, got {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"
