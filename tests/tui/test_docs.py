"""docs/tui.md gives the test cards' PINs a cashier types: they are the PINs of config/cards.toml."""
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).parents[2]


def test_the_pins_in_the_guide_are_the_cards_pins():
    cards = {c["name"]: c["pin"] for c in tomllib.loads((REPO / "config" / "cards.toml").read_text())["card"]}
    guide = (REPO / "docs" / "tui.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| `([0-9]+)` \|$", guide, re.M)
    assert len(rows) >= 4
    assert {name: pin for name, pin in rows} == {name: cards[name] for name, _ in rows}
    assert "the test cards' PIN is" not in guide   # no one PIN for all: they differ
