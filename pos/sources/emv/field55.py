"""Field 55 (ICC data) of the authorisation request, in the order the acquirer lists.

docs/payment-standards.md, "Contactless cards": 9F26 9F27 9F10 9F37 9F36 95 9A 9C 9F02 5F2A 82 9F1A
9F03 9F33 always, then 9F34 9F35 9F1E 84 9F09 9F41 when the terminal has them.
The values are the very bytes the card's cryptogram covered.
"""
from __future__ import annotations

from collections.abc import Mapping

from acquirer.protocol import tlv

REQUEST_TAGS = ("9F26", "9F27", "9F10", "9F37", "9F36", "95", "9A", "9C",
                "9F02", "5F2A", "82", "9F1A", "9F03", "9F33")
OPTIONAL_TAGS = ("9F34", "9F35", "9F1E", "84", "9F09", "9F41")


def build_field55(values: Mapping[str, bytes]) -> bytes:
    """The request's field 55 from the card's and terminal's data objects."""
    missing = [tag for tag in REQUEST_TAGS if tag not in values]
    if missing:
        raise ValueError(f"field 55 needs {', '.join(missing)}")
    tags = REQUEST_TAGS + tuple(tag for tag in OPTIONAL_TAGS if tag in values)
    return tlv.build((tag, values[tag]) for tag in tags)
