"""The on-screen keypad: digits, 00, backspace and clear, for the mouse or a touch screen.

Its buttons never take the focus: the keyboard always types into the amount,
whatever was clicked last.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Button

#: rows of the keypad, as on a till: 7 8 9 on top
LAYOUT = (("7", "8", "9", "⌫"), ("4", "5", "6", "C"), ("1", "2", "3", "00"), ("0",))
BACKSPACE, CLEAR = "⌫", "C"


class KeypadButton(Button, can_focus=False):
    pass


class Keypad(Grid):
    DEFAULT_CSS = """
    Keypad { grid-size: 4; grid-gutter: 0 1; width: 39; height: 12; }
    Keypad KeypadButton { width: 100%; min-width: 6; }
    """

    @dataclass
    class Pressed(Message):
        key: str     # "0".."9", "00", BACKSPACE or CLEAR

    def compose(self) -> ComposeResult:
        for row in LAYOUT:
            for key in row:
                yield KeypadButton(key, id=f"key-{_id(key)}", variant="primary" if key.isdigit() else "default")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Pressed(str(event.button.label)))


def _id(key: str) -> str:
    return {BACKSPACE: "back", CLEAR: "clear"}.get(key, key)
