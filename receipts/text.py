"""Plain-text receipts for screens, logs, tests and `pos reprint --text`.

Each line is padded to the paper width in columns (CJK characters count two),
so the text lines up like the paper. Styles (bold, double size) do not exist in
plain text; the e-receipt QR shows as its link, which the layout prints under
the code anyway.
"""
from __future__ import annotations

from receipts.layout import Document, TextLine, layout
from receipts.width import fit

__all__ = ["render_text"]


def render_text(document: Document, columns: int = 32) -> str:
    """The receipt as lines of exactly `columns` display columns (trailing spaces stripped)."""
    lines = [fit(block.text, columns, block.align).rstrip()
             for block in layout(document, columns) if isinstance(block, TextLine)]
    return "\n".join(lines) + "\n"
