"""Display width on a receipt: CJK characters take two columns, others one.

A 58 mm printer has 32 columns of Font A (12 x 24 dots); a Chinese character
is 24 x 24 dots, i.e. two columns. Unicode's East Asian Width property says
which characters are wide ("W" and "F": Han, kana, full-width punctuation such
as ，。：（） and ￥). `¥` (U+00A5) is narrow. Combining marks take none.
"""
from __future__ import annotations

import unicodedata

__all__ = ["char_width", "display_width", "fit", "wrap"]


def char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def fit(text: str, width: int, align: str = "left") -> str:
    """Pad `text` (which must fit) to `width` columns with spaces."""
    room = width - display_width(text)
    if room < 0:
        raise ValueError(f"text of {display_width(text)} columns does not fit in {width}: {text!r}")
    if align == "right":
        return " " * room + text
    if align == "center":
        return " " * (room // 2) + text + " " * (room - room // 2)
    return text + " " * room


def wrap(text: str, width: int) -> list[str]:
    """Break `text` into lines of at most `width` columns.

    Breaks at spaces where it can (English words stay whole), otherwise between
    any two characters (Chinese has no spaces; long URLs have none either).
    """
    if width < 2:
        raise ValueError(f"cannot wrap into {width} column(s)")
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if display_width(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if display_width(current + char) > width:
                lines.append(current)
                current = ""
            current += char
    if current or not lines:
        lines.append(current)
    return lines
